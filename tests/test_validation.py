"""The input funnel: each bad input raises early, names the argument, and says how to fix it."""

import numbers

import array_api_strict
import numpy as np
import pytest
import scipy.sparse

from linalgkit._backend import get_backend
from linalgkit._validation import (
    check_array,
    check_axis,
    check_consistent_length,
    check_matrix,
    check_option,
    check_out,
    check_scalar,
    check_spd,
    check_vector,
)
from linalgkit.exceptions import DTypeError, NonFiniteError, NotSPDError, ShapeError, ValidationError

NP = get_backend()


def test_check_array_accepts_lists_and_keeps_float_dtypes():
    assert check_array([1.0, 2.0], "x", backend=NP).dtype == np.float64
    assert check_array(np.ones(2, np.float32), "x", backend=NP).dtype == np.float32
    assert check_array(np.ones(2, np.complex64), "x", backend=NP).dtype == np.complex64


def test_check_array_dtype_policies():
    with pytest.raises(DTypeError, match=r"x must have a floating dtype .*got int64; convert it with x.astype"):
        check_array(np.arange(3), "x", backend=NP)
    assert check_array(np.arange(3), "x", backend=NP, numeric="cast").dtype == np.float64
    with pytest.raises(DTypeError, match="got complex128; pass the real part"):
        check_array(np.ones(2, complex), "x", backend=NP, allow_complex=False)
    with pytest.raises(DTypeError, match="numeric array, got dtype object"):
        check_array(np.array([1, None]), "x", backend=NP)
    with pytest.raises(DTypeError, match=r"got float16; convert it with x.astype\(float32\)"):
        check_array(np.ones(2, np.float16), "x", backend=NP)


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="longdouble is float64 on this platform")
def test_check_array_refuses_long_double_before_a_kernel_sees_it():
    for dtype, cast_to in ((np.longdouble, "float64"), (np.clongdouble, "complex128")):
        with pytest.raises(DTypeError, match=rf"x must have a floating dtype .*convert it with x.astype\({cast_to}\)"):
            check_array(np.ones(2, dtype), "x", backend=NP)


def test_check_array_names_a_ragged_list():
    with pytest.raises(ShapeError, match="A must be a rectangular array, got a ragged sequence"):
        check_array([[1.0, 2.0], [3.0]], "A", backend=NP)


