"""scikit-learn estimators on SPD matrices: thin wrappers over :mod:`linalgkit.spd` functions.

Inputs are stacks ``(n_matrices, n, n)`` of SPD matrices (covariances), not 2-D feature tables, so
the generic 2-D checks of :func:`sklearn.utils.estimator_checks.check_estimator` do not apply to
them; :data:`EXPECTED_FAILED_CHECKS` lists, per estimator, each check that fails only for that reason,
with the exact reason, and every other check passes.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, TransformerMixin
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._backend import check_random_state, get_backend
from .._estimator import RANDOM_STATE_CONSTRAINT, LinalgkitEstimator
from .._validation import check_spd, check_vector
from ..exceptions import ShapeError, ValidationError
from .means import mean
from .metrics import METRICS, pairwise_distances
from .sliced import _METRICS as _SLICED_METRICS
from .sliced import _directions, _distributions, _embed_distributions, _gaussian_gram
from .tangent import tangent_space, untangent_space

__all__ = ["EXPECTED_FAILED_CHECKS", "MDM", "FrechetMean", "SPDSlicedWassersteinKernel", "TangentSpace"]

_TABLE = ("3-D input: the check feeds a 2-D array (n_samples, n_features); the SPD estimators take stacks "
          "(n_matrices, n, n) and raise ShapeError ('X must hold square matrices' or 'X must be a stack') before "
          "reaching what the check tests")
_OBJECT = ("3-D input: the check feeds a 2-D table of dtype object; linalgkit's funnel refuses object arrays "
           "(DTypeError 'must be a numeric array') before the shape, which would be refused next")
_WEIGHTS = ("3-D input: the check feeds 2-D X with sample weights; X is refused (ShapeError) before the weights "
            "are read")
_COMMON = ("check_dict_unchanged", "check_dont_overwrite_parameters", "check_estimators_dtypes",
           "check_estimators_fit_returns_self", "check_estimators_nan_inf", "check_estimators_overwrite_params",
           "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_predict1d",
           "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
           "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
           "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
           "check_readonly_memmap_input", "check_transformer_data_not_an_array", "check_transformer_general",
           "check_transformer_preserve_dtypes")
_SAMPLE_WEIGHTS = ("check_sample_weight_equivalence_on_dense_data", "check_sample_weights_list",
                   "check_sample_weights_not_an_array", "check_sample_weights_not_overwritten",
                   "check_sample_weights_shape")
_CLASSIFIER = ("check_classifier_data_not_an_array", "check_classifiers_classes", "check_classifiers_train",
               "check_supervised_y_2d")
EXPECTED_FAILED_CHECKS = {
    "TangentSpace": {**dict.fromkeys(_COMMON, _TABLE), "check_dtype_object": _OBJECT,
                     **dict.fromkeys(_SAMPLE_WEIGHTS + ("check_all_zero_sample_weights_error",), _WEIGHTS)},
    "FrechetMean": {**dict.fromkeys(_COMMON, _TABLE), "check_dtype_object": _OBJECT,
                    **dict.fromkeys(_SAMPLE_WEIGHTS + ("check_all_zero_sample_weights_error",), _WEIGHTS)},
    "MDM": {**dict.fromkeys(_COMMON + _CLASSIFIER, _TABLE), "check_dtype_object": _OBJECT,
            **dict.fromkeys(_SAMPLE_WEIGHTS, _WEIGHTS)},
    "SPDSlicedWassersteinKernel": {**dict.fromkeys(_COMMON, _TABLE), "check_dtype_object": _OBJECT},
}
"""For each SPD estimator, the checks of ``check_estimator`` (scikit-learn 1.9) that fail only because the
input is 3-D, with the exact reason; every other check passes (the SPD analogues of these are in
tests/spd/test_estimators.py)."""

_METRIC = [StrOptions(set(METRICS)), HasMethods(["squared_distance", "exp", "log"])]
_REGULARIZE = [Interval(Real, 0, 1, closed="both"), None]
_MEAN_SOLVER = {
    "rtol": [Interval(Real, 0, 1, closed="left"), None],
    "atol": [Interval(Real, 0, None, closed="left")],
    "maxiter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, 1, closed="left"), None, Hidden(StrOptions({"deprecated"}))],
}
"""Constraints of the estimators that compute :func:`~linalgkit.spd.mean` (``tol``: deprecated name)."""


def _as_spd(be, X, regularize, name="X"):
    """The input stack, validated (and regularized when asked) once: at least one matrix."""
    X = check_spd(X, name, backend=be, definite=False, regularize=regularize)
    if X.ndim != 3:
        raise ShapeError(f"{name} must be a stack of SPD matrices (n_matrices, n, n), got shape {tuple(X.shape)}; "
                         f"estimate covariances first (e.g. numpy.cov per trial)")
    if X.shape[0] == 0:
        raise ShapeError(f"{name} must hold at least one matrix, got 0 samples (shape={tuple(X.shape)})")
    return X


def _check_labels(y):
    """Class labels of a classifier's ``y`` by scikit-learn's target checks (before ``X``, as scikit-learn does)."""
    if y is None:
        raise ValidationError("MDM requires y to be passed, but the target y is None; pass one label per matrix")
    try:
        check_classification_targets(y)
    except ValueError as error:
        raise ValidationError(f"y must hold class labels: {error}; MDM is a classifier") from None
    classes = np.unique(np.asarray(y))
    if classes.size < 2:
        raise ValidationError(f"y must hold at least 2 classes, got {classes.size} class(es) "
                              f"({', '.join(map(repr, classes.tolist()))}); MDM classifies between class means")
    return classes


class _SPDEstimator(LinalgkitEstimator):
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _check_channels(self, X, name="X"):
        """``n_features_in_`` is the matrix size ``n``; the message follows scikit-learn's."""
        if X.shape[-1] != self.n_features_in_:
            raise ShapeError(f"{name} has {X.shape[-1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input ({name} holds {X.shape[-1]} x {X.shape[-1]} "
                             f"matrices, fitted on {self.n_features_in_} x {self.n_features_in_}); pass matrices "
                             f"of the fitted size")


