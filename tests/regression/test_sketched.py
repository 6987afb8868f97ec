"""Sketch-and-solve: the l_inf statistic R of the issue, LAPACK references, rank deficiency, bad input."""

import functools
import math
import warnings

import array_api_strict
import numpy as np
import pytest
import scipy.linalg
import scipy.sparse

from linalgkit.datasets._regression import make_lstsq_problem
from linalgkit.exceptions import DTypeError, NonFiniteError, RankDeficiencyWarning, ShapeError, ValidationError
from linalgkit.regression import lstsq_sketched, sketch_size
from linalgkit.sketch import make_sketch
from tests.conftest import to_numpy

DENSE = ["gaussian", "rademacher", "srht", "srtt", "pooled"]
N, D, SEEDS = 2**13, 32, range(10)


@functools.lru_cache(maxsize=None)
def _problem(seed, coherent):
    return make_lstsq_problem(N, D, cond=1e3, residual_norm=1.0, coherent=coherent, random_state=seed)


def _statistic(problem, x):
    """R = sqrt(d) ||x - x*||_inf / (||r|| ||A^+||)."""
    d = problem.A.shape[1]
    return math.sqrt(d) * np.max(np.abs(x - problem.x)) / (np.linalg.norm(problem.residual) * problem.pinv_norm)


def _statistics(kind, m, coherent):
    return np.array([_statistic(_problem(s, coherent), lstsq_sketched(_problem(s, coherent).A, _problem(s, coherent).b,
                                                                      sketch=kind, m=m, random_state=100 + s).x)
                     for s in SEEDS])


@pytest.mark.parametrize("coherent", [False, True], ids=["incoherent", "coherent"])
@pytest.mark.parametrize("kind", DENSE)
def test_linf_statistic_at_m_16d(kind, coherent):
    m = 16 * D
    R = _statistics(kind, m, coherent)
    assert np.median(R) <= 1.2 * math.sqrt(D / m)
    assert np.max(R) <= 2 * math.sqrt(D / m)


@pytest.mark.parametrize("kind", DENSE)
def test_linf_statistic_falls_as_m_grows(kind):
    assert np.median(_statistics(kind, 4 * D, False)) / np.median(_statistics(kind, 16 * D, False)) >= 1.4


def test_gaussian_residual_identity():
    # E ||A (x' - x*)||^2 = ||r||^2 d / (m - d - 1) for a Gaussian sketch (closed form, research note A.4)
    m, problem = 4 * D, _problem(0, False)
    errors = [np.linalg.norm(problem.A @ (lstsq_sketched(problem.A, problem.b, sketch="gaussian", m=m,
                                                         random_state=s).x - problem.x)) ** 2 for s in range(20)]
    ratio = np.mean(errors) / (D / (m - D - 1))
    assert 0.8 <= ratio <= 1.2


def test_countsketch_on_coherent_matrix_is_detected():
    # U lives on the first d rows: SA loses rank exactly when two of those rows share a bucket
    m, detected, collided = 16 * D, [], []
    for s in SEEDS:
        problem = _problem(s, True)
        rows = make_sketch("countsketch", m, N, random_state=100 + s).rows[:D, 0]
        collided.append(len(np.unique(rows)) < D)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = lstsq_sketched(problem.A, problem.b, sketch="countsketch", m=m, random_state=100 + s)
        flagged = any(issubclass(w.category, RankDeficiencyWarning) for w in caught)
        detected.append(flagged)
        assert (result.rank < D) == flagged
    assert any(collided)
    assert detected == collided


def test_orthogonal_sketch_reproduces_lapack(rng):
    # the SRTT with m = n is an orthogonal matrix, so sketch-and-solve is exact least squares
    A, b = rng.standard_normal((300, 12)), rng.standard_normal(300)
    result = lstsq_sketched(A, b, sketch="srtt", m=300, random_state=0)
    np.testing.assert_allclose(result.x, scipy.linalg.lstsq(A, b)[0], rtol=1e-10)
    assert result.residual_norm == pytest.approx(np.linalg.norm(A @ result.x - b), rel=1e-12)


@pytest.mark.parametrize("kind", ["gaussian", "srht", "sparse_sign"])
def test_matches_lapack_on_the_explicit_sketch(kind, rng):
    A, b = rng.standard_normal((500, 10)), rng.standard_normal(500)
    result = lstsq_sketched(A, b, sketch=kind, m=80, random_state=4)
    S = make_sketch(kind, 80, 500, random_state=4).todense()
    np.testing.assert_allclose(result.x, scipy.linalg.lstsq(S @ A, S @ b)[0], rtol=1e-10)
    assert result.cond == pytest.approx(np.linalg.cond(S @ A), rel=1e-8)
    assert (result.m, result.sketch, result.rank) == (80, kind, 10)


def test_rank_deficient_matrix_gives_min_norm_sketched_solution(rng):
    A = rng.standard_normal((400, 6))
    A[:, 5] = A[:, 4]
    b = rng.standard_normal(400)
    with pytest.warns(RankDeficiencyWarning, match="rank 5 < d = 6"):
        result = lstsq_sketched(A, b, sketch="gaussian", m=60, random_state=1)
    S = make_sketch("gaussian", 60, 400, random_state=1).todense()
    np.testing.assert_allclose(result.x, scipy.linalg.lstsq(S @ A, S @ b)[0], rtol=1e-8)
    assert result.rank == 5 and result.cond > 1e12


