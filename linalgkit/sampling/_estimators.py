"""scikit-learn estimators over the sampling family: an l_p regressor and a coreset sampler."""

import numbers

import numpy as np
import scipy.sparse
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import RANDOM_STATE_CONSTRAINT, LinalgkitEstimator
from ..exceptions import ShapeError
from .lp_regression import lp_regression
from .sample import SCORES, sampling_scores, sensitivity_sample

__all__ = ["LpRegression", "SensitivitySampler"]

_ACCEPT = dict(accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])


def _with_column(X, column):
    """``[X column]``, sparse when ``X`` is."""
    column = np.asarray(column, dtype=X.dtype).reshape(-1, 1)
    if scipy.sparse.issparse(X):
        return scipy.sparse.hstack([X, column], format="csr")
    return np.hstack([X, column])


class LpRegression(RegressorMixin, LinalgkitEstimator):
    r"""Least :math:`\ell_p` regression :math:`\min_{w, w_0} \|Xw + w_0 - y\|_p^p` (``p = 1``: median regression).

    Fits with :func:`~linalgkit.sampling.lp_regression`: on a sensitivity sample of
    :math:`[X\ 1\ y]` (``sampling`` names its scores; the objective is within
    :math:`1 + \varepsilon` of the optimum with high probability) or exactly (``sampling=None``:
    the HiGHS dual LP on a working set of rows for ``p = 1``, certified on all rows; Newton-IRLS
    for ``p > 1``).  ``p = 1`` gives the median regression of
    ``sklearn.linear_model.QuantileRegressor(quantile=0.5, alpha=0)``.

    Parameters
    ----------
    p : float, default=1
        Exponent, at least 1.
    sampling : {"lewis", "sensitivity", "leverage", "root_leverage", "combined", "uniform"} or None, default="lewis"
    m : int, optional
        Expected sample size (default :func:`~linalgkit.sampling.default_sample_size`, at most
        ``n_samples``).
    fit_intercept : bool, default=True
    random_state : None, int or numpy.random.Generator, default=None

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    result_ : LpRegressionResult
        Objective on all samples, certified lower bound, sample size.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sampling import LpRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((20_000, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0 + rng.laplace(scale=0.1, size=20_000)
    >>> model = LpRegression(random_state=0).fit(X, y)
    >>> np.round(model.coef_, 1), round(float(model.intercept_), 1)
    (array([ 1. , -2. ,  0.5]), 3.0)
    """

    _parameter_constraints = {
        "p": [Interval(numbers.Real, 1, None, closed="left")],
        "sampling": [StrOptions(set(SCORES)), None],
        "m": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "fit_intercept": ["boolean"],
        "random_state": RANDOM_STATE_CONSTRAINT,
    }

    def __init__(self, p=1, sampling="lewis", m=None, fit_intercept=True, random_state=None):
        self.p = p
        self.sampling = sampling
        self.m = m
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X, y):
        """Fit the linear model.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : LpRegression
        """
        self._validate_params()
        X, y = validate_data(self, X, y, y_numeric=True, **_ACCEPT)
        design = _with_column(X, np.ones(X.shape[0])) if self.fit_intercept else X
        n, k = design.shape
        if n < k:
            raise ShapeError(f"X must have at least as many samples as coefficients to fit, got n_samples = {n} for "
                             f"{k} coefficients; collect more samples or use fit_intercept=False")
        method = "exact" if self.sampling is None else "sampled"
        m = None if self.m is None else min(self.m, n)
        self.result_ = lp_regression(design, y.astype(design.dtype, copy=False), float(self.p), method=method, m=m,
                                     scores=self.sampling or "lewis", random_state=self.random_state)
        coef = np.asarray(self.result_.x)
        self.coef_ = coef[: X.shape[1]]
        self.intercept_ = float(coef[-1]) if self.fit_intercept else 0.0
        return self

    def predict(self, X):
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, **_ACCEPT)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_


class SensitivitySampler(LinalgkitEstimator):
    r"""Weighted coresets for :math:`\ell_p` losses: ``fit`` scores the rows, ``sample`` draws a coreset.

    ``fit(X, y)`` computes :func:`~linalgkit.sampling.sampling_scores` of ``X`` (of
    :math:`[X\ y]` when ``y`` is given, as an :math:`\ell_p` regression guarantee needs);
    ``sample(X, y)`` returns the :class:`~linalgkit.sampling.SensitivitySample` of the same rows
    (rescaled by :math:`q_i^{-1/p}`; pass ``weights ** p`` as ``sample_weight`` to a learner with an
    :math:`\ell_p^p` loss on the unscaled rows ``X[indices]``).

    Parameters
    ----------
    p : float, default=1
    m : int, default=1000
        Expected coreset size (capped at ``n_samples``).
    scores : {"lewis", "sensitivity", "leverage", "root_leverage", "combined", "uniform"}, default="lewis"
    random_state : None, int or numpy.random.Generator, default=None

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
    n_samples_fit_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sampling import SensitivitySampler
    >>> X = np.random.default_rng(0).standard_normal((5000, 4))
    >>> coreset = SensitivitySampler(p=1, m=300, random_state=0).fit(X).sample(X)
    >>> coreset.A.shape[1], 200 < coreset.A.shape[0] < 400
    (4, True)
    """

    _parameter_constraints = {
        "p": [Interval(numbers.Real, 0, None, closed="neither")],
        "m": [Interval(numbers.Integral, 1, None, closed="left")],
        "scores": [StrOptions(set(SCORES))],
        "random_state": RANDOM_STATE_CONSTRAINT,
    }

    def __init__(self, p=1, m=1000, scores="lewis", random_state=None):
        self.p = p
        self.m = m
        self.scores = scores
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X, y=None):
        """Compute the importance scores of the rows of ``X`` (``[X y]`` when ``y`` is given).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), optional

        Returns
        -------
        self : SensitivitySampler
        """
        self._validate_params()
        if y is None:
            X = validate_data(self, X, **_ACCEPT)
            target = X
        else:
            X, y = validate_data(self, X, y, y_numeric=True, **_ACCEPT)
            target = _with_column(X, y)
        if target.shape[0] < target.shape[1]:
            raise ShapeError(f"X must have at least as many samples as columns to score, got n_samples = "
                             f"{X.shape[0]} for {target.shape[1]} columns; pass more samples")
        self.scores_ = np.asarray(sampling_scores(target, float(self.p), scores=self.scores,
                                                  random_state=self.random_state))
        self.n_samples_fit_ = X.shape[0]
        return self

    def sample(self, X, y=None):
        """Draw the weighted coreset of the rows scored by ``fit``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The data passed to ``fit``.
        y : array-like of shape (n_samples,), optional

        Returns
        -------
        SensitivitySample
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, **_ACCEPT)
        if X.shape[0] != self.n_samples_fit_:
            raise ShapeError(f"X must have the n_samples_fit_ = {self.n_samples_fit_} rows scored by fit, got "
                             f"{X.shape[0]}; call fit(X) on these rows first")
        return sensitivity_sample(X, float(self.p), min(self.m, X.shape[0]), scores=self.scores_, b=y,
                                  random_state=self.random_state)
