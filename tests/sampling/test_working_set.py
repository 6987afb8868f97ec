"""Exact l_1 regression on a working set of rows: the same optimum as HiGHS on the full dual LP, with its certificate."""

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse

from linalgkit._backend import get_backend
from linalgkit.datasets._sampling import make_l1_regression_problem
from linalgkit.sampling import LpRegression, lp_regression
from linalgkit.sampling._solvers import l1_working_set


def _full_dual_optimum(A, b):
    """Reference: min ||Ax - b||_1 as the value of the dual LP on all rows, by scipy's HiGHS."""
    A = A.toarray() if scipy.sparse.issparse(A) else A
    result = scipy.optimize.linprog(-b, A_eq=A.T, b_eq=np.zeros(A.shape[1]), bounds=(-1.0, 1.0), method="highs")
    assert result.status == 0
    return -result.fun


def _assert_exact(result, A, b):
    """The objective and the certified lower bound equal the full LP's optimum; the objective is that of x."""
    optimum = _full_dual_optimum(A, b)
    assert result.converged
    assert result.objective == pytest.approx(np.sum(np.abs(A @ result.x - b)), rel=1e-12)
    assert result.objective == pytest.approx(optimum, rel=1e-9)
    assert result.lower_bound == pytest.approx(optimum, rel=1e-9)
    assert result.residual_norm == pytest.approx((result.objective - result.lower_bound) / result.objective, abs=1e-15)
    assert result.residual_norm <= 1e-9


def _integer_problem(n=3000, d=5, seed=0, scale=10.0):
    """Integer design and integer targets: ties, a degenerate LP with several optimal x; about
    ``P(round(scale * Laplace) = 0)`` of the rows (5% at scale 10, 40% at scale 1) fit exactly at x0."""
    rng = np.random.default_rng(seed)
    A = rng.integers(-3, 4, size=(n, d)).astype(float)
    A[:, 0] = 1.0
    return A, np.round(A @ rng.integers(-2, 3, size=d) + scale * rng.laplace(size=n))


def _duplicated_problem(seed=1):
    """Each row five times (ties in every residual) and one zero row (its residual never changes)."""
    problem = make_l1_regression_problem(600, 5, random_state=seed)
    A, b = np.repeat(problem.A, 5, axis=0), np.repeat(problem.b, 5)
    return np.vstack([A, np.zeros(5)]), np.r_[b, 2.0]


@pytest.mark.parametrize("outlier_fraction", [0.02, 0.3])
@pytest.mark.parametrize("heavy_tailed", [True, False])
def test_working_set_with_outliers(outlier_fraction, heavy_tailed):
    problem = make_l1_regression_problem(4000, 6, outlier_fraction=outlier_fraction, heavy_tailed=heavy_tailed,
                                         random_state=2)
    result = lp_regression(problem.A, problem.b, 1, method="exact")
    assert result.method == "working-set" and result.iterations == len(result.history)
    _assert_exact(result, problem.A, problem.b)


@pytest.mark.parametrize("seed", range(6))
def test_working_set_on_random_problems(seed):
    """Shapes from n = 80 d + 1 (the smallest n with a working set) up; outlier fractions 0 to 50%."""
    d = 3 + seed
    n = 80 * d + 1 if seed % 2 else 2000
    problem = make_l1_regression_problem(n, d, outlier_fraction=(0.0, 0.1, 0.5)[seed % 3], heavy_tailed=seed < 3,
                                         random_state=10 + seed)
    result = lp_regression(problem.A, problem.b, 1, method="exact")
    assert result.method == "working-set"
    _assert_exact(result, problem.A, problem.b)


@pytest.mark.parametrize("make", [_integer_problem, _duplicated_problem], ids=["integer", "duplicated"])
def test_working_set_on_ties_and_degenerate_data(make):
    A, b = make()
    result = lp_regression(A, b, 1, method="exact")
    assert result.method == "working-set"
    _assert_exact(result, A, b)


def test_working_set_sparse():
    problem = make_l1_regression_problem(3000, 6, random_state=3)
    A = problem.A.copy()
    A[np.abs(A) < 0.7] = 0.0
    A[:, 0] = 1.0
    result = lp_regression(scipy.sparse.csr_matrix(A), problem.b, 1, method="exact", random_state=0)
    assert result.method == "working-set"
    _assert_exact(result, A, problem.b)


def test_a_band_of_ties_too_wide_for_the_working_set_falls_back():
    """40% of the rows fit exactly near the optimum: the free band doubles past a quarter of the rows, the full LP
    is solved and the result says so."""
    A, b = _integer_problem(scale=1.0)
    result = lp_regression(A, b, 1, method="exact")
    assert result.method == "dual-lp-fallback" and len(result.history) >= 1
    _assert_exact(result, A, b)


def test_working_set_float32_certificate_in_float64():
    """float32 data: the dual iterate stays in HiGHS's float64, so the certified gap is float64-tight."""
    problem = make_l1_regression_problem(4000, 6, random_state=8)
    A, b = problem.A.astype(np.float32), problem.b.astype(np.float32)
    result = lp_regression(A, b, 1, method="exact")
    assert result.method == "working-set"
    _assert_exact(result, A.astype(np.float64), b.astype(np.float64))


def test_exact_fit_has_zero_optimum():
    A = np.random.default_rng(4).standard_normal((2000, 4))
    result = lp_regression(A, A @ np.array([1.0, -2.0, 0.5, 3.0]), 1, method="exact")
    assert result.objective == pytest.approx(0.0, abs=1e-10) and result.lower_bound == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("n_extra", [1, 3])
def test_n_barely_above_d_solves_the_full_lp(n_extra):
    """n = d + 1, d + 3: no working set is much smaller than the problem, the full dual LP is solved."""
    problem = make_l1_regression_problem(8 + n_extra, 8, random_state=5)
    result = lp_regression(problem.A, problem.b, 1, method="exact")
    assert result.method == "dual-lp"
    _assert_exact(result, problem.A, problem.b)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_estimator_exact_matches_the_full_lp(fit_intercept):
    problem = make_l1_regression_problem(3000, 5, random_state=6)
    X, y = problem.A, problem.b + 4.0
    model = LpRegression(sampling=None, fit_intercept=fit_intercept).fit(X, y)
    design = np.column_stack([X, np.ones(len(y))]) if fit_intercept else X
    assert model.result_.method == "working-set"
    assert np.sum(np.abs(model.predict(X) - y)) == pytest.approx(_full_dual_optimum(design, y), rel=1e-9)
    _assert_exact(model.result_, design, y)


def test_round_cap_falls_back_to_the_full_lp_and_says_so():
    problem = make_l1_regression_problem(3000, 6, random_state=7)
    A, b = problem.A, problem.b
    free = l1_working_set(get_backend(A=A), A, b, np.random.default_rng(0), start_rows=6)
    assert free.method == "working-set" and free.iterations > 1  # one round is not enough from 6 free rows
    capped = l1_working_set(get_backend(A=A), A, b, np.random.default_rng(0), start_rows=6, max_rounds=1)
    assert capped.method == "dual-lp-fallback" and len(capped.history) == 1
    _assert_exact(capped, A, b)
    assert math.isinf(capped.history[0]) or capped.history[0] > 0.0
