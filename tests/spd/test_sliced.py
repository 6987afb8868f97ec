"""SPD sliced-Wasserstein: equal to POT's sliced_wasserstein_distance on the same projections, closed forms;
the kernel against POT and a direct NumPy quantile computation; random_state, capabilities and errors."""

import numpy as np
import ot
import pytest

from linalgkit import spd
from linalgkit._backend import CAPABILITIES
from linalgkit.exceptions import ArgumentTypeError, LinalgkitError, ShapeError, ValidationError
from linalgkit.spd import sliced
from tests.spd._data import random_spd
from tests.spd.test_metrics import _close


def _logm(X):
    d, Q = np.linalg.eigh(X)
    return (Q * np.log(d)[..., None, :]) @ np.swapaxes(Q, -1, -2)


def _vech_weighted(S):
    """Upper triangle with off-diagonals times sqrt(2): Frobenius products become dot products."""
    rows, cols = np.triu_indices(S.shape[-1])
    return S[..., rows, cols] * np.where(rows == cols, 1.0, np.sqrt(2))


def _pot_reference(X, Y, seed, L, a=None, b=None, p=2):
    theta, P = spd.draw_directions(X.shape[-1], L, random_state=seed)
    A = (P * theta[:, None, :]) @ np.swapaxes(P, -1, -2)
    projections = _vech_weighted(A).T
    fx, fy = (_vech_weighted(_logm(Z)) for Z in (X, Y))
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


def _direct_projections(X, theta, P, metric):
    """Projections straight from the definitions: <A, log X>, or 2 sum theta_i log chol(P^T X P)_ii."""
    if metric == "log_euclidean":
        A = (P * theta[:, None, :]) @ np.swapaxes(P, -1, -2)
        return np.einsum("lij,sij->sl", A, _logm(X))
    C = np.linalg.cholesky(np.swapaxes(P, -1, -2)[None] @ X[:, None] @ P[None])
    return 2 * np.sum(theta * np.log(np.diagonal(C, axis1=-2, axis2=-1)), axis=-1)


def _direct_embedding(D, theta, P, metric, M):
    levels = (np.arange(M) + 0.5) / M
    u = np.stack([_direct_projections(X, theta, P, metric) for X in D])  # (n_dist, n_samples, L)
    q = np.quantile(u, levels, axis=1, method="inverted_cdf")  # (M, n_dist, L): inf{x : F(x) >= level}
    return np.transpose(q, (1, 2, 0)).reshape(len(D), -1) / np.sqrt(theta.shape[0] * M)


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_kernel_is_gaussian_of_pot_spdsw(rng, sigma):
    """With as many quantiles as samples the embedding distance is SPDSW_2^2 exactly (POT on our directions)."""
    X, Y = random_spd(rng, (3, 24), 3), random_spd(rng, (2, 24), 3, cond=40)
    K = spd.sliced_wasserstein_kernel(X, Y, n_projections=40, n_quantiles=24, sigma=sigma, random_state=6)
    sw = np.array([[_pot_reference(x, y, 6, 40) for y in Y] for x in X])
    _close(K, np.exp(-sw**2 / (2 * sigma**2)))


@pytest.mark.parametrize("metric", ["log_euclidean", "affine_invariant"])
def test_kernel_matches_direct_numpy_quantiles(rng, metric):
    X, Y = random_spd(rng, (3, 30), 4), random_spd(rng, (2, 17), 4, cond=30)
    theta, P = spd.draw_directions(4, 25, random_state=8)
    expected = np.exp(-np.sum((_direct_embedding(X, theta, P, metric, 8)[:, None]
                               - _direct_embedding(Y, theta, P, metric, 8)[None]) ** 2, axis=-1) / (2 * 1.5**2))
    K = spd.sliced_wasserstein_kernel(X, Y, n_projections=25, n_quantiles=8, sigma=1.5, metric=metric,
                                      random_state=8)
    _close(K, expected)


