"""The solver contract on lstsq_precondition, the accuracy table of issue 10 (point 7), results and errors."""

import functools

import numpy as np
import pytest
import scipy.linalg

import linalgkit
from linalgkit._solver import SolverResult
from linalgkit.datasets._regression import make_lstsq_problem
from linalgkit.exceptions import ConvergenceWarning, RankDeficiencyWarning
from linalgkit.regression import PreconditionedLstsqResult, SketchedLstsqResult, lstsq_precondition, lstsq_sketched
from linalgkit.regression import _cholqr, precondition

ITERATIVE = ["lsqr", "ihs", "fossils"]


@functools.lru_cache(maxsize=None)
def _problem(cond, residual_norm, n=2**15, d=100):
    return make_lstsq_problem(n, d, cond=cond, residual_norm=residual_norm, random_state=0)


def _forward_error(x, p):
    return np.linalg.norm(x - p.x) / np.linalg.norm(p.x)


@pytest.mark.parametrize("residual_norm", [1e-6, 1.0], ids=["small residual", "large residual"])
@pytest.mark.parametrize("cond", [1e8, 1e12])
def test_default_reaches_lapack_accuracy(cond, residual_norm):
    # issue 10, point 7: forward error from the known solution within 3x that of gelsd, 2^15 x 100
    p = _problem(cond, residual_norm)
    result = lstsq_precondition(p.A, p.b, random_state=0)
    assert result.method == "cholqr" and result.converged and not result.fallback
    assert _forward_error(result.x, p) <= 3 * _forward_error(scipy.linalg.lstsq(p.A, p.b)[0], p)
    assert result.residual_norm == pytest.approx(np.linalg.norm(p.b - p.A @ result.x), rel=1e-12)


@pytest.mark.parametrize("method", ["cholqr", *ITERATIVE])
def test_callback_sees_each_iterate(method):
    p = _problem(1e6, 1e-3, n=4000, d=30)
    seen = []
    result = lstsq_precondition(p.A, p.b, method=method, callback=lambda xk: seen.append(np.array(xk)),
                                random_state=0)
    assert result.converged and len(seen) == result.iterations >= 1
    assert all(xk.shape == (30,) for xk in seen)
    np.testing.assert_allclose(seen[-1], result.x, rtol=1e-12)


@pytest.mark.parametrize("method", ITERATIVE)
def test_maxiter_reached_warns_and_returns_best(method):
    p = _problem(1e6, 1e-3, n=4000, d=30)
    with pytest.warns(ConvergenceWarning, match="did not meet its stopping rule") as caught:
        result = lstsq_precondition(p.A, p.b, method=method, maxiter=1, m=40, random_state=0)
    assert len(caught) == 1
    assert not result.converged and result.iterations == 1
    assert result.residual_norm == pytest.approx(np.linalg.norm(p.b - p.A @ result.x), rel=1e-12)
    if method == "lsqr":
        # LSQR's residual decreases monotonically: its best iterate is no worse than the warm start
        start = lstsq_sketched(p.A, p.b, sketch="sparse_sign", m=40, random_state=0).x
        assert result.residual_norm <= np.linalg.norm(p.b - p.A @ start) * (1 + 1e-12)


def _spoiled_first_solve(monkeypatch, noise):
    """Make the Cholesky-QR solve return a perturbed x, so that the rule fails and refinement must act."""
    original = _cholqr.cholqr_factor

    def spoiled(*args):
        x, P, singular_values = original(*args)
        return x * (1 + noise), P, singular_values

    monkeypatch.setattr(precondition, "cholqr_factor", spoiled)


def test_cholqr_refines_a_poor_first_solve(monkeypatch):
    p = _problem(1e6, 1e-3, n=4000, d=30)
    _spoiled_first_solve(monkeypatch, 1e-4)
    seen = []
    result = lstsq_precondition(p.A, p.b, callback=seen.append, random_state=0)
    assert result.converged and result.iterations >= 2 and len(seen) == result.iterations
    # the 1e-4 perturbation is refined away down to the rule's level (eps times Wedin's bound)
    reference = scipy.linalg.lstsq(p.A, p.b)[0]
    kappa, x_norm = p.pinv_norm, np.linalg.norm(reference)
    bound = np.finfo(float).eps * (kappa * x_norm + kappa**2 * np.linalg.norm(p.residual))
    assert np.linalg.norm(result.x - reference) <= min(bound, 1e-6 * x_norm)


