"""A lane kernel for the debug-mode tests: copies ``A[:, first:first + WIDTH]`` row by row."""

from numba import njit, prange

from linalgkit._simd import WIDTH, kernel_options, load, store


@njit(**kernel_options())
def _copy(A, first, out):
    for row in range(A.shape[0]):
        store(out, row, 0, load(A, row, first))


@njit(**kernel_options(parallel=True))
def copy_rows(A, first, out):
    """``out[t] = A[:, first[t]:first[t] + WIDTH]`` for each task ``t``."""
    for t in prange(first.shape[0]):
        _copy(A, first[t], out[t])
