"""Sensitivity sampling: the l_p embedding on the heavy-tailed design (issue 13) and the sample's bookkeeping."""

import functools

import numpy as np
import pytest
import scipy.sparse

from linalgkit.datasets._sampling import make_heavy_tailed_design
from linalgkit.sampling import SCORES, leverage_scores, lewis_weights, sampling_scores, sensitivity_sample

from ..conftest import to_numpy


@functools.lru_cache(maxsize=1)
def _embedding_case():
    A = make_heavy_tailed_design(20_000, 10, random_state=0)
    X = np.hstack([np.random.default_rng(1).standard_normal((10, 2000)), np.eye(10)])
    return A, X


def _max_distortion(X, sample, norms, p):
    return float(np.max(np.abs(np.linalg.norm(sample.A @ X, ord=p, axis=0) / norms - 1)))


@pytest.mark.parametrize("p", [1, 1.5, 3])
def test_lewis_embeds_where_uniform_fails(p):
    """Heavy-tailed design, m = 1000, 2000 Gaussian directions and e_1..e_d, 3 seeds (issue 13)."""
    A, X = _embedding_case()
    norms = np.linalg.norm(A @ X, ord=p, axis=0)
    w = sampling_scores(A, p, random_state=0)
    lewis = [_max_distortion(X, sensitivity_sample(A, p, 1000, scores=w, random_state=seed), norms, p)
             for seed in range(3)]
    uniform = [_max_distortion(X, sensitivity_sample(A, p, 1000, scores="uniform", random_state=seed), norms, p)
               for seed in range(3)]
    assert max(lewis) <= 0.25
    assert min(uniform) >= 0.5


def test_lewis_scores_are_the_lewis_weights(rng):
    A = make_heavy_tailed_design(3000, 5, random_state=1)
    by_name = sensitivity_sample(A, 1, 300, random_state=4)
    given = sensitivity_sample(A, 1, 300, scores=lewis_weights(A, 1, rtol=1e-3, random_state=0).weights,
                               random_state=4)
    np.testing.assert_array_equal(by_name.indices, given.indices)
    np.testing.assert_allclose(by_name.weights, given.weights, rtol=1e-8)


def test_weights_rows_and_expected_size(rng):
    A, b = rng.standard_normal((3000, 4)), rng.standard_normal(3000)
    tau = leverage_scores(np.column_stack([A, b]))
    sample = sensitivity_sample(A, 1.5, 300, scores="leverage", b=b, random_state=0)
    q = np.minimum(300 * tau / tau.sum(), 1)
    np.testing.assert_allclose(sample.probabilities, q[sample.indices], rtol=1e-10)
    np.testing.assert_allclose(sample.weights, q[sample.indices] ** (-1 / 1.5), rtol=1e-12)
    np.testing.assert_allclose(sample.A, A[sample.indices] * sample.weights[:, None], rtol=1e-12)
    np.testing.assert_allclose(sample.b, b[sample.indices] * sample.weights, rtol=1e-12)
    assert sample.expected_size == pytest.approx(q.sum(), rel=1e-12)
    assert np.all(np.diff(sample.indices) > 0)


def test_unbiased_lp_norm_on_average(rng):
    A, x = rng.standard_normal((2000, 3)), rng.standard_normal(3)
    w = sampling_scores(A, 1, random_state=0)
    estimates = [np.sum(np.abs(sensitivity_sample(A, 1, 200, scores=w, random_state=seed).A @ x))
                 for seed in range(100)]
    assert np.mean(estimates) == pytest.approx(np.sum(np.abs(A @ x)), rel=0.02)


@pytest.mark.parametrize("scores", [s for s in SCORES if s not in ("sensitivity", "combined")])
def test_every_score_kind_samples(scores, rng):
    A = rng.standard_normal((800, 3))
    sample = sensitivity_sample(A, 1, 100, scores=scores, random_state=0)
    assert sample.scores == scores and 50 < sample.A.shape[0] < 150


@pytest.mark.parametrize("scores, p", [("sensitivity", 1), ("combined", 3)])
def test_sensitivity_based_scores(scores, p, rng):
    A = rng.standard_normal((120, 3))
    sample = sensitivity_sample(A, p, 40, scores=scores, random_state=0)
    assert sample.scores == scores and 20 < sample.A.shape[0] < 60


def test_given_scores(rng):
    A = rng.standard_normal((200, 3))
    given = sensitivity_sample(A, 1, 60, scores=np.ones(200), random_state=0)
    assert given.scores == "given" and np.allclose(given.probabilities, 60 / 200)


def test_sparse_input_stays_sparse(rng):
    A = scipy.sparse.random(4000, 6, density=0.5, random_state=2, format="csr")
    sample = sensitivity_sample(A, 1, 400, random_state=0)
    assert scipy.sparse.issparse(sample.A)
    np.testing.assert_allclose(sample.A.toarray(), A[sample.indices].toarray() * sample.weights[:, None])


def test_array_api_path(xp):
    A = np.asarray(make_heavy_tailed_design(2000, 4, random_state=0))
    sample = sensitivity_sample(xp.asarray(A), 1, 200, random_state=0)
    reference = sensitivity_sample(A, 1, 200, random_state=0)
    np.testing.assert_array_equal(to_numpy(sample.indices), reference.indices)
    np.testing.assert_allclose(to_numpy(sample.A), reference.A, rtol=1e-8)
