"""The estimator base: scikit-learn parameter constraints, one ``random_state`` rule, no numerics.

Every estimator of linalgkit subclasses :class:`LinalgkitEstimator` (and scikit-learn's mixins).
Its ``__init__`` stores the hyper-parameters only; ``fit`` calls :meth:`_validate_params` (bad
hyper-parameters raise scikit-learn's ``InvalidParameterError``, which scikit-learn users catch),
validates the data once, calls the family's implementation and stores fitted state ending in ``_``.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

__all__ = ["RANDOM_STATE_CONSTRAINT", "LinalgkitEstimator"]

RANDOM_STATE_CONSTRAINT = [None, Interval(numbers.Integral, 0, None, closed="left"), np.random.Generator,
                           np.random.SeedSequence, np.random.RandomState]
"""What ``random_state`` accepts in every estimator: the types :func:`linalgkit._backend.check_random_state`
turns into a Generator for the functions."""


class LinalgkitEstimator(BaseEstimator):
    """Base class of linalgkit's estimators.

    Subclasses declare ``_parameter_constraints`` (scikit-learn's format, with
    :data:`RANDOM_STATE_CONSTRAINT` for ``random_state``) and call ``self._validate_params()``
    first in ``fit``.
    """

    _parameter_constraints: dict = {}
