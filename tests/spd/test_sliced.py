"""SPD sliced-Wasserstein: equal to POT's sliced_wasserstein_distance on the same projections, closed forms."""

import numpy as np
import ot
import pytest
from array_api_compat import numpy as anp

from linalgkit import spd
from linalgkit.exceptions import ShapeError, ValidationError
from linalgkit.spd import _geometry, sliced
from tests.spd._data import random_spd
from tests.spd.test_metrics import _close


def _logm(X):
    d, Q = np.linalg.eigh(X)
    return (Q * np.log(d)[..., None, :]) @ np.swapaxes(Q, -1, -2)


def _pot_reference(X, Y, seed, L, a=None, b=None, p=2):
    theta, P = spd.draw_directions(X.shape[-1], L, random_state=seed)
    A = (P * theta[:, None, :]) @ np.swapaxes(P, -1, -2)
    projections = _geometry.vech_weighted(anp, A).T
    fx, fy = (_geometry.vech_weighted(anp, _logm(Z)) for Z in (X, Y))
    return ot.sliced_wasserstein_distance(fx, fy, a=a, b=b, projections=projections, p=p)


@pytest.mark.parametrize("sizes", [(40, 40), (30, 55)])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_equals_pot_on_the_same_projections(rng, sizes, p):
    X, Y = random_spd(rng, (sizes[0],), 4), random_spd(rng, (sizes[1],), 4, cond=50)
    _close(spd.sliced_wasserstein(X, Y, n_projections=64, p=p, random_state=7), _pot_reference(X, Y, 7, 64, p=p))


def test_equals_pot_with_weights(rng):
    X, Y = random_spd(rng, (25,), 3), random_spd(rng, (35,), 3, cond=30)
    a, b = rng.uniform(0.1, 1, 25), rng.uniform(0.1, 1, 35)
    ours = spd.sliced_wasserstein(X, Y, n_projections=32, weights_x=a, weights_y=b, random_state=2)
    _close(ours, _pot_reference(X, Y, 2, 32, a / a.sum(), b / b.sum()))
    pth = spd.sliced_wasserstein(X, Y, n_projections=32, weights_x=a, weights_y=b, random_state=2,
                                 return_pth_power=True)
    _close(pth, ours**2)


def test_dirac_closed_form(rng):
    """SPDSW_2^2(delta_X, delta_Y) = (2 ||L||^2 + tr(L)^2) / (n (n + 2)), L = log X - log Y (Monte Carlo)."""
    n = 4
    X, Y = random_spd(rng, (1,), n), random_spd(rng, (1,), n)
    L = _logm(X[0]) - _logm(Y[0])
    expected = (2 * np.sum(L**2) + np.trace(L) ** 2) / (n * (n + 2))
    value = spd.sliced_wasserstein(X, Y, n_projections=20000, random_state=0, return_pth_power=True)
    assert abs(value - expected) <= 2e-2 * expected


def test_scaling_shifts_every_projection_by_log_c_trace(rng):
    X = random_spd(rng, (20,), 3)
    value = spd.sliced_wasserstein(X, 3.0 * X, n_projections=20000, random_state=1)
    assert abs(value - np.log(3.0)) <= 1e-2 * np.log(3.0)


@pytest.mark.parametrize("metric", ["log_euclidean", "affine_invariant"])
def test_identity_symmetry_and_order_invariance(rng, metric):
    X, Y = random_spd(rng, (15,), 3), random_spd(rng, (12,), 3)
    assert spd.sliced_wasserstein(X, X[::-1], metric=metric, random_state=0) == 0.0
    _close(spd.sliced_wasserstein(X, Y, metric=metric, random_state=0),
           spd.sliced_wasserstein(Y, X, metric=metric, random_state=0))


def test_horospherical_projection_of_the_geodesic_direction(rng):
    """t(P exp(s diag(theta)) P^T) = s for the direction's own geodesic, and the AI Busemann limit."""
    theta, P = spd.draw_directions(4, 3, random_state=5)
    be = spd.metrics.get_backend(theta)
    for s in (0.5, 2.0):
        X = (P * np.exp(s * theta)[:, None, :]) @ np.swapaxes(P, -1, -2)
        t = sliced._project(be, X, theta, P, "affine_invariant")
        _close(np.diag(t), np.full(3, s))
    Z = random_spd(rng, (1,), 4)
    t = sliced._project(be, Z, theta[:1], P[:1], "affine_invariant")[0, 0]

    def gap(s):  # d(Z, ray(s)) - s + t -> 0 like O(1/s) when t is minus the Busemann function
        ray = (P[0] * np.exp(s * theta[0])) @ P[0].T
        return float(spd.distance(Z[0], ray)) - s + t

    assert abs(gap(24.0)) < 0.6 * abs(gap(12.0))
    assert abs(2 * gap(24.0) - gap(12.0)) < 0.1 * abs(gap(12.0))  # Richardson: the O(1/s) term cancels


def test_every_namespace_agrees(xp, rng):
    X, Y = random_spd(rng, (10,), 3), random_spd(rng, (14,), 3)
    for metric in ("log_euclidean", "affine_invariant"):
        _close(spd.sliced_wasserstein(xp.asarray(X), xp.asarray(Y), metric=metric, random_state=3),
               spd.sliced_wasserstein(X, Y, metric=metric, random_state=3))


def test_embedding_approximates_spdsw(rng):
    X = random_spd(rng, (2, 200), 3, cond=20)
    u = spd.sliced_projections(X.reshape(400, 3, 3), n_projections=50, random_state=4).reshape(2, 200, 50)
    phi = spd.sliced_embedding(u, n_quantiles=200)
    sw2 = spd.sliced_wasserstein(X[0], X[1], n_projections=50, random_state=4, return_pth_power=True)
    assert abs(np.sum((phi[0] - phi[1]) ** 2) - sw2) <= 1e-12 + 1e-9 * sw2  # M = N: exact quantiles


def test_bad_inputs(rng):
    X = random_spd(rng, (5,), 3)
    with pytest.raises(ShapeError, match="one size"):
        spd.sliced_wasserstein(X, random_spd(rng, (5,), 4))
    with pytest.raises(ShapeError, match="stack"):
        spd.sliced_wasserstein(X[0], X)
    with pytest.raises(ValidationError, match="metric must be one of"):
        spd.sliced_wasserstein(X, X, metric="bures_wasserstein")
    with pytest.raises(ValidationError, match="p must be in"):
        spd.sliced_wasserstein(X, X, p=0.5)
    with pytest.raises(ShapeError, match="weights_x must have one entry"):
        spd.sliced_wasserstein(X, X, weights_x=np.ones(3))
