"""Numba kernels of the hashing sketches (CountSketch, sparse sign, the pooling stage).

Every kernel computes ``out[rows[i, j]] += weights[i, j] * [A[i], B[i]]`` over the rows ``i`` of a
tall matrix and the ``z`` hashes ``j`` of each row: one pass over ``A`` and ``B`` that writes into a
small ``m x (k + q)`` output.  Rows are split into one chunk per thread; each chunk accumulates into
its own copy of the output (so no two threads write the same memory) and the copies are summed.
"""

import numba
import numpy as np

# Below this many stored values per call the thread pool costs more than it saves.
PARALLEL_MIN_VALUES = 1 << 16


@numba.njit(cache=True)
def _scatter_dense_rows(A, B, rows, weights, start, stop, out):
    k = A.shape[1]
    q = B.shape[1]
    for i in range(start, stop):
        for j in range(rows.shape[1]):
            r = rows[i, j]
            w = weights[i, j]
            for c in range(k):
                out[r, c] += w * A[i, c]
            for c in range(q):
                out[r, k + c] += w * B[i, c]


@numba.njit(cache=True, parallel=True)
def _scatter_dense_parallel(A, B, rows, weights, partial):
    chunks = partial.shape[0]
    n = A.shape[0]
    for t in numba.prange(chunks):
        _scatter_dense_rows(A, B, rows, weights, t * n // chunks, (t + 1) * n // chunks, partial[t])


@numba.njit(cache=True)
def _scatter_csr_rows(indptr, indices, data, B, rows, weights, start, stop, out):
    k = out.shape[1] - B.shape[1]
    for i in range(start, stop):
        for j in range(rows.shape[1]):
            r = rows[i, j]
            w = weights[i, j]
            for p in range(indptr[i], indptr[i + 1]):
                out[r, indices[p]] += w * data[p]
            for c in range(B.shape[1]):
                out[r, k + c] += w * B[i, c]


@numba.njit(cache=True, parallel=True)
def _scatter_csr_parallel(indptr, indices, data, B, rows, weights, partial):
    chunks = partial.shape[0]
    n = indptr.shape[0] - 1
    for t in numba.prange(chunks):
        _scatter_csr_rows(indptr, indices, data, B, rows, weights, t * n // chunks, (t + 1) * n // chunks,
                          partial[t])


def scatter_rows(A, B, rows, weights, m):
    """``out[rows[i, j]] += weights[i, j] * [A[i], B[i]]`` for a dense array or CSR matrix ``A``.

    ``A`` is ``n x k`` (NumPy array or SciPy CSR), ``B`` a dense ``n x q`` array (``q`` may be 0),
    ``rows`` an ``n x z`` int64 array of targets in ``[0, m)`` and ``weights`` an ``n x z`` array of
    ``A``'s dtype.  Returns the dense ``m x (k + q)`` result.
    """
    k = A.shape[1]
    values = A.nnz if hasattr(A, "nnz") else A.size
    chunks = numba.get_num_threads() if values * rows.shape[1] >= PARALLEL_MIN_VALUES else 1
    partial = np.zeros((chunks, m, k + B.shape[1]), dtype=weights.dtype)
    if hasattr(A, "indptr"):
        _scatter_csr_parallel(A.indptr, A.indices, A.data, B, rows, weights, partial)
    else:
        _scatter_dense_parallel(A, B, rows, weights, partial)
    return partial[0] if chunks == 1 else partial.sum(axis=0)
