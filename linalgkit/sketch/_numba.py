"""Numba kernels of the sketches: hashing (CountSketch, sparse sign, the pooling stage) and the blocked SRHT.

The kernels receive plain arrays: a dense ``A``, or a CSR matrix as its three arrays ``(indptr,
indices, data)`` with its column count, and the layout (``"dense"`` or ``"csr"``) named by the
caller, :mod:`linalgkit.sketch._dispatch`; they never inspect types.  Size cut-overs come from
:mod:`linalgkit.sketch._cutovers`.

The hashing kernels compute ``out[rows[i, j]] += weights[i, j] * [A[i], B[i]]`` over the rows ``i`` of a
tall matrix and the ``z`` hashes ``j`` of each row: one pass over ``A`` and ``B`` that writes into a
small ``m x (k + q)`` output.  Rows are split into one chunk per thread; each chunk accumulates into
its own copy of the output (so no two threads write the same memory) and the copies are summed.
"""

import numba
import numpy as np

from ..transforms._fwht_numba import column_transform_inplace, parity
from ._cutovers import (CSR_COLUMNWISE_ENTRIES, CSR_COLUMN_CHUNK_ROWS, PARALLEL_MIN_VALUES, SRHT_BLOCK_BYTES,
                        TWO_PASS_MIN_BLOCKS)


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


