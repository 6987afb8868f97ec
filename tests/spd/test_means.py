"""Fréchet means, geometric mean and tangent-space maps: against pyRiemann and POT, closed forms, properties."""

import numpy as np
import ot
import pyriemann.geometry.mean as prm
import pyriemann.geometry.tangentspace as prt
import pytest

from linalgkit import spd
from linalgkit._backend import get_backend
from linalgkit.exceptions import ConvergenceWarning, ShapeError, ValidationError
from linalgkit.spd import _numba
from tests.conftest import to_numpy
from tests.spd._data import commuting, lanes_for_any_batch, random_spd  # noqa: F401 (fixture)
from tests.spd.test_metrics import _close

CLOSED = {"euclidean": prm.mean_euclid, "log_euclidean": prm.mean_logeuclid, "log_cholesky": prm.mean_logchol,
          "cholesky": prm.mean_chol}


@pytest.fixture
def X(rng):
    return random_spd(rng, (12,), 5)


@pytest.mark.parametrize("metric", CLOSED)
def test_closed_form_means_match_pyriemann(X, rng, metric):
    w = rng.uniform(0.5, 2, len(X))
    _close(spd.mean(X, metric=metric, weights=w), CLOSED[metric](X, sample_weight=w / w.sum()))


def test_power_euclidean_mean_matches_pyriemann(X):
    _close(spd.mean(X, metric=spd.power_euclidean(0.4)), prm.mean_poweuclid(X, 0.4))


@pytest.mark.parametrize("n_matrices", [12, 150])  # 150 matrices take the fused lane pass
def test_affine_invariant_mean_matches_pyriemann_and_first_order_condition(rng, n_matrices):
    X = random_spd(rng, (n_matrices,), 5)
    w = rng.uniform(0.5, 2, len(X))
    result = spd.mean(X, weights=w, rtol=1e-13, return_info=True)
    assert result.converged and result.gradient_norm <= 1e-13
    _close(result.mean, prm.mean_riemann(X, sample_weight=w / w.sum(), tol=1e-13, maxiter=200), 1e-9)
    M = to_numpy(result.mean)
    w = w / w.sum()
    _close(np.linalg.det(M), np.prod(np.linalg.det(X) ** w), 1e-9)


def test_fused_numba_mean_log_matches_the_array_api_path(rng, monkeypatch, spy, lanes_for_any_batch):
    # the Numba pass whitens with the Cholesky factor of S, the array-API path with S^(1/2)
    X, S = random_spd(rng, (100,), 7, cond=50), random_spd(rng, (), 7, cond=20)
    w = rng.uniform(0.5, 2, len(X))
    metric = spd.get_metric("affine_invariant")
    calls = spy(_numba, "ai_whitened_log_sums")
    fused = metric.mean_log(get_backend(X), S, X, w)
    assert calls
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    _close(fused, metric.mean_log(get_backend(X), S, X, w), 1e-12)
    assert len(calls) == 1


def test_affine_invariant_mean_equivariance(X, rng):
    M = to_numpy(spd.mean(X, rtol=1e-13))
    G = rng.standard_normal((5, 5))
    _close(spd.mean(G @ X @ G.T, rtol=1e-13), G @ M @ G.T, 1e-9)
    _close(spd.mean(np.linalg.inv(X), rtol=1e-13), np.linalg.inv(M), 1e-9)


def test_karcher_mean_of_two_is_geometric_mean(rng):
    A, B = random_spd(rng, (2,), 5, cond=100)
    _close(spd.mean(np.stack([A, B]), rtol=1e-14), spd.geometric_mean(A, B), 1e-9)
    _close(spd.mean(np.stack([A, B]), weights=[0.3, 0.7], rtol=1e-14), spd.geometric_mean(A, B, 0.7), 1e-9)


def test_commuting_sets_have_closed_form_means(rng):
    X, Q, d = commuting(rng, 7, 4)
    expected = (Q * np.exp(np.log(d).mean(0))) @ Q.T
    _close(spd.mean(X, rtol=1e-13), expected, 1e-9)
    _close(spd.mean(X, metric="log_euclidean"), expected)
    _close(spd.mean(X, metric="bures_wasserstein", rtol=1e-13), (Q * np.sqrt(d).mean(0) ** 2) @ Q.T, 1e-9)


