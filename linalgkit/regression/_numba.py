"""Numba kernels of the regression family: the fused residual-and-gradient pass of the Cholesky-QR refinement.

The kernels receive plain arrays (a C-ordered dense ``A``); :mod:`linalgkit.regression._cholqr`
chooses them from ``be`` and falls back to NumPy/BLAS expressions elsewhere.  Rows are split into
one chunk per Numba thread; each chunk accumulates into its own copy of the small output, and the
copies are summed.
"""

import numba
import numpy as np


@numba.njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def _residual_gradient_rows(A, B, Xt, gradients, squares):
    n, d = A.shape
    chunks = gradients.shape[0]
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
                s[j] += r * r
                row = g[j]
                for c in range(d):
                    row[c] += r * a[c]
        squares[t] = s


def residual_gradient(A, B, X):
    r"""``(A^T(B - AX), squared column norms of B - AX)`` in one read of a C-ordered ``A`` (n x d).

    ``B`` is ``n x k`` and ``X`` is ``d x k``; the residual itself is never stored.  Sums are
    reassociated (vectorized), which changes the rounding but not its bound.
    """
    chunks = numba.get_num_threads()
    k = B.shape[1]
    gradients = np.zeros((chunks, k, A.shape[1]), dtype=A.dtype)
    squares = np.zeros((chunks, k), dtype=A.dtype)
    _residual_gradient_rows(A, np.ascontiguousarray(B), np.ascontiguousarray(X.T), gradients, squares)
    return gradients.sum(axis=0).T, squares.sum(axis=0)
