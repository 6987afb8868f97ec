"""asv benchmarks and peer comparisons of linalgkit.transforms.sparse_wht (SPRIGHT).

Every problem is a random K-sparse spectrum with +-1 values, queried through a noisy oracle
(``evaluate_walsh`` plus Gaussian noise at the issue's SNR, sum F^2 / sigma^2); the oracle's
cost is part of every timing, as it is for a user.
"""

import warnings

import numpy as np

from linalgkit.exceptions import ConvergenceWarning
from linalgkit.transforms import evaluate_walsh, fwht, sparse_wht

from .compare import Case, Comparison


class Problem:
    """A random K-sparse spectrum on n bits and its noisy oracle (fresh noise on every call)."""

    def __init__(self, n, K, snr_db, seed=0):
        rng = np.random.default_rng(seed)
        support = set()
        while len(support) < K:
            support.add(int(rng.integers(0, 1 << n, dtype=np.int64)))
        self.n, self.K, self.snr_db = n, K, snr_db
        self.support = np.array(sorted(support), dtype=np.uint64)
        self.values = rng.choice([-1.0, 1.0], size=K)
        self.sigma = 0.0 if snr_db is None else float(np.sqrt(K / 10 ** (snr_db / 10)))
        self.rng = rng

    def oracle(self, m):
        values = evaluate_walsh(self.support, self.values, m)
        return values + self.sigma * self.rng.standard_normal(m.size) if self.sigma else values

    def solve(self, **kwargs):
        design = "noiseless" if self.snr_db is None else "robust"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return sparse_wht(self.oracle, self.n, self.K, snr_db=self.snr_db, design=design, random_state=0, **kwargs)

    def dense(self):
        """What a user without a sparse transform does: query all N points, then the dense FWHT."""
        samples = self.oracle(np.arange(1 << self.n, dtype=np.uint64))
        return fwht(samples) / samples.size

    def exact(self, result):
        return np.array_equal(result.support, self.support)


class TimeSparseWHT:
    """Time to recover K coefficients of a 2^n spectrum: grows like K log^2 N, not like N."""

    params = [[50, 200, 800], [16, 24, 32, 40], ["noiseless", "10 dB"]]
    param_names = ["K", "n", "noise"]
    timeout = 300

    def setup(self, K, n, noise):
        self.problem = Problem(n, K, None if noise == "noiseless" else 10)
        self.result = self.problem.solve()  # also compiles the kernels
        if self.result.n_samples >= 2**n:
            raise NotImplementedError("the design queries every point: use the dense FWHT at this size")

    def time_sparse_wht(self, K, n, noise):
        self.problem.solve()

    def peakmem_sparse_wht(self, K, n, noise):
        self.problem.solve()

    def track_sample_fraction(self, K, n, noise):
        return self.result.n_samples / 2**n

    track_sample_fraction.unit = "fraction of N"

    def track_exact_support(self, K, n, noise):
        return float(self.problem.exact(self.result))

    track_exact_support.unit = "1 = exact"


def _accuracy(problem):
    def accuracy(result, dense):
        dense_top = np.sort(np.argsort(np.abs(dense))[-problem.K:]).astype(np.uint64)
        same = np.array_equal(result.support, dense_top) and problem.exact(result)
        error = np.max(np.abs(result.coefficients - dense[result.support.astype(np.int64)])) if same else np.nan
        return (f"support {'=' if same else '!='} true = dense top-K, max|diff| {error:.1e}, "
                f"{result.n_samples / 2**problem.n:.2%} of N queried")

    return accuracy


def _k200_at_2_24():
    problem = Problem(24, 200, 10)
    problem.solve()
    return Case(problem.solve, problem.dense, _accuracy(problem))


def _k100_at_2_40():
    problem = Problem(40, 100, None)
    reference = Problem(24, 100, None)
    problem.solve()

    def accuracy(result, _):
        error = np.max(np.abs(result.coefficients - problem.values)) if problem.exact(result) else np.nan
        return f"support exact: {problem.exact(result)}, max|err| {error:.1e}, {result.n_samples} queries"

    return Case(problem.solve, reference.dense, accuracy)


COMPARISONS = [
    Comparison("transforms", "sparse WHT, K = 200, SNR 10 dB (goal: <= 2% of N, < 5 s)", "2^24",
               "query all N + dense fwht", _k200_at_2_24, goal=0.1),
    Comparison("transforms", "sparse WHT, K = 100, noiseless (goal: < 10 s; 2^40 is 8 TiB densely)", "2^40",
               "query all N + dense fwht at 2^24", _k100_at_2_40),
]
