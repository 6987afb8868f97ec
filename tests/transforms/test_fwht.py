"""Dense fast Walsh-Hadamard transform: against scipy.linalg.hadamard, by properties, and bad inputs."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from linalgkit.exceptions import BackendError, DTypeError, NonFiniteError, ShapeError, ValidationError
from linalgkit.transforms import _fwht_numba, fwht, ifwht
from tests.conftest import to_numpy

DTYPES = ["float32", "float64", "complex64", "complex128"]
TOL = {"float32": 1e-5, "float64": 1e-13, "complex64": 1e-5, "complex128": 1e-13}


def _random(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _hadamard_along(x, axis):
    """Reference transform: the dense Sylvester-Hadamard matrix applied along ``axis`` in float64/complex128."""
    h = scipy.linalg.hadamard(x.shape[axis]).astype(np.float64)
    wide = x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)
    return np.moveaxis(np.tensordot(h, np.moveaxis(wide, axis, 0), axes=1), 0, axis)


def _assert_close(actual, expected, dtype, scale):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOL[dtype] * scale)


@pytest.mark.parametrize("k", range(13))
def test_matches_dense_hadamard_every_length_up_to_4096(xp, rng, k):
    n = 2**k
    x = rng.standard_normal((3, n))
    y = fwht(xp.asarray(x))
    assert type(y) is type(xp.asarray(x))
    _assert_close(to_numpy(y), x @ scipy.linalg.hadamard(n).T, "float64", np.sqrt(n) * np.log2(2 * n))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 8, 64, 1024])
def test_dtypes_are_kept_and_accurate(xp, rng, dtype, n):
    x = _random(rng, (2, n), dtype)
    y = fwht(xp.asarray(x))
    assert to_numpy(y).dtype == np.dtype(dtype)
    _assert_close(to_numpy(y), _hadamard_along(x, -1), dtype, np.sqrt(n) * np.log2(2 * n))


@pytest.mark.parametrize("shape, axis", [((8, 5), 0), ((3, 16, 7), 1), ((4, 2, 32), -1), ((2, 4, 3, 2), 1),
                                         ((64,), 0), ((1, 1, 8), 2), ((0, 8), 1)])
def test_any_axis_of_any_batch_shape(xp, rng, shape, axis):
    x = rng.standard_normal(shape)
    y = fwht(xp.asarray(x), axis=axis)
    assert tuple(y.shape) == shape
    _assert_close(to_numpy(y), _hadamard_along(x, axis), "float64", 100)


@pytest.mark.parametrize("n", [2**14, 2**17, 2**18])
@pytest.mark.parametrize("columns", [1, 3, 16])
def test_cache_blocked_long_axes_match_textbook_butterflies(rng, n, columns):
    """Lengths above the kernel's row and tile blocks take the H_R kron H_C split."""
    x = rng.standard_normal((n, columns))
    expected = np.moveaxis(_plain_butterflies(np.moveaxis(x, 0, -1)), -1, 0)
    _assert_close(fwht(x, axis=0), expected, "float64", np.sqrt(n) * 20)


