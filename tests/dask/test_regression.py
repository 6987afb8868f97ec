"""Dask least squares against the in-memory functions (same seed, same sketch) and SciPy."""

import numpy as np
import pytest
import scipy.linalg

da = pytest.importorskip("dask.array")

import linalgkit.dask as ld  # noqa: E402
from linalgkit.exceptions import ConvergenceWarning, RankDeficiencyWarning, ShapeError, ValidationError  # noqa: E402
from linalgkit.regression import SketchedLinearRegression, lstsq_precondition, lstsq_sketched  # noqa: E402


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    n, d = 6000, 12
    A = rng.standard_normal((n, d)) * np.logspace(0, 3, d)
    b = A @ rng.standard_normal(d) + rng.standard_normal(n)
    return A, b


def _chunked(A, b, rows):
    return da.from_array(A, chunks=(rows, A.shape[1])), da.from_array(b, chunks=rows)


@pytest.mark.parametrize("method", ["cholqr", "lsqr", "ihs", "fossils"])
@pytest.mark.parametrize("kind", ["sparse_sign", "gaussian"])
def test_precondition_equals_in_memory(problem, method, kind):
    A, b = problem
    local = lstsq_precondition(A, b, method=method, sketch=kind, random_state=3)
    exact = scipy.linalg.lstsq(A, b)[0]
    for rows in (1700,):  # any chunking: the sketch tests prove S A independent of it
        result = ld.lstsq_precondition(*_chunked(A, b, rows), method=method, sketch=kind, random_state=3)
        assert type(result) is type(local)
        assert (result.method, result.m, result.converged, result.fallback) == (local.method, local.m, True, False)
        np.testing.assert_allclose(result.x, local.x, rtol=1e-12, atol=1e-12 * np.abs(local.x).max())
        np.testing.assert_allclose(result.x, exact, rtol=0, atol=1e-9 * np.abs(exact).max())
        assert result.residual_norm == pytest.approx(local.residual_norm, rel=1e-12)
        assert result.iterations == local.iterations
        np.testing.assert_allclose(result.history, local.history, rtol=1e-8)


def test_precondition_in_memory_b_and_callback(problem):
    A, b = problem
    seen = []
    result = ld.lstsq_precondition(da.from_array(A, chunks=(2000, 12)), b, method="lsqr", random_state=1,
                                   callback=lambda xk: seen.append(xk.copy()))
    assert len(seen) == result.iterations
    np.testing.assert_array_equal(seen[-1], result.x)


def test_precondition_not_converged_warns_like_in_memory(problem):
    A, b = problem
    with pytest.warns(ConvergenceWarning, match="lstsq_precondition") as record:
        result = ld.lstsq_precondition(*_chunked(A, b, 2000), method="lsqr", maxiter=2, rtol=1e-15, random_state=1)
    with pytest.warns(ConvergenceWarning) as local_record:
        local = lstsq_precondition(A, b, method="lsqr", maxiter=2, rtol=1e-15, random_state=1)
    assert len(record) == len(local_record) == 1
    assert (result.converged, result.iterations) == (local.converged, local.iterations) == (False, 2)
    np.testing.assert_allclose(result.x, local.x, rtol=1e-12)


def test_rank_deficient_falls_back_to_tsqr(problem):
    A, b = problem
    A = np.hstack([A[:, :5], A[:, :1]])  # a repeated column
    with pytest.warns(RankDeficiencyWarning, match="TSQR"):
        result = ld.lstsq_precondition(*_chunked(A, b, 1500), random_state=0)
    x = scipy.linalg.lstsq(A, b)[0]  # gelsd: the minimum-norm solution
    assert (result.method, result.fallback) == ("tsqr", True)
    np.testing.assert_allclose(result.x, x, rtol=1e-8, atol=1e-10 * np.abs(x).max())
    assert result.residual_norm == pytest.approx(np.linalg.norm(A @ x - b), rel=1e-10)


@pytest.mark.parametrize("kind", ["sparse_sign", "gaussian", "countsketch", "rademacher"])
def test_sketched_equals_in_memory(problem, kind):
    A, b = problem
    local = lstsq_sketched(A, b, sketch=kind, m=400, random_state=5)
    for rows in (6000, 1111):
        result = ld.lstsq_sketched(*_chunked(A, b, rows), sketch=kind, m=400, random_state=5)
        assert (result.m, result.rank, result.sketch) == (local.m, local.rank, local.sketch)
        np.testing.assert_allclose(result.x, local.x, rtol=1e-12, atol=1e-12 * np.abs(local.x).max())
        assert result.cond == pytest.approx(local.cond, rel=1e-10)
        assert result.residual_norm == pytest.approx(local.residual_norm, rel=1e-12)


