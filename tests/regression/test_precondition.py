"""Sketch-and-precondition: the issue's accuracy test, LAPACK references, fallback, non-convergence."""

import functools

import array_api_strict
import numpy as np
import pytest
import scipy.linalg
import scipy.sparse

from linalgkit.datasets._regression import make_lstsq_problem
from linalgkit.exceptions import (ArgumentTypeError, ConvergenceWarning, RankDeficiencyWarning, ShapeError,
                                  ValidationError)
from linalgkit.regression import default_preconditioner_size, lstsq_precondition
from tests.conftest import to_numpy


@functools.lru_cache(maxsize=None)
def _hard_problem():
    return make_lstsq_problem(2**15, 100, cond=1e6, residual_norm=1e-3, random_state=0)


def _assert_issue_accuracy(result, p):
    """The issue's bar: converged within 50 iterations, forward error <= 1e-6, residual within 1e-8."""
    assert result.converged and result.iterations <= 50
    assert np.linalg.norm(result.x - p.x) / np.linalg.norm(p.x) <= 1e-6
    assert abs(result.residual_norm / np.linalg.norm(p.residual) - 1) <= 1e-8


@pytest.mark.parametrize("sketch", ["sparse_sign", "srht", "countsketch"])
@pytest.mark.parametrize("m", [400, None], ids=["m=4d", "default m"])
def test_lsqr_reaches_full_accuracy(sketch, m):
    # issue: n = 2^15, d = 100, cond 1e6: forward error <= 1e-6, residual within 1e-8 of the optimum, <= 50 iterations
    p = _hard_problem()
    result = lstsq_precondition(p.A, p.b, sketch=sketch, m=m, method="lsqr", random_state=1)
    _assert_issue_accuracy(result, p)
    assert len(result.residual_history) == result.iterations + 1
    assert result.residual_history[-1] == pytest.approx(result.residual_norm, rel=1e-6)


@pytest.mark.parametrize("sketch", ["sparse_sign", "srht"])
def test_iterative_sketching_reaches_full_accuracy(sketch):
    p = _hard_problem()
    result = lstsq_precondition(p.A, p.b, sketch=sketch, method="ihs", random_state=1)
    _assert_issue_accuracy(result, p)
    assert result.m == 1200
    np.testing.assert_allclose(result.residual_history[-1], result.residual_norm, rtol=1e-12)


@pytest.mark.parametrize("sketch", ["sparse_sign", "srht"])
def test_fossils_reaches_full_accuracy(sketch):
    p = _hard_problem()
    result = lstsq_precondition(p.A, p.b, sketch=sketch, method="fossils", random_state=1)
    _assert_issue_accuracy(result, p)
    assert result.m == 1200
    assert len(result.residual_history) in (2, 3)
    # Karlson-Walden backward error, computed exactly from the SVD of A: at rounding level
    U, s, Vt = np.linalg.svd(p.A, full_matrices=False)
    r, theta = p.b - p.A @ result.x, np.linalg.norm(p.A) / np.linalg.norm(p.b)
    scale = 1 + theta**2 * np.linalg.norm(result.x) ** 2
    weights = np.sqrt(s**2 + theta**2 * np.linalg.norm(r) ** 2 / scale)
    backward = np.linalg.norm((Vt @ (p.A.T @ r)) / weights) * theta / np.sqrt(scale)
    assert backward <= 1e-14 * np.linalg.norm(p.A)


def test_cold_start_is_reported_not_required():
    # a cold start x0 = 0 is allowed to be worse (Meier et al.); it must still state what it reached
    p = _hard_problem()
    result = lstsq_precondition(p.A, p.b, x0=np.zeros(100), m=400, method="lsqr", random_state=1)
    assert result.residual_history[0] == pytest.approx(np.linalg.norm(p.b), rel=1e-12)
    assert result.residual_norm == pytest.approx(np.linalg.norm(p.A @ result.x - p.b), rel=1e-12)


def test_start_at_the_solution_needs_no_work():
    p = _hard_problem()
    exact = scipy.linalg.lstsq(p.A, p.b)[0]
    result = lstsq_precondition(p.A, p.b, x0=exact, method="lsqr", random_state=1)
    assert result.converged and result.iterations <= 2


@pytest.mark.parametrize("method", ["cholqr", "lsqr", "ihs", "fossils"])
def test_matches_lapack(method, rng):
    A = rng.standard_normal((3000, 40)) @ np.diag(np.logspace(0, 4, 40))
    b = rng.standard_normal(3000)
    result = lstsq_precondition(A, b, method=method, random_state=0)
    reference = scipy.linalg.lstsq(A, b)[0]
    assert np.linalg.norm(result.x - reference) / np.linalg.norm(reference) <= 1e-10


def _correlated_sparse(n, d, seed):
    """Sparse A = B M with M = I - shift (neighbouring columns nearly equal): column scaling does not help."""
    B = scipy.sparse.random(n, d, density=4 / d, format="csr", random_state=seed)
    M = scipy.sparse.eye(d) - 0.999 * scipy.sparse.eye(d, k=1)
    return (B @ M).tocsr()


