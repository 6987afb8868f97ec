"""The lane eigen-decompositions of linalgkit.spd against LAPACK (NumPy), on spectra that stress an eigensolver,
and the dispatch that sends failed lanes and large n to LAPACK."""

import dataclasses

import numpy as np
import pytest

from linalgkit import spd
from linalgkit._backend import get_backend
from linalgkit._simd import WIDTH
from linalgkit.spd import _dispatch, _numba
from tests.spd._data import lanes_for_any_batch, random_spd  # noqa: F401 (fixture)


def _spectra(rng, n):
    """Symmetric test matrices of size n: random, ill-conditioned, repeated, scaled, structured."""
    Q, _ = np.linalg.qr(rng.standard_normal((8, n, n)))

    def rotate(d):
        return (Q * d[:, None, :]) @ np.swapaxes(Q, -1, -2)

    path = np.zeros((n, n))
    path[np.arange(n - 1), np.arange(1, n)] = path[np.arange(1, n), np.arange(n - 1)] = 1.0
    return {"indefinite": rotate(rng.standard_normal((8, n))),
            "cond 1e12": rotate(np.logspace(-12, 0, n) * np.ones((8, 1))),
            "repeated": rotate(np.round(rng.uniform(0, 3, (8, n)))),
            "identity": np.eye(n)[None], "diagonal": np.diag(np.arange(n, 0, -1.0))[None], "zero": np.zeros((1, n, n)),
            "tiny": 1e-300 * random_spd(rng, (4,), n), "huge": 1e300 * random_spd(rng, (4,), n), "path": path[None]}


def _assert_decomposition(S, d, P, label):
    expected = np.linalg.eigvalsh(S)
    scale = np.maximum(np.max(np.abs(expected), axis=-1, keepdims=True), 1e-300)
    assert np.max(np.abs(d - expected) / scale) <= 1e-14, label
    n = S.shape[-1]
    assert np.max(np.abs(np.swapaxes(P, -1, -2) @ P - np.eye(n))) <= 1e-14, label
    rebuilt = (P * d[..., None, :]) @ np.swapaxes(P, -1, -2)
    assert np.max(np.abs(rebuilt - S) / scale[..., None]) <= 1e-14, label


@pytest.mark.parametrize("n", [1, 2, 5, 22, _dispatch.CUTOVERS["vectors_n"].value,
                               _dispatch.CUTOVERS["vectors_n"].value + 1])
def test_eigh_is_an_orthonormal_decomposition(rng, spy, lanes_for_any_batch, n):
    calls = spy(_numba, "eigh_stack")
    be = get_backend(np.eye(2))
    for label, S in _spectra(rng, n).items():
        S = np.ascontiguousarray((S + np.swapaxes(S, -1, -2)) / 2)
        _assert_decomposition(S, *_dispatch.eigh(be, S), label)
    assert len(calls) == (9 if n <= _dispatch.CUTOVERS["vectors_n"].value else 0)  # above: LAPACK alone


@pytest.mark.parametrize("n", [5, 22])
def test_lanes_mixing_different_spectra_and_a_non_finite_matrix(rng, n):
    # one stack of every test spectrum, cut to a length that is not a multiple of WIDTH: each group of
    # lanes holds problems that deflate at different steps; one NaN matrix must not touch its neighbours
    S = np.concatenate([(T + np.swapaxes(T, -1, -2)) / 2 for T in _spectra(rng, n).values()])
    S = np.ascontiguousarray(S[rng.permutation(S.shape[0])][: 2 * WIDTH + 3])
    S[5, 1, 2] = S[5, 2, 1] = np.nan
    d, P, failed = np.empty(S.shape[:-1]), np.empty_like(S), np.zeros(S.shape[0], dtype=bool)
    _numba.eigh_stack(S, d, P, failed)
    finite = np.arange(S.shape[0]) != 5
    np.testing.assert_array_equal(failed, ~finite)
    _assert_decomposition(S[finite], d[finite], P[finite], "finite lanes")


def test_failed_lanes_are_recomputed_by_lapack(rng, monkeypatch, lanes_for_any_batch):
    S = random_spd(rng, (40,), 6)
    lanes_kernel = _numba.eigh_stack

    def failing(S, d, P, failed):  # the lanes as computed, with three of them flagged and spoiled
        lanes_kernel(S, d, P, failed)
        failed[[0, 17, 39]] = True
        d[[0, 17, 39]], P[[0, 17, 39]] = -1.0, 0.0

    monkeypatch.setattr(_numba, "eigh_stack", failing)
    _assert_decomposition(S, *_dispatch.eigh(get_backend(S), S), "recomputed")