def _plain_butterflies(x):
    """Textbook radix-2 transform along the last axis (independent of the Numba kernel)."""
    y = np.array(x, dtype=np.float64)
    n = y.shape[-1]
    h = 1
    while h < n:
        y = y.reshape(*y.shape[:-1], n // (2 * h), 2, h)
        y = np.stack([y[..., 0, :] + y[..., 1, :], y[..., 0, :] - y[..., 1, :]], axis=-2)
        y = y.reshape(*y.shape[:-3], n)
        h *= 2
    return y


def test_long_vector_matches_textbook_butterflies(rng):
    x = rng.standard_normal(2**20)
    np.testing.assert_allclose(fwht(x), _plain_butterflies(x), rtol=0, atol=1e-10 * np.sqrt(2**20))


@pytest.mark.parametrize("dtype", DTYPES)
def test_involution_and_orthogonality(xp, rng, dtype):
    n = 512
    x = _random(rng, (4, n), dtype)
    xa = xp.asarray(x)
    twice = to_numpy(fwht(fwht(xa)))
    _assert_close(twice, n * x, dtype, n * 10)
    y = to_numpy(fwht(xa, normalize=True))
    _assert_close(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), dtype, 10)
    _assert_close(to_numpy(ifwht(fwht(xa))), x, dtype, 10)
    _assert_close(to_numpy(ifwht(fwht(xa, normalize=True), normalize=True)), x, dtype, 10)


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(0, 10),
    batch=st.integers(1, 4),
    data=st.data(),
)
def test_linearity_and_parseval(k, batch, data):
    n = 2**k
    elements = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
    x = data.draw(hnp.arrays(np.float64, (batch, n), elements=elements))
    y = data.draw(hnp.arrays(np.float64, (batch, n), elements=elements))
    a = data.draw(st.floats(-10, 10, allow_nan=False))
    scale = 1e3 * n * np.log2(2 * n) * max(1.0, abs(a))
    np.testing.assert_allclose(fwht(a * x + y), a * fwht(x) + fwht(y), rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(np.sum(fwht(x, normalize=True) ** 2, axis=-1), np.sum(x**2, axis=-1),
                               rtol=1e-10, atol=1e-9)


def test_adjoint_dot_test(rng):
    """<H x, y> == <x, H y> since H is symmetric."""
    x, y = rng.standard_normal((2, 4096))
    assert np.isclose(np.dot(fwht(x), y), np.dot(x, fwht(y)), rtol=1e-12)


def test_out_in_place_and_strided(rng):
    x = rng.standard_normal((8, 64))
    expected = _hadamard_along(x, -1)
    out = np.empty_like(x)
    assert fwht(x, out=out) is out
    _assert_close(out, expected, "float64", 100)
    y = x.copy()
    assert fwht(y, out=y) is y
    _assert_close(y, expected, "float64", 100)
    strided = np.empty((8, 128))[:, ::2]
    assert fwht(x, out=strided) is strided
    _assert_close(strided, expected, "float64", 100)
    _assert_close(fwht(np.asfortranarray(x)), expected, "float64", 100)
    _assert_close(fwht(x[:, ::-1].copy()[:, ::-1]), expected, "float64", 100)


def test_out_overlapping_input_is_safe(rng):
    x = rng.standard_normal(16)
    expected = _hadamard_along(x, -1)
    buffer = np.concatenate([x, np.zeros(8)])
    result = fwht(buffer[:16], out=buffer[:16].view())
    _assert_close(result, expected, "float64", 10)


def test_non_native_byte_order(rng):
    x = rng.standard_normal(32)
    _assert_close(fwht(x.astype(">f8")), _hadamard_along(x, -1), "float64", 10)


def test_nan_propagates_within_its_vector_only(rng):
    x = rng.standard_normal((3, 16))
    x[1, 5] = np.nan
    y = fwht(x)
    assert np.isnan(y[1]).all()
    assert np.isfinite(y[[0, 2]]).all()
    with pytest.raises(NonFiniteError, match="x must be finite"):
        fwht(x, check_finite=True)


@pytest.mark.parametrize("bad_length", [3, 6, 1000])
def test_rejects_non_power_of_two_length(xp, bad_length):
    with pytest.raises(ShapeError, match="power-of-two length .* zero-pad"):
        fwht(xp.zeros((2, bad_length)))


def test_rejects_half_dtype():
    """Integers and bools are cast (tests/transforms/test_hostile.py); float16 is refused, not rounded up."""
    with pytest.raises(DTypeError, match=r"x must have a floating dtype .*astype\(float32\)"):
        fwht(np.ones(8, dtype="float16"))


def test_rejects_scalars_bad_axis_and_object_arrays():
    with pytest.raises(ShapeError, match="at least 1 dimension"):
        fwht(np.float64(1.0))
    with pytest.raises(ValidationError, match="axis must be in"):
        fwht(np.ones((2, 8)), axis=2)
    with pytest.raises(TypeError, match="axis must be an int"):
        fwht(np.ones(8), axis=1.0)
    with pytest.raises(DTypeError, match="numeric array"):
        fwht(np.array([1.0, "a"], dtype=object))


def test_rejects_bad_out():
    x = np.ones((2, 8))
    with pytest.raises(ShapeError, match="out must have shape"):
        fwht(x, out=np.empty((2, 4)))
    with pytest.raises(DTypeError, match="out must have dtype float64"):
        fwht(x, out=np.empty((2, 8), dtype=np.float32))
    readonly = np.empty((2, 8))
    readonly.flags.writeable = False
    with pytest.raises(ValidationError, match="writeable"):
        fwht(x, out=readonly)
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        fwht(x, out=[[0.0] * 8] * 2)


def test_rejects_mixed_libraries():
    import array_api_strict

    with pytest.raises(BackendError, match="x is a numpy array but out is a array_api_strict array"):
        fwht(np.ones(8), out=array_api_strict.ones(8))


def test_lists_are_accepted_as_numpy():
    np.testing.assert_allclose(fwht([1.0, 0.0, 1.0, 0.0]), [2.0, 2.0, 0.0, 0.0])


def test_pure_array_api_path_on_numpy_when_numba_is_disabled(monkeypatch, rng):
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    x = rng.standard_normal((3, 32))
    y = fwht(x, axis=1, normalize=True)
    assert isinstance(y, np.ndarray)
    _assert_close(y, _hadamard_along(x, 1) / np.sqrt(32), "float64", 10)


def test_serial_and_parallel_kernels_agree(rng):
    x = rng.standard_normal((64, 1024))
    serial, parallel = np.empty_like(x), np.empty_like(x)
    _fwht_numba._rows_serial(x, serial, 1.0)
    _fwht_numba._rows_parallel(x, parallel, 1.0)
    np.testing.assert_array_equal(serial, parallel)
    cube = rng.standard_normal((2, 64, 40))
    serial, parallel = np.empty_like(cube), np.empty_like(cube)
    _fwht_numba._columns_serial(cube, serial, 8, 1.0)
    _fwht_numba._columns_parallel(cube, parallel, 8, 1.0)
    np.testing.assert_array_equal(serial, parallel)
