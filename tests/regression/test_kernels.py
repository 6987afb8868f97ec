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


def _hostile_csr(dtype, index_dtype):
    """A CSR matrix with unsorted indices, a duplicate entry and empty rows (first, middle and last)."""
    import scipy.sparse

    rng = np.random.default_rng(5)
    A = scipy.sparse.random(400, 9, density=0.3, format="csr", random_state=rng, dtype=np.float64)
    A = (scipy.sparse.diags(np.where(np.isin(np.arange(400), [0, 200, 399]), 0.0, 1.0)) @ A).tocsr()
    A.eliminate_zeros()
    indptr, indices, data = A.indptr.copy(), A.indices.copy(), A.data.copy()
    for i in range(1, 400, 7):  # reverse the order within some rows
        indices[indptr[i]:indptr[i + 1]] = indices[indptr[i]:indptr[i + 1]][::-1].copy()
        data[indptr[i]:indptr[i + 1]] = data[indptr[i]:indptr[i + 1]][::-1].copy()
    row = next(i for i in range(400) if indptr[i + 1] - indptr[i] >= 2)
    indices[indptr[row] + 1] = indices[indptr[row]]  # a duplicate (i, j): products sum both
    return scipy.sparse.csr_matrix((data.astype(dtype), indices.astype(index_dtype), indptr.astype(index_dtype)),
                                   shape=A.shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("coef", [0.0, -0.75])
def test_csr_product_pair_equals_two_scipy_products(dtype, index_dtype, coef):
    """w = A v + coef u, A^T w and ||w||^2 in one pass, written over u, against SciPy's two products."""
    from linalgkit.regression._numba import csr_product_pair

    A = _hostile_csr(dtype, index_dtype)
    rng = np.random.default_rng(1)
    v, u = rng.standard_normal(9).astype(dtype), rng.standard_normal(400).astype(dtype)
    expected = A.astype(np.float64) @ v.astype(np.float64) + coef * u.astype(np.float64)
    out = u.copy() if coef else np.full(400, np.nan, dtype=dtype)  # coef = 0 must not read u
    gradient, squares = csr_product_pair(A.indptr, A.indices, A.data, v, out, coef, out)
    eps = float(np.finfo(dtype).eps)
    assert out.dtype == gradient.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=0, atol=20 * eps * np.abs(expected).max())
    np.testing.assert_allclose(gradient, A.T.astype(np.float64) @ expected, rtol=0,
                               atol=200 * eps * np.abs(A.data).max() * np.abs(expected).sum())
    assert squares == pytest.approx(float(expected @ expected), rel=50 * eps)


@pytest.mark.parametrize("method", ["lsqr", "ihs", "fossils"])
def test_sparse_iterations_numba_off_match_numba_on(method, monkeypatch):
    """The fused CSR pass (one read of A per LSQR step) and SciPy's two products solve to the same accuracy."""
    import scipy.sparse

    rng = np.random.default_rng(2)
    A = scipy.sparse.random(6000, 40, density=0.05, format="csr", random_state=rng) + scipy.sparse.eye(6000, 40)
    x = rng.standard_normal(40)
    b = A @ x + 1e-3 * rng.standard_normal(6000)
    reference = np.linalg.lstsq(A.toarray(), b, rcond=None)[0]
    on = lstsq_precondition(A, b, method=method, random_state=0)
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    off = lstsq_precondition(A, b, method=method, random_state=0)
    assert on.converged and off.converged and on.method == off.method == method
    assert abs(on.iterations - off.iterations) <= 1
    scale = np.linalg.norm(reference)
    assert np.linalg.norm(on.x - reference) <= 3 * np.linalg.norm(off.x - reference) + 1e-14 * scale


def test_fused_pass_only_for_csr_and_c_ordered_arrays_on_numpy_with_numba(monkeypatch):
    import scipy.sparse

    from linalgkit._backend import get_backend
    from linalgkit.regression.precondition import _fused

    A = scipy.sparse.random(50, 4, density=0.5, format="csr", random_state=0)
    backend = get_backend(A=A)
    assert _fused(backend, A) == "csr" and _fused(backend, A.toarray()) == "dense"
    assert _fused(backend, A.tocsc()) is None and _fused(backend, np.asfortranarray(A.toarray())) is None
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    assert _fused(get_backend(A=A), A) is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("coef", [0.0, -0.75])
def test_dense_product_pair_equals_two_products(dtype, coef):
    from linalgkit.regression._numba import dense_product_pair

    rng = np.random.default_rng(3)
    A, v, u = rng.standard_normal((700, 13)).astype(dtype), rng.standard_normal(13).astype(dtype), \
        rng.standard_normal(700).astype(dtype)
    expected = A.astype(np.float64) @ v.astype(np.float64) + coef * u.astype(np.float64)
    out = u.copy() if coef else np.full(700, np.nan, dtype=dtype)
    gradient, squares = dense_product_pair(A, v, out, coef, out)
    eps = float(np.finfo(dtype).eps)
    assert out.dtype == gradient.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=0, atol=50 * eps * np.abs(expected).max())
    np.testing.assert_allclose(gradient, A.T.astype(np.float64) @ expected, rtol=0,
                               atol=200 * eps * np.abs(A).max() * np.abs(expected).sum())
    assert squares == pytest.approx(float(expected @ expected), rel=50 * eps)


@pytest.mark.parametrize("method", ["lsqr", "ihs", "fossils"])
def test_dense_iterations_numba_off_match_numba_on(method, monkeypatch):
    p = make_lstsq_problem(4000, 30, cond=1e6, residual_norm=1e-3, random_state=0)
    on = lstsq_precondition(p.A, p.b, method=method, random_state=0)
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    off = lstsq_precondition(p.A, p.b, method=method, random_state=0)
    assert on.converged and off.converged and on.method == off.method == method
    assert abs(on.iterations - off.iterations) <= 1
    assert np.linalg.norm(on.x - p.x) <= 3 * np.linalg.norm(off.x - p.x) + 1e-15 * np.linalg.norm(p.x)
