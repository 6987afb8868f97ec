"""The regression family's Numba kernels against NumPy/BLAS references, and the Numba-off road."""

import numpy as np
import pytest

from linalgkit.datasets._regression import make_lstsq_problem
from linalgkit.regression import lstsq_precondition


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, k", [(3000, 1), (517, 3)])
def test_fused_residual_gradient_equals_two_products(dtype, n, k):
    from linalgkit.regression._numba import residual_gradient

    rng = np.random.default_rng(n + k)
    A, B, X = (rng.standard_normal(shape).astype(dtype) for shape in ((n, 7), (n, k), (7, k)))
    R = B.astype(np.float64) - A.astype(np.float64) @ X.astype(np.float64)
    G, squares = residual_gradient(A, B, X)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(G, A.astype(np.float64).T @ R, rtol=0, atol=50 * eps * n * np.abs(A).max() ** 2)
    np.testing.assert_allclose(squares, (R**2).sum(axis=0), rtol=100 * eps)


@pytest.mark.parametrize("cond", [1e3, 1e12])
def test_cholqr_numba_off_matches_numba_on(cond, monkeypatch):
    """The Numba kernels (fused refinement pass, threaded Gram) and the NumPy/BLAS road give the same solution."""
    p = make_lstsq_problem(4000, 30, cond=cond, residual_norm=1e-3, random_state=0)
    on = lstsq_precondition(p.A, p.b, random_state=0)
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    off = lstsq_precondition(p.A, p.b, random_state=0)
    assert on.method == off.method == "cholqr" and on.converged and off.converged
    reference = np.linalg.norm(off.x - p.x)
    assert np.linalg.norm(on.x - p.x) <= 3 * reference + 1e-15 * np.linalg.norm(p.x)
    assert on.residual_norm == pytest.approx(np.linalg.norm(p.A @ on.x - p.b), rel=1e-12)
