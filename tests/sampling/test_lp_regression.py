"""l_p regression: the dual LP against the primal LP and QuantileRegressor, Newton-IRLS against
scipy.optimize.minimize, and the outlier coreset of issue 13."""

import functools

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
from sklearn.linear_model import QuantileRegressor

from linalgkit.datasets._sampling import make_l1_regression_problem
from linalgkit.exceptions import ConvergenceWarning
from linalgkit.sampling import lp_regression


def _small(seed=0, n=300, d=4):
    problem = make_l1_regression_problem(n, d, random_state=seed)
    return problem.A, problem.b


def _primal_l1(A, b):
    n, d = A.shape
    result = scipy.optimize.linprog(np.r_[np.zeros(d), np.ones(n)], A_ub=np.block([[A, -np.eye(n)], [-A, -np.eye(n)]]),
                                    b_ub=np.r_[b, -b], bounds=[(None, None)] * d + [(0, None)] * n, method="highs")
    return result.x[:d], result.fun


def test_exact_l1_matches_the_primal_lp():
    A, b = _small()
    x, optimum = _primal_l1(A, b)
    result = lp_regression(A, b, 1, method="exact")
    assert result.converged and result.method == "dual-lp" and result.m is None
    assert result.objective == pytest.approx(optimum, rel=1e-9)
    assert result.lower_bound == pytest.approx(optimum, rel=1e-9)
    np.testing.assert_allclose(result.x, x, rtol=1e-6, atol=1e-8)


def test_exact_l1_matches_quantile_regressor():
    A, b = _small(1)
    peer = QuantileRegressor(quantile=0.5, alpha=0.0, fit_intercept=False, solver="highs").fit(A, b)
    result = lp_regression(A, b, 1, method="exact")
    assert result.objective == pytest.approx(np.sum(np.abs(A @ peer.coef_ - b)), rel=1e-9)


def test_exact_l1_sparse_matches_dense():
    A, b = _small(2)
    A[np.abs(A) < 0.5] = 0.0
    dense = lp_regression(A, b, 1, method="exact")
    sparse = lp_regression(scipy.sparse.csr_matrix(A), b, 1, method="exact")
    assert sparse.objective == pytest.approx(dense.objective, rel=1e-10)


@pytest.mark.parametrize("p", [1.5, 3, 6])
def test_newton_irls_matches_scipy_minimize(p):
    A, b = _small(3, n=200, d=3)
    result = lp_regression(A, b, p, method="exact", rtol=1e-12)
    reference = scipy.optimize.minimize(lambda x: np.sum(np.abs(A @ x - b) ** p), np.linalg.lstsq(A, b)[0],
                                        method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-14,
                                                                       "maxiter": 20000, "maxfev": 40000})
    assert result.converged and result.method == "newton-irls"
    assert result.objective <= reference.fun * (1 + 1e-9)
    assert result.objective == pytest.approx(reference.fun, rel=1e-7)
    assert result.lower_bound <= result.objective * (1 + 1e-12)
    assert result.lower_bound == pytest.approx(result.objective, rel=1e-6)


@functools.lru_cache(maxsize=1)
def _outlier_case():
    problem = make_l1_regression_problem(20_000, 10, random_state=0)
    return problem.A, problem.b, lp_regression(problem.A, problem.b, 1, method="exact").objective


@pytest.mark.parametrize("m, within", [(300, 1.05), (100, 1.10)])
def test_lewis_coreset_with_outliers(m, within):
    """2% Cauchy outliers on the heavy-tailed design: within 5% (m = 300) / 10% (m = 100) over 10 seeds."""
    A, b, optimum = _outlier_case()
    ratios = []
    for seed in range(10):
        result = lp_regression(A, b, 1, m=m, random_state=seed)
        assert result.lower_bound <= optimum * (1 + 1e-9) <= result.objective * (1 + 1e-9)
        ratios.append(result.objective / optimum)
    assert max(ratios) <= within


def test_sampled_reports_sample_size():
    A, b, _ = _outlier_case()
    result = lp_regression(A, b, 1, m=300, random_state=0)
    assert 200 <= result.m <= 400 and result.scores == "lewis"


def test_non_convergence_warns_once_and_returns_the_best_iterate():
    A, b = _small(4)
    with pytest.warns(ConvergenceWarning, match="lp_regression did not meet") as record:
        result = lp_regression(A, b, 3, method="exact", maxiter=2)
    assert len(record) == 1 and not result.converged
    assert result.residual_norm == min(result.history)


def test_callback_and_x0():
    A, b = _small(5)
    seen = []
    start = lp_regression(A, b, 1.5, method="exact", rtol=1e-3).x
    result = lp_regression(A, b, 1.5, method="exact", x0=start, callback=seen.append, progress=True)
    assert len(seen) == result.iterations and seen[0].shape == (A.shape[1],)


def test_sampled_zero_residual_problem_uses_the_scores_of_a():
    """b in range(A) makes [A b] rank-deficient; the sample then follows A and recovers x exactly."""
    A = np.random.default_rng(6).standard_normal((2000, 4))
    x = np.array([1.0, -2.0, 0.5, 3.0])
    result = lp_regression(A, A @ x, 1, m=200, random_state=0)
    np.testing.assert_allclose(result.x, x, rtol=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exact_fit_converges_at_the_rounding_level(dtype):
    """b = A x: the residual reaches rounding and the scale-free gradient rule cannot; the solve still converges."""
    A = np.random.default_rng(7).standard_normal((500, 3)).astype(dtype)
    result = lp_regression(A, A @ np.ones(3, dtype=dtype), 3, method="exact")
    assert result.converged
    np.testing.assert_allclose(result.x, np.ones(3), rtol=100 * np.finfo(dtype).eps)
