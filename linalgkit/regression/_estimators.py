"""scikit-learn estimator over the sketched least-squares solvers."""

import numbers
import warnings

import numpy as np
import scipy.sparse
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._backend import check_random_state, get_backend
from .._estimator import RANDOM_STATE_CONSTRAINT, LinalgkitEstimator
from .._validation_sparse import check_sparse_structure
from ..exceptions import ShapeError, ValidationError
from ..sketch import SKETCH_KINDS
from ._common import design_matrix
from .precondition import _lstsq_precondition, default_tolerances, plan, resolve_method
from .sketched import _lstsq_sketched, sketch_size

__all__ = ["SketchedLinearRegression"]


class SketchedLinearRegression(RegressorMixin, LinalgkitEstimator):
    r"""Ordinary least squares by sketching: fast on tall data, dense or sparse.

    Fits :math:`\min_{w, w_0} \|X w + w_0 - y\|_2` with :func:`~linalgkit.regression.lstsq_sketched`
    (``mode="solve"``: one sketched solve, each coefficient within
    :math:`\varepsilon/\sqrt p\,\|r\|\,\|[X\ 1]^+\|` of the exact one with probability
    :math:`1-\delta`) or :func:`~linalgkit.regression.lstsq_precondition` (``mode="precondition"``:
    the exact least-squares fit to double accuracy, with the sketch as preconditioner).  The
    intercept is fitted as a column of ones appended to ``X``, so sparse ``X`` stays sparse.

    Parameters
    ----------
    sketch : str, default="srht"
        Sketch kind (see :func:`linalgkit.sketch.make_sketch`).
    mode : {"solve", "precondition"}, default="solve"
    eps : float in (0, 1], default=0.5
        Coordinate-wise accuracy target of ``mode="solve"``.
    delta : float in (0, 1), default=0.01
        Failure probability of ``mode="solve"``.
    m : int, optional
        Sketch size in ``(n_coefficients, n_samples]`` (``n_coefficients`` counts the intercept);
        default :func:`~linalgkit.regression.sketch_size` (``"solve"``, capped at ``n_samples``
        with a warning) or the default of :func:`~linalgkit.regression.lstsq_precondition` (which
        solves directly where a sketch would not pay).
    fit_intercept : bool, default=True
        Whether to fit an intercept (a column of ones appended to ``X``).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, default=None
        Seed of the sketch (see :func:`linalgkit._backend.check_random_state`: a RandomState
        seeds a new Generator with one draw from its stream).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
        0.0 when ``fit_intercept=False``.
    result_ : SketchedLstsqResult or PreconditionedLstsqResult
        The solver's full result (sketch size, condition estimate, iterations).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.regression import SketchedLinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5000, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0 + 0.01 * rng.standard_normal(5000)
    >>> model = SketchedLinearRegression(random_state=0).fit(X, y)
    >>> np.round(model.coef_, 2), round(float(model.intercept_), 2)
    (array([ 1. , -2. ,  0.5]), 3.0)
    """

    _parameter_constraints = {
        "sketch": [StrOptions(set(SKETCH_KINDS))],
        "mode": [StrOptions({"solve", "precondition"})],
        "eps": [Interval(numbers.Real, 0, 1, closed="right")],
        "delta": [Interval(numbers.Real, 0, 1, closed="neither")],
        "m": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "fit_intercept": ["boolean"],
        "random_state": RANDOM_STATE_CONSTRAINT,
    }

    def __init__(self, sketch="srht", mode="solve", eps=0.5, delta=0.01, m=None, fit_intercept=True,
                 random_state=None):
        self.sketch = sketch
        self.mode = mode
        self.eps = eps
        self.delta = delta
        self.m = m
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None):
        r"""Fit the linear model.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Training data, with ``n_samples > n_features + fit_intercept``.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values; the targets share one sketch and one factorization.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights: row ``i`` of ``[X 1]`` and ``y`` is scaled by :math:`\sqrt{w_i}`
            (weighted least squares, as :class:`~sklearn.linear_model.LinearRegression`).

        Returns
        -------
        self : SketchedLinearRegression
            The fitted estimator.

        Warns
        -----
        UserWarning
            When ``mode="solve"`` asks for at least as many sketch rows as there are samples: the
            sketch is capped at ``n_samples``, gives no speed-up and keeps no guarantee, and
            ``mode="precondition"`` is the better choice.
        """
        self._validate_params()
        _check_structure(X)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], y_numeric=True,
                             multi_output=True)
        design = design_matrix(X, self.fit_intercept)
        n, p = design.shape
        if n <= p:
            raise ShapeError(f"X must have more samples than coefficients to fit, got n_samples = {n} for {p} "
                             f"coefficients; use sklearn.linear_model.LinearRegression for small or wide data")
        if self.m is not None and not p < self.m <= n:
            raise ValidationError(f"m must be in [{p + 1}, {n}] (more than the {p} coefficients, at most n_samples), "
                                  f"got {self.m}; leave m=None for the default rule")
        y = y.astype(design.dtype, copy=False)
        if sample_weight is not None:
            design, y = _weighted(design, y, _check_sample_weight(sample_weight, X, dtype=design.dtype,
                                                                  ensure_non_negative=True))
        backend, rng = get_backend(A=design, b=y), check_random_state(self.random_state)
        sparse = backend.issparse(design)
        if self.mode == "solve":
            m = self.m or sketch_size(p, eps=self.eps, delta=self.delta)
            if m >= n:
                warnings.warn(f"mode='solve' asks for m = {m} sketch rows for eps={self.eps}, but X has only {n} "
                              f"samples: the sketch is capped at n_samples, gives no speed-up and keeps no guarantee; "
                              f"use mode='precondition' (the exact least-squares fit) on data this small",
                              UserWarning, stacklevel=2)
            self.result_ = _lstsq_sketched(backend, design, y, sketch=self.sketch, m=min(m, n), random_state=rng)
        else:
            method, m = plan(resolve_method("auto", sparse), self.m, n, p, sparse)
            self.result_ = _lstsq_precondition(backend, design, y, sketch=self.sketch, m=m, method=method,
                                               tolerances=default_tolerances(method, design.dtype), random_state=rng)
        coef = np.asarray(self.result_.x)
        self.coef_ = coef[: X.shape[1]] if coef.ndim == 1 else coef[: X.shape[1]].T
        intercept = coef[-1] if self.fit_intercept else np.zeros(coef.shape[1:])
        self.intercept_ = float(intercept) if coef.ndim == 1 else intercept
        return self

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``X @ coef_ + intercept_``.
        """
        check_is_fitted(self)
        _check_structure(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], reset=False)
        if np.ndim(self.coef_) == 1:
            return np.asarray(X @ self.coef_).ravel() + self.intercept_
        return np.asarray(X @ self.coef_.T) + self.intercept_


def _check_structure(X):
    """The funnel's index check of a sparse ``X``, before scikit-learn's validation converts it (in compiled code)."""
    if scipy.sparse.issparse(X):
        check_sparse_structure(X, "X", backend=get_backend(X=X))


def _weighted(design, y, weights):
    """Rows of ``design`` and ``y`` scaled by the square roots of ``weights``."""
    root = np.sqrt(weights)
    if scipy.sparse.issparse(design):
        return scipy.sparse.diags_array(root) @ design, y * (root if y.ndim == 1 else root[:, None])
    return design * root[:, None], y * (root if y.ndim == 1 else root[:, None])
