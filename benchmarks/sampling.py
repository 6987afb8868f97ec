"""asv benchmarks and peer comparisons of linalgkit.sampling (issue 13)."""

import functools

import numpy as np
import scipy.linalg
import scipy.optimize

from linalgkit.datasets._sampling import make_heavy_tailed_design, make_l1_regression_problem
from linalgkit.sampling import LpRegression, leverage_scores, lewis_weights, lp_regression

from .compare import Case, Comparison


@functools.lru_cache(maxsize=2)
def _l1_problem(n, d=20):
    """The issue's robust-regression problem: heavy-tailed design, Laplace noise, 2% 20 x Cauchy outliers."""
    problem = make_l1_regression_problem(n, d, random_state=0)
    return problem.A, problem.b


@functools.lru_cache(maxsize=2)
def _design(n, d):
    return make_heavy_tailed_design(n, d, random_state=0)


def _with_intercept(X):
    return np.column_stack([X, np.ones(X.shape[0])])


def _dual_lp(X, y):
    """The stronger peer: the l_1 dual LP solved directly by HiGHS, with an intercept column."""
    A = _with_intercept(X)
    return scipy.optimize.linprog(-y, A_eq=A.T, b_eq=np.zeros(A.shape[1]), bounds=(-1, 1), method="highs")


def _l1_objective(X, y, coef, intercept):
    return float(np.sum(np.abs(X @ coef + intercept - y)))


# ---------------------------------------------------------------- asv


class TimeLpRegression:
    """l_1 regression on 50,000 x 20 with 2% outliers: Lewis coreset, exact (working set), HiGHS directly."""

    timeout = 600

    def setup(self):
        self.X, self.y = _l1_problem(50_000)

    def time_lp_regression_sampled(self):
        LpRegression(random_state=0).fit(self.X, self.y)

    def time_lp_regression_exact(self):
        LpRegression(sampling=None).fit(self.X, self.y)

    def time_dual_lp_highs(self):
        _dual_lp(self.X, self.y)


class TimeLewisWeights:
    """Lewis weights of 2^17 x 20 (goal for p = 1: under 2 s on 2 cores)."""

    params = [[1, 1.5, 3]]
    param_names = ["p"]
    timeout = 300

    def setup(self, p):
        self.A = _design(2**17, 20)

    def time_lewis_weights(self, p):
        lewis_weights(self.A, p, random_state=0)

    def time_lewis_weights_sketched(self, p):
        lewis_weights(self.A, p, method="sketched", random_state=0)


class TimeLeverage:
    """Exact (LAPACK QR) and sketched leverage scores of 2^20 x 50."""

    params = [["exact", "sketched"]]
    param_names = ["method"]
    timeout = 600

    def setup(self, method):
        self.A = _design(2**20, 50)

    def time_leverage_scores(self, method):
        leverage_scores(self.A, method=method, random_state=0)


class TrackAccuracy:
    """Objective of the sampled l_1 fit over the exact optimum, per scoring method (m = 500, 50,000 x 20)."""

    params = [["lewis", "leverage", "root_leverage", "uniform"]]
    param_names = ["scores"]
    timeout = 300

    def setup(self, scores):
        self.X, self.y = _l1_problem(50_000)
        self.optimum = _optimum(50_000)

    def track_objective_ratio(self, scores):
        result = lp_regression(_with_intercept(self.X), self.y, 1, m=500, scores=scores, random_state=0)
        return result.objective / self.optimum

    track_objective_ratio.unit = "objective / OPT"


class TrackLeverageError:
    """Largest relative error of a sketched leverage score on 2^18 x 50 (goal: at most 0.2)."""

    timeout = 300

    def setup(self):
        self.A = _design(2**18, 50)
        self.exact = leverage_scores(self.A)

    def track_max_relative_error(self):
        return float(np.max(np.abs(leverage_scores(self.A, method="sketched", random_state=0) / self.exact - 1)))

    track_max_relative_error.unit = "relative error"


@functools.lru_cache(maxsize=2)
def _optimum(n):
    X, y = _l1_problem(n)
    return lp_regression(_with_intercept(X), y, 1, method="exact").objective


# ---------------------------------------------------------------- side-by-side comparisons


def _peer_optimum(X, y, peer):
    """The optimum the peer found: QuantileRegressor's objective, or minus the dual LP's value (strong duality)."""
    if hasattr(peer, "coef_"):
        return _l1_objective(X, y, peer.coef_, peer.intercept_)
    return -float(peer.fun)


def _l1_case(n, peer, sampling="lewis"):
    def setup():
        X, y = _l1_problem(n)

        def accuracy(ours, peer_out):
            ratio = _l1_objective(X, y, ours.coef_, ours.intercept_) / _peer_optimum(X, y, peer_out)
            m = f"m = {ours.result_.m}" if ours.result_.m is not None else _exact_method(ours.result_)
            certified = ours.result_.objective / ours.result_.lower_bound
            return f"objective {ratio:.4f} x the peer's optimum ({m}; certified <= {certified:.3f})"

        return Case(lambda: LpRegression(sampling=sampling, random_state=0).fit(X, y), peer(X, y), accuracy)

    return setup


