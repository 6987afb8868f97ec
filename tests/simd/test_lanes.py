"""The Lanes SIMD type of linalgkit._simd against NumPy, lane by lane, and its bounds-checked debug mode."""

import numpy as np
import pytest
from numba import njit

from linalgkit._simd import WIDTH, any_lane, bounds_checked, fabs, load, log, max_lane, select, splat, sqrt, store


@njit
def _arithmetic(A, B, out):
    """Rows of ``out``: every operator and function of the module applied to ``a = A[0]``, ``b = B[0, 1:]``."""
    a, b = load(A, 0, 0), load(B, 0, 1)
    store(out, 0, 0, a + b)
    store(out, 1, 0, 2.0 - a)
    store(out, 2, 0, a * 3)
    store(out, 3, 0, 1.0 / b)
    store(out, 4, 0, -a)
    store(out, 5, 0, sqrt(fabs(a)))
    store(out, 6, 0, log(b))
    store(out, 7, 0, a * b + 0.5)
    store(out, 8, 0, select((a < b) & ~(a == 0.0), a, 7.0))
    store(out, 9, 0, select((a >= 0.5) | (b <= 0.25), splat(out, 1.0), 0.0))
    store(out, 10, 0, select(a != a, splat(out, 1.0), 0.0))
    store(out, 11, 0, select(a > 1, splat(out, 1.0), 0.0))
    return any_lane(a > 0.9), any_lane(a > 10.0), max_lane(b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lanes_match_numpy(rng, dtype):
    A = rng.uniform(-1, 1, (1, WIDTH)).astype(dtype)
    A[0, 3], A[0, 5] = np.nan, 0.0
    B = rng.uniform(0.1, 2, (1, WIDTH + 1)).astype(dtype)
    out = np.empty((12, WIDTH), dtype=dtype)
    some, none, largest = _arithmetic(A, B, out)
    a, b = A[0], B[0, 1:]
    with np.errstate(invalid="ignore"):
        expected = [a + b, 2 - a, 3 * a, 1 / b, -a, np.sqrt(np.abs(a)), np.log(b), a * b + 0.5,
                    np.where((a < b) & ~(a == 0), a, 7), (a >= 0.5) | (b <= 0.25), np.isnan(a), a > 1]
    for row, value in zip(out, expected):
        np.testing.assert_allclose(row, np.asarray(value, dtype=dtype), rtol=4 * np.finfo(dtype).eps)
    assert some == np.any(a > 0.9) and not none
    assert largest == np.max(b)
    assert out.dtype == dtype


@njit
def _copy_shifted(A, out, col):
    for row in range(A.shape[0]):
        store(out, row, col, load(A, row, 0))


def test_load_and_store_touch_only_their_lanes(rng):
    A = rng.standard_normal((3, WIDTH))
    out = np.zeros((3, WIDTH + 2))
    _copy_shifted(A, out, 2)
    np.testing.assert_array_equal(out[:, 2:], A)
    np.testing.assert_array_equal(out[:, :2], 0.0)


@pytest.mark.parametrize("first, ok", [(0, True), (3, True), (4, False), (-1, False)])
def test_bounds_checked_copy_raises_on_lanes_outside_the_array(rng, first, ok):
    from tests.simd import _kernels

    A = rng.standard_normal((3, WIDTH + 3))
    out = np.zeros((2, 3, WIDTH))
    tasks = np.array([0, first])
    with bounds_checked("tests.simd._kernels") as checked:
        if ok:
            checked.copy_rows(A, tasks, out)
            np.testing.assert_array_equal(out[1], A[:, first:first + WIDTH])
        else:
            with pytest.raises(IndexError, match="out of bounds"):
                checked.copy_rows(A, tasks, out)
    if ok:  # the normal kernel, unchecked, gives the same copy
        again = np.zeros_like(out)
        _kernels.copy_rows(A, tasks, again)
        np.testing.assert_array_equal(again, out)