class _MeanEstimator(_SPDEstimator):
    """Estimators whose fit computes Fréchet means: the solver keywords of :func:`~linalgkit.spd.mean`."""

    def _tolerances(self):
        """``rtol`` and ``atol`` for :func:`~linalgkit.spd.mean`, called once in ``fit``.

        A deprecated ``tol`` becomes ``rtol`` for one release: the same rule, since the mean's reference
        norm is 1.
        """
        if isinstance(self.tol, str):
            return {"rtol": self.rtol, "atol": self.atol}
        warnings.warn(f"{type(self).__name__}(tol=...) is deprecated and will be removed in the next release; pass "
                      f"rtol=tol (the same stopping rule)", FutureWarning, stacklevel=3)
        return {"rtol": self.rtol if self.tol is None else self.tol, "atol": self.atol}

    def _mean(self, X, weights, tolerances, return_info=False):
        return mean(X, metric=self.metric, weights=weights, maxiter=self.maxiter, return_info=return_info,
                    **tolerances)


class FrechetMean(TransformerMixin, _MeanEstimator):
    """Fréchet mean of SPD matrices under a metric; ``transform`` gives distances to it.

    Parameters
    ----------
    metric : str or metric object, default="affine_invariant"
        A name of :data:`linalgkit.spd.METRICS` or a metric object.
    rtol : float in [0, 1), optional
        Relative tolerance of :func:`linalgkit.spd.mean` (None: its default by dtype); the stopping rule
        on the Riemannian gradient norm is stated there.
    atol : float, default=0.0
        Absolute tolerance of :func:`linalgkit.spd.mean`.
    maxiter : int, default=100
        Most gradient steps.
    regularize : float in [0, 1], optional
        Shrinkage toward the scaled identity applied to inputs (for rank-deficient covariances).
    tol : float, optional
        Deprecated: pass ``rtol`` (the same rule); removed in the next release.

    Attributes
    ----------
    mean_ : array, shape (n, n)
    converged_ : bool
    n_iter_ : int
    gradient_norm_ : float
    n_channels_ : int
        Matrix size ``n`` of the training stack.
    n_features_in_ : int
        The same ``n`` (scikit-learn's name; ``transform`` and ``predict`` check it).
    """

    _parameter_constraints = {"metric": _METRIC, **_MEAN_SOLVER, "regularize": _REGULARIZE}

    def __init__(self, metric="affine_invariant", rtol=None, atol=0.0, maxiter=100, regularize=None,
                 tol="deprecated"):
        self.metric = metric
        self.rtol = rtol
        self.atol = atol
        self.maxiter = maxiter
        self.regularize = regularize
        self.tol = tol

    def fit(self, X, y=None, sample_weight=None):
        """Compute the mean of ``X``.

        Parameters
        ----------
        X : array, shape (n_matrices, n, n)
            SPD matrices.
        y : array, shape (n_matrices,), optional
            Ignored (present for pipelines).
        sample_weight : array, shape (n_matrices,), optional
            Non-negative weights of the matrices in the mean.

        Returns
        -------
        self
            The fitted estimator.
        """
        self._validate_params()
        tolerances = self._tolerances()
        X = _as_spd(get_backend(X=X), X, self.regularize)
        result = self._mean(X, sample_weight, tolerances, return_info=True)
        self.mean_, self.converged_ = result.mean, result.converged
        self.n_iter_, self.gradient_norm_ = result.iterations, result.gradient_norm
        self.n_channels_ = self.n_features_in_ = X.shape[-1]
        return self

    def transform(self, X):
        """Distances of ``X`` to the mean.

        Parameters
        ----------
        X : array, shape (n_matrices, n, n)
            SPD matrices.

        Returns
        -------
        array, shape (n_matrices, 1)
            The distances.
        """
        check_is_fitted(self)
        X = _as_spd(get_backend(X=X), X, self.regularize)
        self._check_channels(X)
        return pairwise_distances(X, self.mean_[None, ...], metric=self.metric)