def test_cholqr_maxiter_one_with_a_poor_first_solve_warns(monkeypatch):
    p = _problem(1e6, 1e-3, n=4000, d=30)
    _spoiled_first_solve(monkeypatch, 1e-4)
    with pytest.warns(ConvergenceWarning, match="method='cholqr'"):
        result = lstsq_precondition(p.A, p.b, maxiter=1, random_state=0)
    assert not result.converged and result.iterations == 1


def test_cholesky_breakdown_falls_back_to_lsqr(monkeypatch, rng):
    def breaks(*args):
        raise _cholqr.CholeskyBreakdown

    monkeypatch.setattr(precondition, "cholqr_factor", breaks)
    A, b = rng.standard_normal((2000, 12)), rng.standard_normal(2000)
    with pytest.warns(RankDeficiencyWarning, match="Cholesky factorization"):
        result = lstsq_precondition(A, b, random_state=0)
    assert result.fallback and result.method == "lsqr" and result.converged
    np.testing.assert_allclose(result.x, scipy.linalg.lstsq(A, b)[0], rtol=1e-10)


@pytest.mark.parametrize("method", ["cholqr", *ITERATIVE])
def test_float32_default_tolerance_is_met(method):
    # the default rtol follows the dtype: a float32 solve converges (pyproject makes a warning an error)
    p = _problem(1e3, 1e-3, n=4000, d=30)
    A, b = p.A.astype(np.float32), p.b.astype(np.float32)
    result = lstsq_precondition(A, b, method=method, random_state=0)
    assert result.converged and result.x.dtype == np.float32
    assert _forward_error(result.x, p) <= 1e-3


def test_auto_is_lsqr_on_sparse_input(rng):
    import scipy.sparse

    A = scipy.sparse.random(3000, 20, density=0.2, format="csr", random_state=0) + scipy.sparse.eye(3000, 20)
    b = rng.standard_normal(3000)
    result = lstsq_precondition(A, b, random_state=0)
    assert result.method == "lsqr" and result.converged
    explicit = lstsq_precondition(A, b, method="cholqr", random_state=0)
    reference = scipy.linalg.lstsq(A.toarray(), b)[0]
    for x in (result.x, explicit.x):
        assert np.linalg.norm(x - reference) <= 1e-10 * np.linalg.norm(reference)


def test_progress_bar_runs(rng):
    A, b = rng.standard_normal((500, 5)), rng.standard_normal(500)
    result = lstsq_precondition(A, b, method="lsqr", progress=True, random_state=0)
    np.testing.assert_allclose(result.x, scipy.linalg.lstsq(A, b)[0], rtol=1e-10)


def test_results_extend_the_solver_result(rng):
    A, b = rng.standard_normal((500, 5)), rng.standard_normal(500)
    precond = lstsq_precondition(A, b, random_state=0)
    sketched = lstsq_sketched(A, b, m=100, random_state=0)
    assert isinstance(precond, PreconditionedLstsqResult) and isinstance(precond, SolverResult)
    assert isinstance(sketched, SketchedLstsqResult) and isinstance(sketched, SolverResult)
    assert sketched.converged and sketched.iterations == 0 and sketched.history is None
    assert precond.residual_history == precond.history


@pytest.mark.parametrize("call", [
    lambda A, b: lstsq_precondition(A, b, method="qr"),
    lambda A, b: lstsq_precondition(A, b, maxiter=1.5),
    lambda A, b: lstsq_precondition(A, b, callback="print"),
    lambda A, b: lstsq_precondition(A, b, random_state="seed"),
    lambda A, b: lstsq_precondition(A[:5], b[:5]),
    lambda A, b: lstsq_sketched(A, b, m=50.0),
    lambda A, b: lstsq_sketched(A, b, eps=2.0),
    lambda A, b: lstsq_sketched(A, b[:-1]),
])
def test_errors_are_linalgkit_errors(call, rng):
    with pytest.raises(linalgkit.LinalgkitError):
        call(rng.standard_normal((200, 6)), rng.standard_normal(200))
