"""The Numba kernels of linalgkit.spd against LAPACK (NumPy), on spectra that stress an eigensolver."""

import numpy as np
import pytest

from linalgkit.spd import _lockstep, _numba
from tests.spd._data import random_spd


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


@pytest.mark.parametrize("n", [1, 2, 3, 7, 22, _numba.QL_LARGEST_N, _numba.QL_LARGEST_N + 1])
def test_eigvalsh_stack_matches_lapack(rng, n):
    for label, S in _spectra(rng, n).items():
        S = np.ascontiguousarray((S + np.swapaxes(S, -1, -2)) / 2)
        d = np.empty(S.shape[:-1])
        _numba.eigvalsh_stack(S, d)
        expected = np.linalg.eigvalsh(S)
        scale = np.maximum(np.max(np.abs(expected), axis=-1, keepdims=True), 1e-300)
        assert np.max(np.abs(d - expected) / scale) <= 1e-14, label


EIGH = {"interleaved QL": _numba.eigh_stack, "SIMD lanes": _lockstep.eigh}
EIGH_SIZES = [1, 2, 5, 22, _lockstep.VECTORS_LARGEST_N, _numba.QL_VECTORS_LARGEST_N, _numba.QL_VECTORS_LARGEST_N + 1]


@pytest.mark.parametrize("kernel", EIGH)
@pytest.mark.parametrize("n", EIGH_SIZES)
def test_eigh_stack_is_an_orthonormal_decomposition(rng, n, kernel):
    for label, S in _spectra(rng, n).items():
        S = np.ascontiguousarray((S + np.swapaxes(S, -1, -2)) / 2)
        d, P = np.empty(S.shape[:-1]), np.empty_like(S)
        EIGH[kernel](S, d, P)
        expected = np.linalg.eigvalsh(S)
        scale = np.maximum(np.max(np.abs(expected), axis=-1, keepdims=True), 1e-300)
        assert np.max(np.abs(d - expected) / scale) <= 1e-14, label
        assert np.max(np.abs(np.swapaxes(P, -1, -2) @ P - np.eye(n))) <= 1e-14, label
        rebuilt = (P * d[..., None, :]) @ np.swapaxes(P, -1, -2)
        assert np.max(np.abs(rebuilt - S) / scale[..., None]) <= 1e-14, label


def test_eigvalsh_stack_float32_and_non_finite(rng):
    S = random_spd(rng, (5,), 22)
    d = np.empty((5, 22), dtype=np.float32)
    _numba.eigvalsh_stack(S.astype(np.float32), d)
    np.testing.assert_allclose(d, np.linalg.eigvalsh(S), rtol=5e-6)
    S[2, 0, 0] = np.nan
    d = np.empty((5, 22))
    _numba.eigvalsh_stack(S, d)
    assert np.isnan(d[2]).all() and np.isfinite(np.delete(d, 2, axis=0)).all()


@pytest.mark.parametrize("kernel", EIGH)
@pytest.mark.parametrize("n", [5, 22])
def test_lanes_mixing_different_spectra_and_a_non_finite_matrix(rng, n, kernel):
    # one stack of every test spectrum, cut to a length that is not a multiple of LANES: each group of
    # lanes interleaves problems that deflate at different steps; one NaN matrix must not touch its neighbours
    S = np.concatenate([(T + np.swapaxes(T, -1, -2)) / 2 for T in _spectra(rng, n).values()])
    S = np.ascontiguousarray(S[rng.permutation(S.shape[0])][: 4 * _numba.LANES + 3])
    assert S.shape[0] % _numba.LANES != 0
    S[5, 1, 2] = S[5, 2, 1] = np.nan
    d, d_vectors, P = np.empty(S.shape[:-1]), np.empty(S.shape[:-1]), np.empty_like(S)
    _numba.eigvalsh_stack(S, d)
    EIGH[kernel](S, d_vectors, P)
    finite = np.arange(S.shape[0]) != 5
    expected = np.linalg.eigvalsh(S[finite])
    scale = np.maximum(np.max(np.abs(expected), axis=-1, keepdims=True), 1e-300)
    assert np.isnan(d[5]).all() and np.isnan(d_vectors[5]).all() and np.isnan(P[5]).all()
    assert np.max(np.abs(d[finite] - expected) / scale) <= 1e-14
    assert np.max(np.abs(d_vectors[finite] - expected) / scale) <= 1e-14
    rebuilt = (P[finite] * d_vectors[finite][..., None, :]) @ np.swapaxes(P[finite], -1, -2)
    assert np.max(np.abs(rebuilt - S[finite]) / scale[..., None]) <= 1e-14
