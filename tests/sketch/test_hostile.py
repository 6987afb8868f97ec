"""The sketching operators under a hostile caller (issue 12): nothing crashes, valid input is accepted.

Table rows are a value checked against an independent computation (the dense input through the
dense kernel, NumPy's product with the operator's matrix) or an error class and the argument its
message names; then a bounded hypothesis test over kinds, shapes, dtypes, layouts, sparse formats,
index dtypes and corruptions: the right product or a LinalgkitError, never a crash.
"""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linalgkit
from linalgkit.exceptions import ArgumentTypeError, DTypeError, ShapeError, ValidationError
from linalgkit.sketch import SKETCH_KINDS, make_sketch

KINDS = list(SKETCH_KINDS)


def _corrupt(kind, n=60, d=5):
    A = scipy.sparse.random(n, d, density=0.5, format="csr", random_state=0)
    if kind == "index out of range":
        A.indices[2] = d
    elif kind == "negative index":
        A.indices[2] = -4
    elif kind == "indptr beyond the data":
        A.indptr[-1] += 3
    elif kind == "indptr decreasing":
        A.indptr[10] = A.indptr[12] + 1
    elif kind == "indptr too long":
        A.indptr = np.append(A.indptr, A.indptr[-1])
    elif kind == "indices of another length":
        A.indices = A.indices[:-2]
    elif kind == "coo col out of range":
        A = scipy.sparse.coo_array(A)
        A.coords = (A.coords[0], A.coords[1] + d)
    elif kind == "csc indptr decreasing":
        A = A.tocsc()
        A.indptr[2] = A.indptr[3] + 1
    return A


CORRUPTIONS = ["index out of range", "negative index", "indptr beyond the data", "indptr decreasing",
               "indptr too long", "indices of another length", "coo col out of range", "csc indptr decreasing"]
