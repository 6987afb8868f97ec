"""scikit-learn estimators on SPD matrices: thin wrappers over :mod:`linalgkit.spd` functions.

Inputs are stacks ``(n_matrices, n, n)`` of SPD matrices (covariances), not 2-D feature tables, so
the generic 2-D checks of :func:`sklearn.utils.estimator_checks.check_estimator` do not apply to
them; :data:`EXPECTED_FAILED_CHECKS` lists each skipped check with the reason, and the API checks
(cloning, parameters, tags, repr, unfitted errors) pass.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._backend import check_random_state, get_backend
from .._validation import check_option, check_scalar, check_spd
from ..exceptions import ShapeError
from .means import mean
from .metrics import get_metric, pairwise_distances
from .sliced import _directions, _project, sliced_embedding
from .tangent import tangent_space, untangent_space

__all__ = ["EXPECTED_FAILED_CHECKS", "MDM", "FrechetMean", "SPDSlicedWassersteinKernel", "TangentSpace"]

_TABLE = ("feeds a 2-D feature table; SPD estimators take stacks (n_matrices, n, n) and reject other shapes "
          "with a ShapeError (the SPD analogue of this check is in tests/spd/test_estimators.py)")
_FUNNEL = "bad input is rejected by linalgkit's funnel with its own message, not the pattern sklearn greps for"
EXPECTED_FAILED_CHECKS = {
    **{name: _TABLE for name in (
        "check_all_zero_sample_weights_error", "check_classifier_data_not_an_array", "check_classifiers_classes",
        "check_classifiers_one_label", "check_classifiers_one_label_sample_weights",
        "check_classifiers_regression_target", "check_classifiers_train", "check_dict_unchanged",
        "check_dont_overwrite_parameters", "check_estimators_dtypes", "check_estimators_fit_returns_self",
        "check_estimators_nan_inf", "check_estimators_overwrite_params", "check_estimators_pickle",
        "check_f_contiguous_array_estimator", "check_fit2d_predict1d", "check_fit_check_is_fitted",
        "check_fit_idempotent", "check_fit_score_takes_y", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_n_features_in", "check_n_features_in_after_fitting",
        "check_pipeline_consistency", "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
        "check_requires_y_none", "check_sample_weight_equivalence_on_dense_data", "check_sample_weights_list",
        "check_sample_weights_not_an_array", "check_sample_weights_not_overwritten", "check_sample_weights_shape",
        "check_supervised_y_2d", "check_transformer_data_not_an_array", "check_transformer_general",
        "check_transformer_preserve_dtypes")},
    **{name: _FUNNEL for name in (
        "check_complex_data", "check_dtype_object", "check_estimator_sparse_array", "check_estimator_sparse_matrix",
        "check_estimator_sparse_tag", "check_estimators_empty_data_messages", "check_fit2d_1feature",
        "check_fit2d_1sample")},
}
"""Checks of ``check_estimator`` that do not apply to SPD inputs, with the reason (the rest pass)."""


def _as_spd(X, regularize, name="X"):
    """The input stack, validated (and regularized when asked) once, as a host or device array."""
    be = get_backend(X=X)
    X = check_spd(X, name, backend=be, definite=False, regularize=regularize)
    if X.ndim != 3:
        raise ShapeError(f"{name} must be a stack of SPD matrices (n_matrices, n, n), got shape {tuple(X.shape)}; "
                         f"estimate covariances first (e.g. numpy.cov per trial)")
    return X


def _check_regularize(regularize):
    if regularize is not None:
        check_scalar(regularize, "regularize", low=0, high=1)


class _SPDEstimator(BaseEstimator):
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _validate_common(self):
        get_metric(self.metric)
        if self.tol is not None:
            check_scalar(self.tol, "tol", low=0)
        check_scalar(self.maxiter, "maxiter", kind=numbers.Integral, low=1)
        _check_regularize(self.regularize)

    def _check_channels(self, X):
        if X.shape[-1] != self.n_channels_:
            raise ShapeError(f"X holds {X.shape[-1]} x {X.shape[-1]} matrices but the estimator was fitted on "
                             f"{self.n_channels_} x {self.n_channels_}; pass matrices of the fitted size")


class FrechetMean(TransformerMixin, _SPDEstimator):
    """Fréchet mean of SPD matrices under a metric; ``transform`` gives distances to it.

    Parameters
    ----------
    metric : str or metric object, default="affine_invariant"
    tol : float, optional
        Tolerance on the Riemannian gradient norm (default by dtype, see :func:`linalgkit.spd.mean`).
    maxiter : int, default=100
    regularize : float in [0, 1], optional
        Shrinkage toward the scaled identity applied to inputs (for rank-deficient covariances).

    Attributes
    ----------
    mean_ : array, shape (n, n)
    converged_ : bool
    n_iter_ : int
    gradient_norm_ : float
    n_channels_ : int
    """

    def __init__(self, metric="affine_invariant", tol=None, maxiter=100, regularize=None):
        self.metric = metric
        self.tol = tol
        self.maxiter = maxiter
        self.regularize = regularize

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
        self._validate_common()
        X = _as_spd(X, self.regularize)
        result = mean(X, metric=self.metric, weights=sample_weight, tol=self.tol, maxiter=self.maxiter,
                      return_info=True)
        self.mean_, self.converged_ = result.mean, result.converged
        self.n_iter_, self.gradient_norm_ = result.iterations, result.gradient_norm
        self.n_channels_ = X.shape[-1]
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
        X = _as_spd(X, self.regularize)
        self._check_channels(X)
        return pairwise_distances(X, self.mean_[None, ...], metric=self.metric)


class TangentSpace(TransformerMixin, _SPDEstimator):
    """Tangent-space vectors at the Fréchet mean, in coordinates where Euclidean tools see the metric.

    Transforms ``(n_matrices, n, n)`` SPD matrices into ``(n_matrices, n (n + 1) / 2)`` vectors by
    :func:`linalgkit.spd.tangent_space` at the mean of the training set (or at ``reference``).

    Parameters
    ----------
    metric : str or metric object, default="affine_invariant"
    reference : array, shape (n, n), optional
        Fixed reference point; by default the Fréchet mean of the training matrices.
    tol, maxiter, regularize
        As in :class:`FrechetMean`.

    Attributes
    ----------
    reference_ : array, shape (n, n)
    n_channels_ : int
    """

    def __init__(self, metric="affine_invariant", reference=None, tol=None, maxiter=100, regularize=None):
        self.metric = metric
        self.reference = reference
        self.tol = tol
        self.maxiter = maxiter
        self.regularize = regularize

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
        self._validate_common()
        X = _as_spd(X, self.regularize)
        if self.reference is None:
            self.reference_ = mean(X, metric=self.metric, weights=sample_weight, tol=self.tol,
                                   maxiter=self.maxiter)
        else:
            self.reference_ = _as_spd(self.reference[None], None, "reference")[0]
        self.n_channels_ = X.shape[-1]
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
        X = _as_spd(X, self.regularize)
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


class MDM(ClassifierMixin, TransformerMixin, _SPDEstimator):
    r"""Minimum distance to mean classifier (Barachant et al., IEEE TBME 2012) under any SPD metric.

    Each class is summarized by its Fréchet mean; a matrix goes to the nearest mean, and
    ``predict_proba`` is :math:`\operatorname{softmax}(-d^2)` over the classes.

    Parameters
    ----------
    metric : str or metric object, default="affine_invariant"
    tol, maxiter, regularize
        As in :class:`FrechetMean`.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
    covmeans_ : array, shape (n_classes, n, n)
    n_channels_ : int
    """

    def __init__(self, metric="affine_invariant", tol=None, maxiter=100, regularize=None):
        self.metric = metric
        self.tol = tol
        self.maxiter = maxiter
        self.regularize = regularize

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
        self._validate_common()
        X = _as_spd(X, self.regularize)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ShapeError(f"y must be 1-D with one label per matrix ({X.shape[0]}), got shape {y.shape}")
        self.classes_ = np.unique(y)
        weights = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        be = get_backend(X=X)
        means = [mean(X[be.from_host(np.flatnonzero(y == c))], metric=self.metric,
                      weights=be.from_host(weights[y == c]), tol=self.tol, maxiter=self.maxiter)
                 for c in self.classes_]
        self.covmeans_ = be.xp.stack(means)
        self.n_channels_ = X.shape[-1]
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
        X = _as_spd(X, self.regularize)
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
    ``transform`` returns the Gram matrix
    :math:`K_{ij} = \exp(-\|\Phi(\mu_i) - \Phi(\nu_j)\|^2 / (2\sigma^2))` against the training
    distributions, with the quantile embedding :math:`\Phi` of :func:`linalgkit.spd.sliced_embedding`
    (:math:`\|\Phi(\mu) - \Phi(\nu)\|^2 \approx \mathrm{SPDSW}_2^2(\mu, \nu)`), for
    ``KernelRidge(kernel="precomputed")`` or ``SVC(kernel="precomputed")`` (Bonet et al., ICML 2023).

    Parameters
    ----------
    n_projections : int, default=200
    n_quantiles : int, default=20
    sigma : float, default=1.0
    metric : {"log_euclidean", "affine_invariant"}, default="log_euclidean"
    random_state : int, Generator or None
    regularize : float in [0, 1], optional

    Attributes
    ----------
    embedding_ : array, shape (n_distributions, n_projections * n_quantiles)
        Embeddings of the training distributions.
    seed_ : int
        Seed of the directions, drawn from ``random_state`` at fit (reused by ``transform``).
    n_channels_ : int
    """

    def __init__(self, n_projections=200, n_quantiles=20, sigma=1.0, metric="log_euclidean", random_state=None,
                 regularize=None):
        self.n_projections = n_projections
        self.n_quantiles = n_quantiles
        self.sigma = sigma
        self.metric = metric
        self.random_state = random_state
        self.regularize = regularize

    def _embed(self, X):
        be = get_backend(X=X)
        X = check_spd(X, "X", backend=be, definite=False, regularize=self.regularize)
        if X.ndim != 4:
            raise ShapeError(f"X must be (n_distributions, n_samples, n, n), got shape {tuple(X.shape)}; "
                             f"wrap a single distribution as X[None]")
        n_dist, n_samples, n = X.shape[0], X.shape[1], X.shape[-1]
        theta, P = _directions(be, n, self.n_projections, self.seed_, X.dtype)
        flat = be.xp.reshape(X, (n_dist * n_samples, n, n))
        u = be.xp.reshape(_project(be, flat, theta, P, self.metric), (n_dist, n_samples, self.n_projections))
        return sliced_embedding(u, n_quantiles=self.n_quantiles)

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
        check_scalar(self.n_projections, "n_projections", kind=numbers.Integral, low=1)
        check_scalar(self.n_quantiles, "n_quantiles", kind=numbers.Integral, low=1)
        check_scalar(self.sigma, "sigma", low=0, closed="neither")
        _check_regularize(self.regularize)
        check_option(self.metric, "metric", ("log_euclidean", "affine_invariant"))
        self.seed_ = int(check_random_state(self.random_state).integers(2**63))
        self.embedding_ = self._embed(X)
        self.n_channels_ = X.shape[-1]
        return self

    def embed(self, X):
        """Quantile embeddings :math:`\\Phi` of distributions ``X``, with the fitted directions.

        Parameters
        ----------
        X : array, shape (n_distributions, n_samples, n, n)
            Distributions, each a stack of SPD matrices.

        Returns
        -------
        array, shape (n_distributions, n_features)
            The explicit feature map of the kernel.
        """
        check_is_fitted(self)
        if X.shape[-1] != self.n_channels_:
            raise ShapeError(f"X holds {X.shape[-1]} x {X.shape[-1]} matrices but the kernel was fitted on "
                             f"{self.n_channels_} x {self.n_channels_}")
        return self._embed(X)

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
        xp = get_backend(X=phi).xp
        d2 = xp.sum((phi[:, None, :] - self.embedding_[None, :, :]) ** 2, axis=-1)
        return xp.exp(-d2 / (2 * self.sigma**2))