def test_eigh_float32(rng, lanes_for_any_batch):
    S = random_spd(rng, (20,), 22)
    d, P = _dispatch.eigh(get_backend(S), S.astype(np.float32))
    assert d.dtype == P.dtype == np.float32
    np.testing.assert_allclose(d, np.linalg.eigvalsh(S), rtol=5e-6)


def test_lane_kernels_stay_in_bounds(rng):
    """The debug mode: a copy of the kernels whose every lane load and store checks its bounds, on stacks whose
    lengths are not multiples of WIDTH, matches the normal kernels."""
    from linalgkit._simd import bounds_checked

    K, n = WIDTH + 5, 3
    A, B = random_spd(rng, (K,), n), random_spd(rng, (K,), n)
    L_inv = np.linalg.inv(np.linalg.cholesky(A[:7]))
    R = _numba.lane_layout(np.linalg.cholesky(B))
    rows, cols = _numba.tasks(7, K, False)
    weights = np.zeros((1, K + WIDTH))
    weights[0, :K] = 1 / K

    def run(kernels):
        out = {}
        for name in ("ai_squared_distances", "bw_squared_distances", "le_squared_distances"):
            values, failed = np.empty(K), np.zeros(K, dtype=bool)
            getattr(kernels, name)(A, B, values, failed)
            out[name] = values
        d, P, failed = np.empty((K, n)), np.empty((K, n, n)), np.zeros(K, dtype=bool)
        kernels.eigh_stack(A, d, P, failed)
        out["eigh"] = d
        partial, failed = np.zeros((2, n, n)), np.zeros(K, dtype=bool)
        kernels.ai_whitened_log_sums(B, L_inv[0], weights, partial, failed)
        out["gradient"] = partial.sum(axis=0)
        pairwise, failed = np.zeros((7, K)), np.zeros((7, K), dtype=bool)
        kernels.ai_squared_pairwise(L_inv, R, rows, cols, False, pairwise, failed)
        out["pairwise"] = pairwise
        return out

    with bounds_checked("linalgkit.spd._numba") as checked:
        guarded = run(checked)
        with pytest.raises(IndexError, match="out of bounds"):  # weights one group of lanes short: caught
            checked.ai_whitened_log_sums(B, L_inv[0], weights[:, :K], np.zeros((2, n, n)), np.zeros(K, dtype=bool))
    for name, values in run(_numba).items():
        np.testing.assert_allclose(guarded[name], values, rtol=1e-13, atol=1e-15, err_msg=name)


LANE_KERNELS = ("eigh_stack", "ai_squared_distances", "bw_squared_distances", "le_squared_distances",
                "ai_whitened_log_sums", "ai_squared_pairwise")


def _spd_results(A, B, V):
    """A handful of metrics, means and tangent maps on batches large enough for the lanes."""
    results = {f"distance {m}": spd.distance(A, B, metric=m)
               for m in ("affine_invariant", "log_euclidean", "bures_wasserstein")}
    results["pairwise"] = spd.pairwise_distances(A[:12])
    results["AI mean"] = spd.mean(A, rtol=1e-13)
    results["BW mean"] = spd.mean(A, metric="bures_wasserstein", rtol=1e-13)
    results["power-affine mean"] = spd.mean(A, metric=spd.power_affine(0.5), rtol=1e-13)
    results["AI tangent"] = spd.tangent_space(B, A[0])
    results["LE tangent"] = spd.tangent_space(B, A[0], metric="log_euclidean")
    results["AI exp"] = spd.exp(A, V)
    results["AI log"] = spd.log(A, B)
    results["BW log"] = spd.log(A, B, metric="bures_wasserstein")
    results["AI transport"] = spd.parallel_transport(A, B, V)
    return results


def test_lanes_off_give_the_same_answers(rng, spy, monkeypatch, lanes_for_any_batch):
    """Every lane cut-over at 0 sends everything to LAPACK: the fallback alone gives the lanes' answers."""
    A, B = random_spd(rng, (80,), 6, cond=100), random_spd(rng, (80,), 6, cond=100)
    V = 0.5 * (A[::-1] - A) / 2
    calls = {name: spy(_numba, name) for name in LANE_KERNELS}
    on = _spd_results(A, B, V)
    assert all(calls.values()), [name for name, seen in calls.items() if not seen]
    for name in ("eigenvalues_n", "vectors_n"):
        monkeypatch.setitem(_dispatch.CUTOVERS, name, dataclasses.replace(_dispatch.CUTOVERS[name], value=0))
    for seen in calls.values():
        seen.clear()
    off = _spd_results(A, B, V)
    assert not any(calls.values())
    for name, value in on.items():
        scale = np.max(np.abs(off[name]))
        assert np.max(np.abs(value - off[name])) <= 1e-11 * scale, name