class TangentSpace(TransformerMixin, _MeanEstimator):
    """Tangent-space vectors at the Fréchet mean, in coordinates where Euclidean tools see the metric.

    Transforms ``(n_matrices, n, n)`` SPD matrices into ``(n_matrices, n (n + 1) / 2)`` vectors by
    :func:`linalgkit.spd.tangent_space` at the mean of the training set (or at ``reference``).

    Parameters
    ----------
    metric : str or metric object, default="affine_invariant"
    reference : array, shape (n, n), optional
        Fixed reference point; by default the Fréchet mean of the training matrices.
    rtol, atol, maxiter, regularize, tol
        As in :class:`FrechetMean`.

    Attributes
    ----------
    reference_ : array, shape (n, n)
    n_channels_ : int
        Matrix size ``n`` of the training stack.
    n_features_in_ : int
        The same ``n`` (scikit-learn's name; ``transform`` and ``predict`` check it).
    """

    _parameter_constraints = {"metric": _METRIC, "reference": ["array-like", None], **_MEAN_SOLVER,
                              "regularize": _REGULARIZE}

    def __init__(self, metric="affine_invariant", reference=None, rtol=None, atol=0.0, maxiter=100,
                 regularize=None, tol="deprecated"):
        self.metric = metric
        self.reference = reference
        self.rtol = rtol
        self.atol = atol
        self.maxiter = maxiter
        self.regularize = regularize
        self.tol = tol

    def fit(self, X, y=None, sample_weight=None):
        """Set the reference point (Fréchet mean of ``X`` unless ``reference`` is given).

        Parameters
        ----------
        X : array, shape (n_matrices, n, n)
            SPD matrices.
        y : array, shape (n_matrices,), optional
            Ignored (present for pipelines).
        sample_weight : array, shape (n_matrices,), optional
            Non-negative weights of the matrices in the mean.

        Returns
        -------
        self
            The fitted estimator.
        """
        self._validate_params()
        tolerances = self._tolerances()
        be = get_backend(X=X, reference=self.reference)
        X = _as_spd(be, X, self.regularize)
        if self.reference is None:
            self.reference_ = self._mean(X, sample_weight, tolerances)
        else:
            self.reference_ = _as_spd(be, be.xp.asarray(self.reference)[None, ...], None, "reference")[0]
        self.n_channels_ = self.n_features_in_ = X.shape[-1]
        self._check_channels(self.reference_, "reference")
        return self

    def transform(self, X):
        """Tangent vectors of ``X`` at the reference point.

        Parameters
        ----------
        X : array, shape (n_matrices, n, n)
            SPD matrices.

        Returns
        -------
        array, shape (n_matrices, n (n + 1) / 2)
            Isometric coordinates of the tangent vectors.
        """
        check_is_fitted(self)
        X = _as_spd(get_backend(X=X), X, self.regularize)
        self._check_channels(X)
        return tangent_space(X, self.reference_, metric=self.metric)

    def inverse_transform(self, T):
        """SPD matrices from tangent vectors (Exp at the reference).

        Parameters
        ----------
        T : array, shape (n_matrices, n (n + 1) / 2)
            Tangent coordinates, as returned by :meth:`transform`.

        Returns
        -------
        array, shape (n_matrices, n, n)
            The SPD matrices.
        """
        check_is_fitted(self)
        return untangent_space(T, self.reference_, metric=self.metric)


