"""SketchedLinearRegression: the scikit-learn contract and agreement with LinearRegression."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import linalgkit
from linalgkit.regression import SketchedLinearRegression, sketch_size


# Skipped by scikit-learn itself here: check_array_api_input (needs SCIPY_ARRAY_API=1) and
# check_regressor_data_not_an_array (needs pandas, not a test dependency).
def _expected_failures(estimator):
    """Checks that fit wide data: sketched least squares needs more samples than coefficients (a ShapeError)."""
    wide = "fits as many coefficients as samples or more; sketched least squares needs n_samples > n_coefficients"
    return {name: wide for name in ("check_sample_weight_equivalence_on_dense_data",
                                    "check_sample_weight_equivalence_on_sparse_data", "check_regressor_multioutput")}


@parametrize_with_checks([SketchedLinearRegression(random_state=0),
                          SketchedLinearRegression(mode="precondition", sketch="sparse_sign", random_state=0)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_contract(estimator, check):
    check(estimator)


def _data(rng, n=4000, d=6, sparse=False):
    X = scipy.sparse.random(n, d, density=0.3, format="csr", random_state=0) if sparse else rng.standard_normal((n, d))
    coef = rng.standard_normal(d)
    return X, X @ coef + 2.5 + 0.1 * rng.standard_normal(n)


def test_precondition_mode_matches_linear_regression(rng):
    X, y = _data(rng)
    ours = SketchedLinearRegression(mode="precondition", sketch="sparse_sign", random_state=0).fit(X, y)
    reference = LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-9)
    assert ours.intercept_ == pytest.approx(reference.intercept_, rel=1e-9)
    np.testing.assert_allclose(ours.predict(X), reference.predict(X), rtol=1e-9)


def test_sparse_precondition_mode_matches_lapack(rng):
    # LinearRegression's sparse path is LSQR with a loose tolerance, so compare with gelsd on [X 1]
    X, y = _data(rng, sparse=True)
    ours = SketchedLinearRegression(mode="precondition", random_state=0).fit(X, y)
    reference = scipy.linalg.lstsq(np.column_stack([X.toarray(), np.ones(X.shape[0])]), y)[0]
    np.testing.assert_allclose(np.append(ours.coef_, ours.intercept_), reference, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), X @ reference[:-1] + reference[-1], rtol=1e-9)


def test_solve_mode_is_within_its_guarantee(rng):
    X, y = _data(rng)
    model = SketchedLinearRegression(eps=0.5, random_state=0).fit(X, y)
    reference = LinearRegression().fit(X, y)
    design = np.column_stack([X, np.ones(len(X))])
    residual = np.linalg.norm(reference.predict(X) - y)
    bound = 0.5 / np.sqrt(design.shape[1]) * residual * np.linalg.norm(np.linalg.pinv(design), 2)
    error = np.abs(np.append(model.coef_ - reference.coef_, model.intercept_ - reference.intercept_)).max()
    assert error <= bound
    assert model.result_.m == sketch_size(7, eps=0.5, delta=0.01)
    assert model.score(X, y) == pytest.approx(reference.score(X, y), rel=1e-3)


def test_without_intercept(rng):
    X, y = _data(rng)
    model = SketchedLinearRegression(mode="precondition", fit_intercept=False, random_state=0).fit(X, y)
    reference = LinearRegression(fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9)
    assert model.intercept_ == 0.0


def test_random_state_and_clone(rng):
    X, y = _data(rng)
    first = SketchedLinearRegression(random_state=3).fit(X, y)
    again = clone(first).fit(X, y)
    np.testing.assert_array_equal(first.coef_, again.coef_)
    assert first.get_params()["random_state"] == 3


def test_too_few_samples(rng):
    with pytest.raises(ValueError, match="n_samples = 4 for 4 coefficients"):
        SketchedLinearRegression().fit(rng.standard_normal((4, 3)), rng.standard_normal(4))


@pytest.mark.parametrize("params, match", [
    (dict(mode="exact"), "'mode' parameter"),
    (dict(eps=0.0), "'eps' parameter"),
    (dict(sketch="fft"), "'sketch' parameter"),
    (dict(m=0), "'m' parameter"),
])
def test_bad_hyper_parameters(params, match, rng):
    with pytest.raises(ValueError, match=match):
        SketchedLinearRegression(**params).fit(rng.standard_normal((50, 2)), rng.standard_normal(50))


@pytest.mark.parametrize("mode", ["solve", "precondition"])
@pytest.mark.parametrize("random_state", [7, None, np.random.default_rng(7), np.random.RandomState(7)],
                         ids=["int", "None", "Generator", "RandomState"])
def test_random_state_kinds_give_results(mode, random_state, rng):
    X, y = _data(rng)
    model = SketchedLinearRegression(mode=mode, random_state=random_state).fit(X, y)
    reference = LinearRegression().fit(X, y)
    tolerance = 1e-9 if mode == "precondition" else 0.05
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("mode", ["solve", "precondition"])
def test_same_int_seed_same_coefficients(mode, rng):
    X, y = _data(rng)
    first = SketchedLinearRegression(mode=mode, random_state=5).fit(X, y).coef_
    again = SketchedLinearRegression(mode=mode, random_state=5).fit(X, y).coef_
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("random_state", ["seed", 1.5, -1])
def test_bad_random_state_is_a_parameter_error(random_state, rng):
    with pytest.raises(InvalidParameterError, match="'random_state' parameter"):
        SketchedLinearRegression(random_state=random_state).fit(rng.standard_normal((50, 2)), rng.standard_normal(50))


def test_too_few_samples_is_a_linalgkit_error(rng):
    with pytest.raises(linalgkit.LinalgkitError, match="more samples than coefficients"):
        SketchedLinearRegression().fit(rng.standard_normal((4, 3)), rng.standard_normal(4))


def test_precondition_mode_uses_the_default_method(rng):
    X, y = _data(rng)
    dense = SketchedLinearRegression(mode="precondition", random_state=0).fit(X, y)
    sparse = SketchedLinearRegression(mode="precondition", random_state=0).fit(scipy.sparse.csr_matrix(X), y)
    assert (dense.result_.method, sparse.result_.method) == ("cholqr", "lsqr")
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9)
