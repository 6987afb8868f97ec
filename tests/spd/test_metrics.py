"""SPD metrics: against pyRiemann and POT, closed forms, invariances, round trips and bad input."""

from decimal import Decimal, getcontext

import numpy as np
import ot
import pyriemann.geometry.distance as prd
import pyriemann.geometry.geodesic as prg
import pyriemann.geometry.tangentspace as prt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linalgkit import spd
from linalgkit.exceptions import NotSPDError, ShapeError, ValidationError
from linalgkit.spd import _spectral
from tests.conftest import to_numpy
from tests.spd._data import commuting, lanes_for_any_batch, random_spd, random_sym  # noqa: F401 (fixture)

# linalgkit name -> pyRiemann name
PYRIEMANN = {"affine_invariant": "riemann", "log_euclidean": "logeuclid", "bures_wasserstein": "wasserstein",
             "euclidean": "euclid", "cholesky": "chol", "log_cholesky": "logchol"}
ALL = [*PYRIEMANN, spd.power_euclidean(0.5), spd.power_euclidean(-1.5), spd.power_affine(0.5),
       spd.power_affine(-2.0)]
COMPLETE = ["affine_invariant", "log_euclidean", "log_cholesky", spd.power_affine(0.5), spd.power_affine(-2.0)]
RTOL = 1e-10


def _id(metric):
    return metric if isinstance(metric, str) else metric.name


def _host(x):
    return np.asarray(x) if isinstance(x, (np.ndarray, np.generic, float, list)) else to_numpy(x)


def _close(actual, expected, rtol=RTOL):
    actual, expected = _host(actual), _host(expected)
    scale = max(np.max(np.abs(expected)), 1e-300)
    assert np.max(np.abs(actual - expected)) <= rtol * scale, np.max(np.abs(actual - expected)) / scale


@pytest.fixture
def pair(rng):
    return random_spd(rng, (6,), 5), random_spd(rng, (6,), 5)


@pytest.mark.parametrize("metric", PYRIEMANN)
def test_distance_matches_pyriemann(pair, metric):
    A, B = pair
    expected = [prd.distance(a, b, metric=PYRIEMANN[metric]) for a, b in zip(A, B)]
    _close(spd.distance(A, B, metric=metric), np.ravel(expected))
    _close(spd.distance(A, B, metric=metric, squared=True), np.ravel(expected) ** 2)


@pytest.mark.parametrize("p", [0.5, -1.0, 2.0])
def test_power_euclidean_distance_matches_pyriemann(pair, p):
    A, B = pair
    _close(spd.distance(A, B, metric=spd.power_euclidean(p)), [prd.distance_poweuclid(a, b, p) for a, b in zip(A, B)])


@pytest.mark.parametrize("metric", PYRIEMANN)
def test_pairwise_matches_pyriemann(rng, metric):
    X, Y = random_spd(rng, (7,), 4), random_spd(rng, (5,), 4)
    _close(spd.pairwise_distances(X, Y, metric=metric), prd.pairwise_distance(X, Y, metric=PYRIEMANN[metric]))
    own = to_numpy(spd.pairwise_distances(X, metric=metric))
    _close(own, prd.pairwise_distance(X, metric=PYRIEMANN[metric]))
    assert np.array_equal(own, own.T) and np.all(np.diag(own) == 0)


@pytest.mark.parametrize("metric", ["affine_invariant", "log_euclidean", "bures_wasserstein", "log_cholesky",
                                    "euclidean"])
def test_log_exp_geodesic_match_pyriemann(pair, metric):
    A, B = pair
    S = A[0]
    name = PYRIEMANN[metric]
    expected_log = prt.log_map_riemann(B, S, C12=True) if name == "riemann" else prt.log_map(B, S, metric=name)
    _close(spd.log(S, B, metric=metric), expected_log)
    expected_exp = prt.exp_map_riemann(expected_log, S, Cm12=True) if name == "riemann" else \
        prt.exp_map(expected_log, S, metric=name)
    _close(spd.exp(S, expected_log, metric=metric), expected_exp)
    _close(spd.geodesic(A, B, 0.3, metric=metric), [prg.geodesic(a, b, 0.3, metric=name) for a, b in zip(A, B)])


