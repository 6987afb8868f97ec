"""The Arnoldi bodies (the compiled cycle, the Numba MGS step, CGS2 on GEMVs) agree with each other and with references."""

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

from linalgkit._backend import get_backend
from linalgkit.datasets._krylov import make_convection_diffusion
from linalgkit.krylov import _engine, gcrodr
from linalgkit.krylov._numba import csr_matvec, mgs_step


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
    monkeypatch.setattr(_engine, "_compiled_csr", lambda *args: None)
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


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_product_equals_scipy_to_the_bit(index_dtype, dtype):
    """Unsorted indices, duplicate entries and empty rows: the kernel sums each row in storage order, as SciPy."""
    rng = np.random.default_rng(5)
    n = 300
    counts = rng.integers(0, 9, size=n)
    counts[::17] = 0
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(index_dtype)
    indices = rng.integers(0, n, size=indptr[-1]).astype(index_dtype)
    data = rng.standard_normal(indptr[-1]).astype(dtype)
    A = scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, n))
    q = rng.standard_normal(n).astype(dtype)
    w = np.empty(n, dtype=dtype)
    csr_matvec(A.indptr, A.indices, A.data, q, w)
    np.testing.assert_array_equal(w, A @ q)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [0, 10])
def test_the_compiled_cycle_takes_the_steps_of_the_python_loop(monkeypatch, k, dtype):
    """GMRES(30) and GCRO-DR(30, 10) on a sparse system: one Numba call a cycle gives the iterates to the bit."""
    A, b = make_convection_diffusion(24, [30.0], random_state=2)[0]
    A, b = A.astype(dtype), b.astype(dtype)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    compiled = gcrodr(A, b, k=k, m=30, rtol=rtol)
    monkeypatch.setattr(_engine, "_compiled_csr", lambda *args: None)
    stepwise = gcrodr(A, b, k=k, m=30, rtol=rtol)
    assert compiled.converged and compiled.iterations == stepwise.iterations
    assert compiled.matvecs == stepwise.matvecs
    np.testing.assert_array_equal(compiled.x, stepwise.x)


def test_the_compiled_cycle_is_chosen_only_where_it_applies():
    """CSR without M or callback: the kernel; a preconditioner, a callback, a dense or CSC matrix: the loop."""
    from linalgkit._solver import IterationMonitor
    from linalgkit.krylov._common import check_system

    A, b = make_convection_diffusion(8, [1.0], random_state=0)[0]
    silent, watched = IterationMonitor(None, None), IterationMonitor(print, None)
    system = check_system(A, b, None, None)
    assert _engine._compiled_csr(system.be, system, silent) is not None
    assert _engine._compiled_csr(system.be, system, watched) is None
    for other in (check_system(A, b, None, scipy.sparse.identity(A.shape[0], format="csr")),
                  check_system(A.toarray(), b, None, None), check_system(A.tocsc(), b, None, None)):
        assert _engine._compiled_csr(other.be, other, silent) is None


def test_the_ritz_period_follows_the_cost_of_a_cycle():
    """A 5-point stencil updates every third cycle; dense matrices, operators and preconditioned systems every one."""
    from linalgkit.krylov._common import check_system
    from linalgkit.krylov._cutovers import MAX_RITZ_PERIOD

    A, b = make_convection_diffusion(32, [1.0], random_state=0)[0]
    stencil = check_system(A, b, None, None)
    assert _engine.ritz_period(stencil.be, stencil, 20, 40) == MAX_RITZ_PERIOD == 3
    assert _engine.ritz_period(stencil.be, stencil, 0, 40) == 1
    for system in (check_system(A.toarray(), b, None, None),
                   check_system(scipy.sparse.linalg.aslinearoperator(A), b, None, None),
                   check_system(A, b, None, scipy.sparse.identity(A.shape[0], format="csr"))):
        assert _engine.ritz_period(system.be, system, 20, 40) == 1


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("k", [0, 2])
def test_a_singular_matrix_is_reported_not_raised(k, dense):
    """A x = b with A singular: consistent b converges; inconsistent b gives the best iterate and a warning."""
    from linalgkit.exceptions import ConvergenceWarning

    A = scipy.sparse.csr_matrix(np.diag([1.0, 2.0, 0.0, 3.0, 4.0, 5.0]))
    A = A.toarray() if dense else A
    consistent = gcrodr(A, np.array([1.0, 1.0, 0.0, 1.0, 1.0, 1.0]), k=k, m=4, rtol=1e-10)
    assert consistent.converged
    np.testing.assert_allclose(consistent.x, [1.0, 0.5, 0.0, 1 / 3, 0.25, 0.2], atol=1e-10)
    b = np.ones(6)
    with pytest.warns(ConvergenceWarning, match="maxiter"):
        result = gcrodr(A, b, k=k, m=4, rtol=1e-10, maxiter=40)
    assert not result.converged
    assert result.residual_norm == pytest.approx(np.linalg.norm(b - A @ result.x))
    assert result.residual_norm == pytest.approx(1.0, rel=1e-8)  # the least-squares residual: the zero row's 1