def test_sketched_block_srht_is_a_sketch_and_solve(problem):
    # sketch-and-solve residual: at most (1 + eps) times the optimum with m = 2000 >> d = 12
    A, b = problem
    optimum = np.linalg.norm(A @ scipy.linalg.lstsq(A, b)[0] - b)
    for seed in range(5):
        result = ld.lstsq_sketched(*_chunked(A, b, 1500), sketch="srht", m=1000, random_state=seed)
        assert optimum <= result.residual_norm < 1.05 * optimum


def test_estimator_equals_in_memory(problem):
    A, b = problem
    X, y = A[:, :-1], b
    for mode in ("solve", "precondition"):
        local = SketchedLinearRegression(sketch="sparse_sign", mode=mode, random_state=0).fit(X, y)
        model = ld.SketchedLinearRegression(sketch="sparse_sign", mode=mode, random_state=0).fit(
            da.from_array(X, chunks=(1000, 11)), da.from_array(y, chunks=1000))
        assert isinstance(model.coef_, np.ndarray) and model.n_features_in_ == 11
        np.testing.assert_allclose(model.coef_, local.coef_, rtol=1e-12, atol=1e-12 * np.abs(local.coef_).max())
        assert model.intercept_ == pytest.approx(local.intercept_, rel=1e-10, abs=1e-12)
        prediction = model.predict(da.from_array(X, chunks=(1000, 11)))
        assert isinstance(prediction, da.Array)
        np.testing.assert_allclose(prediction.compute(), local.predict(X), rtol=1e-10, atol=1e-9)


def test_problem_errors(problem):
    A, b = problem
    Ad = da.from_array(A, chunks=(1000, 12))
    with pytest.raises(ShapeError, match="tall"):
        ld.lstsq_precondition(Ad[:10], b[:10])
    with pytest.raises(ShapeError, match="b"):
        ld.lstsq_precondition(Ad, b[:-1])
    with pytest.raises(ValidationError, match="sketch must be one of"):
        ld.lstsq_precondition(Ad, b, sketch="srtt")
    with pytest.raises(ValidationError, match=r"m must be in \[13, 6000\]"):
        ld.lstsq_sketched(Ad, b, m=5)
    with pytest.raises(ValidationError, match="split_every"):
        ld.lstsq_sketched(Ad, b, split_every=1)


def test_zero_b_and_small_problems_as_in_memory(problem):
    A, b = problem
    zero = ld.lstsq_precondition(*_chunked(A, 0 * b, 1500), random_state=0)
    np.testing.assert_array_equal(zero.x, 0.0)
    assert (zero.converged, zero.m, zero.residual_norm) == (True, 0, 0.0)
    # n <= 4 d: no sketch would help, so the in-memory function solves directly, and so does this one (a TSQR)
    small, rhs = A[:40], b[:40]
    result = ld.lstsq_precondition(*_chunked(small, rhs, 15), random_state=0)
    local = lstsq_precondition(small, rhs, random_state=0)
    assert (result.method, result.m, local.method, local.m) == ("tsqr", 0, "lapack", 0)
    np.testing.assert_allclose(result.x, local.x, rtol=1e-10, atol=1e-12 * np.abs(local.x).max())


def test_sketched_several_right_hand_sides(problem):
    A, b = problem
    B = np.stack([b, 2 * b - 1], axis=1)
    local = lstsq_sketched(A, B, sketch="gaussian", m=300, random_state=2)
    result = ld.lstsq_sketched(da.from_array(A, chunks=(2000, 12)), da.from_array(B, chunks=(2000, 2)),
                               sketch="gaussian", m=300, random_state=2)
    assert result.x.shape == (12, 2)
    np.testing.assert_allclose(result.x, local.x, rtol=1e-12, atol=1e-12 * np.abs(local.x).max())


def test_estimator_sample_weight_equals_in_memory(problem):
    A, b = problem
    weights = np.random.default_rng(3).uniform(0, 2, size=A.shape[0])
    local = SketchedLinearRegression(mode="precondition", random_state=0).fit(A[:, :-1], b, sample_weight=weights)
    model = ld.SketchedLinearRegression(mode="precondition", sketch="sparse_sign", random_state=0).fit(
        da.from_array(A[:, :-1], chunks=(1000, 11)), b, sample_weight=weights)
    np.testing.assert_allclose(model.coef_, local.coef_, rtol=1e-10, atol=1e-12 * np.abs(local.coef_).max())
    with pytest.raises(ValidationError, match="non-negative"):
        ld.SketchedLinearRegression().fit(da.from_array(A[:, :-1], chunks=(1000, 11)), b, sample_weight=-weights)