class MDM(ClassifierMixin, TransformerMixin, _MeanEstimator):
    r"""Minimum distance to mean classifier (Barachant et al., IEEE TBME 2012) under any SPD metric.

    Each class is summarized by its Fréchet mean; a matrix goes to the nearest mean, and
    ``predict_proba`` is :math:`\operatorname{softmax}(-d^2)` over the classes.

    Parameters
    ----------
    metric : str or metric object, default="affine_invariant"
    rtol, atol, maxiter, regularize, tol
        As in :class:`FrechetMean`.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
    covmeans_ : array, shape (n_classes, n, n)
    n_channels_ : int
        Matrix size ``n`` of the training stack.
    n_features_in_ : int
        The same ``n`` (scikit-learn's name; ``transform`` and ``predict`` check it).
    """

    _parameter_constraints = {"metric": _METRIC, **_MEAN_SOLVER, "regularize": _REGULARIZE}

    def __init__(self, metric="affine_invariant", rtol=None, atol=0.0, maxiter=100, regularize=None,
                 tol="deprecated"):
        self.metric = metric
        self.rtol = rtol
        self.atol = atol
        self.maxiter = maxiter
        self.regularize = regularize
        self.tol = tol

    def fit(self, X, y, sample_weight=None):
        """Compute one Fréchet mean per class.

        Parameters
        ----------
        X : array, shape (n_matrices, n, n)
            SPD matrices.
        y : array, shape (n_matrices,)
            Class labels.
        sample_weight : array, shape (n_matrices,), optional
            Non-negative weights of the matrices in the class means.

        Returns
        -------
        self
            The fitted estimator.
        """
        self._validate_params()
        tolerances = self._tolerances()
        self.classes_ = _check_labels(y)
        y = np.asarray(y)
        be = get_backend(X=X, sample_weight=sample_weight)
        weights = np.ones(len(y)) if sample_weight is None else be.to_host(check_vector(
            sample_weight, "sample_weight", backend=be, length=len(y), numeric="cast", allow_complex=False))
        weighted = [c for c in self.classes_ if np.sum(weights[y == c]) > 0]
        if len(weighted) < 2:
            raise ValidationError(f"sample_weight must give at least 2 classes a positive total weight, but the weights "
                                  f"are zero for all but {len(weighted)} class(es)")
        X = _as_spd(be, X, self.regularize)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ShapeError(f"y must be 1-D with one label per matrix ({X.shape[0]}), got shape {y.shape}")
        means = [self._mean(X[be.from_host(np.flatnonzero(y == c))], be.from_host(weights[y == c]), tolerances)
                 for c in self.classes_]
        self.covmeans_ = be.xp.stack(means)
        self.n_channels_ = self.n_features_in_ = X.shape[-1]
        return self

    def transform(self, X):
        """Distances of ``X`` to each class mean.

        Parameters
        ----------
        X : array, shape (n_matrices, n, n)
            SPD matrices.

        Returns
        -------
        array, shape (n_matrices, n_classes)
            The distances.
        """
        check_is_fitted(self)
        X = _as_spd(get_backend(X=X), X, self.regularize)
        self._check_channels(X)
        return pairwise_distances(X, self.covmeans_, metric=self.metric)

    def predict(self, X):
        """Label of the nearest class mean.

        Parameters
        ----------
        X : array, shape (n_matrices, n, n)
            SPD matrices.

        Returns
        -------
        array, shape (n_matrices,)
            Predicted labels.
        """
        d = self.transform(X)
        return self.classes_[np.argmin(get_backend(X=d).to_host(d), axis=1)]

    def predict_proba(self, X):
        """Class probabilities: softmax of minus the squared distances to the class means.

        Parameters
        ----------
        X : array, shape (n_matrices, n, n)
            SPD matrices.

        Returns
        -------
        array, shape (n_matrices, n_classes)
            Probabilities, rows summing to one.
        """
        d2 = get_backend(X=X).to_host(self.transform(X)) ** 2
        z = np.exp(-(d2 - d2.min(axis=1, keepdims=True)))
        return z / z.sum(axis=1, keepdims=True)