@pytest.mark.parametrize("kind", ["srht", "sparse_sign", "countsketch", "gaussian"])
def test_sparse_matches_dense(kind, rng):
    A = scipy.sparse.random(2000, 15, density=0.2, format="csr", random_state=3) + scipy.sparse.eye(2000, 15)
    b = rng.standard_normal(2000)
    sparse = lstsq_sketched(A, b, sketch=kind, m=300, random_state=2)
    dense = lstsq_sketched(A.toarray(), b, sketch=kind, m=300, random_state=2)
    np.testing.assert_allclose(sparse.x, dense.x, rtol=1e-10)


def test_float32(rng):
    A, b = rng.standard_normal((3000, 8)).astype(np.float32), rng.standard_normal(3000).astype(np.float32)
    result = lstsq_sketched(A, b, m=400, random_state=0)
    assert result.x.dtype == np.float32
    reference = lstsq_sketched(A.astype(np.float64), b.astype(np.float64), m=400, random_state=0).x
    np.testing.assert_allclose(result.x, reference, rtol=1e-3, atol=1e-4)


def test_array_api_strict_matches_numpy(rng):
    A, b = rng.standard_normal((600, 5)), rng.standard_normal(600)
    ours = lstsq_sketched(array_api_strict.asarray(A), array_api_strict.asarray(b), sketch="srht", m=100,
                          random_state=0)
    np.testing.assert_allclose(to_numpy(ours.x), lstsq_sketched(A, b, sketch="srht", m=100, random_state=0).x,
                               rtol=1e-12)


def test_default_m_follows_the_rule(rng):
    A, b = rng.standard_normal((4096, 8)), rng.standard_normal(4096)
    assert lstsq_sketched(A, b, eps=0.5, delta=0.01, random_state=0).m == sketch_size(8, eps=0.5, delta=0.01)


@pytest.mark.parametrize("d, eps, delta", [(8, 0.5, 0.01), (32, 0.25, 0.1), (200, 0.5, 0.01), (1, 1.0, 0.5)])
def test_sketch_size_brackets_the_closed_form(d, eps, delta):
    # m is the smallest integer with m >= 2 d log(4d/delta) / (eps^2 s(m)^2),
    # where s(m) = 1 - sqrt(d/m) - sqrt(2 log(2/delta)/m)
    m = sketch_size(d, eps=eps, delta=delta)
    floor = 2 * d * math.log(4 * d / delta) / eps**2

    def s(k):
        return 1 - math.sqrt(d / k) - math.sqrt(2 * math.log(2 / delta) / k)

    assert m >= floor / s(m) ** 2
    assert s(m - 1) <= 0 or m - 1 < floor / s(m - 1) ** 2
    assert sketch_size(d, eps=eps / 2, delta=delta) > m > sketch_size(d, eps=eps, delta=min(0.9, delta * 10))


def test_gaussian_rule_holds_on_instances():
    d, eps, delta = 8, 0.5, 0.1
    m = sketch_size(d, eps=eps, delta=delta)
    problem = make_lstsq_problem(4 * m, d, cond=100.0, random_state=0)
    R = [_statistic(problem, lstsq_sketched(problem.A, problem.b, sketch="gaussian", eps=eps, delta=delta,
                                            random_state=s).x) for s in range(10)]
    assert max(R) <= eps


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(eps=0.0), ValidationError, r"eps must be in \(0.0, 1.0\]"),
    (dict(eps=1.5), ValidationError, "eps must be in"),
    (dict(delta=1.0), ValidationError, r"delta must be in \(0.0, 1.0\)"),
    (dict(eps=0.05), ValidationError, "eps must be larger for n = 200"),
    (dict(m=5), ValidationError, r"m must be in \[7, 200\]"),
    (dict(m=201), ValidationError, r"m must be in \[7, 200\]"),
    (dict(m=50.0), TypeError, "m must be an int"),
    (dict(sketch="fjlt"), ValidationError, "sketch must be one of"),
])
def test_bad_parameters(kwargs, error, match, rng):
    with pytest.raises(error, match=match):
        lstsq_sketched(rng.standard_normal((200, 6)), rng.standard_normal(200), **kwargs)


def test_bad_arrays(rng):
    A, b = rng.standard_normal((50, 4)), rng.standard_normal(50)
    with pytest.raises(ShapeError, match="A must be 2-D"):
        lstsq_sketched(b, b)
    with pytest.raises(ShapeError, match="A must be tall"):
        lstsq_sketched(A[:4], b[:4])
    with pytest.raises(ShapeError, match="b must have as many rows as A"):
        lstsq_sketched(A, b[:49])
    with pytest.raises(ShapeError, match=r"b must be 1-D \(one right-hand side\) or 2-D"):
        lstsq_sketched(A, A[:, :, None])
    bad = A.copy()
    bad[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match="A must be finite"):
        lstsq_sketched(bad, b)
    with pytest.raises(NonFiniteError, match="b must be finite"):
        lstsq_sketched(A, np.full(50, np.inf))
    with pytest.raises(DTypeError, match="A must have a floating dtype"):
        lstsq_sketched(A.astype(complex), b)
    with pytest.raises(DTypeError, match="b must have a floating dtype"):
        lstsq_sketched(A, b.astype(complex))
