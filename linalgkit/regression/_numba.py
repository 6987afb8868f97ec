"""Numba kernels of the regression family: fused passes that read ``A`` once where two products would read it twice.

:func:`residual_gradient` serves the Cholesky-QR refinement (a C-ordered dense ``A``),
:func:`csr_product_pair` and :func:`dense_product_pair` the LSQR bidiagonalization and the
normal-equation test (a CSR ``A`` as its three arrays, or a C-ordered dense ``A``).  :mod:`linalgkit.regression._cholqr` and :mod:`linalgkit.regression.precondition`
choose them from ``be`` and fall back to NumPy/BLAS expressions elsewhere.  Rows are split into
one chunk per Numba thread; each chunk accumulates into its own copy of the small output, and the
copies are summed.
"""

import numba
import numpy as np


@numba.njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def _residual_gradient_rows(A, B, Xt, gradients, squares, residuals):
    n, d = A.shape
    chunks, store = gradients.shape[0], residuals.shape[0] > 0
    for t in numba.prange(chunks):
        g, s = gradients[t], np.zeros(Xt.shape[0], dtype=squares.dtype)  # local: squares[t] shares a cache line
        for i in range(t * n // chunks, (t + 1) * n // chunks):
            a = A[i]
            for j in range(Xt.shape[0]):
                x = Xt[j]
                dot = 0.0
                for c in range(d):
                    dot += a[c] * x[c]
                r = B[i, j] - dot
                if store:
                    residuals[i, j] = r
                s[j] += r * r
                row = g[j]
                for c in range(d):
                    row[c] += r * a[c]
        squares[t] = s


def residual_gradient(A, B, X, out=None):
    r"""``(A^T(B - AX), squared column norms of B - AX)`` in one read of a C-ordered ``A`` (n x d).

    ``B`` is ``n x k`` and ``X`` is ``d x k``; the residual is stored only into ``out`` (``n x k``)
    when given.  Sums are reassociated (vectorized), which changes the rounding but not its bound.
    """
    chunks = numba.get_num_threads()
    k = B.shape[1]
    gradients = np.zeros((chunks, k, A.shape[1]), dtype=A.dtype)
    squares = np.zeros((chunks, k), dtype=A.dtype)
    residuals = np.empty((0, k), dtype=A.dtype) if out is None else out
    _residual_gradient_rows(A, np.ascontiguousarray(B), np.ascontiguousarray(X.T), gradients, squares, residuals)
    return gradients.sum(axis=0).T, squares.sum(axis=0)


def dense_product_pair(A, v, u, coef, out):
    r"""``out = A v + coef u`` and ``(A^T out, ||out||^2)`` in one read of a C-ordered dense ``A`` (n x d).

    The form of :func:`csr_product_pair`, by :func:`residual_gradient` with :math:`B = \mathrm{coef}\,u`
    and :math:`X = -v`; ``out`` may be ``u``, which is not read when ``coef`` is 0.
    """
    B = (coef * u if coef != 0 else np.zeros_like(out))[:, None]
    gradient, squares = residual_gradient(A, B, -v[:, None], out=out[:, None])
    return gradient[:, 0], float(squares[0])


@numba.njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def _product_pair_chunks(indptr, indices, data, v, u, coef, bounds, out, gradients, squares):
    one = numba.uint64(1)
    for t in numba.prange(bounds.shape[0] - 1):
        g, total = gradients[t], 0.0
        for i in range(bounds[t], bounds[t + 1]):
            start, stop = numba.uint64(indptr[i]), numba.uint64(indptr[i + 1])
            dot, p = 0.0, start
            while p < stop:
                dot += data[p] * v[numba.uint64(indices[p])]
                p += one
            r = dot + coef * u[i] if coef != 0.0 else dot  # coef = 0: u is not read (it may be uninitialized)
            out[i] = r
            total += r * r
            p = start
            while p < stop:
                g[numba.uint64(indices[p])] += r * data[p]
                p += one
        squares[t] = total


def csr_product_pair(indptr, indices, data, v, u, coef, out):
    r"""``out = A v + coef u`` and ``(A^T out, ||out||^2)`` in one read of a CSR matrix ``A`` (n x d).

    ``u`` and ``out`` are length-``n`` vectors and may be the same array (row ``i`` reads
    ``u[i]`` before it writes ``out[i]``); ``u`` is not read when ``coef`` is 0.  The column indices must lie in ``[0, d)`` (the input
    funnel proved them so): positions are unsigned, which spares Numba's negative-index test per
    load.  The rows are split into one range per Numba thread with about equal nonzeros; each
    accumulates its own copy of :math:`A^T` out, so the sums are reassociated.
    """
    chunks = numba.get_num_threads()
    n, d = out.shape[0], v.shape[0]
    bounds = np.searchsorted(indptr, np.linspace(0, indptr[-1], chunks + 1)).astype(np.int64)
    bounds[0], bounds[-1] = 0, n
    gradients = np.zeros((chunks, d), dtype=out.dtype)
    squares = np.zeros(chunks, dtype=np.float64)
    _product_pair_chunks(indptr, indices, data, v, u, float(coef), bounds, out, gradients, squares)
    return gradients.sum(axis=0), float(squares.sum())