class SPDSlicedWassersteinKernel(TransformerMixin, _SPDEstimator):
    r"""Gaussian kernel of the SPD sliced-Wasserstein distance between distributions of SPD matrices.

    Each input is one distribution: an array ``(n_samples, n, n)`` of SPD matrices (e.g. the
    covariance matrices of one subject's epochs), so ``X`` is ``(n_distributions, n_samples, n, n)``.
    ``transform`` returns the Gram matrix of :func:`linalgkit.spd.sliced_wasserstein_kernel` against
    the training distributions, whose embeddings are kept from ``fit``:
    ``transform(Y)`` equals ``sliced_wasserstein_kernel(Y, X_train, random_state=seed_)`` with the
    same hyper-parameters.  For ``KernelRidge(kernel="precomputed")`` or ``SVC(kernel="precomputed")``.

    Parameters
    ----------
    n_projections : int, default=200
        Number of random directions.
    n_quantiles : int, default=20
        Number of quantile levels of the embedding.
    sigma : float, default=1.0
        Bandwidth of the Gaussian kernel.
    metric : {"log_euclidean", "affine_invariant"}, default="log_euclidean"
        SPDSW (log-Euclidean) or HSPDSW (affine-invariant horospherical) projections.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, optional
        Seeds the directions (one seed drawn from it at ``fit``).
    regularize : float in [0, 1], optional
        Shrinkage toward the scaled identity applied to inputs (for rank-deficient covariances).

    Attributes
    ----------
    embedding_ : array, shape (n_distributions, n_projections * n_quantiles)
        Embeddings of the training distributions.
    seed_ : int
        Seed of the directions, drawn from ``random_state`` at fit (reused by ``transform``).
    n_channels_ : int
        Matrix size ``n`` of the training stack.
    n_features_in_ : int
        The same ``n`` (scikit-learn's name; ``transform`` and ``predict`` check it).
    """

    _parameter_constraints = {
        "n_projections": [Interval(Integral, 1, None, closed="left")],
        "n_quantiles": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "metric": [StrOptions(set(_SLICED_METRICS))],
        "random_state": RANDOM_STATE_CONSTRAINT,
        "regularize": _REGULARIZE,
    }

    def __init__(self, n_projections=200, n_quantiles=20, sigma=1.0, metric="log_euclidean", random_state=None,
                 regularize=None):
        self.n_projections = n_projections
        self.n_quantiles = n_quantiles
        self.sigma = sigma
        self.metric = metric
        self.random_state = random_state
        self.regularize = regularize

    def _embed(self, be, X):
        theta, P = _directions(be, X.shape[-1], self.n_projections, np.random.default_rng(self.seed_), X.dtype)
        return _embed_distributions(be, X, theta, P, self.metric, self.n_quantiles)

    def fit(self, X, y=None):
        """Draw the directions and embed the training distributions.

        Parameters
        ----------
        X : array, shape (n_distributions, n_samples, n, n)
            Distributions, each a stack of SPD matrices.
        y : array, optional
            Ignored (present for pipelines).

        Returns
        -------
        self
            The fitted estimator.
        """
        self._validate_params()
        be = get_backend(X=X)
        X = _distributions(be, X, "X", self.regularize)
        self.seed_ = int(check_random_state(self.random_state).integers(2**63))
        self.embedding_ = self._embed(be, X)
        self.n_channels_ = self.n_features_in_ = X.shape[-1]
        return self

    def embed(self, X):
        """Quantile embeddings :math:`\\Phi` of distributions ``X``, with the fitted directions.

        Parameters
        ----------
        X : array, shape (n_distributions, n_samples, n, n)
            Distributions, each a stack of SPD matrices.

        Returns
        -------
        array, shape (n_distributions, n_projections * n_quantiles)
            The explicit feature map of the kernel.
        """
        check_is_fitted(self)
        be = get_backend(X=X)
        X = _distributions(be, X, "X", self.regularize)
        self._check_channels(X)
        return self._embed(be, X)

    def transform(self, X):
        """Gram matrix against the training distributions.

        Parameters
        ----------
        X : array, shape (n_distributions, n_samples, n, n)
            Distributions, each a stack of SPD matrices.

        Returns
        -------
        array, shape (n_distributions, n_train)
            Kernel values.
        """
        phi = self.embed(X)
        return _gaussian_gram(get_backend(X=phi), phi, self.embedding_, self.sigma)
