"""Lewis weights: sum, p = 2, invariance, fixed-point residual (issue 13), solver contract, array API."""

import numpy as np
import pytest

from linalgkit.exceptions import ConvergenceWarning
from linalgkit.sampling import lewis_weights

from ..conftest import to_numpy
from ._data import heavy_rows, lewis_residual, qr_leverage

D = 8


@pytest.mark.parametrize("p", [1, 1.5, 3, 4, 6])
def test_weights_sum_to_d(p):
    result = lewis_weights(heavy_rows(), p, random_state=0)
    assert result.converged
    assert abs(float(result.weights.sum()) - D) <= 1e-6 * D


def test_p2_equals_qr_leverage():
    A = heavy_rows()
    np.testing.assert_allclose(lewis_weights(A, 2, random_state=0).weights, qr_leverage(A), rtol=1e-10, atol=0)


@pytest.mark.parametrize("p", [1, 1.5, 3, 6])
def test_invariant_under_right_multiplication(p):
    A = heavy_rows()
    R = np.random.default_rng(1).standard_normal((D, D))
    w = lewis_weights(A, p, random_state=0).weights
    w_AR = lewis_weights(A @ R, p, random_state=1).weights
    np.testing.assert_allclose(w_AR, w, rtol=1e-8, atol=0)


@pytest.mark.parametrize("p", [1, 1.5, 3])
def test_fixed_point_residual(p):
    A = heavy_rows()
    result = lewis_weights(A, p, maxiter=200, random_state=0)
    assert result.converged and result.iterations <= 200
    assert lewis_residual(A, result.weights, p) <= 1e-6


def test_newton_reaches_the_fixed_point_for_large_p():
    A = heavy_rows()
    result = lewis_weights(A, 6, random_state=0)
    assert result.method == "newton"
    assert lewis_residual(A, result.weights, 6) <= 1e-8


def test_sketched_within_25_percent_of_exact():
    A = heavy_rows(20_000, 10)
    exact = lewis_weights(A, 1, random_state=0).weights
    sketched = lewis_weights(A, 1, method="sketched", random_state=0)
    assert sketched.converged and sketched.method == "sketched-fixed-point"
    assert np.max(np.abs(sketched.weights / exact - 1)) <= 0.25


def test_non_convergence_returns_best_iterate_and_warns_once():
    A = heavy_rows()
    with pytest.warns(ConvergenceWarning, match="lewis_weights did not meet") as record:
        result = lewis_weights(A, 1, maxiter=3, random_state=0)
    assert len(record) == 1
    assert not result.converged and result.iterations == 3
    assert result.residual_norm == min(result.history)


def test_callback_x0_and_progress():
    A = heavy_rows()
    seen = []
    start = lewis_weights(A, 1, rtol=1e-3, random_state=0).weights
    result = lewis_weights(A, 1, x0=start, callback=seen.append, progress=True, random_state=0)
    assert len(seen) == result.iterations
    assert result.iterations < lewis_weights(A, 1, random_state=0).iterations


def test_array_api_path(xp):
    A = np.asarray(heavy_rows(600, 4))
    result = lewis_weights(xp.asarray(A), 1, random_state=0)
    np.testing.assert_allclose(to_numpy(result.weights), lewis_weights(A, 1, random_state=0).weights, rtol=1e-8)
