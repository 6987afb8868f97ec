"""SPD estimators: check_estimator (with the documented SPD exceptions) and scikit-learn's parameter validation,
SPD analogues of the 2-D checks, agreement with pyRiemann and with the functions they call, random_state, the
deprecated tol, and accuracy on simulated covariances."""

import pickle
import warnings

import numpy as np
import pyriemann.classification
import pyriemann.tangentspace
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_estimator, check_param_validation

from linalgkit import spd
from linalgkit.datasets._spd import make_spd_classification
from linalgkit.exceptions import DTypeError, LinalgkitError, NotSPDError, ShapeError
from linalgkit.spd import MDM, FrechetMean, SPDSlicedWassersteinKernel, TangentSpace, mean
from linalgkit.spd._estimators import EXPECTED_FAILED_CHECKS
from tests.spd.test_metrics import _close

ESTIMATORS = [TangentSpace(), FrechetMean(), MDM(), SPDSlicedWassersteinKernel(n_projections=20, random_state=0)]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_check_estimator_passes_except_documented_spd_checks(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = EXPECTED_FAILED_CHECKS[type(estimator).__name__]
        results = check_estimator(clone(estimator), on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed == set(expected)  # exactly the 3-D checks: every other check passes
    assert all(reason.startswith("3-D input:") for reason in expected.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(clone(estimator), expected_failed_checks=expected, on_fail=None)
    assert not [r["check_name"] for r in results if r["status"] == "failed"]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_parameter_constraints_cover_every_parameter_and_reject_bad_types(estimator):
    check_param_validation(type(estimator).__name__, estimator)


@pytest.mark.parametrize(("estimator", "params"), [
    (FrechetMean(), {"metric": "riemann"}), (FrechetMean(), {"maxiter": 0}), (FrechetMean(), {"rtol": 1.0}),
    (TangentSpace(), {"atol": -1e-3}), (TangentSpace(), {"reference": "identity"}), (MDM(), {"regularize": 2.0}),
    (MDM(), {"tol": -1.0}), (SPDSlicedWassersteinKernel(), {"metric": "bures_wasserstein"}),
    (SPDSlicedWassersteinKernel(), {"sigma": 0.0}), (SPDSlicedWassersteinKernel(), {"n_quantiles": 2.0}),
], ids=str)
def test_bad_hyper_parameters_raise_invalid_parameter_error(data, estimator, params):
    X, y = data
    with pytest.raises(InvalidParameterError, match=f"'{next(iter(params))}' parameter of {type(estimator).__name__}"):
        _fitted(clone(estimator).set_params(**params), X, y)


def test_metric_objects_pass_the_metric_constraint(data):
    X, y = data
    assert MDM(metric=spd.power_euclidean(0.5)).fit(X, y).score(X, y) > 0.8


@pytest.fixture(scope="module")
def data():
    return make_spd_classification(120, 6, class_sep=1.0, random_state=0)


def _fitted(estimator, X, y):
    if isinstance(estimator, SPDSlicedWassersteinKernel):
        return estimator.fit(X[None, :60]), X[None, 60:]
    return estimator.fit(X, y), X


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_spd_analogues_of_the_generic_checks(estimator, data):
    X, y = data
    est = clone(estimator)
    with pytest.raises(NotFittedError):
        est.transform(X[None] if isinstance(est, SPDSlicedWassersteinKernel) else X)
    params = est.get_params()
    fitted, X_new = _fitted(est, X, y)
    assert fitted is est and est.get_params() == params
    first = np.asarray(est.transform(X_new))
    again, _ = _fitted(clone(est), X, y)
    np.testing.assert_array_equal(np.asarray(again.transform(X_new)), first)  # idempotent, random_state respected
    np.testing.assert_array_equal(np.asarray(pickle.loads(pickle.dumps(est)).transform(X_new)), first)
    if not isinstance(est, SPDSlicedWassersteinKernel):
        order = np.random.default_rng(0).permutation(len(X))
        np.testing.assert_allclose(est.transform(X[order]), first[order], rtol=1e-12)
        _fitted(clone(est), X.astype(np.float32), y)
        with pytest.raises(ShapeError, match="fitted"):
            est.transform(X[:, :3, :3])
        with pytest.raises(ShapeError, match="square matrices"):
            clone(est).fit(X[:, 0, :], y)


def test_tangent_space_matches_pyriemann(data):
    X, _ = data
    ours = TangentSpace(rtol=1e-12).fit(X)
    theirs = pyriemann.tangentspace.TangentSpace(metric="riemann").fit(X)
    _close(ours.reference_, theirs.reference_, 1e-7)  # pyRiemann's mean stops at its own tol 1e-8
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-6)
    ref = np.asarray(ours.reference_)
    _close(TangentSpace(reference=ref).fit(X).transform(X), ours.transform(X))
    _close(ours.inverse_transform(ours.transform(X)), X)


def test_mdm_matches_pyriemann(data):
    X, y = data
    ours = MDM(rtol=1e-12).fit(X[:80], y[:80])
    theirs = pyriemann.classification.MDM(metric="riemann").fit(X[:80], y[:80])
    np.testing.assert_allclose(ours.transform(X[80:]), theirs.transform(X[80:]), rtol=1e-6)
    np.testing.assert_array_equal(ours.predict(X[80:]), theirs.predict(X[80:]))
    np.testing.assert_allclose(ours.predict_proba(X[80:]), theirs.predict_proba(X[80:]), atol=1e-6)


@pytest.mark.parametrize("metric", ["affine_invariant", "log_euclidean", "bures_wasserstein", "log_cholesky"])
def test_classifiers_separate_simulated_classes(data, metric):
    X, y = data
    mdm = cross_val_score(MDM(metric=metric), X, y, cv=3).mean()
    ts = cross_val_score(make_pipeline(TangentSpace(metric=metric), LogisticRegression()), X, y, cv=3).mean()
    assert mdm > 0.8 and ts > 0.8, (mdm, ts)
    proba = MDM(metric=metric).fit(X, y).predict_proba(X)
    _close(proba.sum(axis=1), np.ones(len(X)))


def test_frechet_mean_reports_convergence(data):
    X, _ = data
    est = FrechetMean(rtol=1e-12).fit(X)
    assert est.converged_ and est.n_iter_ >= 1 and est.gradient_norm_ <= 1e-12
    _close(est.mean_, mean(X, rtol=1e-12))
    _close(est.transform(X)[:, 0], np.sqrt(np.sum(np.log(np.linalg.eigvalsh(
        np.linalg.solve(np.linalg.cholesky(est.mean_), np.linalg.solve(np.linalg.cholesky(est.mean_), X).transpose(
            0, 2, 1)))) ** 2, axis=-1)), 1e-9)


def test_regularize_parameter_accepts_rank_deficient_covariances(rng):
    x = rng.standard_normal((10, 6, 3))
    X = x @ x.transpose(0, 2, 1)  # rank 3 < 6
    X[:, -1, :] = X[:, :, -1] = 0
    with pytest.raises(NotSPDError, match=r"X\[0\] must be positive definite.*regularize="):
        FrechetMean().fit(X)
    assert FrechetMean(regularize=0.1).fit(X).converged_
    with pytest.raises(InvalidParameterError, match="regularize"):
        FrechetMean(regularize=2.0).fit(X)


def test_sliced_kernel_is_gaussian_of_embedding_distance(data):
    X, _ = data
    dists = X[:90].reshape(3, 30, 6, 6)
    est = SPDSlicedWassersteinKernel(n_projections=50, sigma=2.0, random_state=1).fit(dists)
    K = np.asarray(est.transform(dists))
    _close(np.diag(K), np.ones(3))
    assert np.all(np.linalg.eigvalsh(K) > -1e-12) and np.allclose(K, K.T)
    phi = np.asarray(est.embed(dists))
    _close(K[0, 1], np.exp(-np.sum((phi[0] - phi[1]) ** 2) / 8))


@pytest.mark.parametrize("estimator", [FrechetMean(), TangentSpace(), MDM()], ids=lambda e: type(e).__name__)
def test_deprecated_tol_still_works_as_rtol(data, estimator):
    X, y = data
    new = clone(estimator).set_params(rtol=1e-11).fit(X, y)
    with pytest.warns(FutureWarning, match=r"tol=\.\.\.\) is deprecated.*pass rtol=tol") as record:
        old = clone(estimator).set_params(tol=1e-11).fit(X, y)
    assert len(record) == 1 and record[0].filename == __file__  # once per fit, at the caller's line
    np.testing.assert_array_equal(np.asarray(old.transform(X)), np.asarray(new.transform(X)))


def test_sliced_kernel_estimator_equals_the_function(data):
    X, _ = data
    train, test = X[:90].reshape(3, 30, 6, 6), X[90:].reshape(2, 15, 6, 6)
    for metric in ("log_euclidean", "affine_invariant"):
        est = SPDSlicedWassersteinKernel(n_projections=30, n_quantiles=10, sigma=3.0, metric=metric,
                                         random_state=4).fit(train)
        expected = spd.sliced_wasserstein_kernel(test, train, n_projections=30, n_quantiles=10, sigma=3.0,
                                                 metric=metric, random_state=est.seed_)
        np.testing.assert_array_equal(np.asarray(est.transform(test)), np.asarray(expected))


def test_sliced_kernel_random_state(data):
    X, _ = data
    dists = X[:60].reshape(2, 30, 6, 6)

    def fitted(random_state):
        return SPDSlicedWassersteinKernel(n_projections=10, random_state=random_state).fit(dists)

    assert fitted(3).seed_ == fitted(np.random.default_rng(3)).seed_
    assert fitted(np.random.RandomState(0)).seed_ == fitted(np.random.RandomState(0)).seed_
    _close(fitted(None).transform(dists).diagonal(), np.ones(2))
    generator = np.random.default_rng(1)
    assert fitted(generator).seed_ != fitted(generator).seed_  # a Generator's stream continues between fits
    for bad in ("3", 1.5, -1, [3], object()):
        with pytest.raises(InvalidParameterError, match="'random_state' parameter"):
            fitted(bad)


def test_errors_on_bad_data_are_linalgkit_errors(data):
    X, y = data
    fitted = MDM().fit(X, y)
    calls = [
        lambda: FrechetMean().fit(X[None]),
        lambda: MDM().fit(X, y[:-1]),
        lambda: MDM().fit(X, y, sample_weight=np.ones(len(y) - 1)),
        lambda: fitted.transform(X[:, :3, :3]),
        lambda: TangentSpace(reference=np.eye(3)).fit(X),
        lambda: SPDSlicedWassersteinKernel().fit(X),
        lambda: SPDSlicedWassersteinKernel(n_projections=5).fit(X[None]).transform(X[None, :, :3, :3]),
    ]
    for call in calls:
        with pytest.raises(ShapeError) as info:
            call()
        assert isinstance(info.value, LinalgkitError)
    with pytest.raises(DTypeError, match="sample_weight must be a numeric array"):
        MDM().fit(X, y, sample_weight=np.array(["heavy"] * len(y), dtype=object))


def test_mdm_sample_weight_weights_each_class_mean(data):
    X, y = data
    w = np.random.default_rng(2).uniform(0.1, 2.0, len(y))
    est = MDM(rtol=1e-12).fit(X, y, sample_weight=w)
    for k, label in enumerate(est.classes_):
        _close(est.covmeans_[k], mean(X[y == label], weights=w[y == label], rtol=1e-12))