@pytest.mark.parametrize("sketch", ["sparse_sign", "countsketch", "srht"])
def test_sparse_matches_lapack(sketch, rng):
    A = _correlated_sparse(20000, 60, 0)
    b = rng.standard_normal(20000)
    result = lstsq_precondition(A, b, sketch=sketch, random_state=0)
    reference = scipy.linalg.lstsq(A.toarray(), b)[0]
    assert result.converged and result.iterations <= 60
    assert np.linalg.norm(result.x - reference) / np.linalg.norm(reference) <= 1e-8


def test_rank_deficient_dense_falls_back_to_lapack(rng):
    A = rng.standard_normal((1000, 8))
    A[:, 7] = A[:, 0] + A[:, 1]
    b = rng.standard_normal(1000)
    with pytest.warns(RankDeficiencyWarning, match="solving without the sketch"):
        result = lstsq_precondition(A, b, random_state=0)
    assert result.fallback and result.method == "lapack" and result.converged
    np.testing.assert_allclose(result.x, scipy.linalg.lstsq(A, b)[0], rtol=1e-10)


def test_rank_deficient_sparse_falls_back_to_scaled_lsqr(rng):
    A = scipy.sparse.random(3000, 10, density=0.3, format="csr", random_state=1).toarray()
    A[:, 9] = 2 * A[:, 3]
    b = rng.standard_normal(3000)
    with pytest.warns(RankDeficiencyWarning, match="solving without the sketch"):
        result = lstsq_precondition(scipy.sparse.csr_matrix(A), b, random_state=0)
    assert result.fallback and result.method == "lsqr-column-scaling" and result.converged
    # the least-squares residual is unique even when x is not
    reference = scipy.linalg.lstsq(A, b)[0]
    assert result.residual_norm == pytest.approx(np.linalg.norm(A @ reference - b), rel=1e-10)


@pytest.mark.parametrize("method", ["lsqr", "ihs", "fossils"])
def test_non_convergence_is_reported(method):
    p = _hard_problem()
    with pytest.warns(ConvergenceWarning, match="did not meet its stopping rule"):
        result = lstsq_precondition(p.A, p.b, method=method, maxiter=2, m=200, random_state=0)
    assert not result.converged and result.iterations == 2


def test_array_api_strict_matches_numpy(rng):
    A, b = rng.standard_normal((800, 6)), rng.standard_normal(800)
    ours = lstsq_precondition(array_api_strict.asarray(A), array_api_strict.asarray(b), sketch="srht",
                              random_state=0)
    np.testing.assert_allclose(to_numpy(ours.x), scipy.linalg.lstsq(A, b)[0], rtol=1e-10)


def test_default_size_rule():
    assert default_preconditioner_size(2**17, 200) == 4000
    assert default_preconditioner_size(2**15, 1000) == 4000
    assert default_preconditioner_size(2**15, 100) == 2000
    assert default_preconditioner_size(50, 20) == 50
    assert default_preconditioner_size(2**20, 500, sparse=True) == 4000


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(method="cgls"), ValidationError, "method must be one of 'auto', 'cholqr', 'lsqr', 'ihs', 'fossils'"),
    (dict(rtol=1.0), ValidationError, "rtol must be in"),
    (dict(atol=-1.0), ValidationError, "atol must be in"),
    (dict(callback=3), ArgumentTypeError, "callback must be None or a callable"),
    (dict(progress="yes"), ArgumentTypeError, "progress must be True or False"),
    (dict(maxiter=0), ValidationError, r"maxiter must be in \[1, inf\]"),
    (dict(x0=np.zeros(5)), ShapeError, r"x0 must have shape \(6,\)"),
    (dict(m=6), ValidationError, r"m must be in \[7, 200\]"),
    (dict(sketch="dense"), ValidationError, "sketch must be one of"),
])
def test_bad_parameters(kwargs, error, match, rng):
    with pytest.raises(error, match=match):
        lstsq_precondition(rng.standard_normal((200, 6)), rng.standard_normal(200), **kwargs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, k", [(2500, 1), (1024, 3), (700, 2)])
def test_blockwise_gram_of_the_triangular_product_equals_the_explicit_one(dtype, n, k):
    """The Cholesky-QR Gram matrix by row blocks (copy, trmm, syrk) against ([A B] W)^T ([A B] W) in float64."""
    from linalgkit._backend import get_backend
    from linalgkit.regression._cholqr import _gram_times_upper

    rng = np.random.default_rng(n + k)
    A, B = rng.standard_normal((n, 6)).astype(dtype), rng.standard_normal((n, k)).astype(dtype)
    W = (np.triu(rng.standard_normal((6 + k, 6 + k))) + 4 * np.eye(6 + k)).astype(dtype)
    Y = np.hstack([A, B]).astype(np.float64) @ W.astype(np.float64)
    G = _gram_times_upper(get_backend(A), A, B, W)
    assert G.dtype == dtype
    np.testing.assert_allclose(G, Y.T @ Y, rtol=0, atol=50 * np.finfo(dtype).eps * np.abs(Y.T @ Y).max())