@pytest.mark.parametrize("metric", ["affine_invariant", "log_euclidean", "log_cholesky", "euclidean"])
def test_inner_and_transport_match_pyriemann(rng, metric):
    A, B = random_spd(rng, (2,), 4)
    U, V = random_sym(rng, (3,), 4), random_sym(rng, (3,), 4)
    name = PYRIEMANN[metric]
    _close(spd.inner(A, U, V, metric=metric), prt.innerproduct(U, V, A, metric=name))
    _close(spd.parallel_transport(A, B, V, metric=metric), prt.transport(V, A, B, metric=name))


def test_bures_wasserstein_is_w2_between_gaussians_and_matches_pot(pair):
    A, B = pair
    expected = [float(ot.gaussian.bures_distance(a, b)) for a, b in zip(A, B)]
    _close(spd.distance(A, B, metric="bures_wasserstein"), expected)
    mean = np.zeros(A.shape[-1])
    w2 = [float(ot.gaussian.bures_wasserstein_distance(mean, mean, a, b)) for a, b in zip(A, B)]
    _close(spd.distance(A, B, metric="bures_wasserstein"), w2)


def test_bures_wasserstein_commuting_pair_is_distance_of_square_roots(rng):
    X, Q, d = commuting(rng, 2, 5)
    roots = (Q * np.sqrt(d)[:, None, :]) @ Q.T
    _close(spd.distance(X[0], X[1], metric="bures_wasserstein"), np.linalg.norm(roots[0] - roots[1]))


def test_distance_of_a_matrix_to_itself_is_zero(pair):
    A, _ = pair
    for metric in ALL:
        assert np.max(to_numpy(spd.distance(A, A, metric=metric))) < 1e-6, _id(metric)


@pytest.mark.parametrize("metric", ALL, ids=_id)
def test_log_norm_is_distance_and_exp_inverts_log(pair, metric):
    A, B = pair
    L = spd.log(A, B, metric=metric)
    _close(np.sqrt(to_numpy(spd.inner(A, L, L, metric=metric))), spd.distance(A, B, metric=metric))
    _close(spd.exp(A, L, metric=metric), B)


@pytest.mark.parametrize("metric", ALL, ids=_id)
def test_exp_log_round_trip_at_repeated_eigenvalues(rng, metric):
    X, _, _ = commuting(rng, 1, 5, repeated=True)
    S = np.eye(5) * 2.0 if _id(metric) != "log_cholesky" else X[0]
    P = random_spd(rng, (), 5, cond=3)
    _close(spd.exp(S, spd.log(S, P, metric=metric), metric=metric), P)
    _close(spd.exp(X[0], spd.log(X[0], P, metric=metric), metric=metric), P)


@pytest.mark.parametrize("metric", ALL, ids=_id)
@pytest.mark.parametrize("t", [0.25, 0.5, 0.8])
def test_geodesic_has_constant_speed(pair, metric, t):
    A, B = pair
    _close(spd.distance(A, spd.geodesic(A, B, t, metric=metric), metric=metric),
           t * to_numpy(spd.distance(A, B, metric=metric)), 1e-9)


def test_affine_invariant_geodesic_extends_to_all_real_times(pair):
    A, B = pair
    for t in (-1.5, 2.5):
        _close(spd.distance(A, spd.geodesic(A, B, t), metric="affine_invariant"),
               abs(t) * to_numpy(spd.distance(A, B)), 1e-9)


def test_affine_invariant_invariances(rng, pair):
    A, B = pair
    G = rng.standard_normal((5, 5))
    d = to_numpy(spd.distance(A, B))
    _close(spd.distance(G @ A @ G.T, G @ B @ G.T), d)
    _close(spd.distance(np.linalg.inv(A), np.linalg.inv(B)), d)
    _close(spd.distance(A, B), spd.distance(B, A))


def test_log_euclidean_similarity_and_inversion_invariance(rng, pair):
    A, B = pair
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    d = to_numpy(spd.distance(A, B, metric="log_euclidean"))
    _close(spd.distance(3.0 * Q @ A @ Q.T, 3.0 * Q @ B @ Q.T, metric="log_euclidean"), d)
    _close(spd.distance(np.linalg.inv(A), np.linalg.inv(B), metric="log_euclidean"), d)


def test_affine_invariant_exceeds_log_euclidean(pair):
    """Exponential metric increasing property (Bhatia): d_AI >= ||log A - log B||_F."""
    A, B = pair
    assert np.all(to_numpy(spd.distance(A, B)) >= to_numpy(spd.distance(A, B, metric="log_euclidean")) - 1e-12)


def test_geometric_midpoint_solves_riccati(pair):
    A, B = pair
    M = to_numpy(spd.geodesic(A, B, 0.5))
    _close(M @ np.linalg.inv(A) @ M, B)
    _close(spd.geodesic(B, A, 0.5), M)