ENTRIES = {  # name in the message, sketch shape (m, n), call on the corrupted 60 x 5 operand
    "S @ X": ("X", (16, 60), lambda S, A: S @ A),
    "S.apply_pair(A, b)": ("A", (16, 60), lambda S, A: S.apply_pair(A, np.ones(A.shape[0]))),
    "S.apply_stacked(A, b)": ("A", (16, 60), lambda S, A: S.apply_stacked(A, np.ones(A.shape[0]))),
    "S.T @ Y": ("Y", (60, 64), lambda S, A: S.T @ A),
    "X @ S": ("X", (5, 30), lambda S, A: A @ S),
}


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("corruption", CORRUPTIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_corrupted_sparse_operand_is_refused(kind, corruption, entry):
    # issue: an index or indptr entry out of range segfaulted every sketch
    name, shape, call = ENTRIES[entry]
    S = make_sketch(kind, *shape, random_state=0)
    with pytest.raises(ValidationError, match=rf"^{name}\b"):
        call(S, _corrupt(corruption))


@pytest.mark.parametrize("kind", KINDS)
def test_float_index_arrays_are_a_dtype_error(kind):
    S = make_sketch(kind, 8, 60, random_state=0)
    A = _corrupt("none")
    A.indptr = A.indptr.astype(np.float64)
    with pytest.raises(DTypeError, match=r"X\.indptr must have an integer dtype"):
        S @ A


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_])
def test_integer_and_bool_operands_are_cast(kind, dtype, rng):
    S = make_sketch(kind, 8, 50, random_state=0)
    X = rng.integers(0, 3, size=(50, 3)).astype(dtype)
    out = S @ X
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, S @ X.astype(np.float64), rtol=1e-13, atol=1e-13)
    SA, Sb = S.apply_pair(X.astype(np.float64), X[:, 0])
    np.testing.assert_allclose(Sb, out[:, 0], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("index_dtype", [np.int16, np.uint32, np.int64])
def test_any_index_dtype_matches_the_dense_product(kind, index_dtype, rng):
    S = make_sketch(kind, 12, 80, random_state=0)
    A = scipy.sparse.random(80, 4, density=0.3, format="csr", random_state=1)
    A.indices, A.indptr = A.indices.astype(index_dtype), A.indptr.astype(index_dtype)
    np.testing.assert_allclose(S @ A, S @ A.toarray(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fmt", ["bsr_matrix", "lil_matrix", "dok_matrix", "dia_matrix", "coo_matrix", "csc_array"])
def test_every_sparse_format_matches_the_dense_product(fmt, rng):
    S = make_sketch("sparse_sign", 12, 40, random_state=0)
    A = np.where(rng.random((40, 4)) < 0.4, rng.standard_normal((40, 4)), 0.0)
    np.testing.assert_allclose(S @ getattr(scipy.sparse, fmt)(A), S @ A, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_right_products_match_numpy(kind, rng):
    S = make_sketch(kind, 8, 30, random_state=0)
    dense = S.todense()
    X, Y = rng.standard_normal((5, 8)), rng.standard_normal((5, 30))
    np.testing.assert_allclose(X @ S, X @ dense, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X[0] @ S, X[0] @ dense, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(Y @ S.T, Y @ dense.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scipy.sparse.csr_array(X) @ S, X @ dense, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, error, match", [
    (lambda S: np.ones((3, 30)) @ S, ShapeError, r"S is 8 x 30, so X @ S needs X of shape \(p, 8\)"),
    (lambda S: np.ones(9) @ S, ShapeError, "X @ S needs X"),
    (lambda S: np.ones((3, 8)) @ S.T, ShapeError, r"S\.T is 30 x 8, so X @ S\.T needs X of shape \(p, 30\)"),
    (lambda S: np.ones((2, 2, 8)) @ S, ShapeError, "X @ S needs X"),
    (lambda S: np.ones((3, 8), dtype=complex) @ S, DTypeError, "X must have a floating dtype"),
    (lambda S: S @ np.ones((29, 2)), ShapeError, r"X must have shape \(30,\)"),
    (lambda S: S.apply_pair(np.ones((30, 2)), np.ones((30, 2, 1))), ShapeError, "b must have shape"),
])
def test_bad_operands_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call(make_sketch("gaussian", 8, 30, random_state=0))


@pytest.mark.parametrize("args, options, error, match", [
    (("gaussian", 0, 10), {}, ValidationError, "m must be in"),
    (("gaussian", 4, 0), {}, ValidationError, "n must be in"),
    (("gaussian", 4.0, 10), {}, ArgumentTypeError, "m must be an int"),
    (("srht", 20, 10), {}, ValidationError, "m must be at most 16"),
    (("srtt", 20, 10), {}, ValidationError, "m must be at most n = 10"),
    (("pooled", 20, 10), {}, ValidationError, "m must be at most 16"),
    (("sparse_sign", 4, 10), {"zeta": 5}, ValidationError, r"zeta must be in \[1, 4\]"),
    (("sparse_sign", 4, 10), {"zeta": 0}, ValidationError, "zeta must be in"),
    (("countsketch", 4, 10), {"zeta": 2}, ArgumentTypeError, "unexpected option"),
    (("hadamard", 4, 10), {}, ValidationError, "kind must be one of"),
])
def test_sketch_parameters_are_checked(args, options, error, match):
    with pytest.raises(error, match=match):
        make_sketch(*args, random_state=0, **options)


# ---------------------------------------------------------------- hypothesis: right product or LinalgkitError


FORMATS = ["dense", "dense-F", "dense-strided", "csr_matrix", "csc_matrix", "coo_array", "bsr_array", "lil_matrix"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 70), k=st.integers(0, 4), m=st.integers(1, 20),
       dtype=st.sampled_from(["float64", "float32", "int32", "bool", "complex128"]), layout=st.sampled_from(FORMATS),
       index_dtype=st.sampled_from(["int32", "int64", "int16", "uint64"]), corrupt=st.booleans(),
       seed=st.integers(0, 5))
def test_right_product_or_linalgkit_error(kind, n, k, m, dtype, layout, index_dtype, corrupt, seed):
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((n, k)) < 0.5, rng.standard_normal((n, k)) * 4, 0).astype(dtype)
    operand, corrupted = X, False
    if layout == "dense-F":
        operand = np.asfortranarray(X)
    elif layout == "dense-strided":
        operand = np.repeat(X, 2, axis=0)[::2]
    elif not layout.startswith("dense"):
        operand = getattr(scipy.sparse, layout)(X)
        if hasattr(operand, "indptr"):
            operand.indices, operand.indptr = operand.indices.astype(index_dtype), operand.indptr.astype(index_dtype)
            if corrupt and operand.indices.size:
                operand.indices[-1] = n + k + 2
                corrupted = True
    try:
        S = make_sketch(kind, m, n, random_state=seed)
        out = S @ operand
    except linalgkit.LinalgkitError:
        return
    assert not corrupted and dtype != "complex128"
    reference = S.todense() @ X.astype(np.float64)
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(out, reference, rtol=tolerance, atol=tolerance * (1 + np.abs(reference).max(initial=0)))
