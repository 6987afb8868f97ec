"""Sketches of row-chunked Dask arrays against the in-memory operators; block SRHT by its statistics."""

import pickle

import numpy as np
import pytest
import scipy.linalg

da = pytest.importorskip("dask.array")

from linalgkit._backend import check_random_state  # noqa: E402
from linalgkit.dask import sketch  # noqa: E402
from linalgkit.exceptions import (ArgumentTypeError, DTypeError, NonFiniteError, NotSupportedError,  # noqa: E402
                                  ValidationError)
from linalgkit.sketch import make_sketch  # noqa: E402

EXACT = ["gaussian", "rademacher", "countsketch", "sparse_sign"]
# 140_000 rows cross the hash sketches' 2^16-column draw blocks; the chunkings cut them anywhere
CHUNKINGS = [140_000, 50_000, 33_333]


@pytest.fixture(scope="module")
def tall():
    return np.random.default_rng(0).standard_normal((140_000, 3))


@pytest.mark.parametrize("kind", EXACT)
def test_chunked_sketch_equals_in_memory(kind, tall):
    reference = make_sketch(kind, 32, tall.shape[0], random_state=7) @ tall
    for rows in CHUNKINGS:
        result = sketch(da.from_array(tall, chunks=(rows, 3)), 32, kind=kind, random_state=7).compute()
        np.testing.assert_allclose(result, reference, rtol=0, atol=1e-12 * np.abs(reference).max())


@pytest.mark.parametrize("kind", EXACT)
@pytest.mark.parametrize("width", [None, 7])
def test_columns_are_slices_of_the_operator(kind, width):
    S = make_sketch(kind, 6, 50, random_state=3)
    if width is not None:  # small draw blocks, set before the first draw, so that ranges cross them
        S.block_columns = width
    dense = S.todense()
    for start, stop in [(0, 50), (0, 1), (5, 23), (7, 14), (49, 50)]:
        part = S.columns(start, stop)
        assert part.shape == (6, stop - start)
        np.testing.assert_allclose(part.todense(), dense[:, start:stop], rtol=0, atol=1e-15)
        np.testing.assert_allclose(part.T @ np.eye(6), dense[:, start:stop].T, rtol=0, atol=1e-15)
    np.testing.assert_allclose(S.columns(5, 40).columns(3, 20).todense(), dense[:, 8:25], rtol=0, atol=1e-15)


@pytest.mark.parametrize("kind", EXACT)
def test_a_large_sketch_pickles_as_its_seed(kind):
    S = make_sketch(kind, 64, 10**8, random_state=0)
    assert len(pickle.dumps(S)) < 2000
    part = S.columns(10**7, 10**7 + 100)
    part @ np.ones((100, 1))  # draws (and caches) only the blocks of those columns
    assert len(pickle.dumps(part)) < 2000


@pytest.mark.parametrize("kind", ["srht", "srtt", "pooled"])
def test_transforms_have_no_column_blocks(kind):
    with pytest.raises(NotSupportedError, match="mixes all"):
        make_sketch(kind, 4, 16, random_state=0).columns(0, 8)


def test_column_range_is_checked():
    with pytest.raises(ValidationError, match="0 <= start < stop <= n = 10"):
        make_sketch("gaussian", 4, 10, random_state=0).columns(3, 11)


def _dense_block_srht(m, chunks, seed):
    """The block SRHT written out from its definition with SciPy's Hadamard matrix (the reference).

    ``S = [Dt_1 P H_N D_1 J_1 ... Dt_p P H_N D_p J_p] / sqrt(m)``, the shared sample ``P`` and the
    seed drawn from ``random_state`` as the operator does, the chunk signs from seeds ``(seed, i)``.
    """
    rng = check_random_state(seed)
    N = 1 << (max(chunks) - 1).bit_length()
    seed = int(rng.integers(2**63))
    H = scipy.linalg.hadamard(N)[np.sort(rng.choice(N, size=m, replace=False))]
    blocks = []
    for i, rows in enumerate(chunks):
        signs = np.random.default_rng([seed, i])
        inner, outer = (1.0 - 2.0 * signs.integers(0, 2, size=size, dtype=np.int8) for size in (rows, m))
        blocks.append(outer[:, None] * H[:, :rows] * inner / np.sqrt(m))
    return np.hstack(blocks)


def test_block_srht_is_its_definition(tall):
    A, chunks = tall[:3000], (1000, 1000, 700, 300)
    result = sketch(da.from_array(A, chunks=(chunks, 3)), 64, kind="srht", random_state=5).compute()
    np.testing.assert_allclose(result, _dense_block_srht(64, chunks, 5) @ A, rtol=0, atol=1e-12 * np.abs(result).max())


def test_block_srht_expected_gram_is_identity():
    # E[S^T S] = I for the definition (proved equal to the operator above): over 1000 draws each entry's
    # Monte-Carlo sd is at most sqrt(1 / (m * 1000)) = 0.011 (the diagonal is exactly 1); 0.07 is 6.3 sd.
    # Chunks of 16 (padded to N = 16) and 8, m = 8 rows sampled.
    gram = np.mean([(lambda S: S.T @ S)(_dense_block_srht(8, (16, 16, 8), s)) for s in range(1000)], axis=0)
    np.testing.assert_allclose(np.diag(gram), 1.0, rtol=1e-12)
    np.testing.assert_allclose(gram, np.eye(40), atol=0.07)


def test_block_srht_embeds_a_subspace():
    # an orthonormal U (4096 x 8) in chunks of 1000 (N = 1024), m = 256: singular values of SU within
    # 1 +- 0.5 (the expected distortion is about sqrt(d / m) = 0.18) for every one of 20 seeds
    U = np.linalg.qr(np.random.default_rng(1).standard_normal((4096, 8)))[0]
    for seed in range(20):
        SU = sketch(da.from_array(U, chunks=(1000, 8)), 256, kind="srht", random_state=seed).compute()
        s = np.linalg.svd(SU, compute_uv=False)
        assert 0.5 < s[-1] <= s[0] < 1.5


def test_same_seed_same_block_srht(tall):
    A = da.from_array(tall, chunks=(50_000, 3))
    np.testing.assert_array_equal(sketch(A, 16, kind="srht", random_state=3).compute(),
                                  sketch(A, 16, kind="srht", random_state=3).compute())
    assert not np.allclose(sketch(A, 16, kind="srht", random_state=3).compute(),
                           sketch(A, 16, kind="srht", random_state=4).compute())


def test_errors_name_the_fix(tall):
    A = da.from_array(tall[:1000], chunks=(300, 3))
    with pytest.raises(ValidationError, match=r"A.compute_chunk_sizes\(\)"):
        sketch(A[da.from_array(tall[:1000, 0] > 0, chunks=300)], 8)
    with pytest.raises(ValidationError, match=r"A.rechunk\(\{1: -1\}\)"):
        sketch(da.from_array(tall[:1000], chunks=(300, 2)), 8)
    with pytest.raises(ArgumentTypeError, match="dask.array.from_array"):
        sketch(tall, 8)
    with pytest.raises(DTypeError, match="astype"):
        sketch(A.astype(int), 8)
    with pytest.raises(ValidationError, match="kind must be one of"):
        sketch(A, 8, kind="pooled")
    bad = tall[:1000].copy()
    bad[700, 1] = np.nan
    with pytest.raises(NonFiniteError, match="rows 600 to 899"):
        sketch(da.from_array(bad, chunks=(300, 3)), 8).compute()
