"""Numba kernel of the Walsh expansion: f(m) = sum_k F[k] (-1)^popcount(m & k) at many points."""

import numba
import numpy as np

from ._cutovers import PARALLEL_MIN_PAIRS
from ._fwht_numba import parity


@numba.njit(cache=True)
def _expand_one(point, support, coefficients):
    total = 0.0
    for j in range(support.shape[0]):
        if parity(point & support[j]):
            total -= coefficients[j]
        else:
            total += coefficients[j]
    return total


@numba.njit(cache=True, parallel=True)
def _expand_parallel(points, support, coefficients, out):
    for i in numba.prange(points.shape[0]):
        out[i] = _expand_one(points[i], support, coefficients)


@numba.njit(cache=True)
def _expand_serial(points, support, coefficients, out):
    for i in range(points.shape[0]):
        out[i] = _expand_one(points[i], support, coefficients)


def expand(points, support, coefficients):
    """Values at ``points`` (uint64) of the Walsh expansion with ``coefficients`` (float64) on ``support`` (uint64)."""
    out = np.empty(points.shape[0], dtype=np.float64)
    kernel = _expand_parallel if points.size * support.size >= PARALLEL_MIN_PAIRS else _expand_serial
    kernel(points, support, coefficients, out)
    return out
