"""The Arnoldi step's two bodies: the Numba MGS kernel and CGS2 on GEMVs agree with a dense reference."""

import numpy as np
import pytest

from linalgkit._backend import get_backend
from linalgkit.datasets._krylov import make_convection_diffusion
from linalgkit.krylov import _engine, gcrodr
from linalgkit.krylov._numba import mgs_step


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("count", [1, 7, 30])
def test_mgs_step_projects_out_an_orthonormal_basis(dtype, count):
    rng = np.random.default_rng(count)
    n = 500
    basis = np.ascontiguousarray(np.linalg.qr(rng.standard_normal((n, 31)))[0].T.astype(dtype))
    w = (rng.standard_normal(31) @ basis + 0.1 * rng.standard_normal(n)).astype(dtype)
    reference = w.astype(np.float64) - (basis[:count].astype(np.float64).T @ (basis[:count] @ w.astype(np.float64)))
    h = np.zeros(31, dtype=dtype)
    out = w.copy()
    hnorm = mgs_step(basis, count, out, h)
    eps = float(np.finfo(dtype).eps)
    np.testing.assert_allclose(h[:count], basis[:count].astype(np.float64) @ w, atol=50 * eps * np.linalg.norm(w))
    np.testing.assert_allclose(out, reference, atol=50 * eps * np.linalg.norm(w))
    assert hnorm == pytest.approx(np.linalg.norm(reference), rel=50 * eps)
    assert np.abs(basis[:count] @ out).max() <= 50 * eps * np.linalg.norm(w)


def test_both_orthogonalizations_give_the_same_solve(monkeypatch):
    """GCRO-DR with the kernel and with CGS2 (the GPU / array-API body) meet the rule in nearly the same steps."""
    A, b = make_convection_diffusion(24, [30.0], random_state=1)[0]
    with_kernel = gcrodr(A, b, k=10, m=30, rtol=1e-10)
    monkeypatch.setattr(_engine, "_orthogonalize", lambda be, W, count, w, buffer: _engine._cgs2(be, W, count, w))
    with_cgs2 = gcrodr(A, b, k=10, m=30, rtol=1e-10)
    assert with_kernel.converged and with_cgs2.converged
    for result in (with_kernel, with_cgs2):
        assert np.linalg.norm(b - A @ result.x) <= 1e-10 * np.linalg.norm(b)
    assert abs(with_kernel.iterations - with_cgs2.iterations) <= 0.05 * with_cgs2.iterations
    np.testing.assert_allclose(with_kernel.x, with_cgs2.x, rtol=0, atol=1e-8 * np.abs(with_cgs2.x).max())


def test_the_kernel_serves_numpy_only():
    """The dispatch: NumPy with Numba takes the kernel; a backend without Numba the GEMV body."""
    be = get_backend(np.zeros(3))
    W = np.eye(3)[:2].copy()
    w, h, hnorm = _engine._orthogonalize(be, W, 2, np.array([1.0, 2.0, 3.0]), np.empty(3))
    np.testing.assert_allclose(w, [0.0, 0.0, 3.0])
    np.testing.assert_allclose(h, [1.0, 2.0])
    assert hnorm == pytest.approx(3.0)


def test_givens_columns_give_the_least_squares_residual_of_the_hessenberg_matrix():
    """After each column, |g_{j+1}| equals min_y ||beta e_1 - H[:j+2, :j+1] y|| from LAPACK's lstsq."""
    from linalgkit.krylov._numba import givens_column

    rng = np.random.default_rng(4)
    s, beta = 12, 3.0
    H = np.triu(rng.standard_normal((s + 1, s)), -1)
    R, cs, sn, g = H.copy(), np.zeros(s), np.zeros(s), np.zeros(s + 1)
    g[0] = beta
    for j in range(s):
        estimate = givens_column(R[: j + 2, j], cs, sn, j, g)
        rhs = np.zeros(j + 2)
        rhs[0] = beta
        y = np.linalg.lstsq(H[: j + 2, : j + 1], rhs, rcond=None)[0]
        assert estimate == pytest.approx(np.linalg.norm(rhs - H[: j + 2, : j + 1] @ y), rel=1e-10, abs=1e-13)
    np.testing.assert_allclose(np.tril(R[:s], -1), 0.0, atol=0)