def test_row_operator_products(problem):
    A, b = problem
    operator = ld.RowOperator(da.from_array(A, chunks=(1300, 12)), split_every=2)
    v, U = np.random.default_rng(4).standard_normal(12), np.stack([b, -b], axis=1)
    np.testing.assert_allclose(operator @ v, A @ v, rtol=1e-13, atol=1e-12 * np.abs(A @ v).max())
    np.testing.assert_allclose(operator.T @ b, A.T @ b, rtol=1e-12)
    np.testing.assert_allclose(operator.T @ U, A.T @ U, rtol=1e-12)
    for product, name in ((lambda: operator @ v[:-1], "v"), (lambda: operator.T @ b[:-1], "u"),
                          (lambda: operator @ np.ones((12, 2, 2)), "v")):
        with pytest.raises(ShapeError, match=f"{name} must have shape"):
            product()


@pytest.mark.parametrize("coef", [None, 0.5])
def test_row_operator_product_pair_is_one_pass(problem, coef):
    """w = A v + c u, A^T w and ||w|| from one pass over the chunks: each chunk is computed once."""
    from unittest import mock

    A, b = problem
    chunked = da.from_array(A, chunks=(1300, 12))
    operator = ld.RowOperator(chunked)
    v = np.random.default_rng(5).standard_normal(12)
    w_expected = A @ v if coef is None else A @ v + coef * b
    with mock.patch("dask.compute", wraps=__import__("dask").compute) as compute:
        w, gradient, size = operator.product_pair(v, None if coef is None else b, coef or 0.0)
    assert compute.call_count == 1
    scale = np.abs(w_expected).max()
    np.testing.assert_allclose(w, w_expected, rtol=1e-13, atol=1e-13 * scale)
    np.testing.assert_allclose(gradient, A.T @ w_expected, rtol=1e-11, atol=1e-11 * np.abs(A).max() * scale)
    assert size == pytest.approx(np.linalg.norm(w_expected), rel=1e-12)
    with pytest.raises(ShapeError, match="v of shape"):
        operator.product_pair(v[:-1])
    with pytest.raises(ShapeError, match="u of shape"):
        operator.product_pair(v, b[:-1], 1.0)
    nothing, same_gradient, same_size = operator.product_pair(v, None if coef is None else b, coef or 0.0,
                                                              gather=False)
    assert nothing is None and same_size == size
    np.testing.assert_array_equal(same_gradient, gradient)


def test_without_persisting_the_answer_is_the_same(problem):
    A, b = problem
    kept = ld.lstsq_precondition(*_chunked(A, b, 2000), method="lsqr", random_state=2)
    recomputed = ld.lstsq_precondition(*_chunked(A, b, 2000), method="lsqr", random_state=2, persist=False)
    np.testing.assert_array_equal(recomputed.x, kept.x)


@pytest.mark.parametrize("method", ["cholqr", "lsqr"])
def test_iterations_pass_over_a_only_through_product_pair(problem, method):
    """Each tested iterate (Cholesky QR) and each LSQR step is one product_pair pass; no separate A @ v, A.T @ u
    or residual-norm pass, and the reported residual norm is the exact one."""
    from unittest import mock

    A, b = problem
    with mock.patch.object(ld.RowOperator, "product_pair", autospec=True,
                           side_effect=ld.RowOperator.product_pair) as pair, \
            mock.patch.object(ld.RowOperator, "__matmul__", autospec=True,
                              side_effect=ld.RowOperator.__matmul__) as matvec, \
            mock.patch.object(ld.RowOperator, "rmatvec", autospec=True, side_effect=ld.RowOperator.rmatvec) as rmatvec:
        result = ld.lstsq_precondition(*_chunked(A, b, 1500), method=method, random_state=0)
    assert result.converged and rmatvec.call_count == 0
    if method == "cholqr":
        assert pair.call_count == result.iterations and matvec.call_count == 0
    else:
        assert pair.call_count >= result.iterations + 1 and matvec.call_count == 1  # the residual norm of x
    assert result.residual_norm == pytest.approx(np.linalg.norm(A @ result.x - b), rel=1e-12)
