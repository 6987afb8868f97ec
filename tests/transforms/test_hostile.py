"""The transforms family under a hostile caller (issue 12): right answer or a LinalgkitError, never a crash.

Tables of cases: a value within a tolerance of ``scipy.linalg.hadamard`` (or the truth of a
drawn spectrum), or an error class plus the argument its message names.  A hypothesis test
then draws shapes, axes, dtypes and memory layouts for ``fwht`` / ``ifwht`` and checks the
answer against ``H @ x`` whenever the call is valid.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from linalgkit.exceptions import (ArgumentTypeError, BackendError, ConvergenceWarning, DTypeError, LinalgkitError,
                                  NonFiniteError, ShapeError, ValidationError)
from linalgkit.transforms import evaluate_walsh, fwht, ifwht, sparse_wht, walsh_basis
from tests.conftest import to_numpy


def _hadamard_along(x, axis, scale=1.0):
    """``scale * H_N @ x`` along ``axis`` with ``scipy.linalg.hadamard``, in float64 / complex128."""
    x = np.asarray(x)
    wide = np.complex128 if np.iscomplexobj(x) else np.float64
    moved = np.moveaxis(x.astype(wide), axis, 0)
    N = moved.shape[0]
    if N == 0:
        return np.moveaxis(moved, 0, axis)
    return np.moveaxis(np.tensordot(scipy.linalg.hadamard(N), moved, axes=1) * scale, 0, axis)


def _readonly(x):
    x = np.array(x)
    x.flags.writeable = False
    return x


def _overlapping_pair():
    """``x`` and ``out`` sharing memory with a one-element shift (neither is the other)."""
    buffer = np.arange(9.0)
    return buffer[:8], buffer[1:]


# ----------------------------------------------------------------------------- fwht: values

_RNG = np.random.default_rng(12)
_X = _RNG.standard_normal((4, 8))
_Z = _X + 1j * _RNG.standard_normal((4, 8))

# (id, call, reference, rtol-scale): reference from scipy.linalg.hadamard; None = the call's own x.
FWHT_VALUES = [
    ("list of ints", lambda: fwht([1, 0, 1, 0]), _hadamard_along([1.0, 0.0, 1.0, 0.0], 0)),
    ("int64", lambda: fwht(np.arange(8)), _hadamard_along(np.arange(8.0), 0)),
    ("int32 along axis 0", lambda: fwht(np.arange(32, dtype=np.int32).reshape(8, 4), axis=0),
     _hadamard_along(np.arange(32.0).reshape(8, 4), 0)),
    ("uint8", lambda: fwht(np.arange(4, dtype=np.uint8)), _hadamard_along(np.arange(4.0), 0)),
    ("bool", lambda: fwht(np.array([True, False, True, True])), _hadamard_along([1.0, 0.0, 1.0, 1.0], 0)),
    ("bool, ifwht normalized", lambda: ifwht([True, True], normalize=True),
     _hadamard_along([1.0, 1.0], 0, 1 / math.sqrt(2))),
    ("length 1", lambda: fwht(np.array([[3.0], [-2.0]])), np.array([[3.0], [-2.0]])),
    ("(8, 0) along the empty axis", lambda: fwht(np.zeros((8, 0))), np.zeros((8, 0))),
    ("(8, 0) along axis 0", lambda: fwht(np.zeros((8, 0)), axis=0, normalize=True), np.zeros((8, 0))),
    ("(0, 8) along axis 1", lambda: ifwht(np.zeros((0, 8))), np.zeros((0, 8))),
    ("(2, 0, 4) along axis 2", lambda: fwht(np.zeros((2, 0, 4)), axis=2), np.zeros((2, 0, 4))),
    ("empty list", lambda: fwht([]), np.zeros(0)),
    ("complex128", lambda: fwht(_Z), _hadamard_along(_Z, 1)),
    ("complex64 normalized", lambda: fwht(_Z.astype(np.complex64), normalize=True),
     _hadamard_along(_Z.astype(np.complex64), 1, 1 / math.sqrt(8))),
    ("float32", lambda: fwht(_X.astype(np.float32), axis=0), _hadamard_along(_X.astype(np.float32), 0)),
    ("big-endian float64", lambda: fwht(_X.astype(">f8")), _hadamard_along(_X, 1)),
    ("big-endian complex128", lambda: fwht(_Z.astype(">c16"), axis=0), _hadamard_along(_Z, 0)),
    ("negative strides", lambda: fwht(_X[::-1, ::-1]), _hadamard_along(_X[::-1, ::-1], 1)),
    ("Fortran order along axis 1", lambda: fwht(np.asfortranarray(_X)), _hadamard_along(_X, 1)),
    ("Fortran order along axis 0", lambda: fwht(np.asfortranarray(_X), axis=0), _hadamard_along(_X, 0)),
    ("strided slice", lambda: fwht(_X[:, ::2]), _hadamard_along(_X[:, ::2], 1)),
    ("read-only", lambda: fwht(_readonly(_X)), _hadamard_along(_X, 1)),
    ("zero strides (broadcast_to)", lambda: fwht(np.broadcast_to(_X[0], (3, 8))),
     _hadamard_along(np.broadcast_to(_X[0], (3, 8)), 1)),
    ("numpy integer axis", lambda: fwht(_X, axis=np.int64(0)), _hadamard_along(_X, 0)),
    ("numpy bool flag", lambda: ifwht(_X, normalize=np.True_), _hadamard_along(_X, 1, 1 / math.sqrt(8))),
]


@pytest.mark.parametrize(("call", "reference"), [pytest.param(c, r, id=i) for i, c, r in FWHT_VALUES])
def test_fwht_value_cases_match_scipy_hadamard(call, reference):
    result = call()
    assert isinstance(result, np.ndarray) and result.shape == reference.shape and result.dtype.isnative
    assert np.isrealobj(result) == np.isrealobj(reference)
    tol = 1e-5 if result.dtype in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(result, reference, rtol=tol, atol=tol * max(1.0, np.abs(reference).max(initial=0)))


@pytest.mark.parametrize("kind", ["in place", "overlapping", "transposed self", "fortran", "strided", "big-endian"])
def test_fwht_out_layouts(kind):
    """``out`` of any writeable layout receives ``H @ x``; an overlapping ``out`` is staged, not corrupted."""
    if kind == "overlapping":
        x, out = _overlapping_pair()
    elif kind == "transposed self":
        x = _RNG.standard_normal((8, 8))
        out = x.T
    else:
        x = _X.copy() if kind != "big-endian" else _X.astype(">f8")
        out = {"in place": x, "fortran": np.asfortranarray(np.empty_like(x)),
               "strided": np.empty((4, 16))[:, ::2], "big-endian": np.empty((4, 8), dtype=">f8")}[kind]
    reference = _hadamard_along(x, -1)
    result = fwht(x, out=out)
    assert result is out
    np.testing.assert_allclose(out, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("values", [[1, 0, 1, 0], [True, False, True, True]], ids=["int", "bool"])
def test_fwht_casts_integers_on_every_backend(xp, values):
    result = fwht(xp.asarray(values), normalize=True)
    assert result.dtype == xp.float64
    np.testing.assert_allclose(to_numpy(result), _hadamard_along(np.array(values, dtype=float), 0, 0.5), rtol=0,
                               atol=1e-15)


@pytest.mark.parametrize(("shape", "axis"), [((8, 0), -1), ((8, 0), 0), ((0, 4), 1), ((2, 0, 4), 2)])
def test_fwht_of_a_zero_size_array_is_empty_on_every_backend(xp, shape, axis):
    for function in (fwht, ifwht):
        result = function(xp.zeros(shape), axis=axis, normalize=True)
        assert tuple(result.shape) == shape and result.dtype == xp.float64


# ----------------------------------------------------------------------------- fwht: errors

_INT_OUT = np.empty(4, dtype=np.int64)

# (id, call, error class, text the message must hold: the argument it names, and what it wants)
FWHT_ERRORS = [
    ("length 3", lambda: fwht(np.ones(3)), ShapeError, "along axis 0, got 3; zero-pad it to 4"),
    ("length 6 on axis 1", lambda: fwht(np.ones((2, 6))), ShapeError, "along axis 1, got 6; zero-pad it to 8"),
    ("length 3 with an empty batch", lambda: ifwht(np.ones((0, 3))), ShapeError, "along axis 1, got 3"),
    ("axis too large", lambda: fwht(np.ones((2, 8)), axis=2), ValidationError, "axis must be in [-2, 1]"),
    ("axis too small", lambda: fwht(np.ones((2, 8)), axis=-3), ValidationError, "axis must be in [-2, 1]"),
    ("float axis", lambda: fwht(np.ones(8), axis=0.0), ArgumentTypeError, "axis must be an int"),
    ("bool axis", lambda: fwht(np.ones(8), axis=True), ArgumentTypeError, "axis must be an int"),
    ("float16", lambda: fwht(np.ones(8, dtype=np.float16)), DTypeError, "x must have a floating dtype"),
    ("longdouble", lambda: fwht(np.ones(8, dtype=np.longdouble)), DTypeError, "x.astype(float64)"),
    ("clongdouble", lambda: ifwht(np.ones(8, dtype=np.clongdouble)), DTypeError, "x.astype(complex128)"),
    ("object", lambda: fwht(np.array([1.0, 2.0], dtype=object)), DTypeError, "x must be a numeric array"),
    ("strings", lambda: fwht(np.array(["a", "b"])), DTypeError, "x must have a floating dtype"),
    ("datetime", lambda: fwht(np.zeros(4, dtype="datetime64[s]")), DTypeError, "x must have a floating dtype"),
    ("None", lambda: fwht(None), DTypeError, "x must be a numeric array"),
    ("scalar", lambda: fwht(np.float64(1.0)), ShapeError, "x must have at least 1 dimension"),
    ("string normalize", lambda: fwht(np.ones(8), normalize="yes"), ArgumentTypeError, "normalize must be a bool"),
    ("int check_finite", lambda: ifwht(np.ones(8), check_finite=1), ArgumentTypeError, "check_finite must be a bool"),
    ("NaN with check_finite", lambda: fwht(np.array([np.nan, 0.0]), check_finite=True), NonFiniteError,
     "x must be finite"),
    ("out of another shape", lambda: fwht(np.ones((2, 8)), out=np.empty((2, 4))), ShapeError, "out must have shape"),
    ("out of another dtype", lambda: fwht(np.ones(8), out=np.empty(8, dtype=np.float32)), DTypeError,
     "out must have dtype float64"),
    ("integer out for integer x", lambda: fwht(np.arange(4), out=_INT_OUT), DTypeError,
     "out must have dtype float64"),
    ("real out for complex x", lambda: fwht(_Z, out=np.empty((4, 8))), DTypeError, "out must have dtype complex128"),
    ("read-only out", lambda: fwht(np.ones(8), out=_readonly(np.empty(8))), ValidationError, "out must be writeable"),
    ("list out", lambda: fwht(np.ones(4), out=[0.0] * 4), ArgumentTypeError, "out must be a numpy.ndarray"),
]


def _array_api_out():
    import array_api_strict

    return fwht(np.ones(8), out=array_api_strict.ones(8))


FWHT_ERRORS.append(("out of another library", _array_api_out, BackendError, "out is a array_api_strict array"))


@pytest.mark.parametrize(("call", "error", "text"), [pytest.param(c, e, t, id=i) for i, c, e, t in FWHT_ERRORS])
def test_fwht_error_cases_name_the_argument(call, error, text):
    with pytest.raises(error) as caught:
        call()
    assert text in str(caught.value)


# ----------------------------------------------------------------- fwht: hypothesis, never a crash

_DTYPES = ["float64", "float32", "complex128", "complex64", "int64", "int32", "uint8", "bool", ">f8", ">c8",
           "float16", "object", "longdouble"]
_LAYOUTS = ["C", "F", "reversed", "strided", "readonly", "broadcast"]
_SUPPORTED = {"float64", "float32", "complex128", "complex64"}


def _draw_array(shape, dtype, layout, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        base = rng.integers(0, 2, size=shape).astype(bool)
    elif np.dtype(dtype).kind in "iu":
        base = rng.integers(0, 5, size=shape).astype(dtype)
    elif np.dtype(dtype).kind == "c":
        base = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    else:
        base = rng.standard_normal(shape).astype(dtype)
    base = np.asarray(base)
    if layout == "F":
        return np.asfortranarray(base)
    if layout == "reversed" and base.ndim:
        return base[(slice(None, None, -1),) * base.ndim]
    if layout == "strided" and base.ndim:
        return np.repeat(base, 2, axis=-1)[..., ::2]
    if layout == "readonly":
        base.flags.writeable = False
        return base
    if layout == "broadcast":
        return np.broadcast_to(base, (2, *base.shape))
    return base


@settings(max_examples=120, deadline=None)
@given(shape=st.lists(st.sampled_from([0, 1, 2, 3, 4, 6, 8, 16]), min_size=0, max_size=3),
       axis=st.integers(-4, 3), dtype=st.sampled_from(_DTYPES), layout=st.sampled_from(_LAYOUTS),
       normalize=st.booleans(), inverse=st.booleans(), with_out=st.booleans(), seed=st.integers(0, 2**16))
def test_fwht_right_answer_or_linalgkit_error(shape, axis, dtype, layout, normalize, inverse, with_out, seed):
    """Any shape, axis, dtype and layout: ``H @ x`` (scipy.linalg.hadamard) when valid, else a LinalgkitError."""
    x = _draw_array(tuple(shape), dtype, layout, seed)
    function = ifwht if inverse else fwht
    length = x.shape[axis] if -x.ndim <= axis < x.ndim else None
    wide = np.dtype(dtype).str.lstrip("<>=|")
    wide = {"f8": "float64", "f4": "float32", "c16": "complex128", "c8": "complex64"}.get(wide, dtype)
    valid = (x.ndim >= 1 and length is not None and length & (length - 1) == 0
             and (wide in _SUPPORTED or np.dtype(dtype).kind in "biu"))
    out = None
    if with_out and valid:
        out = np.empty(x.shape, dtype=np.float64 if np.dtype(dtype).kind in "biu" else x.dtype.newbyteorder("="))
    try:
        result = function(x, axis=axis, normalize=normalize, out=out)
    except LinalgkitError:
        assert not valid
        return
    assert valid
    N = max(length, 1)
    scale = 1 / math.sqrt(N) if normalize else (1 / N if inverse else 1.0)
    reference = _hadamard_along(x, axis, scale)
    assert result.shape == x.shape and (out is None or result is out)
    single = result.dtype in (np.float32, np.complex64)
    tol = (1e-5 if single else 1e-12) * max(1, length)
    np.testing.assert_allclose(result, reference, rtol=tol, atol=tol * max(1.0, np.abs(reference).max(initial=0)))


# ----------------------------------------------------------------- sparse_wht: converged means right

def _all_designs():
    return [dict(design="robust"), dict(design="noiseless"), dict(design="sample_optimal"),
            dict(design="robust", noise_sd=0.0), dict(design="robust", snr_db=60.0)]


def test_two_point_example_of_the_issue():
    """``sparse_wht([1, 3], n=1, K=2)``: hadamard(2) @ [2, -1] = [1, 3], so F = [2, -1], converged."""
    f = np.array([1.0, 3.0])
    F = scipy.linalg.hadamard(2) @ f / 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = sparse_wht(f, n=1, K=2)
    assert result.converged and result.n_samples == 2 and result.iterations == 1
    np.testing.assert_array_equal(result.support, [0, 1])
    np.testing.assert_allclose(result.coefficients, F, rtol=0, atol=1e-15)


@pytest.mark.parametrize("n", range(1, 9))
@pytest.mark.parametrize("options", _all_designs(), ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_dense_spectra_at_small_n_are_exact(n, options):
    """Every coefficient of a dense spectrum (K = N) at n <= 8, against scipy.linalg.hadamard, without a warning."""
    N = 1 << n
    rng = np.random.default_rng(n)
    F = rng.uniform(0.5, 2.0, N) * rng.choice([-1.0, 1.0], N)
    f = scipy.linalg.hadamard(N) @ F
    for norm, scale in [("forward", 1.0), ("ortho", math.sqrt(N)), ("backward", float(N))]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)  # a met rule must not warn
            result = sparse_wht(f, n, K=N, norm=norm, random_state=0, **options)
        assert result.converged and result.n_samples == N
        np.testing.assert_array_equal(result.support, np.arange(N))
        np.testing.assert_allclose(result.coefficients, F * scale, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("n", [1, 4, 8])
def test_small_n_keeps_the_coefficients_above_a_given_noise(n):
    """Dense route with noise_sd: coefficients above 4 sigma / sqrt(N) kept, the weak ones (0 here) dropped."""
    N = 1 << n
    rng = np.random.default_rng(3)
    support = np.sort(rng.choice(N, size=max(1, N // 4), replace=False))
    F = np.zeros(N)
    F[support] = rng.choice([-1.0, 1.0], support.size)
    sigma = 0.01
    f = scipy.linalg.hadamard(N) @ F + sigma * rng.standard_normal(N)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = sparse_wht(f, n, K=support.size, noise_sd=sigma, random_state=0)
    assert result.converged and result.noise_sd == sigma
    np.testing.assert_array_equal(result.support, support)
    np.testing.assert_allclose(result.coefficients, F[support], rtol=0, atol=6 * sigma / math.sqrt(N))


class _Recorder:
    """A noiseless oracle of a sparse spectrum that keeps every index it was asked."""

    def __init__(self, support, values):
        self.support, self.values, self.indices = support, values, []

    def __call__(self, m):
        self.indices.append(m.copy())
        return evaluate_walsh(self.support, self.values, m)


@pytest.mark.parametrize("n", [9, 10, 12, 14])
@pytest.mark.parametrize("K", [1, 2, 3, 8])
@pytest.mark.parametrize("design", ["robust", "noiseless", "sample_optimal"])
def test_converged_means_the_samples_are_explained(n, K, design):
    """Sparse route: converged=True (and no warning) exactly when the returned spectrum fits the samples taken.

    The residual is formed here from the recorded queries and ``walsh_basis`` (the Walsh functions
    themselves), not from the decoder's bins.  K = 1 with B = 2 bins filled half of the bins, which
    the median noise estimate read as noise (empty support, converged=True).
    """
    rng = np.random.default_rng(n * 100 + K)
    support = np.sort(rng.choice(1 << n, size=K, replace=False)).astype(np.uint64)
    values = rng.uniform(1.0, 2.0, K) * rng.choice([-1.0, 1.0], K)
    oracle = _Recorder(support, values)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sparse_wht(oracle, n, K=K, design=design, random_state=K)
    assert len(caught) == (0 if result.converged else 1)
    taken = np.concatenate(oracle.indices)
    residual = evaluate_walsh(support, values, taken) - walsh_basis(result.support, n, taken) @ result.coefficients
    assert result.converged == bool(np.max(np.abs(residual)) <= 1e-9), np.max(np.abs(residual))


# ------------------------------------------------------------------ sparse helpers: values

_SUPPORT = np.array([0, 3, 5], dtype=np.uint64)
_COEF = np.array([1.0, -2.0, 0.5])
_H8 = scipy.linalg.hadamard(8).astype(np.float64)
_F8 = np.zeros(8)
_F8[[0, 3, 5]] = _COEF

HELPER_VALUES = [
    ("evaluate_walsh, bool coefficients", lambda: evaluate_walsh([1, 2], [True, False], np.arange(8), n=3),
     _H8[:, [1, 2]] @ [1.0, 0.0]),
    ("evaluate_walsh, int coefficients", lambda: evaluate_walsh(_SUPPORT, [1, -2, 0], np.arange(8)),
     _H8[:, [0, 3, 5]] @ [1.0, -2.0, 0.0]),
    ("evaluate_walsh, big-endian reversed points", lambda: evaluate_walsh(
        _SUPPORT, _COEF, np.arange(8, dtype=">u8")[::-1]), (_H8 @ _F8)[::-1]),
    ("evaluate_walsh, read-only strided inputs", lambda: evaluate_walsh(
        _readonly(np.repeat(_SUPPORT, 2))[::2], _readonly(np.repeat(_COEF, 2))[::2], np.arange(8, dtype=np.int32)),
     _H8 @ _F8),
    ("evaluate_walsh, empty support", lambda: evaluate_walsh([], [], np.arange(4)), np.zeros(4)),
    ("evaluate_walsh, no points", lambda: evaluate_walsh(_SUPPORT, _COEF, []), np.zeros(0)),
    ("evaluate_walsh, ortho", lambda: evaluate_walsh(_SUPPORT, _COEF * math.sqrt(8), np.arange(8), n=3,
                                                     norm="ortho"), _H8 @ _F8),
    ("walsh_basis, list and big-endian points", lambda: walsh_basis([0, 3, 5], 3, np.arange(8, dtype=">i8")),
     _H8[:, [0, 3, 5]]),
    ("walsh_basis, reversed indices", lambda: walsh_basis(np.arange(8)[::-1], 3), _H8[:, ::-1]),
    ("sparse_wht, bool signal", lambda: sparse_wht(np.array([True, False, False, True]), 2, K=4).coefficients,
     _hadamard_along([1.0, 0.0, 0.0, 1.0], 0, 1 / 4)[[0, 3]]),
    ("sparse_wht, int list signal", lambda: sparse_wht([4, 0, 0, 0], 2, K=1).coefficients, np.ones(4)),
    ("sparse_wht, big-endian reversed signal", lambda: sparse_wht((_H8 @ _F8).astype(">f8")[::-1][::-1], 3,
                                                                   K=3).coefficients, _COEF),
]


@pytest.mark.parametrize(("call", "reference"), [pytest.param(c, r, id=i) for i, c, r in HELPER_VALUES])
def test_helper_value_cases_match_scipy_hadamard(call, reference):
    np.testing.assert_allclose(call(), reference, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ sparse helpers: errors

_SIG = np.ones(1 << 10)


def _zeros(m):
    return np.zeros(m.size)


SPARSE_ERRORS = [
    # documented ranges
    ("chains with noiseless", lambda: sparse_wht(_SIG, 10, 4, chains=5, design="noiseless"), ValidationError,
     "chains must be None for design='noiseless'"),
    ("chains with sample_optimal", lambda: sparse_wht(_SIG, 10, 4, chains=3, design="sample_optimal"),
     ValidationError, "chains must be None for design='sample_optimal'"),
    ("n_offsets with robust", lambda: sparse_wht(_SIG, 10, 4, n_offsets=8), ValidationError,
     "n_offsets must be None"),
    ("chains 0", lambda: sparse_wht(_SIG, 10, 4, chains=0), ValidationError, "chains must be in [1, inf]"),
    ("chains float", lambda: sparse_wht(_SIG, 10, 4, chains=3.0), ArgumentTypeError, "chains must be an int"),
    ("chains bool", lambda: sparse_wht(_SIG, 10, 4, chains=True), ArgumentTypeError, "chains must be an int"),
    ("n_offsets 0", lambda: sparse_wht(_SIG, 10, 4, n_offsets=0, design="sample_optimal"), ValidationError,
     "n_offsets must be in [1, inf]"),
    ("K 0", lambda: sparse_wht(_SIG, 10, 0), ValidationError, "K must be in [1, 2**n = 1024]"),
    ("K above N", lambda: sparse_wht(_SIG, 10, 1025), ValidationError, "K must be in [1, 2**n = 1024]"),
    ("K float", lambda: sparse_wht(_SIG, 10, 2.5), ArgumentTypeError, "K must be an int"),
    ("K bool", lambda: sparse_wht(_SIG, 10, True), ArgumentTypeError, "K must be an int"),
    ("neither K nor b", lambda: sparse_wht(_SIG, 10), ValidationError, "K or b must be given"),
    ("C 0", lambda: sparse_wht(_SIG, 10, 4, C=0), ValidationError, "C must be in [1, inf]"),
    ("C float", lambda: sparse_wht(_SIG, 10, 4, C=3.0), ArgumentTypeError, "C must be an int"),
    ("b 0", lambda: sparse_wht(_SIG, 10, b=0), ValidationError, "b must be in [1, 10]"),
    ("b above n", lambda: sparse_wht(_SIG, 10, b=11), ValidationError, "b must be in [1, 10]"),
    ("n 0", lambda: sparse_wht(_zeros, 0, 1), ValidationError, "n must be in [1, 62]"),
    ("n 63", lambda: sparse_wht(_zeros, 63, 1), ValidationError, "n must be in [1, 62]"),
    ("n float", lambda: sparse_wht(_zeros, 10.0, 1), ArgumentTypeError, "n must be an int"),
    ("n bool", lambda: sparse_wht(_zeros, True, 1), ArgumentTypeError, "n must be an int"),
    ("snr_db NaN", lambda: sparse_wht(_SIG, 10, 4, snr_db=float("nan")), ValidationError, "snr_db must be in"),
    ("snr_db inf", lambda: sparse_wht(_SIG, 10, 4, snr_db=float("inf")), ValidationError, "snr_db must be in"),
    ("snr_db string", lambda: sparse_wht(_SIG, 10, 4, snr_db="10"), ArgumentTypeError, "snr_db must be a real"),
    ("noise_sd negative", lambda: sparse_wht(_SIG, 10, 4, noise_sd=-1.0), ValidationError, "noise_sd must be in"),
    ("noise_sd inf", lambda: sparse_wht(_SIG, 10, 4, noise_sd=float("inf")), ValidationError,
     "noise_sd must be finite"),
    ("noise_sd NaN", lambda: sparse_wht(_SIG, 10, 4, noise_sd=float("nan")), ValidationError, "noise_sd must be in"),
    ("snr_db and noise_sd", lambda: sparse_wht(_SIG, 10, 4, snr_db=10, noise_sd=1.0), ValidationError,
     "snr_db and noise_sd must not both be given"),
    ("max_peeling 0", lambda: sparse_wht(_SIG, 10, 4, max_peeling=0), ValidationError, "max_peeling must be in"),
    ("max_peeling float", lambda: sparse_wht(_SIG, 10, 4, max_peeling=2.0), ArgumentTypeError,
     "max_peeling must be an int"),
    ("callback not callable", lambda: sparse_wht(_SIG, 10, 4, callback=3), ArgumentTypeError,
     "callback must be None or a callable"),
    ("callback on the dense route", lambda: sparse_wht(np.ones(4), 2, 1, callback="f"), ArgumentTypeError,
     "callback must be None or a callable"),
    ("norm unknown", lambda: sparse_wht(_SIG, 10, 4, norm="unitary"), ValidationError, "norm must be one of"),
    ("design unknown", lambda: sparse_wht(_SIG, 10, 4, design="fast"), ValidationError, "design must be one of"),
    ("subsampling unknown", lambda: sparse_wht(_SIG, 10, 4, subsampling="block"), ValidationError,
     "subsampling must be one of"),
    ("random_state string", lambda: sparse_wht(np.ones(4), 2, 1, random_state="0"), ArgumentTypeError,
     "random_state must be"),
    ("design above N queries at n = 30", lambda: sparse_wht(_zeros, 30, b=30), ValidationError,
     "b = 30 must leave the design fewer queries than the 2**n = 2**30"),
    ("search too wide", lambda: sparse_wht(_zeros, 30, b=5, design="sample_optimal"), ValidationError,
     "n - b must be at most 20"),
    # signal
    ("signal of the wrong length", lambda: sparse_wht(np.ones(8), 2, 1), ShapeError, "signal must be a callable"),
    ("signal 2-D", lambda: sparse_wht(np.ones((2, 2)), 2, 1), ShapeError, "signal must be a callable"),
    ("signal ragged", lambda: sparse_wht([[1.0], [2.0, 3.0]], 1, 1), ShapeError, "signal must be an array"),
    ("signal complex", lambda: sparse_wht(np.ones(4, dtype=complex), 2, 1), DTypeError, "signal must be real"),
    ("signal object", lambda: sparse_wht(np.array([1, "a", 2, 3], dtype=object), 2, 1), DTypeError,
     "signal must be real numbers"),
    ("signal NaN", lambda: sparse_wht(np.array([1.0, np.nan, 0.0, 0.0]), 2, 1), NonFiniteError,
     "signal must be finite"),
    ("signal None", lambda: sparse_wht(None, 2, 1), ArgumentTypeError, "signal must be a callable"),
    ("signal returns a scalar", lambda: sparse_wht(lambda m: 0.0, 12, 1), ShapeError,
     "signal must return one value per index"),
    ("signal returns ragged", lambda: sparse_wht(lambda m: [[0.0], [1.0, 2.0]], 12, 1), ShapeError,
     "the values returned by signal must be an array"),
    ("signal returns complex", lambda: sparse_wht(lambda m: np.zeros(m.size, complex), 12, 1), DTypeError,
     "the values returned by signal must be real"),
    ("signal returns inf", lambda: sparse_wht(lambda m: np.full(m.size, np.inf), 2, 1), NonFiniteError,
     "the values returned by signal must be finite"),
    # walsh_basis
    ("walsh_basis negative index", lambda: walsh_basis([-1], 3), ValidationError, "indices must be non-negative"),
    ("walsh_basis index above 2**n", lambda: walsh_basis([8], 3), ValidationError, "indices must be below 2**3"),
    ("walsh_basis float indices", lambda: walsh_basis([0.5], 3), DTypeError, "indices must hold integers"),
    ("walsh_basis 2-D points", lambda: walsh_basis([0], 3, [[0]]), ShapeError, "points must be 1-D"),
    ("walsh_basis all points at n = 25", lambda: walsh_basis([0], 25), ValidationError, "points must be given"),
    ("walsh_basis norm", lambda: walsh_basis([0], 3, norm="unit"), ValidationError, "norm must be one of"),
    ("walsh_basis n 0", lambda: walsh_basis([0], 0), ValidationError, "n must be in [1, 62]"),
    # evaluate_walsh
    ("evaluate_walsh ortho without n", lambda: evaluate_walsh([0], [1.0], [0], norm="ortho"), ValidationError,
     "n must be given"),
    ("evaluate_walsh coefficient shape", lambda: evaluate_walsh([0, 1], [1.0], [0]), ShapeError,
     "coefficients must have shape (2,)"),
    ("evaluate_walsh complex coefficients", lambda: evaluate_walsh([0], [1j], [0]), DTypeError,
     "coefficients must be real"),
    ("evaluate_walsh string coefficients", lambda: evaluate_walsh([0], ["a"], [0]), DTypeError,
     "coefficients must be real"),
    ("evaluate_walsh ragged support", lambda: evaluate_walsh([[0], [1, 2]], [1.0], [0]), ShapeError,
     "support must be an array"),
    ("evaluate_walsh index beyond 2**62", lambda: evaluate_walsh([1 << 62], [1.0], [0]), ValidationError,
     "support must be below 2**62"),
    ("evaluate_walsh point beyond uint64", lambda: evaluate_walsh([0], [1.0], [1 << 70]), DTypeError,
     "points must hold integers"),
    ("evaluate_walsh point beyond 2**n", lambda: evaluate_walsh([0], [1.0], [8], n=3), ValidationError,
     "points must be below 2**3"),
]


@pytest.mark.parametrize(("call", "error", "text"), [pytest.param(c, e, t, id=i) for i, c, e, t in SPARSE_ERRORS])
def test_sparse_error_cases_name_the_argument(call, error, text):
    with pytest.raises(error) as caught:
        call()
    assert text in str(caught.value)


# ------------------------------------------------------- sparse helpers: hypothesis, never a crash

_INDEX_DTYPES = ["uint64", "int64", "int32", "uint8", ">u8", ">i4", "float64", "bool"]
_VALUE_DTYPES = ["float64", "float32", ">f8", "int64", "int8", "bool", "complex128", "object", "float16"]


def _laid_out(array, layout):
    if layout == "reversed":
        return array[::-1].copy()[::-1]
    if layout == "strided":
        return np.repeat(array, 2)[::2]
    if layout == "readonly":
        array = array.copy()
        array.flags.writeable = False
    return array


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 6), index_dtype=st.sampled_from(_INDEX_DTYPES), value_dtype=st.sampled_from(_VALUE_DTYPES),
       layout=st.sampled_from(["C", "reversed", "strided", "readonly"]), seed=st.integers(0, 2**16))
def test_walsh_helpers_right_answer_or_linalgkit_error(n, index_dtype, value_dtype, layout, seed):
    """evaluate_walsh, walsh_basis and the dense route of sparse_wht over index / value dtypes and layouts."""
    N = 1 << n
    rng = np.random.default_rng(seed)
    H = scipy.linalg.hadamard(N).astype(np.float64)
    support = np.sort(rng.choice(min(N, 128), size=rng.integers(1, min(N, 8) + 1), replace=False))
    points = rng.integers(0, min(N, 128), size=5)
    coefficients = rng.integers(-3, 4, size=support.size)
    typed = {name: _laid_out(np.asarray(a).astype(index_dtype), layout) for name, a in
             (("support", support), ("points", points))}
    values = _laid_out(np.asarray(coefficients).astype(value_dtype), layout)
    index_ok = np.dtype(index_dtype).kind in "iu"
    value_ok = np.dtype(value_dtype).kind in "biuf"
    cast = np.asarray(coefficients).astype(value_dtype).astype(np.float64) if value_ok else None
    try:
        result = evaluate_walsh(typed["support"], values, typed["points"], n=n)
    except LinalgkitError:
        assert not (index_ok and value_ok)
    else:
        assert index_ok and value_ok
        np.testing.assert_allclose(result, H[points][:, support] @ cast, rtol=0, atol=1e-12)
    try:
        basis = walsh_basis(typed["support"], n, typed["points"])
    except LinalgkitError:
        assert not index_ok
    else:
        assert index_ok
        np.testing.assert_array_equal(basis, H[points][:, support])
    signal = _laid_out((H @ np.resize(cast, N)).astype(value_dtype) if value_ok else np.zeros(N, value_dtype),
                       layout)
    try:
        dense = sparse_wht(signal, n, b=n)
    except LinalgkitError:
        assert not value_ok
    else:
        assert value_ok
        F = H @ np.asarray(signal).astype(np.float64) / N
        assert dense.converged
        np.testing.assert_array_equal(dense.support, np.flatnonzero(F))
        np.testing.assert_allclose(dense.coefficients, F[dense.support.astype(np.int64)], rtol=0, atol=1e-12)
