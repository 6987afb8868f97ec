"""Numba kernels of the hashing sketches (CountSketch, sparse sign, the pooling stage).

Every kernel computes ``out[rows[i, j]] += weights[i, j] * [A[i], B[i]]`` over the rows ``i`` of a
tall matrix and the ``z`` hashes ``j`` of each row: one pass over ``A`` and ``B`` that writes into a
small ``m x (k + q)`` output.  Rows are split into one chunk per thread; each chunk accumulates into
its own copy of the output (so no two threads write the same memory) and the copies are summed.
"""

import numba
import numpy as np

from ..transforms._fwht_numba import column_transform_inplace, parity

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


# ------------------------------------------------------------------ SRHT: H_N = H_R kron H_C, sampled rows only
#
# Row i = (a, c) of H_N x with a = i // C, c = i % C equals sum_b (H_R)_{ab} (H_C x_b)_c, where x_b is block b
# of C consecutive rows.  So each block is transformed by H_C in a cache-resident buffer and only its rows
# c_i of the m sampled rows are added, with sign (H_R)_{a_i b} = (-1)^popcount(a_i & b), into the output:
# one pass over A, no N x k intermediate.


@numba.njit(cache=True)
def _accumulate(buf, block, row_block, row_offset, out):
    for i in range(row_block.shape[0]):
        source = buf[row_offset[i]]
        if parity(row_block[i] & block):
            for c in range(out.shape[1]):
                out[i, c] -= source[c]
        else:
            for c in range(out.shape[1]):
                out[i, c] += source[c]


@numba.njit(cache=True)
def _fill_dense(A, B, signs, start, buf):
    n, k = A.shape
    for j in range(buf.shape[0]):
        i = start + j
        if i < n:
            s = signs[i]
            for c in range(k):
                buf[j, c] = s * A[i, c]
            for c in range(B.shape[1]):
                buf[j, k + c] = s * B[i, c]
        else:
            buf[j, :] = 0


@numba.njit(cache=True)
def _fill_csr(indptr, indices, data, B, signs, start, buf):
    n = indptr.shape[0] - 1
    k = buf.shape[1] - B.shape[1]
    buf[:, :] = 0
    for j in range(buf.shape[0]):
        i = start + j
        if i < n:
            s = signs[i]
            for p in range(indptr[i], indptr[i + 1]):
                buf[j, indices[p]] = s * data[p]
            for c in range(B.shape[1]):
                buf[j, k + c] = s * B[i, c]


@numba.njit(cache=True, parallel=True)
def _srht_dense(A, B, signs, row_block, row_offset, buffers, partial):
    threads, size = buffers.shape[0], buffers.shape[1]
    blocks = (A.shape[0] + size - 1) // size
    for t in numba.prange(threads):
        for block in range(t * blocks // threads, (t + 1) * blocks // threads):
            _fill_dense(A, B, signs, block * size, buffers[t])
            column_transform_inplace(buffers[t])
            _accumulate(buffers[t], block, row_block, row_offset, partial[t])


@numba.njit(cache=True, parallel=True)
def _srht_csr(indptr, indices, data, B, signs, row_block, row_offset, buffers, partial):
    threads, size = buffers.shape[0], buffers.shape[1]
    blocks = (indptr.shape[0] - 1 + size - 1) // size
    for t in numba.prange(threads):
        for block in range(t * blocks // threads, (t + 1) * blocks // threads):
            _fill_csr(indptr, indices, data, B, signs, block * size, buffers[t])
            column_transform_inplace(buffers[t])
            _accumulate(buffers[t], block, row_block, row_offset, partial[t])


def srht_block_size(padded_rows, m, width):
    """Rows per block: a buffer of about 1 MiB, but at least m / 8 (the accumulation costs m N w / C)."""
    by_cache = 1 << max(0, ((1 << 20) // (8 * width)).bit_length() - 1)
    by_work = 1 << max(0, (m // 8 - 1).bit_length())
    return min(padded_rows, max(by_cache, by_work, 8))


def srht_apply(A, B, signs, rows, padded_rows):
    """Unscaled ``P H_N D J [A B]``: the sampled rows ``rows`` of the padded, sign-flipped transform."""
    width = A.shape[1] + B.shape[1]
    size = srht_block_size(padded_rows, rows.shape[0], width)
    threads = min(numba.get_num_threads(), padded_rows // size)
    buffers = np.empty((threads, size, width), dtype=signs.dtype)
    partial = np.zeros((threads, rows.shape[0], width), dtype=signs.dtype)
    row_block, row_offset = rows // size, rows % size
    if hasattr(A, "indptr"):
        _srht_csr(A.indptr, A.indices, A.data, B, signs, row_block, row_offset, buffers, partial)
    else:
        _srht_dense(A, B, signs, row_block, row_offset, buffers, partial)
    return partial[0] if threads == 1 else partial.sum(axis=0)
