"""l_p sensitivities: exact values against independent LPs / SLSQP, the Lewis and leverage bounds (issue 13)."""

import numpy as np
import pytest
import scipy.optimize

from linalgkit.sampling import lewis_weights, lp_sensitivities, total_sensitivity

from ._data import qr_leverage


def _design(n=150, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * np.abs(rng.standard_cauchy((n, 1)))


@pytest.fixture(scope="module")
def l1_case():
    A = _design()
    return A, lp_sensitivities(A, 1), lewis_weights(A, 1, random_state=0).weights, qr_leverage(A)


def _primal_l1_sensitivity(A, i):
    """1 / min ||A x||_1 s.t. a_i^T x = 1 as the primal LP in (x, t): an independent formulation."""
    n, d = A.shape
    cost = np.r_[np.zeros(d), np.ones(n)]
    upper = np.block([[A, -np.eye(n)], [-A, -np.eye(n)]])
    equality = np.r_[A[i], np.zeros(n)][None, :]
    result = scipy.optimize.linprog(cost, A_ub=upper, b_ub=np.zeros(2 * n), A_eq=equality, b_eq=[1.0],
                                    bounds=[(None, None)] * d + [(0, None)] * n, method="highs")
    return 1 / result.fun


def test_exact_l1_matches_the_primal_lp(l1_case):
    A, s, _, _ = l1_case
    for i in (0, 7, 42, 149):
        assert s[i] == pytest.approx(_primal_l1_sensitivity(A, i), rel=1e-7)


def test_exact_l1_bounded_by_lewis_and_root_leverage_and_summing_to_at_most_d(l1_case):
    A, s, w, tau = l1_case
    d = A.shape[1]
    assert np.all(s <= w * (1 + 1e-6))
    assert np.all(s <= np.sqrt(tau) * (1 + 1e-6))
    assert s.sum() <= d
    assert np.all(w <= np.sqrt(d) * s)  # Chen-Derezinski: w_i <= d^(1 - p/2) s_i for p < 2


@pytest.mark.parametrize("p", [1.5, 3])
def test_exact_lp_matches_slsqp(p):
    A = _design(60, 3, seed=1)
    s = lp_sensitivities(A, p)
    for i in (0, 30):
        result = scipy.optimize.minimize(lambda x: np.sum(np.abs(A @ x) ** p), A[i] / (A[i] @ A[i]),
                                         constraints=[{"type": "eq", "fun": lambda x: A[i] @ x - 1}],
                                         method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
        assert s[i] == pytest.approx(1 / result.fun, rel=1e-5)


@pytest.mark.parametrize("p, factor", [(1.5, 1.0), (3, np.sqrt(3))])
def test_bounds_hold(p, factor):
    A = _design(60, 3, seed=1)
    s = lp_sensitivities(A, p)
    w = lewis_weights(A, p, random_state=0).weights
    np.testing.assert_allclose(lp_sensitivities(A, p, method="lewis_bound", random_state=0), factor * w, rtol=1e-8)
    assert np.all(s <= factor * w * (1 + 1e-6))
    assert np.all(s <= lp_sensitivities(A, p, method="leverage_bound") * (1 + 1e-6))


def test_approximate_within_embedding_distortion(l1_case):
    A, s, _, _ = l1_case
    approximate = lp_sensitivities(A, 1, method="approximate", m=120, random_state=0)
    assert np.all(approximate >= 0.5 * s) and np.all(approximate <= 2.0 * s)


def test_total_sensitivity(l1_case):
    A, s, w, _ = l1_case
    assert total_sensitivity(A, 1) == pytest.approx(s.sum(), rel=1e-12)
    assert total_sensitivity(A, 1, method="lewis_bound", random_state=0) == pytest.approx(A.shape[1], rel=1e-8)
    estimates = [total_sensitivity(A, 1, method="approximate", m=20, random_state=seed) for seed in range(3)]
    assert np.all(np.abs(np.array(estimates) / s.sum() - 1) <= 0.25)