@numba.njit(cache=True, parallel=True)
def _count_columns(indptr, indices, counts):
    chunks, n = counts.shape[0], indptr.shape[0] - 1
    for t in numba.prange(chunks):
        for p in range(indptr[t * n // chunks], indptr[(t + 1) * n // chunks]):
            counts[t, indices[p]] += 1


@numba.njit(cache=True, parallel=True)
def _fill_columns(indptr, indices, data, next_slot, row_of, value_of):
    chunks, n = next_slot.shape[0], indptr.shape[0] - 1
    for t in numba.prange(chunks):
        slot = next_slot[t]
        for i in range(t * n // chunks, (t + 1) * n // chunks):
            for p in range(indptr[i], indptr[i + 1]):
                q = slot[indices[p]]
                row_of[q] = i
                value_of[q] = data[p]
                slot[indices[p]] = q + 1


def blocked_csc(indptr, indices, data, columns, chunks):
    """CSC form of each of ``chunks`` equal row ranges of a CSR matrix: ``(starts, rows, values)``, on Numba threads.

    Segment ``(t, c)``, the entries of column ``c`` in row range ``t`` sorted by row, is
    ``starts[t * columns + c]`` to ``starts[t * columns + c + 1]``; row range ``t`` is
    ``t n // chunks`` to ``(t + 1) n // chunks``.  Each range is transposed by one thread into
    its own segments, so there is no sort and no atomic.
    """
    counts = np.zeros((chunks, columns), dtype=np.int64)
    _count_columns(indptr, indices, counts)
    starts = np.zeros(chunks * columns + 1, dtype=np.int64)
    np.cumsum(counts.ravel(), out=starts[1:])
    row_of = np.empty(data.shape[0], dtype=indices.dtype)
    value_of = np.empty_like(data)
    _fill_columns(indptr, indices, data, starts[:-1].reshape(chunks, columns).copy(), row_of, value_of)
    return starts, row_of, value_of


@numba.njit(cache=True, parallel=True)
def _scatter_columns(starts, row_of, value_of, B, rows, weights, out_t):
    k, n = out_t.shape[0] - B.shape[1], B.shape[0]
    chunks = (starts.shape[0] - 1) // k
    for t in range(chunks):
        for c in numba.prange(out_t.shape[0]):
            target = out_t[c]
            if c < k:
                for p in range(starts[t * k + c], starts[t * k + c + 1]):
                    i, v = row_of[p], value_of[p]
                    for j in range(rows.shape[1]):
                        target[rows[i, j]] += weights[i, j] * v
            else:
                for i in range(t * n // chunks, (t + 1) * n // chunks):
                    v = B[i, c - k]
                    for j in range(rows.shape[1]):
                        target[rows[i, j]] += weights[i, j] * v


def _scatter_csr_by_columns(source, B, rows, weights, m, columns):
    """The CSR scatter one output column at a time (``m`` values, in cache) within row ranges of ``A``.

    The row ranges of ``CSR_COLUMN_CHUNK_ROWS`` rows keep the hashes they read in cache too; the
    row indices are narrowed to int16 where ``m`` allows, for the same reason.  Costs a transpose
    of ``A`` (:func:`blocked_csc`); returns the ``m x (k + q)`` result in Fortran order.
    """
    chunks = max(1, -(-B.shape[0] // CSR_COLUMN_CHUNK_ROWS))
    starts, row_of, value_of = blocked_csc(*source, columns, chunks)
    out_t = np.zeros((columns + B.shape[1], m), dtype=weights.dtype)
    narrow = np.empty(rows.shape, dtype=np.int16 if m <= np.iinfo(np.int16).max else np.int32)
    signs = np.empty(rows.shape, dtype=np.int8)
    scale = abs(weights.flat[0]) if weights.size else 0.0
    if _narrow_hashes(rows, weights, scale, narrow, signs) and scale > 0:
        _scatter_columns(starts, row_of, value_of, B, narrow, signs, out_t)  # sign sketches: 1 byte per weight
        out_t *= scale
    else:
        _scatter_columns(starts, row_of, value_of, B, narrow, weights, out_t)
    return out_t.T


@numba.njit(cache=True, parallel=True)
def _narrow_hashes(rows, weights, scale, narrow, signs):
    """``narrow[:] = rows`` and ``signs = sign(weights)``; returns whether every ``|weight|`` equals ``scale``."""
    equal = 0
    for i in numba.prange(rows.shape[0]):
        for j in range(rows.shape[1]):
            narrow[i, j] = rows[i, j]
            w = weights[i, j]
            signs[i, j] = 1 if w > 0 else -1
            equal += abs(w) != scale
    return equal == 0


def _columns(source, layout, columns):
    """Column count of the operand: ``source.shape[1]`` for a dense array, ``columns`` for CSR arrays."""
    return columns if layout == "csr" else source.shape[1]


def scatter_rows(source, B, rows, weights, m, *, layout="dense", columns=None):
    """``out[rows[i, j]] += weights[i, j] * [A[i], B[i]]`` for an ``n x k`` operand ``A``.

    ``source`` is the dense array ``A`` (``layout="dense"``) or its CSR arrays ``(indptr, indices,
    data)`` (``layout="csr"``, with ``columns = k``); ``B`` a dense ``n x q`` array (``q`` may be 0),
    ``rows`` an ``n x z`` int64 array of targets in ``[0, m)`` and ``weights`` an ``n x z`` array of
    ``A``'s dtype.  Returns the dense ``m x (k + q)`` result.
    """
    k = _columns(source, layout, columns)
    if layout == "csr" and m * (k + B.shape[1]) >= CSR_COLUMNWISE_ENTRIES:
        return _scatter_csr_by_columns(source, B, rows, weights, m, k)
    values = source[2].shape[0] if layout == "csr" else source.size
    chunks = numba.get_num_threads() if values * rows.shape[1] >= PARALLEL_MIN_VALUES else 1
    partial = np.zeros((chunks, m, k + B.shape[1]), dtype=weights.dtype)
    if layout == "csr":
        _scatter_csr_parallel(*source, B, rows, weights, partial)
    else:
        _scatter_dense_parallel(source, B, rows, weights, partial)
    return partial[0] if chunks == 1 else partial.sum(axis=0)


# ------------------------------------------------------------------ SRHT: H_N = H_R kron H_C, sampled rows only
#
# Row i = (a, c) of H_N x with a = i // C, c = i % C equals sum_b (H_R)_{ab} (H_C x_b)_c, where x_b is block b
# of C consecutive rows.  Two kernels use this:
# - few sampled rows (one pass): each block is transformed by H_C in a cache-resident buffer and only its
#   rows c_i of the m sampled rows are added, with sign (H_R)_{a_i b} = (-1)^popcount(a_i & b), into the
#   output; no N x k intermediate, but the additions cost m k N / C.
# - many sampled rows (two passes): every block is transformed by H_C in place in an N x k array Z; then for
#   each c the R rows Z[bC + c] are gathered into a cache-resident buffer, transformed by H_R, and the sampled
#   ones copied out; N k log N additions whatever m is, at the price of Z.


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


@numba.njit(cache=True, parallel=True)
def _transform_blocks_dense(A, B, signs, Z, size):
    for block in numba.prange(Z.shape[0] // size):
        rows = Z[block * size:(block + 1) * size]
        _fill_dense(A, B, signs, block * size, rows)
        column_transform_inplace(rows)


@numba.njit(cache=True, parallel=True)
def _transform_blocks_csr(indptr, indices, data, B, signs, Z, size):
    for block in numba.prange(Z.shape[0] // size):
        rows = Z[block * size:(block + 1) * size]
        _fill_csr(indptr, indices, data, B, signs, block * size, rows)
        column_transform_inplace(rows)


@numba.njit(cache=True, parallel=True)
def _transform_across_blocks(Z, size, starts, sampled_block, sampled_position, buffers, out):
    """For each offset ``c`` with sampled rows: ``H_R`` over ``Z[b * size + c]``, sampled rows into ``out``."""
    threads, n_blocks = buffers.shape[0], buffers.shape[1]
    for t in numba.prange(threads):
        buf = buffers[t]
        for c in range(t * size // threads, (t + 1) * size // threads):
            if starts[c] == starts[c + 1]:
                continue
            for b in range(n_blocks):
                source = Z[b * size + c]
                for k in range(source.shape[0]):
                    buf[b, k] = source[k]
            column_transform_inplace(buf)
            for p in range(starts[c], starts[c + 1]):
                source, target = buf[sampled_block[p]], out[sampled_position[p]]
                for k in range(source.shape[0]):
                    target[k] = source[k]


@numba.njit(cache=True, parallel=True)
def _transpose_into(src, dst):
    """``dst = src.T`` for C-contiguous arrays, in tiles of 64 rows of ``src`` (one per task)."""
    rows, cols = src.shape
    for tile in numba.prange((rows + 63) // 64):
        for k in range(cols):
            for i in range(tile * 64, min(tile * 64 + 64, rows)):
                dst[k, i] = src[i, k]


def _cache_rows(padded_rows, width):
    return min(padded_rows, max(8, 1 << max(0, (SRHT_BLOCK_BYTES // (8 * width)).bit_length() - 1)))


def srht_block_size(padded_rows, m, width):
    """Rows per block of the one-pass kernel: cache-sized, but at least m / 8 (its additions cost m N w / C)."""
    by_work = 1 << max(0, (m // 8 - 1).bit_length())
    return min(padded_rows, max(_cache_rows(padded_rows, width), by_work))


def _srht_two_pass(source, B, signs, rows, padded_rows, size, *, layout="dense", columns=None):
    """The two-pass kernel; returns ``P H_N D J [A B]`` in Fortran order, ready for LAPACK."""
    width = _columns(source, layout, columns) + B.shape[1]
    Z = np.empty((padded_rows, width), dtype=signs.dtype)
    if layout == "csr":
        _transform_blocks_csr(*source, B, signs, Z, size)
    else:
        _transform_blocks_dense(source, B, signs, Z, size)
    offsets = rows % size
    order = np.argsort(offsets, kind="stable")
    starts = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(offsets, minlength=size), out=starts[1:])
    buffers = np.empty((numba.get_num_threads(), padded_rows // size, width), dtype=signs.dtype)
    out = np.empty((rows.shape[0], width), dtype=signs.dtype)
    _transform_across_blocks(Z, size, starts, rows[order] // size, order, buffers, out)
    transposed = np.empty((width, rows.shape[0]), dtype=signs.dtype)
    _transpose_into(out, transposed)  # in parallel, not the single-threaded copy LAPACK's wrapper would make
    return transposed.T


def _srht_one_pass(source, B, signs, rows, padded_rows, *, layout="dense", columns=None):
    """The one-pass kernel; returns ``P H_N D J [A B]`` in C order."""
    width = _columns(source, layout, columns) + B.shape[1]
    size = srht_block_size(padded_rows, rows.shape[0], width)
    threads = min(numba.get_num_threads(), padded_rows // size)
    buffers = np.empty((threads, size, width), dtype=signs.dtype)
    partial = np.zeros((threads, rows.shape[0], width), dtype=signs.dtype)
    row_block, row_offset = rows // size, rows % size
    if layout == "csr":
        _srht_csr(*source, B, signs, row_block, row_offset, buffers, partial)
    else:
        _srht_dense(source, B, signs, row_block, row_offset, buffers, partial)
    return partial[0] if threads == 1 else partial.sum(axis=0)


def srht_apply(source, B, signs, rows, padded_rows, *, layout="dense", columns=None):
    """Unscaled ``P H_N D J [A B]``: the sampled rows ``rows`` of the padded, sign-flipped transform.

    ``source``, ``layout`` and ``columns`` describe ``A`` as in :func:`scatter_rows`.
    """
    operand = dict(layout=layout, columns=columns)
    cache_rows = _cache_rows(padded_rows, _columns(source, layout, columns) + B.shape[1])
    if rows.shape[0] >= TWO_PASS_MIN_BLOCKS * cache_rows and padded_rows > cache_rows:
        return _srht_two_pass(source, B, signs, rows, padded_rows, cache_rows, **operand)
    return _srht_one_pass(source, B, signs, rows, padded_rows, **operand)
