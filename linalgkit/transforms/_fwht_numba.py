"""Numba kernels of the dense fast Walsh-Hadamard transform (CPU).

A transform of length ``N = 2**k`` is ``k`` butterfly stages.  The first three stages act on
groups of eight neighbours and run as one radix-8 step over eight interleaved views; later
stages are fused in pairs (radix-4) over contiguous views, so that LLVM vectorizes the
innermost loop.  Long axes are split as ``N = R * C`` (``H_N = H_R kron H_C``) so that every
step works on a block that stays in cache.

Data are viewed as C-contiguous 3-D arrays ``(P, N, Q)``: ``P`` independent slabs, each a
transform of length ``N`` along axis 1 of ``Q`` contiguous columns.  ``Q == 1`` uses the row
kernel, ``Q > 1`` the column kernel, whose innermost loop runs over a tile of contiguous
columns.  Each row or tile is first copied (and scaled) from the source into the destination,
then transformed in place there, so the destination may be the source.
"""

import numba

from ._cutovers import MIN_TILE_WIDTH, PARALLEL_MIN_ELEMENTS, ROW_BLOCK_BYTES, TILE_BYTES


@numba.njit(cache=True, inline="always")
def _scaled_copy(s, d, scale):
    for i in range(s.shape[0]):
        d[i] = s[i] * scale


@numba.njit(cache=True, inline="always")
def _radix8_neighbours(x):
    """Stages 1-3 (half-widths 1, 2, 4) in place on a contiguous ``x`` of length ``8 * m``."""
    x0, x1, x2, x3 = x[0::8], x[1::8], x[2::8], x[3::8]
    x4, x5, x6, x7 = x[4::8], x[5::8], x[6::8], x[7::8]
    for i in range(x0.shape[0]):
        a0, a1, a2, a3, a4, a5, a6, a7 = x0[i], x1[i], x2[i], x3[i], x4[i], x5[i], x6[i], x7[i]
        b0, b1, b2, b3 = a0 + a1, a0 - a1, a2 + a3, a2 - a3
        b4, b5, b6, b7 = a4 + a5, a4 - a5, a6 + a7, a6 - a7
        c0, c1, c2, c3 = b0 + b2, b1 + b3, b0 - b2, b1 - b3
        c4, c5, c6, c7 = b4 + b6, b5 + b7, b4 - b6, b5 - b7
        x0[i], x1[i], x2[i], x3[i] = c0 + c4, c1 + c5, c2 + c6, c3 + c7
        x4[i], x5[i], x6[i], x7[i] = c0 - c4, c1 - c5, c2 - c6, c3 - c7


@numba.njit(cache=True, inline="always")
def _radix4(x0, x1, x2, x3):
    """Two stages in place on four equal-length contiguous views (the butterfly quartets)."""
    for i in range(x0.shape[0]):
        a0, a1, a2, a3 = x0[i], x1[i], x2[i], x3[i]
        b0, b1, b2, b3 = a0 + a1, a0 - a1, a2 + a3, a2 - a3
        x0[i], x1[i], x2[i], x3[i] = b0 + b2, b1 + b3, b0 - b2, b1 - b3


@numba.njit(cache=True, inline="always")
def _radix2(x0, x1):
    """One stage in place on two equal-length contiguous views."""
    for i in range(x0.shape[0]):
        a0, a1 = x0[i], x1[i]
        x0[i], x1[i] = a0 + a1, a0 - a1


@numba.njit(cache=True)
def _row_transform(s, d, scale):
    """Transform the contiguous row ``s`` into ``d`` (which may be ``s``), times ``scale``."""
    n = s.shape[0]
    _scaled_copy(s, d, scale)
    h = 1
    if n >= 8:
        _radix8_neighbours(d)
        h = 8
    while 4 * h <= n:
        for b in range(0, n, 4 * h):
            _radix4(d[b : b + h], d[b + h : b + 2 * h], d[b + 2 * h : b + 3 * h], d[b + 3 * h : b + 4 * h])
        h *= 4
    if 2 * h <= n:
        _radix2(d[:h], d[h:])


@numba.njit(cache=True)
def column_transform_inplace(x):
    """Unnormalized transform along axis 0 of the 2-D array ``x`` with contiguous rows, in place.

    The building block for callers that hold a cache-sized tile (e.g. the SRHT sketch kernel).
    """
    n = x.shape[0]
    h = 1
    while 4 * h <= n:
        for b in range(0, n, 4 * h):
            for i in range(b, b + h):
                _radix4(x[i], x[i + h], x[i + 2 * h], x[i + 3 * h])
        h *= 4
    if 2 * h <= n:
        for i in range(h):
            _radix2(x[i], x[i + h])


