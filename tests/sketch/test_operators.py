"""Sketching operators: adjoints, explicit references, determinism, input types and bad input."""

import array_api_strict
import numpy as np
import pytest
import scipy.fft
import scipy.linalg
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

import linalgkit
from linalgkit._backend import get_backend
from linalgkit.exceptions import ArgumentTypeError, BackendError, DTypeError, ShapeError, ValidationError
from linalgkit.sketch import SKETCH_KINDS, make_sketch, operators
from linalgkit.sketch import _cutovers as cutovers
from linalgkit.sketch import _numba as sketch_numba
from linalgkit.sketch._cutovers import TWO_PASS_MIN_BLOCKS
from linalgkit.sketch.operators import apply_sketch
from tests.conftest import to_numpy

KINDS = list(SKETCH_KINDS)
GENERIC_KINDS = ["gaussian", "rademacher", "srht"]


def _dot_test_error(S, rng, k=3):
    m, n = S.shape
    x, y = rng.standard_normal((n, k)), rng.standard_normal((m, k))
    left, right = np.sum((S @ x) * y), np.sum(x * (S.T @ y))
    return abs(left - right) / (np.linalg.norm(S @ x) * np.linalg.norm(y))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("m, n", [(16, 100), (64, 1000), (33, 257)])
def test_dot_test(kind, m, n, rng):
    S = make_sketch(kind, m, n, random_state=3)
    assert _dot_test_error(S, rng) < 1e-13


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(2, 300), ratio=st.floats(0.05, 1.0), seed=st.integers(0, 2**32))
def test_dot_test_property(kind, n, ratio, seed):
    m = max(1, int(ratio * n))
    if kind == "sparse_sign":
        S = make_sketch(kind, m, n, random_state=seed, zeta=min(4, m))
    else:
        S = make_sketch(kind, m, n, random_state=seed)
    assert _dot_test_error(S, np.random.default_rng(seed)) < 1e-12


def _reference_matrix(S):
    """S assembled independently from the operator's random parts."""
    m, n = S.shape
    if S.kind == "srht":
        N = S.padded_rows
        return scipy.linalg.hadamard(N)[S.rows][:, :n] * S.signs / np.sqrt(m)
    if S.kind == "srtt":
        dct = scipy.fft.dct(np.eye(n), type=2, norm="ortho", axis=0)
        return np.sqrt(n / m) * dct[S.rows] * S.signs
    dense = np.zeros((m, S.rows.shape[0]))
    for j in range(S.rows.shape[1]):
        dense[S.rows[:, j], np.arange(S.rows.shape[0])] += S.weights[:, j]
    if S.kind == "pooled":
        N = S.padded_rows
        return dense @ (scipy.linalg.hadamard(N)[:, :n] / np.sqrt(N)) * S.signs
    return dense


@pytest.mark.parametrize("kind", ["srht", "srtt", "pooled", "countsketch", "sparse_sign"])
@pytest.mark.parametrize("n", [128, 200])
def test_matches_explicit_matrix(kind, n, rng):
    S = make_sketch(kind, 32, n, random_state=5)
    X = rng.standard_normal((n, 4))
    np.testing.assert_allclose(S @ X, _reference_matrix(S) @ X, rtol=1e-12, atol=1e-12)


def test_sparse_sign_structure():
    S = make_sketch("sparse_sign", 20, 500, random_state=0, zeta=6)
    dense = S.todense()
    assert np.all(np.count_nonzero(dense, axis=0) == 6)
    np.testing.assert_allclose(np.abs(dense[dense != 0]), 1 / np.sqrt(6), rtol=1e-15)