def test_bures_wasserstein_barycenter_matches_pyriemann_and_pot(X):
    M = spd.mean(X, metric="bures_wasserstein", rtol=1e-13)
    _close(M, prm.mean_wasserstein(X, tol=1e-13, maxiter=200), 1e-9)
    _close(M, ot.gaussian.bures_barycenter_fixpoint(X, np.full(len(X), 1 / len(X)), num_iter=500,
                                                    eps=1e-14), 1e-9)


def test_power_affine_mean_is_affine_invariant_mean_of_powers(X):
    p = 0.5
    expected = np.linalg.matrix_power(to_numpy(spd.mean(np.stack([_pow(x, p) for x in X]), rtol=1e-13)), 2)
    _close(spd.mean(X, metric=spd.power_affine(p), rtol=1e-13), expected, 1e-9)


def _pow(x, p):
    d, Q = np.linalg.eigh(x)
    return (Q * d**p) @ Q.T


def test_batched_means_are_independent_problems(rng):
    X = random_spd(rng, (3, 6), 4)
    M = spd.mean(X, rtol=1e-12)
    for k in range(3):
        _close(M[k], spd.mean(X[k], rtol=1e-12), 1e-9)


def test_non_convergence_warns_once_and_returns_the_best_iterate(X):
    with pytest.warns(ConvergenceWarning, match="mean did not meet its stopping rule") as record:
        result = spd.mean(X, rtol=1e-15, maxiter=1, return_info=True)
    assert len([w for w in record if issubclass(w.category, ConvergenceWarning)]) == 1
    assert not result.converged and result.iterations == 1 and result.gradient_norm > 1e-15
    assert result.residual_norm == result.gradient_norm == result.history[-1]
    start = spd.mean(X, metric="log_euclidean")  # the starting point: the best iterate is at least as good
    assert result.residual_norm <= _gradient_norm(X, start)


def _gradient_norm(X, M):
    return np.linalg.norm(spd.tangent_space(X, M).mean(axis=0))  # orthonormal coordinates of sum_i w_i Log_M X_i


@pytest.mark.parametrize("metric", ["affine_invariant", "bures_wasserstein", spd.power_affine(0.5)], ids=str)
def test_callback_sees_every_iterate_and_history_holds_its_gradient_norms(X, metric):
    seen = []
    result = spd.mean(X, metric=metric, rtol=1e-12, callback=lambda M: seen.append(np.array(M)), return_info=True)
    assert result.converged and len(seen) == result.iterations == len(result.history) > 1
    np.testing.assert_array_equal(seen[-1], result.mean)
    norms = [np.linalg.norm(spd.tangent_space(X, M, metric=metric).mean(axis=0)) for M in seen]
    np.testing.assert_allclose(norms, result.history, rtol=1e-6, atol=1e-14)
    assert result.history[-1] <= 1e-12


def test_rtol_and_atol_follow_the_contract(X):
    loose = spd.mean(X, rtol=1e-4, return_info=True)
    assert loose.converged and loose.residual_norm <= 1e-4 and loose.history[-2] > 1e-4
    absolute = spd.mean(X, rtol=0.0, atol=1e-4, return_info=True)
    np.testing.assert_array_equal(absolute.mean, loose.mean)
    with pytest.raises(ValidationError, match="rtol"):
        spd.mean(X, rtol=1.5)
    with pytest.raises(ValidationError, match="atol"):
        spd.mean(X, atol=-1.0)


def test_deprecated_tol_warns_and_stops_as_before(X):
    """``tol`` was an absolute threshold on the gradient norm; it is used exactly so, even below eps."""
    with pytest.warns(FutureWarning, match="tol is deprecated.*pass rtol"):
        old = spd.mean(X, tol=1e-8, return_info=True)
    new = spd.mean(X, rtol=1e-8, return_info=True)
    np.testing.assert_array_equal(old.mean, new.mean)
    assert old.iterations == new.iterations and old.residual_norm <= 1e-8 < old.history[-2]
    with pytest.warns(FutureWarning), pytest.warns(ConvergenceWarning):
        zero = spd.mean(X, tol=0.0, maxiter=3, return_info=True)  # never met, as before
    assert not zero.converged and zero.iterations == 3