@numba.njit(cache=True)
def _column_tile(s, d, scale):
    """Transform along axis 0 of the 2-D tile ``s`` into ``d`` (which may be ``s``), times ``scale``."""
    for i in range(s.shape[0]):
        _scaled_copy(s[i], d[i], scale)
    column_transform_inplace(d)


@numba.njit(cache=True, inline="always")
def parity(x):
    """Parity of the set bits of a non-negative integer: ``(H_N)_{jk} = (-1) ** parity(j & k)``."""
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    x ^= x >> 4
    x ^= x >> 2
    x ^= x >> 1
    return x & 1


@numba.njit(cache=True, parallel=True)
def _rows_parallel(src, dst, scale):
    for r in numba.prange(src.shape[0]):
        _row_transform(src[r], dst[r], scale)


@numba.njit(cache=True)
def _rows_serial(src, dst, scale):
    for r in range(src.shape[0]):
        _row_transform(src[r], dst[r], scale)


@numba.njit(cache=True, parallel=True)
def _columns_parallel(src, dst, width, scale):
    n_slabs, _, n_cols = src.shape
    n_tiles = (n_cols + width - 1) // width
    for t in numba.prange(n_slabs * n_tiles):
        p, q0 = t // n_tiles, (t % n_tiles) * width
        q1 = min(q0 + width, n_cols)
        _column_tile(src[p, :, q0:q1], dst[p, :, q0:q1], scale)


@numba.njit(cache=True)
def _columns_serial(src, dst, width, scale):
    n_slabs, _, n_cols = src.shape
    for p in range(n_slabs):
        for q0 in range(0, n_cols, width):
            q1 = min(q0 + width, n_cols)
            _column_tile(src[p, :, q0:q1], dst[p, :, q0:q1], scale)


def _floor_power_of_two(value):
    return 1 << max(int(value).bit_length() - 1, 0)


def _apply_rows(src, dst, scale):
    kernel = _rows_parallel if src.size >= PARALLEL_MIN_ELEMENTS else _rows_serial
    kernel(src, dst, scale)


def _apply_columns(src, dst, scale):
    """Column transform of ``(P, R, Q)`` arrays, splitting ``R`` until a tile fits the cache."""
    n_slabs, length, n_cols = src.shape
    itemsize = src.itemsize
    if length * MIN_TILE_WIDTH * itemsize <= TILE_BYTES or length <= 8:
        width = min(n_cols, max(MIN_TILE_WIDTH, _floor_power_of_two(TILE_BYTES // (length * itemsize))))
        kernel = _columns_parallel if src.size >= PARALLEL_MIN_ELEMENTS else _columns_serial
        kernel(src, dst, width, scale)
        return
    inner = _floor_power_of_two(TILE_BYTES // (MIN_TILE_WIDTH * itemsize))
    outer = length // inner
    split, merged = (n_slabs * outer, inner, n_cols), (n_slabs, outer, inner * n_cols)
    _apply_columns(src.reshape(split), dst.reshape(split), scale)
    _apply_columns(dst.reshape(merged), dst.reshape(merged), scale.dtype.type(1))


def transform_3d(src, dst, scale):
    """Walsh-Hadamard transform along axis 1 of C-contiguous ``(P, N, Q)`` arrays, times ``scale``.

    ``dst`` may be ``src`` (in place).  A long row (``Q == 1``) is split as ``N = R * C`` with
    ``C * itemsize <= ROW_BLOCK_BYTES``: rows of length ``C`` first, then the length-``R``
    transform across them as a column transform with ``Q = C``.
    """
    n_slabs, length, n_cols = src.shape
    scale = src.real.dtype.type(scale)
    if n_cols > 1:
        _apply_columns(src, dst, scale)
        return
    row_length = _floor_power_of_two(ROW_BLOCK_BYTES // src.itemsize)
    if length <= row_length:
        _apply_rows(src.reshape(n_slabs, length), dst.reshape(n_slabs, length), scale)
        return
    n_blocks = length // row_length
    rows, blocks = (n_slabs * n_blocks, row_length), (n_slabs, n_blocks, row_length)
    _apply_rows(src.reshape(rows), dst.reshape(rows), scale)
    _apply_columns(dst.reshape(blocks), dst.reshape(blocks), scale.dtype.type(1))
