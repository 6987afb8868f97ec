"""Numba kernels of the input funnel: one pass per check where NumPy would need temporaries."""

import numba
import numpy as np

# Below this many entries the thread pool costs more than it saves.
PARALLEL_MIN_ENTRIES = 1 << 16


@numba.njit(cache=True, inline="always")
def _defects_of(X, b, asym, scale):
    """Largest ``|X_ij - X_ji|`` and largest ``|X_ij|`` of the square matrix ``X[b]``."""
    n = X.shape[1]
    largest_gap = X.dtype.type(0)
    largest = X.dtype.type(0)
    for i in range(n):
        for j in range(n):
            largest = max(largest, abs(X[b, i, j]))
        for j in range(i + 1, n):
            largest_gap = max(largest_gap, abs(X[b, i, j] - X[b, j, i]))
    asym[b] = largest_gap
    scale[b] = largest


@numba.njit(cache=True, parallel=True)
def _symmetry_defects_parallel(X, asym, scale):
    for b in numba.prange(X.shape[0]):
        _defects_of(X, b, asym, scale)


@numba.njit(cache=True)
def _symmetry_defects_serial(X, asym, scale):
    for b in range(X.shape[0]):
        _defects_of(X, b, asym, scale)


def symmetry_defects(X):
    """Per-matrix ``max |X - X^T|`` and ``max |X|`` of a C-contiguous ``(B, n, n)`` float array."""
    asym = np.empty(X.shape[0], dtype=X.dtype)
    scale = np.empty(X.shape[0], dtype=X.dtype)
    kernel = _symmetry_defects_parallel if X.size >= PARALLEL_MIN_ENTRIES else _symmetry_defects_serial
    kernel(X, asym, scale)
    return asym, scale