def test_check_array_shapes_and_emptiness():
    with pytest.raises(ShapeError, match=r"A must be 2-D, got shape \(5,\); reshape with x.reshape\(-1, 1\)"):
        check_array(np.ones(5), "A", backend=NP, ndim=2)
    with pytest.raises(ShapeError, match="at least 2 dimension"):
        check_array(np.ones(5), "X", backend=NP, min_ndim=2)
    with pytest.raises(ShapeError, match=r"b must not be empty, got shape \(0,\)"):
        check_array(np.ones(0), "b", backend=NP)
    assert check_array(np.ones((0, 3)), "b", backend=NP, allow_empty=True).shape == (0, 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_array_rejects_non_finite(bad):
    x = np.ones(4)
    x[2] = bad
    with pytest.raises(NonFiniteError, match="x must be finite, got 1 NaN or infinite"):
        check_array(x, "x", backend=NP)
    assert check_array(x, "x", backend=NP, finite=False) is x


def test_check_finite_is_not_fooled_by_an_overflowing_sum():
    x = np.full(4, np.finfo(np.float64).max)
    with np.errstate(over="ignore"):
        assert not np.isfinite(x.sum())
    assert check_array(x, "x", backend=NP) is x
    x[1] = -np.inf
    with pytest.raises(NonFiniteError, match="got 1 NaN or infinite"):
        check_array(x, "x", backend=NP)
    z = np.array([1 + 1j, complex(1, np.nan)])
    with pytest.raises(NonFiniteError):
        check_array(z, "z", backend=NP)


def test_check_array_generic_namespace():
    backend = get_backend(array_api_strict.ones(1))
    with pytest.raises(DTypeError, match="got int64"):
        check_array(array_api_strict.asarray([1, 2]), "x", backend=backend)
    with pytest.raises(NonFiniteError):
        check_array(array_api_strict.asarray([1.0, float("nan")]), "x", backend=backend)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_check_matrix_sparse(index_dtype):
    A = scipy.sparse.random(10, 4, density=0.5, format="csr", random_state=0)
    A.indices, A.indptr = A.indices.astype(index_dtype), A.indptr.astype(index_dtype)
    checked = check_matrix(A, "A", backend=NP)
    assert checked.indices.dtype == index_dtype
    with pytest.raises(DTypeError, match="A must be a dense array, got a sparse csr matrix; pass A.toarray"):
        check_matrix(A, "A", backend=NP, sparse_ok=False)
    A.data[0] = np.nan
    with pytest.raises(NonFiniteError, match="A must be finite"):
        check_matrix(A, "A", backend=NP)
    integer = scipy.sparse.csr_matrix(np.eye(3, dtype=np.int64))
    assert check_matrix(integer, "A", backend=NP, numeric="cast").dtype == np.float64


def test_check_matrix_square():
    with pytest.raises(ShapeError, match=r"A must be square, got shape \(3, 2\)"):
        check_matrix(np.ones((3, 2)), "A", backend=NP, square=True)


def test_check_vector_and_lengths():
    with pytest.raises(ShapeError, match="b must have length 4, got length 3"):
        check_vector(np.ones(3), "b", backend=NP, length=4)
    with pytest.raises(ShapeError, match=r"b must have as many rows as A \(5\), got 4"):
        check_consistent_length(("A", np.ones((5, 2))), ("b", np.ones(4)))


def test_check_axis():
    assert check_axis(-1, 3) == 2
    with pytest.raises(ValidationError, match=r"axis must be in \[-2, 1\].*got 2"):
        check_axis(2, 2)
    with pytest.raises(TypeError, match="axis must be an int, got bool"):
        check_axis(True, 2)


def test_check_scalar_and_option():
    assert check_scalar(0.5, "eps", low=0, high=1, closed="neither") == 0.5
    with pytest.raises(ValidationError, match=r"eps must be in \(0, 1\), got 1"):
        check_scalar(1, "eps", low=0, high=1, closed="neither")
    with pytest.raises(ValidationError, match=r"eps must be in \[0, inf\], got nan"):
        check_scalar(float("nan"), "eps", low=0)
    with pytest.raises(TypeError, match="maxiter must be an int, got float"):
        check_scalar(3.0, "maxiter", kind=numbers.Integral, low=1)
    with pytest.raises(ValidationError, match="method must be one of 'lsqr', 'ihs', got 'cg'"):
        check_option("cg", "method", ("lsqr", "ihs"))


def test_check_out():
    like = np.ones((2, 3))
    with pytest.raises(ShapeError, match=r"out must have shape \(2, 3\)"):
        check_out(np.ones(3), "out", like=like, backend=NP)


def _spd_batch(rng, batch, n):
    a = rng.standard_normal((*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def test_check_spd_accepts_batches(rng):
    X = _spd_batch(rng, (3, 2), 4)
    assert check_spd(X, "X", backend=NP) is X


def test_check_spd_names_the_bad_matrix_and_its_eigenvalue(rng):
    X = _spd_batch(rng, (3,), 4)
    X[1] = np.diag([1.0, 2.0, -0.5, 3.0])
    with pytest.raises(NotSPDError, match=r"X\[1\] must be positive definite, got smallest eigenvalue -0.5; regularize"):
        check_spd(X, "X", backend=NP)
    X[1] = np.eye(4)
    X[2, 0, 1] += 1.0
    with pytest.raises(NotSPDError, match=r"X\[2\] must be symmetric.*\(X \+ X\^T\) / 2"):
        check_spd(X, "X", backend=NP)
    with pytest.raises(ShapeError, match="square matrices"):
        check_spd(np.ones((2, 3)), "X", backend=NP)
    with pytest.raises(NotSPDError, match=r"^C must be positive definite"):
        check_spd(np.zeros((2, 2)), "C", backend=NP)


@pytest.mark.parametrize("batch", [(3,), (300, 2)])
def test_symmetry_kernel_matches_the_array_api_expression(rng, batch, monkeypatch):
    """The Numba pass (serial below, parallel above its threshold) against the plain NumPy formula."""
    from linalgkit._validation_numba import PARALLEL_MIN_ENTRIES, symmetry_defects

    X = _spd_batch(rng, batch, 16)
    X[..., 3, 7] += rng.uniform(0, 1e-6, size=batch)
    flat = X.reshape(-1, 16, 16)
    asym, scale = symmetry_defects(flat)
    np.testing.assert_array_equal(asym, np.max(np.abs(flat - np.swapaxes(flat, -1, -2)), axis=(-2, -1)))
    np.testing.assert_array_equal(scale, np.max(np.abs(flat), axis=(-2, -1)))
    assert (flat.size >= PARALLEL_MIN_ENTRIES) == (len(batch) == 2)
    X[(0,) * len(batch) + (3, 7)] += 1.0
    expected = r"X\[" + ", ".join(["0"] * len(batch)) + r"\] must be symmetric"
    for numba_off in ("0", "1"):
        monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", numba_off)
        with pytest.raises(NotSPDError, match=expected):
            check_spd(X, "X", backend=get_backend(X))