def test_affine_invariant_transport_of_log_is_minus_reverse_log(pair):
    A, B = pair
    _close(spd.parallel_transport(A, B, spd.log(A, B)), -to_numpy(spd.log(B, A)))


@pytest.mark.parametrize("metric", [spd.power_affine(0.5), spd.power_euclidean(0.5), "bures_wasserstein"], ids=_id)
def test_transport_is_an_isometry(rng, metric):
    if _id(metric) == "bures_wasserstein":
        X, _, _ = commuting(rng, 2, 4)
        A, B = X
    else:
        A, B = random_spd(rng, (2,), 4)
    U, V = random_sym(rng, (2,), 4)
    moved = [spd.parallel_transport(A, B, W, metric=metric) for W in (U, V)]
    _close(spd.inner(B, *moved, metric=metric), spd.inner(A, U, V, metric=metric))


def test_bures_wasserstein_commuting_transport_of_log(rng):
    X, _, _ = commuting(rng, 2, 4)
    A, B = X
    moved = spd.parallel_transport(A, B, spd.log(A, B, metric="bures_wasserstein"), metric="bures_wasserstein")
    _close(moved, -to_numpy(spd.log(B, A, metric="bures_wasserstein")))


def test_bures_wasserstein_transport_refuses_non_commuting(pair):
    A, B = pair
    with pytest.raises(NotImplementedError, match="pole_ladder_transport"):
        spd.parallel_transport(A[0], B[0], A[1], metric="bures_wasserstein")


def test_pole_ladder_matches_closed_forms(rng):
    A, B = random_spd(rng, (2,), 4)
    V = random_sym(rng, (), 4)
    exact = to_numpy(spd.parallel_transport(A, B, V))
    _close(spd.pole_ladder_transport(A, B, V, metric="affine_invariant", n_rungs=2), exact, 1e-9)
    X, _, _ = commuting(rng, 2, 4)
    exact = to_numpy(spd.parallel_transport(X[0], X[1], V, metric="bures_wasserstein"))
    errors = [np.max(np.abs(to_numpy(spd.pole_ladder_transport(X[0], X[1], V, n_rungs=k)) - exact))
              for k in (4, 16)]
    assert 12 < errors[0] / errors[1] < 20  # global order O(1 / n_rungs^2): 16x from 4 to 16 rungs


def test_power_euclidean_limits(pair):
    A, B = pair
    le = to_numpy(spd.distance(A, B, metric="log_euclidean"))
    errors = [np.max(np.abs(to_numpy(spd.distance(A, B, metric=spd.power_euclidean(p))) - le) / le)
              for p in (1e-2, 1e-3, 1e-4)]
    assert errors[0] < 0.1 and errors[1] < errors[0] / 5 and errors[2] < errors[1] / 5
    _close(spd.distance(A, B, metric=spd.power_euclidean(1)), np.linalg.norm(A - B, axis=(-2, -1)))
    _close(spd.distance(A, B, metric=spd.power_euclidean(-1)),
           np.linalg.norm(np.linalg.inv(A) - np.linalg.inv(B), axis=(-2, -1)))


def test_power_affine_tends_to_log_euclidean_at_second_order(pair):
    A, B = pair
    le = to_numpy(spd.distance(A, B, metric="log_euclidean"))
    errors = [np.max(np.abs(to_numpy(spd.distance(A, B, metric=spd.power_affine(p))) - le) / le) for p in (1e-2, 1e-3)]
    assert errors[1] < errors[0] / 50
    _close(spd.distance(A, B, metric=spd.power_affine(1.0)), spd.distance(A, B))


def _decimal_divided_difference(name, x, y):
    getcontext().prec = 60
    X, Y = Decimal(x), Decimal(y)
    f = {"log": lambda v: v.ln(), "exp": lambda v: v.exp(), "pow": lambda v: (Decimal("0.3") * v.ln()).exp()}[name]
    return float((f(X) - f(Y)) / (X - Y))