def test_pooled_blocks_are_balanced():
    S = make_sketch("pooled", 16, 1000, random_state=0)
    assert np.all(np.bincount(S.rows[:, 0], minlength=16) == 1024 // 16)


@pytest.mark.parametrize("kind", ["gaussian", "rademacher"])
def test_iid_entries(kind):
    # 400 x 3000 entries: the variance of sqrt(m) S_ij is 1 to within 1% (sd ~ 0.0016 or less)
    S = make_sketch(kind, 400, 3000, random_state=0)
    entries = S.todense() * np.sqrt(400)
    assert abs(entries.mean()) < 0.005
    assert abs(entries.var() - 1) < 0.01
    if kind == "rademacher":
        np.testing.assert_array_equal(np.abs(entries), 1)


def test_gaussian_blocks_are_independent():
    S = make_sketch("gaussian", 2**20, 8, random_state=0)  # block_columns == 4: two blocks
    dense = S.todense()
    assert S.block_columns == 4
    assert not np.allclose(dense[:, :4], dense[:, 4:])
    correlation = np.corrcoef(dense[:, 0], dense[:, 4])[0, 1]
    assert abs(correlation) < 0.01


@pytest.mark.parametrize("kind", KINDS)
def test_expected_gram_is_identity(kind):
    # Monte-Carlo mean of S^T S over 200 seeds: identity up to sampling noise (entry sd about
    # sqrt(1 / (m * 200)) = 0.025, a little more for the Gaussian-weighted pooled sketch; 0.2 is ~6 sd)
    n, m = 24, 8
    gram = np.mean([(lambda D: D.T @ D)(make_sketch(kind, m, n, random_state=s).todense()) for s in range(200)],
                   axis=0)
    np.testing.assert_allclose(gram, np.eye(n), atol=0.2)
    assert abs(np.trace(gram) / n - 1) < 0.05


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_operator(kind):
    first = make_sketch(kind, 16, 300, random_state=11).todense()
    again = make_sketch(kind, 16, 300, random_state=np.random.default_rng(11)).todense()
    other = make_sketch(kind, 16, 300, random_state=12).todense()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("kind", ["sparse_sign", "countsketch"])
def test_blocks_drawn_on_threads_equal_one_thread(kind):
    """The hash blocks are drawn on one Python thread per core: the same values as drawn one after another."""
    import numba

    n = 5 * (1 << 16) + 123  # five whole blocks and a partial one
    threaded = make_sketch(kind, 40, n, random_state=3)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        serial = make_sketch(kind, 40, n, random_state=3)
        serial_rows, serial_weights = serial.rows, serial.weights
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(threaded.rows, serial_rows)
    np.testing.assert_array_equal(threaded.weights, serial_weights)
    part = threaded.columns(70_000, 200_000)  # a range across blocks draws only its blocks
    np.testing.assert_array_equal(part.rows, serial_rows[70_000:200_000])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt, index_dtype", [("csr", np.int32), ("csr", np.int64), ("csc", np.int32)])
def test_sparse_input_matches_dense(kind, fmt, index_dtype):
    A = scipy.sparse.random(300, 7, density=0.1, format=fmt, random_state=0)
    A.indices, A.indptr = A.indices.astype(index_dtype), A.indptr.astype(index_dtype)
    S = make_sketch(kind, 40, 300, random_state=2)
    SA = S @ A
    assert isinstance(SA, np.ndarray)
    np.testing.assert_allclose(SA, S @ A.toarray(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_vectors_pairs_and_dtypes(kind, rng):
    S = make_sketch(kind, 20, 150, random_state=4)
    A, b = rng.standard_normal((150, 5)), rng.standard_normal(150)
    SA, Sb = S.apply_pair(A, b)
    np.testing.assert_allclose(SA, S @ A, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(Sb, S @ b, rtol=1e-13, atol=1e-13)
    assert (S @ b).shape == (20,) and (S.T @ Sb).shape == (150,)
    SA32 = S @ A.astype(np.float32)
    assert SA32.dtype == np.float32
    np.testing.assert_allclose(SA32, SA, rtol=2e-5, atol=2e-5)
    SA2, SB2 = S.apply_pair(A, np.column_stack([b, 2 * b]))
    np.testing.assert_allclose(SB2[:, 1], 2 * Sb, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kind", ["countsketch", "sparse_sign", "pooled", "srht"])
def test_numba_and_sparse_product_paths_agree(kind, rng, monkeypatch):
    S = make_sketch(kind, 30, 400, random_state=6)
    A = rng.standard_normal((400, 6))
    A_csr = scipy.sparse.random(400, 6, density=0.2, format="csr", random_state=1)
    with_numba = S @ A, S @ A_csr
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    S = make_sketch(kind, 30, 400, random_state=6)
    np.testing.assert_allclose(S @ A, with_numba[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(S @ A_csr, with_numba[1], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("m", [64, 3000], ids=["one-pass", "two-pass"])
@pytest.mark.parametrize("n", [5000, 8192])
def test_blocked_srht_kernel_matches_fwht_path(n, m, rng, monkeypatch):
    # 300 columns force 256-row blocks: many blocks, both threads, a zero-padded tail (n = 5000);
    # m = 3000 is above the two-pass threshold of 10 blocks
    assert (m >= TWO_PASS_MIN_BLOCKS * sketch_numba._cache_rows(8192, 300)) == (m == 3000)
    A, b = rng.standard_normal((n, 299)), rng.standard_normal(n)
    A_csr = scipy.sparse.random(n, 299, density=0.05, format="csr", random_state=0)
    S = make_sketch("srht", m, n, random_state=1)
    kernel = S.apply_pair(A, b), S @ A_csr
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    for ours, reference in zip(kernel, (S.apply_pair(A, b), S @ A_csr)):
        for got, want in zip(ours, reference):
            np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("kind", ["gaussian", "srht", "sparse_sign"])
def test_apply_stacked_is_the_joined_pair(kind, rng):
    S = make_sketch(kind, 40, 300, random_state=2)
    A, b = rng.standard_normal((300, 5)), rng.standard_normal(300)
    SA, Sb = S.apply_pair(A, b)
    np.testing.assert_array_equal(S.apply_stacked(A, b), np.column_stack([SA, Sb]))
    B = rng.standard_normal((300, 2))
    np.testing.assert_array_equal(S.apply_stacked(A, B), np.hstack(S.apply_pair(A, B)))


def test_large_parallel_scatter_matches_reference(rng):
    # above the kernel's parallel threshold: thread-private outputs must sum to the serial answer
    S = make_sketch("sparse_sign", 64, 20000, random_state=0, zeta=4)
    A = rng.standard_normal((20000, 8))
    dense = np.zeros((64, 20000))
    for j in range(4):
        dense[S.rows[:, j], np.arange(20000)] += S.weights[:, j]
    np.testing.assert_allclose(S @ A, dense @ A, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("kind", GENERIC_KINDS)
def test_array_api_strict_matches_numpy(kind, rng):
    A, Y = rng.standard_normal((100, 3)), rng.standard_normal((12, 2))
    S = make_sketch(kind, 12, 100, random_state=9)
    np.testing.assert_allclose(to_numpy(S @ array_api_strict.asarray(A)), S @ A, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(to_numpy(S.T @ array_api_strict.asarray(Y)), S.T @ Y, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kind", ["srtt", "pooled", "countsketch", "sparse_sign"])
def test_unsupported_namespace_raises(kind):
    S = make_sketch(kind, 4, 10, random_state=0)
    with pytest.raises(BackendError, match="runs on numpy and cupy only"):
        S @ array_api_strict.ones((10, 2))


def _spiky_pair_statistic(kind, n, m, seed):
    """sqrt(m) |<S e1, S e2>|: the OCE statistic of the pair of coordinate vectors."""
    Se = make_sketch(kind, m, n, random_state=seed) @ np.eye(n, 2)
    return np.sqrt(m) * abs(Se[:, 0] @ Se[:, 1])


@pytest.mark.parametrize("kind", ["srht", "srtt", "pooled"])
def test_dense_sketches_flatten_a_spiky_pair(kind):
    # OCE test (research note A1): for g = e1, h = e2, sqrt(m) |<Sg, Sh>| stays O(1) for mixing sketches
    assert max(_spiky_pair_statistic(kind, 4096, 256, s) for s in range(200)) <= 4.5


def test_countsketch_fails_the_spiky_pair():
    # ... while CountSketch reaches sqrt(m) whenever the two rows collide (probability 1/m per draw)
    stats = [_spiky_pair_statistic("countsketch", 4096, 256, s) for s in range(2000)]
    assert max(stats) == pytest.approx(np.sqrt(256))


def test_repr_and_transpose_round_trip():
    S = make_sketch("sparse_sign", 8, 50, random_state=0, zeta=2)
    assert repr(S) == "SparseSignSketch(m=8, n=50, zeta=2)"
    assert S.T.T is S and S.T.shape == (50, 8)
    np.testing.assert_array_equal(S.T.todense(), S.todense().T)


@pytest.mark.parametrize("args, options, error, match", [
    (("fourier", 4, 10), {}, ValidationError, "kind must be one of"),
    (("srht", 0, 10), {}, ValidationError, r"m must be in \[1, inf\]"),
    (("srht", 4.0, 10), {}, TypeError, "m must be an int"),
    (("srht", 4, 0), {}, ValidationError, r"n must be in \[1, inf\]"),
    (("srht", 17, 10), {}, ValidationError, "m must be at most 16"),
    (("srtt", 11, 10), {}, ValidationError, "m must be at most n = 10"),
    (("pooled", 17, 10), {}, ValidationError, "m must be at most 16"),
    (("sparse_sign", 4, 10), {"zeta": 5}, ValidationError, r"zeta must be in \[1, 4\]"),
    (("gaussian", 4, 10), {"zeta": 2}, ArgumentTypeError, "unexpected option"),
])
def test_bad_construction(args, options, error, match):
    with pytest.raises(error, match=match):
        make_sketch(*args, random_state=0, **options)


@pytest.mark.parametrize("kind", KINDS)
def test_bad_operands(kind):
    S = make_sketch(kind, 4, 10, random_state=0)
    with pytest.raises(ShapeError, match=r"X must have shape \(10,\) or \(10, k\)"):
        S @ np.ones((9, 2))
    with pytest.raises(ShapeError, match="X must have shape"):
        S @ np.ones((10, 2, 2))
    with pytest.raises(DTypeError, match="X must have a floating dtype"):
        S @ np.ones((10, 2), dtype=np.float16)
    with pytest.raises(DTypeError, match="X must have a floating dtype"):
        S @ np.ones(10, dtype=complex)
    with pytest.raises(ShapeError, match=r"Y must have shape \(4,\)"):
        S.T @ np.ones(10)
    with pytest.raises(ShapeError, match=r"A must have shape \(10, k\)"):
        S.apply_pair(np.ones(10), np.ones(10))
    with pytest.raises(ShapeError, match="b must have shape"):
        S.apply_pair(np.ones((10, 2)), np.ones(9))


def test_pair_from_two_libraries_raises(rng):
    S = make_sketch("srht", 4, 10, random_state=0)
    with pytest.raises(BackendError, match="A is a numpy array but b is a array_api_strict array"):
        S.apply_pair(np.ones((10, 2)), array_api_strict.ones(10))


def test_todense_refuses_large_operators():
    with pytest.raises(ValidationError, match="todense"):
        make_sketch("countsketch", 2**14, 2**13, random_state=0).todense()


@pytest.mark.parametrize("args, options", [(("fourier", 4, 10), {}), (("srht", 4.0, 10), {}),
                                           (("srht", 17, 10), {}), (("gaussian", 4, 10), {"zeta": 2})])
def test_construction_errors_are_linalgkit_errors(args, options):
    with pytest.raises(linalgkit.LinalgkitError):
        make_sketch(*args, random_state=0, **options)


@pytest.mark.parametrize("operate", [lambda S: S @ np.ones((9, 2)), lambda S: S.T @ np.ones(10),
                                     lambda S: S.apply_pair(np.ones((10, 2)), np.ones(9)),
                                     lambda S: S @ array_api_strict.ones((10, 2)),
                                     lambda S: S.apply_stacked(np.ones((10, 2)), array_api_strict.ones(10))])
def test_operand_errors_are_linalgkit_errors(operate):
    with pytest.raises(linalgkit.LinalgkitError):
        operate(make_sketch("countsketch", 4, 10, random_state=0))


def _count_calls(monkeypatch, module, name):
    calls, original = [], getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


@pytest.mark.parametrize("kind", ["srht", "sparse_sign", "gaussian"])
def test_public_apply_resolves_the_backend_once(kind, rng, monkeypatch):
    S = make_sketch(kind, 20, 100, random_state=0)
    A, b = rng.standard_normal((100, 4)), rng.standard_normal(100)
    calls = _count_calls(monkeypatch, operators, "get_backend")
    S.apply_stacked(A, b)
    S.apply_pair(A, b)
    S @ A
    assert [sorted(c) for c in calls] == [["A", "b"], ["A", "b"], ["X"]]


@pytest.mark.parametrize("kind", KINDS)
def test_internal_apply_skips_validation_and_matches(kind, rng, monkeypatch):
    S = make_sketch(kind, 20, 100, random_state=0)
    A, B = rng.standard_normal((100, 4)), rng.standard_normal((100, 2))
    A_csr = scipy.sparse.random(100, 4, density=0.3, format="csr", random_state=0)
    expected = S.apply_stacked(A, B), S.apply_stacked(A_csr, B)
    be = get_backend(A)
    checks = _count_calls(monkeypatch, operators, "check_array")
    np.testing.assert_array_equal(apply_sketch(be, S, A, B), expected[0])
    np.testing.assert_array_equal(apply_sketch(be, S, A_csr, B), expected[1])
    assert checks == []


def test_internal_apply_still_refuses_an_unsupported_backend():
    S = make_sketch("srtt", 4, 10, random_state=0)
    x = array_api_strict.ones((10, 2), dtype=array_api_strict.float64)
    with pytest.raises(BackendError, match="A is a generic array"):
        apply_sketch(get_backend(x), S, x, array_api_strict.zeros((10, 0), dtype=array_api_strict.float64))


def test_cutover_table_names_each_constant():
    # the one table of the family: every constant appears in the module docstring with its ablation column
    for name in cutovers.__all__:
        assert name in cutovers.__doc__
    assert "``srht``" in cutovers.__doc__


@pytest.mark.parametrize("kind, kernel", [("sparse_sign", "scatter_rows"), ("srht", "srht_apply")])
def test_kernels_receive_csr_as_three_arrays(kind, kernel, monkeypatch):
    S = make_sketch(kind, 16, 200, random_state=0)
    A = scipy.sparse.random(200, 5, density=0.3, format="csr", random_state=0)
    expected = S @ A.toarray()
    calls, original = [], getattr(sketch_numba, kernel)

    def recording(source, *args, **kwargs):
        calls.append((source, kwargs))
        return original(source, *args, **kwargs)

    monkeypatch.setattr(sketch_numba, kernel, recording)
    np.testing.assert_allclose(S @ A, expected, rtol=1e-12, atol=1e-12)
    (source, options), = calls
    assert options == {"layout": "csr", "columns": 5}
    assert all(isinstance(part, np.ndarray) for part in source) and len(source) == 3
    np.testing.assert_array_equal(source[0], A.indptr)


def test_sparse_sign_rows_are_uniform_draws_without_replacement():
    # zeta = m: every row is a permutation; each (column, value) pair has probability 1/m (sd of the
    # empirical frequency sqrt(p (1 - p) / n) = 0.0013 at n = 20,000, so 0.01 is ~8 sd)
    from linalgkit.sketch.operators import _distinct_rows

    m = 6
    rows = _distinct_rows(np.random.default_rng(0), m, 20_000, m)
    np.testing.assert_array_equal(np.sort(rows, axis=1), np.broadcast_to(np.arange(m), rows.shape))
    frequencies = np.stack([np.bincount(column, minlength=m) for column in rows.T]) / rows.shape[0]
    np.testing.assert_allclose(frequencies, 1 / m, atol=0.01)


@pytest.mark.parametrize("kind", ["sparse_sign", "countsketch", "pooled"])
@pytest.mark.parametrize("n, d, q, chunk", [(3000, 7, 1, 1 << 16), (2500, 12, 3, 300), (257, 5, 0, 64)])
def test_columnwise_csr_kernel_equals_the_row_scatter_and_the_dense_product(kind, n, d, q, chunk, monkeypatch):
    """The column-wise CSR kernel (transpose, row ranges of ``chunk`` rows) against the row scatter and S @ dense."""
    A = scipy.sparse.random(n, d, density=0.3, format="csr", random_state=n)
    B = np.random.default_rng(n).standard_normal((n, q))
    S = make_sketch(kind, 40, n, random_state=0)
    rows, weights = S.rows, S.weights
    m = rows.max() + 1 if kind == "pooled" else 40
    source = (A.indptr, A.indices, A.data)
    monkeypatch.setattr(sketch_numba, "CSR_COLUMNWISE_ENTRIES", 1 << 62)
    by_rows = sketch_numba.scatter_rows(source, B, rows[:n], weights[:n], m, layout="csr", columns=d)
    monkeypatch.setattr(sketch_numba, "CSR_COLUMNWISE_ENTRIES", 0)
    monkeypatch.setattr(sketch_numba, "CSR_COLUMN_CHUNK_ROWS", chunk)
    by_columns = sketch_numba.scatter_rows(source, B, rows[:n], weights[:n], m, layout="csr", columns=d)
    np.testing.assert_allclose(by_columns, by_rows, rtol=1e-13, atol=1e-13)
    dense = np.zeros((m, n))
    np.add.at(dense, (rows[:n].ravel(), np.repeat(np.arange(n), rows.shape[1])), weights[:n].ravel())
    np.testing.assert_allclose(by_columns, dense @ np.hstack([A.toarray(), B]), rtol=1e-12, atol=1e-12)


def test_csr_transpose_by_row_ranges_matches_scipy():
    A = scipy.sparse.random(1001, 13, density=0.2, format="csr", random_state=3)
    starts, rows, values = sketch_numba.blocked_csc(A.indptr, A.indices, A.data, 13, 4)
    for t in range(4):
        part = A[t * 1001 // 4:(t + 1) * 1001 // 4].tocsc()
        part.sort_indices()
        for c in range(13):
            segment, expected = slice(starts[t * 13 + c], starts[t * 13 + c + 1]), slice(*part.indptr[c:c + 2])
            np.testing.assert_array_equal(rows[segment] - t * 1001 // 4, part.indices[expected])
            np.testing.assert_array_equal(values[segment], part.data[expected])