@pytest.mark.parametrize("metric", ["log_euclidean", "affine_invariant"])
def test_kernel_is_symmetric_psd_with_ones_on_the_diagonal(rng, metric):
    X = random_spd(rng, (8, 20), 3, cond=20) * np.exp(rng.uniform(-1, 1, (8, 1, 1, 1)))
    K = np.asarray(spd.sliced_wasserstein_kernel(X, n_projections=30, metric=metric, random_state=2))
    np.testing.assert_array_equal(K, K.T)
    np.testing.assert_array_equal(np.diag(K), np.ones(8))
    assert np.all((K > 0) & (K <= 1)) and np.linalg.eigvalsh(K)[0] >= -1e-12
    _close(spd.sliced_wasserstein_kernel(X, X, n_projections=30, metric=metric, random_state=2), K)


def test_kernel_every_namespace_agrees(xp, rng):
    X, Y = random_spd(rng, (2, 10), 3), random_spd(rng, (3, 12), 3)
    for metric in ("log_euclidean", "affine_invariant"):
        _close(spd.sliced_wasserstein_kernel(xp.asarray(X), xp.asarray(Y), metric=metric, random_state=3),
               spd.sliced_wasserstein_kernel(X, Y, metric=metric, random_state=3))


def _random_functions(rng):
    X, D = random_spd(rng, (6,), 3), random_spd(rng, (2, 6), 3)
    return {
        "draw_directions": lambda rs: spd.draw_directions(3, 4, random_state=rs)[1],
        "sliced_projections": lambda rs: spd.sliced_projections(X, n_projections=4, random_state=rs),
        "sliced_wasserstein": lambda rs: spd.sliced_wasserstein(X, X[::-1] * 2, n_projections=4, random_state=rs),
        "sliced_wasserstein_kernel": lambda rs: spd.sliced_wasserstein_kernel(D, n_projections=4, random_state=rs),
    }


@pytest.mark.parametrize("name", ["draw_directions", "sliced_projections", "sliced_wasserstein",
                                  "sliced_wasserstein_kernel"])
def test_random_state_accepts_seed_generator_none_and_random_state(rng, name):
    func = _random_functions(rng)[name]
    seeded = np.asarray(func(5))
    np.testing.assert_array_equal(np.asarray(func(np.random.default_rng(5))), seeded)
    np.testing.assert_array_equal(np.asarray(func(np.random.RandomState(1))),
                                  np.asarray(func(np.random.RandomState(1))))
    assert np.all(np.isfinite(np.asarray(func(None))))
    for bad in ("5", 1.5, [5], object()):
        with pytest.raises(ArgumentTypeError, match="random_state must be"):
            func(bad)
    with pytest.raises(ValidationError, match="random_state must be a non-negative"):
        func(-1)


def test_every_public_function_has_a_capability_entry():
    assert all(f"linalgkit.spd.{name}" in CAPABILITIES for name in sliced.__all__)
    assert set(sliced.__all__) <= set(spd.__all__)


def test_kernel_and_embedding_bad_inputs(rng):
    D = random_spd(rng, (2, 5), 3)
    cases = [
        (ShapeError, "n_distributions, n_samples, n, n", lambda: spd.sliced_wasserstein_kernel(D[0])),
        (ShapeError, "one size", lambda: spd.sliced_wasserstein_kernel(D, random_spd(rng, (2, 5), 4))),
        (ValidationError, "sigma must be in", lambda: spd.sliced_wasserstein_kernel(D, sigma=0.0)),
        (ArgumentTypeError, "n_quantiles must be an int", lambda: spd.sliced_wasserstein_kernel(D, n_quantiles=2.5)),
        (ValidationError, "metric must be one of", lambda: spd.sliced_wasserstein_kernel(D, metric="euclidean")),
        (ValidationError, "n_projections must be in", lambda: spd.sliced_projections(D[0], n_projections=0)),
        (ArgumentTypeError, "n must be an int", lambda: spd.draw_directions(3.0, 4)),
        (ValidationError, "p must be in", lambda: spd.sliced_embedding(np.ones((1, 2, 3)), p=0.5)),
        (ShapeError, "must be 3-D", lambda: spd.sliced_embedding(np.ones((2, 3)))),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message) as info:
            call()
        assert isinstance(info.value, LinalgkitError)
