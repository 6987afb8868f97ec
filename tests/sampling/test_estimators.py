"""LpRegression and SensitivitySampler: scikit-learn contract and agreement with the functions and peers."""

import numpy as np
import pytest
import scipy.sparse
from sklearn.linear_model import QuantileRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_estimator

from linalgkit._timing import TourRow
from linalgkit.datasets._sampling import make_l1_regression_problem
from linalgkit.sampling import LpRegression, SensitivitySampler, sensitivity_sample
from linalgkit.sampling._tour import tour_row


@pytest.fixture(scope="module")
def problem():
    return make_l1_regression_problem(3000, 4, heavy_tailed=False, random_state=0)


def test_exact_matches_quantile_regressor(problem):
    X, y = problem.A, problem.b
    peer = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    model = LpRegression(sampling=None).fit(X, y)
    assert np.sum(np.abs(model.predict(X) - y)) == pytest.approx(np.sum(np.abs(peer.predict(X) - y)), rel=1e-9)


def test_sampled_is_close_to_the_optimum(problem):
    X, y = problem.A, problem.b
    exact = LpRegression(sampling=None).fit(X, y)
    model = LpRegression(m=400, random_state=0).fit(X, y)
    assert model.result_.objective <= 1.05 * exact.result_.objective
    np.testing.assert_allclose(model.coef_, problem.x, atol=0.15)


def test_sparse_and_no_intercept(problem):
    X = scipy.sparse.csr_matrix(np.where(np.abs(problem.A) > 0.3, problem.A, 0.0))
    dense = LpRegression(p=1.5, sampling=None, fit_intercept=False).fit(X.toarray(), problem.b)
    sparse = LpRegression(p=1.5, sampling=None, fit_intercept=False).fit(X, problem.b)
    assert sparse.intercept_ == 0.0
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6)


def test_bad_hyper_parameter_raises_sklearn_error(problem):
    with pytest.raises(InvalidParameterError, match="'p' parameter"):
        LpRegression(p=0.5).fit(problem.A, problem.b)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", [LpRegression(sampling=None), LpRegression(random_state=0),
                                       SensitivitySampler(m=20, random_state=0)], ids=["exact", "sampled", "sampler"])
def test_passes_check_estimator(estimator):
    check_estimator(estimator)


def test_sampler_fit_then_sample_matches_the_function(problem):
    X, y = problem.A, problem.b
    sampler = SensitivitySampler(p=1, m=300, random_state=0).fit(X, y)
    coreset = sampler.sample(X, y)
    reference = sensitivity_sample(X, 1, 300, scores=sampler.scores_, b=y, random_state=0)
    np.testing.assert_array_equal(coreset.indices, reference.indices)
    assert sampler.scores_.shape == (3000,) and sampler.n_samples_fit_ == 3000


def test_sampler_rejects_other_rows(problem):
    sampler = SensitivitySampler(m=100, random_state=0).fit(problem.A)
    with pytest.raises(ValueError, match="n_samples_fit_ = 3000 rows"):
        sampler.sample(problem.A[:100])


def test_tour_row_is_a_tour_row():
    row = tour_row()
    assert isinstance(row, TourRow) and row.family == "sampling" and row.seconds > 0


def test_every_public_function_has_a_capability_entry():
    import inspect

    import linalgkit.sampling as family
    from linalgkit._backend import CAPABILITIES

    functions = [name for name in family.__all__ if inspect.isfunction(getattr(family, name))]
    assert functions and all(f"linalgkit.sampling.{name}" in CAPABILITIES for name in functions)