def _exact_method(result):
    """How the exact fit was solved: the working set's reduced LPs, or the full LP (say so when it fell back)."""
    if result.method == "working-set":
        return f"all rows, working set: {result.iterations} reduced LPs"
    return f"all rows, {result.method}"


def _quantile_regressor(X, y):
    from sklearn.linear_model import QuantileRegressor

    return lambda: QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)


def _highs_dual(X, y):
    return lambda: _dual_lp(X, y)


def _lewis_case():
    A = _design(2**17, 20)

    def qr_per_iteration():
        """The research-script loop: a QR of W^(1/2 - 1/p) A in every iteration, same stopping rule."""
        w = np.full(A.shape[0], A.shape[1] / A.shape[0])
        for _ in range(200):
            R = scipy.linalg.qr(A / np.sqrt(w)[:, None], mode="r")[0][: A.shape[1]]
            new = np.sqrt(np.sum(scipy.linalg.solve_triangular(R, A.T, trans="T") ** 2, axis=0))
            if np.max(np.abs(new / w - 1)) <= 1.5e-10:
                return w
            w = new
        return w

    def accuracy(ours, peer):
        return (f"max rel. diff {np.max(np.abs(ours.weights / peer - 1)):.1e}, {ours.iterations} iterations, "
                f"sum {float(ours.weights.sum()):.6f}")

    return Case(lambda: lewis_weights(A, 1, random_state=0), qr_per_iteration, accuracy)


def _leverage_case():
    A = _design(2**20, 50)

    def exact_qr_row_norms():
        Q = np.linalg.qr(A)[0]
        return np.sum(Q * Q, axis=1)

    def accuracy(ours, peer):
        return f"max rel. error per row {np.max(np.abs(ours / peer - 1)):.3f} (goal <= 0.2)"

    return Case(lambda: leverage_scores(A, method="sketched", random_state=0), exact_qr_row_norms, accuracy)


COMPARISONS = [
    Comparison("sampling", "l_1 regression, 2% outliers: LpRegression (Lewis coreset)", "50,000 x 20",
               "QuantileRegressor(solver='highs')", _l1_case(50_000, _quantile_regressor), goal=1 / 100),
    Comparison("sampling", "l_1 regression, 2% outliers: LpRegression (exact dual LP, working set)", "50,000 x 20",
               "QuantileRegressor(solver='highs')", _l1_case(50_000, _quantile_regressor, sampling=None), goal=1 / 5),
    Comparison("sampling", "l_1 regression, 2% outliers: LpRegression (Lewis coreset)", "50,000 x 20",
               "dual LP by HiGHS (linprog)", _l1_case(50_000, _highs_dual), goal=1 / 10),
    Comparison("sampling", "l_1 regression, 2% outliers: LpRegression (exact dual LP, working set)", "50,000 x 20",
               "dual LP by HiGHS (linprog)", _l1_case(50_000, _highs_dual, sampling=None), goal=1.0),
    Comparison("sampling", "lewis_weights, p = 1 (goal: under 2 s)", "2^17 x 20",
               "Cohen-Peng with a QR per iteration", _lewis_case),
    Comparison("sampling", "leverage_scores(method='sketched')", "2^20 x 50", "numpy.linalg.qr row norms",
               _leverage_case, goal=1 / 5),
]


# ---------------------------------------------------------------- ablations (registered in benchmarks/ablations.py)


def ablation_working_set_start():
    """Exact l_1 fit of the 50,000 x 21 benchmark problem on a working set: the IRLS pilot against the Lewis-coreset
    solution as the pilot (time of the whole exact fit, and the optimal residual signs each pilot gets wrong)."""
    from unittest import mock

    from linalgkit._backend import get_backend
    from linalgkit.sampling import _solvers
    from linalgkit.sampling._common import basis

    from .ablations import _best, _report

    X, y = _l1_problem(50_000)
    A = _with_intercept(X)
    optimal = y - A @ lp_regression(A, y, 1, method="exact").x
    irls = _solvers._irls_residual(get_backend(A), basis(get_backend(A), A, None, exact=False).Y, y)
    coreset = y - A @ lp_regression(A, y, 1, random_state=0).x
    with mock.patch.object(_solvers, "_irls_residual", lambda be, Y, b: coreset):
        from_coreset = _best(lambda: lp_regression(A, y, 1, method="exact"), repeat=3)
    from_irls = _best(lambda: lp_regression(A, y, 1, method="exact"), repeat=3)
    _report("working_set_start", from_coreset, from_irls, ("Lewis-coreset pilot (its LP not timed)", "IRLS pilot"))
    nonzero = np.abs(optimal) > 1e-9 * np.max(np.abs(optimal))
    for name, residual in (("Lewis coreset", coreset), ("IRLS", irls)):
        wrong = int(np.count_nonzero(np.sign(residual[nonzero]) != np.sign(optimal[nonzero])))
        print(f"working_set_start: {name} pilot mispredicts {wrong} of {int(nonzero.sum())} signs")