def test_progress_bar_runs_and_bad_solver_arguments(X, capsys):
    np.testing.assert_array_equal(spd.mean(X, progress=True), spd.mean(X))
    from linalgkit.exceptions import ArgumentTypeError

    with pytest.raises(ArgumentTypeError, match="callback"):
        spd.mean(X, callback=3)
    with pytest.raises(ArgumentTypeError, match="progress"):
        spd.mean(X, progress="yes")


def test_mean_bad_inputs(X):
    with pytest.raises(ShapeError, match="stack"):
        spd.mean(X[0])
    with pytest.raises(ValidationError, match="non-negative"):
        spd.mean(X, weights=-np.ones(len(X)))
    with pytest.raises(ShapeError, match="one entry per matrix"):
        spd.mean(X, weights=np.ones(3))
    with pytest.raises(ValidationError, match="maxiter"):
        spd.mean(X, maxiter=0)


def test_mean_on_every_namespace(xp, X):
    M = spd.mean(xp.asarray(X), rtol=1e-12)
    _close(M, spd.mean(X, rtol=1e-12), 1e-9)


def test_tangent_space_matches_pyriemann(X):
    C = to_numpy(spd.mean(X, rtol=1e-12))
    _close(spd.tangent_space(X, C), prt.tangent_space(X, C, metric="riemann"))
    _close(spd.tangent_space(X, C, metric="log_euclidean"),
           prt.upper(prt.logm(X) - prt.logm(C)))


@pytest.mark.parametrize("metric", ["affine_invariant", "log_euclidean", "bures_wasserstein", "log_cholesky",
                                    "cholesky", "euclidean", spd.power_affine(0.5), spd.power_euclidean(0.5)],
                         ids=str)
def test_tangent_coordinates_are_isometric_and_invertible(X, metric):
    C = X[0]
    T = to_numpy(spd.tangent_space(X, C, metric=metric))
    assert T.shape == (12, 15)
    _close(np.linalg.norm(T, axis=-1), spd.distance(C, X, metric=metric))
    _close(spd.untangent_space(T, C, metric=metric), X)


@pytest.mark.parametrize("metric", ["log_euclidean", "log_cholesky", spd.power_euclidean(0.5)], ids=str)
def test_flat_metrics_have_euclidean_tangent_distances(X, metric):
    T = to_numpy(spd.tangent_space(X, X[3], metric=metric))
    _close(np.linalg.norm(T[:, None] - T[None], axis=-1), spd.pairwise_distances(X, metric=metric), 1e-9)


def test_tangent_space_bad_inputs(X):
    with pytest.raises(ShapeError, match="reference must be one"):
        spd.tangent_space(X, X)
    with pytest.raises(ShapeError, match="n\\(n\\+1\\)/2"):
        spd.untangent_space(np.ones((3, 4)), X[0])


def test_secant_step_sees_the_curvature_of_the_affine_invariant_mean(rng):
    from linalgkit.spd import means

    def first_step(X, M):
        metric, w = spd.get_metric("affine_invariant"), np.full(len(X), 1 / len(X))
        be = get_backend(X)
        G = metric.mean_log(be, M, X, w)
        M_new = metric.exp(be, M, G)
        return means._secant_step(be, metric, M_new, G, metric.mean_log(be, M_new, X, w), 1.0)

    # commuting matrices seen from a point of their eigenbasis: a flat geometry, h = 1, the full step is kept
    X, Q, _ = commuting(rng, 20, 5)
    assert first_step(X, (Q * [1.0, 2.0, 3.0, 4.0, 5.0]) @ Q.T) == pytest.approx(1.0, abs=1e-9)
    # spread, non-commuting matrices from their log-Euclidean mean: non-positive curvature, h > 1
    X = random_spd(rng, (20,), 5, cond=1e3)
    assert 0.5 < first_step(X, spd.mean(X, metric="log_euclidean")) < 0.9