@pytest.mark.parametrize("name", ["log", "exp", "pow"])
@pytest.mark.parametrize("gap", [1e-1, 1e-5, 1e-8, 1e-9, 1e-12, 1e-15])
def test_divided_differences_accurate_near_ties(name, gap):
    """Against 60-digit decimal arithmetic: no cancellation on either side of the tie threshold."""
    from linalgkit._backend import get_backend

    for base in (1.7, 3e-4, 250.0):
        d = np.array([base * (1 + gap), base])
        F = _spectral.divided_differences(get_backend(d), name, d, 0.3)
        expected = _decimal_divided_difference(name, float(d[0]), float(d[1]))
        # exp amplifies the rounding of its argument by |x| (condition number), the others do not
        bound = 4e-15 * (1 + abs(base) if name == "exp" else 1)
        assert abs(F[0, 1] - expected) <= bound * abs(expected)
        assert F[0, 1] == F[1, 0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_exp_log_round_trip_property(seed, n):
    rng = np.random.default_rng(seed)
    S, P = random_spd(rng, (2,), n, cond=100)
    for metric in COMPLETE:
        _close(spd.exp(S, spd.log(S, P, metric=metric), metric=metric), P, 1e-9)


@pytest.mark.parametrize("metric", ["affine_invariant", "log_euclidean", "bures_wasserstein", "log_cholesky",
                                    spd.power_affine(0.5)], ids=_id)
def test_every_namespace_agrees_with_numpy(xp, pair, metric):
    A, B = pair
    a, b = xp.asarray(A), xp.asarray(B)
    for func, args in ((spd.distance, (a, b)), (spd.log, (a, b)), (spd.geodesic, (a, b)),
                       (spd.pairwise_distances, (a, b))):
        result = func(*args, metric=metric)
        assert type(result) is type(a)
        _close(result, func(A, B, metric=metric))


@pytest.mark.parametrize("metric", ["affine_invariant", "log_euclidean", "bures_wasserstein"])
def test_float32_is_kept_and_accurate(pair, metric):
    A, B = pair
    d = spd.distance(A.astype(np.float32), B.astype(np.float32), metric=metric)
    assert d.dtype == np.float32
    np.testing.assert_allclose(d, spd.distance(A, B, metric=metric), rtol=1e-4)


def test_batches_broadcast(rng):
    A = random_spd(rng, (3, 1), 4)
    B = random_spd(rng, (1, 2), 4)
    d = spd.distance(A, B)
    assert d.shape == (3, 2)
    _close(d[2, 1], spd.distance(A[2, 0], B[0, 1]))


def test_callable_metric(pair):
    A, B = pair
    d = spd.distance(A, B, metric=lambda a, b: np.linalg.norm(a - b))
    _close(d, np.linalg.norm(A - B, axis=(-2, -1)))
    _close(spd.pairwise_distances(A, B, metric=lambda a, b: np.linalg.norm(a - b)),
           spd.pairwise_distances(A, B, metric="euclidean"))


def test_not_spd_error_names_index_and_eigenvalue(pair):
    A, B = pair
    bad = A.copy()
    bad[3] = np.diag([1.0, 2.0, -0.5, 1.0, 1.0])
    for metric in ("affine_invariant", "log_euclidean", "bures_wasserstein", "log_cholesky"):
        with pytest.raises(NotSPDError, match=r"A\[3\] must be positive definite, got smallest eigenvalue -0.5;"
                                              r" regularize"):
            spd.distance(bad, B, metric=metric)
    with pytest.raises(NotSPDError, match=r"P\[3\] must be positive definite"):
        spd.log(B[0], bad)
    for metric in ("affine_invariant", "bures_wasserstein"):  # the second argument is factored differently
        with pytest.raises(NotSPDError, match=r"B\[3\] must be positive definite"):
            spd.distance(A, bad, metric=metric)


def test_bad_inputs_raise_clear_errors(pair):
    A, B = pair
    asym = A.copy()
    asym[1, 0, 1] += 1.0
    with pytest.raises(NotSPDError, match=r"A\[1\] must be symmetric"):
        spd.distance(asym, B)
    with pytest.raises(ShapeError, match="same n"):
        spd.distance(A, B[:, :4, :4])
    with pytest.raises(ShapeError, match="square"):
        spd.distance(A[:, :, :3], B)
    with pytest.raises(ValidationError, match="metric must be one of"):
        spd.distance(A, B, metric="riemann")
    with pytest.raises(ValidationError, match=r"power_euclidean\(...\)"):
        spd.distance(A, B, metric="power_euclidean")
    with pytest.raises(ValidationError, match="non-zero"):
        spd.power_affine(0)
    with pytest.raises(ValidationError, match="finite"):
        spd.distance(A * np.nan, B)
    with pytest.raises(ShapeError, match="stack"):
        spd.pairwise_distances(A[0])
    with pytest.raises(NotSPDError, match="V must be symmetric"):
        spd.exp(B[0], asym[1])
    with pytest.raises(ValidationError, match="leaves the SPD cone"):  # power-Euclidean is not complete
        spd.exp(np.eye(3), -2 * np.eye(3), metric=spd.power_euclidean(0.5))


def test_regularize_makes_rank_deficient_covariances_usable(rng):
    from linalgkit._backend import get_backend
    from linalgkit._validation import check_spd

    x = rng.standard_normal((3, 4))
    C = np.zeros((5, 5))
    C[:4, :4] = x.T @ x  # rank 3, and an exactly zero eigenvalue
    be = get_backend(C)
    with pytest.raises(NotSPDError, match="regularize="):
        check_spd(C, "C", backend=be)
    fixed = check_spd(C, "C", backend=be, regularize=0.1)
    _close(fixed, 0.9 * C + 0.1 * np.trace(C) / 5 * np.eye(5))


def test_parallel_kernels_for_large_batches_match_pyriemann(rng):
    """Batches of at least the "batch" cut-over of pairs take the lane kernels (NumPy inputs)."""
    from linalgkit.spd._dispatch import CUTOVERS

    batch = CUTOVERS["batch"].value
    A, B = random_spd(rng, (batch + 16,), 4), random_spd(rng, (batch + 16,), 4)
    _close(spd.distance(A, B), [prd.distance_riemann(a, b) for a, b in zip(A, B)])
    np.testing.assert_allclose(spd.distance(A.astype(np.float32), B.astype(np.float32)), spd.distance(A, B),
                               rtol=1e-4)
    X, Y = A[:12], B[:9]
    _close(spd.pairwise_distances(X, Y), prd.pairwise_distance(X, Y, metric="riemann"))
    _close(spd.pairwise_distances(A[:14]), prd.pairwise_distance(A[:14], metric="riemann"))
    bad = B.copy()
    bad[70] = -bad[70]
    with pytest.raises(NotSPDError, match=r"B\[70\] must be positive definite"):
        spd.distance(A, bad)
    with pytest.raises(NotSPDError, match=r"Y\[7\] must be positive definite"):
        spd.pairwise_distances(X, bad[63:72])


def test_log_euclidean_distance_of_a_batch_runs_in_lanes_and_names_the_bad_matrix(rng, spy, lanes_for_any_batch):
    # 65 pairs in a (5, 13) batch: five groups of sixteen lanes, the last with one pair
    from linalgkit.spd import _numba

    calls = spy(_numba, "le_squared_distances")
    A, B = random_spd(rng, (5, 13), 6, cond=1e3), random_spd(rng, (5, 13), 6, cond=1e3)
    expected = prd.distance_logeuclid(A.reshape(-1, 6, 6), B.reshape(-1, 6, 6)).reshape(5, 13)
    _close(spd.distance(A, B, metric="log_euclidean"), expected)
    assert [call[0].shape for call in calls] == [(65, 6, 6)]
    bad = B.copy()
    bad[4, 12] = -bad[4, 12]
    with pytest.raises(NotSPDError, match=r"B\[4, 12\] must be positive definite"):
        spd.distance(A, bad, metric="log_euclidean")


def test_disabling_numba_gives_the_same_large_batch_results(rng, monkeypatch):
    """LINALGKIT_DISABLE_NUMBA sends large NumPy batches down the array-API path, with the same numbers."""
    from linalgkit.spd._dispatch import CUTOVERS

    A, B = random_spd(rng, (CUTOVERS["batch"].value + 16,), 5), random_spd(rng, (CUTOVERS["batch"].value + 16,), 5)
    with_numba = [spd.distance(A, B, metric=m) for m in ("affine_invariant", "log_euclidean", "bures_wasserstein")]
    with_numba += [spd.pairwise_distances(A[:12]), spd.mean(A)]
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    without = [spd.distance(A, B, metric=m) for m in ("affine_invariant", "log_euclidean", "bures_wasserstein")]
    without += [spd.pairwise_distances(A[:12]), spd.mean(A)]
    for ours, reference in zip(with_numba, without):
        _close(ours, reference)


def test_every_public_function_of_metrics_means_and_tangent_has_a_capability_entry():
    import inspect

    from linalgkit._backend import CAPABILITIES
    from linalgkit.spd import means, metrics, tangent

    names = [f"linalgkit.spd.{name}" for module in (metrics, means, tangent) for name in module.__all__
             if inspect.isfunction(getattr(module, name))]
    assert len(names) >= 17
    assert [name for name in names if name not in CAPABILITIES] == []
