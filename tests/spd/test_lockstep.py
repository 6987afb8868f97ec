"""The lane kernels of distances and of the Karcher gradient against pyRiemann, SciPy's generalized eigenvalues,
LAPACK and closed forms; the LAPACK fallback of failed lanes and large n."""

import dataclasses

import mpmath
import numpy as np
import pyriemann.geometry.distance as prd
import pytest
import scipy.linalg
from numba import njit

from linalgkit import spd
from linalgkit._backend import get_backend
from linalgkit._simd import WIDTH, load, select, splat, store
from linalgkit.exceptions import NotSPDError
from linalgkit.spd import _dispatch, _geometry, _numba
from tests.spd._data import commuting, lanes_for_any_batch, random_spd  # noqa: F401 (fixture)


def _reference(X, Y):
    """``d^2(X_i, Y_j) = sum log^2 lambda(Y_j, X_i)`` from SciPy's generalized symmetric eigensolver (in float64)."""
    return np.array([[np.sum(np.log(scipy.linalg.eigvalsh(y, x).astype(np.float64)) ** 2) for y in Y] for x in X])


@pytest.mark.parametrize("n", [1, 2, 3, 22])
def test_pairwise_matches_pyriemann_across_lane_groups(rng, spy, n):
    calls = spy(_numba, "ai_squared_pairwise")
    X, Y = random_spd(rng, (37,), n, cond=1e3), random_spd(rng, (WIDTH + 3,), n, cond=1e3)
    np.testing.assert_allclose(spd.pairwise_distances(X), prd.pairwise_distance(X, metric="riemann"),
                               rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(spd.pairwise_distances(X, Y), prd.pairwise_distance(X, Y, metric="riemann"),
                               rtol=1e-11)
    assert [call[4] for call in calls] == [True, False]
    X, Y = X.astype(np.float32), Y.astype(np.float32)  # single precision: about as accurate as LAPACK's ssygvd
    single = spd.pairwise_distances(X, Y)
    assert single.dtype == np.float32
    double = spd.pairwise_distances(X.astype(np.float64), Y.astype(np.float64))
    lapack = np.sqrt(_reference(X, Y))
    assert np.max(np.abs(single - double) / double) <= 4 * np.max(np.abs(lapack - double) / double)


def test_pairwise_on_hard_spectra_matches_generalized_eigenvalues(rng):
    n = 6
    diagonal_ties = np.stack([np.diag(rng.choice([0.5, 1.0, 2.0], n)) for _ in range(8)])
    repeated, _, _ = commuting(rng, 8, n, repeated=True)
    scaled_identities = np.geomspace(0.1, 10, 8)[:, None, None] * np.eye(n)
    sets = {"ties": diagonal_ties, "repeated": repeated, "identities": scaled_identities,
            "tiny": 1e-150 * random_spd(rng, (12,), n), "huge": 1e150 * random_spd(rng, (12,), n)}
    for label, X in sets.items():
        expected = _reference(X, X)
        np.fill_diagonal(expected, 0.0)
        np.testing.assert_allclose(spd.pairwise_distances(X, squared=True), expected, rtol=1e-12, atol=1e-13,
                                   err_msg=label)


def test_ill_conditioned_pairs_match_fifty_digit_arithmetic(rng, spy, lanes_for_any_batch):
    """Condition 1e8 per matrix (up to 1e16 after whitening): the bottom-up reduction keeps 1e-8."""
    calls = spy(_numba, "ai_squared_pairwise")
    mpmath.mp.dps = 50
    X = random_spd(rng, (18,), 6, cond=1e8)
    own = spd.pairwise_distances(X[:5], X[5:], squared=True)
    exact = np.empty_like(own)
    for i, x in enumerate(X[:5]):
        L_inv = mpmath.cholesky(mpmath.matrix(x.tolist())) ** -1
        for j, y in enumerate(X[5:]):
            exact[i, j] = sum(mpmath.log(v) ** 2 for v in mpmath.eigsy(L_inv * mpmath.matrix(y.tolist()) * L_inv.T)[0])
    assert len(calls) == 1
    np.testing.assert_allclose(own, exact, rtol=1e-8)


def test_failed_pairwise_lanes_are_recomputed_by_the_pair_path(rng, spy, monkeypatch, lanes_for_any_batch):
    calls = spy(_geometry.AffineInvariant, "squared_distance")
    X, Y = random_spd(rng, (12,), 4), random_spd(rng, (9,), 4)
    lanes_kernel = _numba.ai_squared_pairwise

    def failing(L_inv, R, rows, cols, symmetric, out, failed):  # the lanes as computed, pair (3, 7) spoiled
        lanes_kernel(L_inv, R, rows, cols, symmetric, out, failed)
        failed[3, 7], out[3, 7] = True, -1.0

    monkeypatch.setattr(_numba, "ai_squared_pairwise", failing)
    np.testing.assert_allclose(spd.pairwise_distances(X, Y), prd.pairwise_distance(X, Y, metric="riemann"),
                               rtol=1e-11)
    assert [call[2].shape[0] for call in calls] == [1]  # the one flagged pair, and only it
    Y[7] = -Y[7]
    with pytest.raises(NotSPDError, match=r"Y\[7\] must be positive definite"):
        spd.pairwise_distances(X, Y)


@njit
def _eigenvalues(d, e, flags):
    failed = _numba._root_free_ql(d, e, splat(d, 0.0) != 0.0)
    store(flags, 0, 0, select(failed, splat(flags, 1.0), 0.0))


def test_root_free_ql_matches_lapack(rng):
    n = 22
    d = rng.uniform(-1, 1, (n, WIDTH))
    e = rng.uniform(-1, 1, (n, WIDTH))
    d[:, 1] = np.geomspace(1e-12, 1, n)  # graded
    e[:, 1] *= np.geomspace(1e-6, 1, n)
    e[::3, 2] = 0.0  # split into blocks
    d[:, 3], e[:, 3] = 0.5, 0.0  # already diagonal, one repeated eigenvalue
    e[:, 4] = 1e-170  # squares underflow: every coupling negligible
    e[5, 5] = np.nan
    d[[0, 1, n - 1], 6], e[0, 6] = (0.0, 0.0, -1.0), 1.0  # Wilkinson's shift is -1 = d[n - 1]: first p is 0
    e[n - 1] = 0.0
    finite = [k for k in range(WIDTH) if k != 5]
    expected = {k: scipy.linalg.eigvalsh_tridiagonal(d[:, k], e[: n - 1, k]) for k in finite}
    flags = np.empty((1, WIDTH))
    _eigenvalues(d, e, flags)
    np.testing.assert_array_equal(flags[0] != 0, np.arange(WIDTH) == 5)
    for k in finite:
        scale = np.max(np.abs(expected[k]))
        np.testing.assert_allclose(np.sort(d[:, k]), expected[k], rtol=0, atol=1e-14 * scale, err_msg=str(k))


@pytest.mark.parametrize("N, M, symmetric", [(1, 1, True), (5, 5, True), (40, 40, True), (3, WIDTH, False),
                                             (4, 2 * WIDTH + 1, False)])
def test_tasks_cover_every_pair_once(N, M, symmetric):
    rows, cols = _numba.tasks(N, M, symmetric)
    pairs = [(i, j) for i, first in zip(rows, cols) for j in range(first, min(first + WIDTH, M))]
    expected = [(i, j) for i in range(N) for j in range(M) if j > i or not symmetric]
    assert sorted(pairs) == expected


# metric: pyRiemann's distance, d(A, B) for commuting A, B with spectra a, b, the LAPACK body that recomputes
# failed lanes (owner, name, position of A among its arguments), the size limit of the lanes in the dispatch table
PAIR_KERNELS = {
    "log_euclidean": (prd.distance_logeuclid, lambda a, b: np.linalg.norm(np.log(a) - np.log(b), axis=-1),
                      (_geometry.Pullback, "_squared_distance", 2), "vectors_n"),
    "affine_invariant": (prd.distance_riemann, lambda a, b: np.linalg.norm(np.log(a / b), axis=-1),
                         (_geometry.AffineInvariant, "_squared_distance", 2), "eigenvalues_n"),
    "bures_wasserstein": (prd.distance_wasserstein, lambda a, b: np.linalg.norm(np.sqrt(a) - np.sqrt(b), axis=-1),
                          (_geometry.BuresWasserstein, "_squared_distance", 2), "eigenvalues_n"),
}


def _fallback_sizes(calls, metric):
    position = PAIR_KERNELS[metric][2][2]
    return [call[position].shape[0] for call in calls]


@pytest.mark.parametrize("metric", PAIR_KERNELS)
@pytest.mark.parametrize("n", [1, 2, 5, 22])
def test_pair_lanes_match_pyriemann_and_the_commuting_closed_form(rng, spy, metric, n, lanes_for_any_batch):
    peer, closed_form, (owner, fallback, _), _ = PAIR_KERNELS[metric]
    calls = spy(owner, fallback)
    A, B = random_spd(rng, (70,), n, cond=1e4), random_spd(rng, (70,), n, cond=1e4)
    # 1e-10 as in test_metrics: at condition 1e4 pyRiemann's own error reaches 1e-11 (50-digit check)
    _assert_squared_close(spd.distance(A, B, metric=metric, squared=True), peer(A, B) ** 2, A, B, 1e-10)
    assert calls == []  # every lane succeeded
    C, _, d = commuting(rng, 2 * 70, n, repeated=n > 1)
    _assert_squared_close(spd.distance(C[:70], C[70:], metric=metric, squared=True),
                          closed_form(d[:70], d[70:]) ** 2, C[:70], C[70:], 1e-11)
    A, B = random_spd(rng, (70,), n).astype(np.float32), random_spd(rng, (70,), n).astype(np.float32)  # cond 10
    single = spd.distance(A, B, metric=metric, squared=True)
    assert single.dtype == np.float32
    double = spd.distance(A.astype(np.float64), B.astype(np.float64), metric=metric, squared=True)
    _assert_squared_close(single, double, A, B, 2e-4)


def _assert_squared_close(actual, expected, A, B, rtol):
    """Squared distances to ``rtol``, plus a few ulps of ``tr A + tr B``: Bures-Wasserstein cancels in
    ``tr A + tr B - 2 tr (A B)^(1/2)``, so its absolute error scales with the traces."""
    traces = np.trace(A, axis1=1, axis2=2) + np.trace(B, axis1=1, axis2=2)
    allowed = rtol * np.abs(expected) + 8 * np.finfo(actual.dtype).eps * traces
    assert np.all(np.abs(actual - expected) <= allowed), np.max(np.abs(actual - expected) / allowed)


@pytest.mark.parametrize("metric", PAIR_KERNELS)
def test_pair_lanes_failed_and_large_n_take_the_fallback(rng, spy, monkeypatch, metric, lanes_for_any_batch):
    peer, _, (owner, fallback, _), limit = PAIR_KERNELS[metric]
    calls = spy(owner, fallback)
    A, B = random_spd(rng, (70,), 5), random_spd(rng, (70,), 5)
    B[[3, 40]] = -B[[3, 40]]
    with pytest.raises(NotSPDError, match=r"B\[3\] must be positive definite"):
        spd.distance(A, B, metric=metric)
    assert _fallback_sizes(calls, metric) == [2]
    B[[3, 40]] = -B[[3, 40]]
    monkeypatch.setitem(_dispatch.CUTOVERS, limit, dataclasses.replace(_dispatch.CUTOVERS[limit], value=4))
    np.testing.assert_allclose(spd.distance(A, B, metric=metric), peer(A, B), rtol=1e-10)
    assert _fallback_sizes(calls, metric) == [2, 70]


@njit
def _eigh(S, Qt, d, e, taus, v, w, flags):
    _numba._gather(S, 0, Qt)
    scale, failed = _numba._normalize(Qt, S.shape[1])
    failed = _numba._diagonalize(Qt, S.shape[1], (d, e, taus, v, w), failed, True)
    for i in range(S.shape[1]):
        store(d, i, 0, load(d, i, 0) * scale)
    store(flags, 0, 0, select(failed, splat(flags, 1.0), 0.0))


def test_lane_eigen_decompositions_are_orthonormal_and_reproduce_the_matrix(rng):
    n = 12
    Q, _ = np.linalg.qr(rng.standard_normal((WIDTH, n, n)))
    spectra = np.exp(rng.uniform(-3, 3, (WIDTH, n)))
    spectra[1] = np.geomspace(1e-12, 1, n)
    spectra[2] = np.round(rng.uniform(1, 4, n))  # repeated eigenvalues
    S = (Q * spectra[:, None, :]) @ np.swapaxes(Q, 1, 2)
    S[3], S[4] = np.eye(n), np.diag(np.arange(n, 0, -1.0))
    S = np.ascontiguousarray((S + np.swapaxes(S, 1, 2)) / 2)
    Qt = np.empty((n * n, WIDTH))
    rows = [np.empty((n, WIDTH)) for _ in range(5)]
    flags = np.empty((1, WIDTH))
    _eigh(S, Qt, *rows, flags)
    assert not flags.any()
    d, vectors = rows[0].T, Qt.T.reshape(WIDTH, n, n)  # vectors[k] has the eigenvectors of S[k] as rows
    np.testing.assert_allclose(vectors @ np.swapaxes(vectors, 1, 2), np.broadcast_to(np.eye(n), S.shape), atol=1e-14)
    rebuilt = np.swapaxes(vectors, 1, 2) @ (d[:, :, None] * vectors)
    np.testing.assert_allclose(rebuilt, S, rtol=0, atol=4e-15 * np.max(np.abs(S)))
    scales = np.max(np.abs(S), axis=(1, 2))[:, None]
    assert np.max(np.abs(np.sort(d, axis=1) - np.linalg.eigvalsh(S)) / scales) <= 4e-15


def _mean_log_reference(S, X, w):
    """``sum_i w_i Log_S X_i`` by S^(1/2) and LAPACK's eigh, written out here."""
    d, V = np.linalg.eigh(S)
    R, Ri = (V * np.sqrt(d)) @ V.T, (V / np.sqrt(d)) @ V.T
    lam, U = np.linalg.eigh(Ri @ X @ Ri)
    return R @ np.einsum("k,kab->ab", w, (U * np.log(lam)[:, None, :]) @ np.swapaxes(U, 1, 2)) @ R


def _no_body(*args):
    raise AssertionError("the lanes should have run")


@pytest.mark.parametrize("n", [1, 4, 22])
def test_mean_log_in_lanes_matches_numpy(rng, n, lanes_for_any_batch):
    X = random_spd(rng, (70,), n, cond=1e3)
    S = random_spd(rng, (), n, cond=1e2)
    w = rng.uniform(0.5, 2, 70)
    expected = _mean_log_reference(S, X, w)
    np.testing.assert_allclose(_dispatch.mean_log(get_backend(X), S, X, w, _no_body), expected, rtol=0,
                               atol=1e-12 * np.max(np.abs(expected)))


def test_mean_log_failed_lanes_go_to_the_body_and_large_n_to_lapack(rng, monkeypatch, lanes_for_any_batch):
    X, S, w = random_spd(rng, (70,), 4), random_spd(rng, (), 4), np.full(70, 1 / 70)
    expected = _mean_log_reference(S, X, w)
    lanes_kernel = _numba.ai_whitened_log_sums

    def failing(X, L_inv, weights, partial, failed):  # matrices 3 and 33 left out of the sum, flagged
        spoiled = weights.copy()
        spoiled[0, [3, 33]] = 0.0
        lanes_kernel(X, L_inv, spoiled, partial, failed)
        failed[[3, 33]] = True

    monkeypatch.setattr(_numba, "ai_whitened_log_sums", failing)
    be = get_backend(X)
    seen = []

    def body(S, X_failed, w_failed):  # the failed matrices only, summed by the reference
        seen.append(X_failed.shape[0])
        return _mean_log_reference(S, X_failed, w_failed)

    np.testing.assert_allclose(_dispatch.mean_log(be, S, X, w, body), expected, rtol=0, atol=1e-13)
    assert seen == [2]
    monkeypatch.setitem(_dispatch.CUTOVERS, "vectors_n", dataclasses.replace(_dispatch.CUTOVERS["vectors_n"], value=3))
    metric = _geometry.AffineInvariant()
    np.testing.assert_allclose(metric.mean_log(be, S, X, w), expected, rtol=0, atol=1e-13)
