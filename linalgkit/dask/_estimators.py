"""scikit-learn estimators on Dask arrays: the family estimators with fit / transform / predict run chunk by chunk.

Each class subclasses its in-memory counterpart (same parameters, constraints and docs), takes
row-chunked Dask arrays, stores its fitted attributes as in-memory arrays and returns lazy Dask
arrays from ``transform`` / ``predict``.
"""

import warnings

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from .._backend import check_random_state
from ..exceptions import ShapeError, ValidationError
from ..regression import SketchedLinearRegression as _SketchedLinearRegression
from ..regression.precondition import default_tolerances, plan, resolve_method
from ..regression.sketched import sketch_size
from ..spd import MDM as _MDM
from ..spd import TangentSpace as _TangentSpace
from ..spd._estimators import _check_labels
from ..spd.metrics import _spd
from ._core import check_rows, check_stack, chunk_backend, da, meta
from .regression import _lstsq_precondition, _lstsq_sketched, check_problem
from .sketch import DASK_SKETCH_KINDS
from .spd import _checked_block, mean, pairwise_distances, tangent_space, untangent_space

__all__ = ["MDM", "SketchedLinearRegression", "TangentSpace"]


def _labels(y, n):
    y = np.asarray(y.compute() if isinstance(y, da.Array) else y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ShapeError(f"y must be 1-D with one label per matrix ({n}), got shape {y.shape}")
    return y


def _weights(sample_weight, n):
    """In-memory non-negative sample weights (``n`` floats, small next to ``X``)."""
    w = np.asarray(sample_weight.compute() if isinstance(sample_weight, da.Array) else sample_weight, dtype=float)
    if w.shape != (n,):
        raise ShapeError(f"sample_weight must have one entry per sample ({n}), got shape {w.shape}")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise ValidationError("sample_weight must be finite and non-negative, got negative, NaN or inf entries")
    return w


class SketchedLinearRegression(_SketchedLinearRegression):
    """:class:`linalgkit.regression.SketchedLinearRegression` for row-chunked Dask ``X`` and ``y``.

    Fits with :func:`linalgkit.dask.lstsq_sketched` (``mode="solve"``) or
    :func:`linalgkit.dask.lstsq_precondition` (``mode="precondition"``); ``coef_`` is in memory and
    ``predict`` returns a lazy Dask array.  ``sketch="srht"`` is the block SRHT.

    Parameters
    ----------
    eps, delta, sketch, m, mode, fit_intercept, random_state
        As in :class:`linalgkit.regression.SketchedLinearRegression` (``sketch`` one of
        :data:`linalgkit.dask.DASK_SKETCH_KINDS`).
    """

    _parameter_constraints = {**_SketchedLinearRegression._parameter_constraints,
                              "sketch": [StrOptions(set(DASK_SKETCH_KINDS))]}

    def fit(self, X, y, sample_weight=None):
        """Fit the linear model on row-chunked ``X`` (n_samples, n_features) and ``y`` (n_samples,).

        Parameters
        ----------
        X : dask.array.Array of shape (n_samples, n_features)
        y : dask.array.Array or array of shape (n_samples,)
        sample_weight : dask.array.Array or array of shape (n_samples,), optional
            Non-negative weights: rows of ``[X 1]`` and ``y`` scaled by their square roots.

        Returns
        -------
        self : SketchedLinearRegression
        """
        self._validate_params()
        X = check_rows(X, "X")
        design = X
        if self.fit_intercept:
            ones = da.ones((X.shape[0], 1), chunks=(X.chunks[0], 1), dtype=X.dtype, meta=meta(X, 2))
            design = da.concatenate([X, ones], axis=1).rechunk({1: -1})
        if sample_weight is not None:
            root = da.from_array(np.sqrt(_weights(sample_weight, X.shape[0])), chunks=(X.chunks[0],))
            y = (y if isinstance(y, da.Array) else da.from_array(np.asarray(y), chunks=(X.chunks[0],))) * root
            design = design * root[:, None]
        n, p = design.shape
        if n <= p:
            raise ShapeError(f"X must have more samples than coefficients to fit, got n_samples = {n} for {p} "
                             f"coefficients; use sklearn.linear_model.LinearRegression for small or wide data")
        if self.m is not None and not p < self.m <= n:
            raise ValidationError(f"m must be in [{p + 1}, {n}] (more than the {p} coefficients, at most n_samples), "
                                  f"got {self.m}; leave m=None for the default rule")
        backend, design, y = check_problem(design, y)
        rng = check_random_state(self.random_state)
        if self.mode == "solve":
            m = self.m or sketch_size(p, eps=self.eps, delta=self.delta)
            if m >= n:
                warnings.warn(f"mode='solve' asks for m = {m} sketch rows for eps={self.eps}, but X has only {n} "
                              f"samples: the sketch is capped at n_samples, gives no speed-up and keeps no guarantee; "
                              f"use mode='precondition' (the exact least-squares fit) on data this small",
                              UserWarning, stacklevel=2)
            self.result_ = _lstsq_sketched(backend, design, y, sketch=self.sketch, m=min(m, n), random_state=rng)
        else:
            method, m = plan(resolve_method("auto", False), self.m, n, p, False)
            self.result_ = _lstsq_precondition(backend, design, y, sketch=self.sketch, m=m, method=method,
                                               tolerances=default_tolerances(method, design.dtype), random_state=rng)
        coef = backend.to_host(self.result_.x)
        self.coef_ = coef[: X.shape[1]]
        self.intercept_ = float(coef[-1]) if self.fit_intercept else 0.0
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """Lazy ``X @ coef_ + intercept_`` of a row-chunked ``X``.

        Parameters
        ----------
        X : dask.array.Array of shape (n_samples, n_features)

        Returns
        -------
        dask.array.Array of shape (n_samples,)
        """
        check_is_fitted(self)
        X = check_rows(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ShapeError(f"X has {X.shape[1]} features, but the model is fitted with {self.n_features_in_}")
        coef = chunk_backend(X).from_host(self.coef_.astype(X.dtype))
        return X @ coef + self.intercept_


class _ChunkedSPD:
    """The checks shared by the Dask SPD estimators."""

    def _stack(self, X):
        X = check_stack(X, "X")
        if self.regularize is not None:
            X = X.map_blocks(_checked_block, self.regularize, meta=meta(X, 3))
        return X

    def _mean(self, X, weights, tolerances, return_info=False):
        return mean(X, metric=self.metric, weights=weights, maxiter=self.maxiter, return_info=return_info,
                    **tolerances)


class TangentSpace(_ChunkedSPD, _TangentSpace):
    """:class:`linalgkit.spd.TangentSpace` for chunked ``(N, n, n)`` Dask stacks.

    ``fit`` computes the reference (the Fréchet mean, see :func:`linalgkit.dask.mean`: one compute
    for flat metrics), ``transform`` returns lazy ``(N, n (n + 1) / 2)`` features.

    Parameters
    ----------
    metric, reference, rtol, atol, maxiter, tol, regularize
        As in :class:`linalgkit.spd.TangentSpace`.
    """

    def fit(self, X, y=None, sample_weight=None):
        """Set the reference point (Fréchet mean of ``X`` unless ``reference`` is given).

        Parameters
        ----------
        X : dask.array.Array, shape (n_matrices, n, n)
        y : ignored
        sample_weight : array, shape (n_matrices,), optional

        Returns
        -------
        self
        """
        self._validate_params()
        tolerances = self._tolerances()
        X = self._stack(X)
        be = chunk_backend(X)
        if self.reference is None:
            self.reference_ = self._mean(X, sample_weight, tolerances)
        else:
            self.reference_ = _spd(be, be.xp.asarray(self.reference), "reference")
        self.n_channels_ = self.n_features_in_ = X.shape[-1]
        self._check_channels(self.reference_, "reference")
        return self

    def transform(self, X):
        """Lazy tangent vectors of a chunked stack at ``reference_``.

        Parameters
        ----------
        X : dask.array.Array, shape (n_matrices, n, n)

        Returns
        -------
        dask.array.Array, shape (n_matrices, n (n + 1) / 2)
        """
        check_is_fitted(self)
        X = self._stack(X)
        self._check_channels(X)
        return tangent_space(X, self.reference_, metric=self.metric)

    def inverse_transform(self, T):
        """Lazy SPD matrices from chunked tangent vectors.

        Parameters
        ----------
        T : dask.array.Array, shape (n_matrices, n (n + 1) / 2)

        Returns
        -------
        dask.array.Array, shape (n_matrices, n, n)
        """
        check_is_fitted(self)
        return untangent_space(T, self.reference_, metric=self.metric)


def _nearest(d, classes):
    return classes[np.argmin(np.asarray(d), axis=1)]


def _softmax(d):
    d2 = np.asarray(d) ** 2
    z = np.exp(-(d2 - d2.min(axis=1, keepdims=True)))
    return z / z.sum(axis=1, keepdims=True)


class MDM(_ChunkedSPD, _MDM):
    """:class:`linalgkit.spd.MDM` for chunked ``(N, n, n)`` Dask stacks: one distributed mean per class.

    ``transform``, ``predict`` and ``predict_proba`` return lazy Dask arrays (chunks on the host).

    Parameters
    ----------
    metric, rtol, atol, maxiter, tol, regularize
        As in :class:`linalgkit.spd.MDM`.
    """

    def fit(self, X, y, sample_weight=None):
        """Compute one Fréchet mean per class.

        Parameters
        ----------
        X : dask.array.Array, shape (n_matrices, n, n)
        y : array or dask.array.Array, shape (n_matrices,)
        sample_weight : array, shape (n_matrices,), optional

        Returns
        -------
        self
        """
        self._validate_params()
        tolerances = self._tolerances()
        X = self._stack(X)
        be = chunk_backend(X)
        y = _labels(y, X.shape[0])
        self.classes_ = _check_labels(y)
        weights = np.ones(len(y)) if sample_weight is None else _weights(sample_weight, len(y))
        means = [self._mean(X[np.flatnonzero(y == c)], weights[y == c], tolerances) for c in self.classes_]
        self.covmeans_ = be.xp.stack(means)
        self.n_channels_ = self.n_features_in_ = X.shape[-1]
        return self

    def transform(self, X):
        """Lazy distances of ``X`` to each class mean, shape ``(n_matrices, n_classes)``.

        Parameters
        ----------
        X : dask.array.Array, shape (n_matrices, n, n)

        Returns
        -------
        dask.array.Array, shape (n_matrices, n_classes)
        """
        check_is_fitted(self)
        X = self._stack(X)
        self._check_channels(X)
        return pairwise_distances(X, self.covmeans_, metric=self.metric)

    def predict(self, X):
        """Lazy labels of the nearest class mean.

        Parameters
        ----------
        X : dask.array.Array, shape (n_matrices, n, n)

        Returns
        -------
        dask.array.Array, shape (n_matrices,)
        """
        d = self.transform(X)
        return d.map_blocks(_nearest, self.classes_, drop_axis=1, dtype=self.classes_.dtype,
                            meta=np.empty((0,), self.classes_.dtype))

    def predict_proba(self, X):
        """Lazy softmax of minus the squared distances to the class means.

        Parameters
        ----------
        X : dask.array.Array, shape (n_matrices, n, n)

        Returns
        -------
        dask.array.Array, shape (n_matrices, n_classes)
        """
        return self.transform(X).map_blocks(_softmax, meta=np.empty((0, 0)))
