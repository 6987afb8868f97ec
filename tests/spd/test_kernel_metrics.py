"""Kernel metrics (BKM, mixed-power-Euclidean, general phi): Hamiltonian-ODE Exp and shooting Log against the
closed forms of their special cases (AI, LE, power-Euclidean, BW, Euclidean)."""

import numpy as np
import pytest

from linalgkit import spd
from linalgkit.exceptions import ConvergenceWarning, ValidationError
from tests.spd._data import random_spd, random_sym
from tests.spd.test_metrics import _close

SPECIAL_CASES = [((1, -1), "affine_invariant"), ((0, 0), "log_euclidean"), ((1, 1), "euclidean"),
                 ((0.5, 0.5), spd.power_euclidean(0.5))]


@pytest.fixture
def point(rng):
    return random_spd(rng, (2,), 3, cond=5), 0.4 * random_sym(rng, (2,), 3)


@pytest.mark.parametrize("thetas, closed", SPECIAL_CASES, ids=str)
def test_ode_exp_matches_closed_forms(point, thetas, closed):
    S, V = point
    _close(spd.exp(S, V, metric=spd.mixed_power_euclidean(*thetas)), spd.exp(S, V, metric=closed), 1e-9)


def test_bures_wasserstein_kernel_exp_matches_closed_form(point):
    S, V = point
    bw = spd.kernel_metric(lambda xp, x, y: 2 * (x + y), dphi=lambda xp, x, y: 2 + 0 * y)
    _close(spd.exp(S, V, metric=bw), spd.exp(S, V, metric="bures_wasserstein"), 1e-9)


def test_rk4_is_fourth_order(point):
    S, V = point
    exact = spd.exp(S, 3 * V, metric="affine_invariant")
    errors = [np.max(np.abs(spd.exp(S, 3 * V, metric=spd.mixed_power_euclidean(1, -1, n_steps=k)) - exact))
              for k in (8, 16)]
    assert 12 < errors[0] / errors[1] < 20


def test_inner_products_match_closed_forms(point, rng):
    S, V = point
    U = random_sym(rng, (2,), 3)
    _close(spd.inner(S, U, V, metric=spd.mixed_power_euclidean(0.5, 0.5)),
           spd.inner(S, U, V, metric=spd.power_euclidean(0.5)))
    _close(spd.inner(S, U, V, metric=spd.mixed_power_euclidean(1, -1)), spd.inner(S, U, V))
    d, Q = np.linalg.eigh(S)  # BKM: tr(U D_S log[V]) with the divided differences of log, written out here
    x, y = d[:, :, None], d[:, None, :]
    F = np.where(np.isclose(x, y), 1 / x, (np.log(x) - np.log(y)) / np.where(np.isclose(x, y), 1, x - y))
    rot = lambda W: np.swapaxes(Q, -1, -2) @ W @ Q  # noqa: E731
    _close(spd.inner(S, U, V, metric="bkm"), np.sum(rot(U) * rot(V) * F, axis=(-2, -1)))


def test_shooting_log_inverts_exp_and_matches_affine_invariant(rng):
    S, P = random_spd(rng, (2,), 3), random_spd(rng, (2,), 3)
    bkm = spd.bkm()
    _close(spd.exp(S, spd.log(S, P, metric=bkm), metric=bkm), P, 1e-9)
    ai = spd.mixed_power_euclidean(1, -1, n_steps=80)
    _close(spd.log(S, P, metric=ai), spd.log(S, P), 1e-6)  # RK4 error at 80 steps over distances ~2
    _close(spd.distance(S, P, metric=ai), spd.distance(S, P), 1e-6)


def test_bkm_is_mixed_power_one_zero(point):
    S, V = point
    _close(spd.exp(S, V, metric="bkm"), spd.exp(S, V, metric=spd.mixed_power_euclidean(1, 0)), 1e-12)


def test_shooting_failure_is_reported_once_with_the_best_iterate(rng):
    S, P = random_spd(rng, (), 3), random_spd(rng, (), 3, cond=50)
    with pytest.warns(ConvergenceWarning, match="Log by shooting did not meet its stopping rule") as record:
        V = spd.log(S, P, metric=spd.bkm(maxiter=1, rtol=1e-14))
    assert len([w for w in record if issubclass(w.category, ConvergenceWarning)]) == 1
    start = spd.log(S, P, metric="log_euclidean")  # the shooting's first iterate
    converged = spd.log(S, P, metric="bkm")
    assert np.linalg.norm(V - converged) < np.linalg.norm(start - converged)


def test_shooting_tolerances_follow_the_contract(rng):
    S, P = random_spd(rng, (), 3), random_spd(rng, (), 3, cond=5)
    exact = spd.log(S, P, metric=spd.bkm(rtol=1e-11))
    loose = spd.log(S, P, metric=spd.bkm(rtol=1e-3))
    residual = np.linalg.norm(spd.exp(S, loose, metric="bkm") - P)
    assert 0 < residual <= 1e-3 * np.linalg.norm(P)  # vech_weighted is an isometry: Frobenius norms
    absolute = spd.log(S, P, metric=spd.bkm(rtol=0.0, atol=1e-3))
    assert np.linalg.norm(spd.exp(S, absolute, metric="bkm") - P) <= 1e-3
    with pytest.warns(FutureWarning, match="tol is deprecated"):
        old = spd.bkm(tol=1e-11)
    np.testing.assert_array_equal(spd.log(S, P, metric=old), exact)
    with pytest.raises(ValidationError, match="rtol"):
        spd.bkm(rtol=2.0)


def test_kernel_metric_bad_arguments(point):
    S, V = point
    with pytest.raises(ValidationError, match="phi must be a callable"):
        spd.kernel_metric(2.0)
    with pytest.raises(ValidationError, match="n_steps"):
        spd.bkm(n_steps=0)
    with pytest.raises(NotImplementedError, match="pole_ladder_transport"):
        spd.parallel_transport(S, S, V, metric="bkm")
