"""Tour rows of the transforms family: the dense FWHT against a Hadamard GEMM, and a 2^24 sparse spectrum."""

import time

import numpy as np
import scipy.linalg

from .._timing import TourRow, best_time
from .sparse import evaluate_walsh, sparse_wht
from .walsh_hadamard import fwht

__all__ = ["fwht_row", "sparse_wht_row", "tour_rows"]

N_BITS, K, SNR_DB = 24, 200, 10


def tour_rows():
    """The family's rows, dense transform first."""
    return [fwht_row(), sparse_wht_row()]


def fwht_row():
    """FWHT of 256 vectors of length 4096; reference and baseline: the product with ``scipy.linalg.hadamard``."""
    rng = np.random.default_rng(0)
    n, batch = 4096, 256
    x = rng.standard_normal((batch, n))
    hadamard = scipy.linalg.hadamard(n).astype(np.float64)
    reference = x @ hadamard
    error = np.linalg.norm(fwht(x) - reference) / np.linalg.norm(reference)
    ours = best_time(lambda: fwht(x))
    dense = best_time(lambda: x @ hadamard, repeats=3)
    return TourRow("transforms", "Walsh-Hadamard transform", f"{batch} x {n}", f"rel. err {error:.1e}",
                   ours, "dense Hadamard GEMM", dense / ours, "numpy (Numba)")


def sparse_wht_row():
    """Recover K = 200 coefficients of a 2^24 spectrum at 10 dB; baseline: query all N points + dense fwht."""
    rng = np.random.default_rng(0)
    support = np.sort(rng.choice(1 << N_BITS, size=K, replace=False)).astype(np.uint64)
    values = rng.choice([-1.0, 1.0], size=K)
    sigma = np.sqrt(K / 10 ** (SNR_DB / 10))

    def oracle(m):
        return evaluate_walsh(support, values, m) + sigma * rng.standard_normal(m.size)

    def ours():
        return sparse_wht(oracle, N_BITS, K, snr_db=SNR_DB, random_state=0)

    result = ours()
    seconds = best_time(ours, repeats=5)
    start = time.perf_counter()
    dense = fwht(oracle(np.arange(1 << N_BITS, dtype=np.uint64))) / 2**N_BITS
    dense_seconds = time.perf_counter() - start
    top = np.sort(np.argsort(np.abs(dense))[-K:]).astype(np.uint64)
    exact = np.array_equal(result.support, support) and np.array_equal(top, support)
    nmse = np.sum((result.coefficients - values) ** 2) / np.sum(values**2) if exact else np.nan
    accuracy = f"support {'exact' if exact else 'WRONG'}, NMSE {nmse:.1e}, {result.n_samples / 2**N_BITS:.1%} of N"
    return TourRow("transforms", f"sparse WHT (SPRIGHT), K={K}, {SNR_DB} dB", "2^24", accuracy, seconds,
                   "query all N + dense fwht", dense_seconds / seconds, "numpy (Numba)")
