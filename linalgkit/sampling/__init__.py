r"""Importance sampling of rows with :math:`\ell_p` guarantees: leverage scores, Lewis weights, sensitivities.

:func:`leverage_scores`, :func:`lewis_weights` and :func:`lp_sensitivities` score the rows of a
tall matrix; :func:`sensitivity_sample` keeps row :math:`i` with probability
:math:`q_i = \min(1, m u_i / \sum u)` and rescales it by :math:`q_i^{-1/p}`, so that
:math:`\|SAx\|_p \approx \|Ax\|_p` for every :math:`x`; :func:`lp_regression` solves
:math:`\min_x \|Ax - b\|_p` exactly (dual LP for :math:`p = 1`, IRLS otherwise) or on such a
sample; :class:`LpRegression` and :class:`SensitivitySampler` wrap them for scikit-learn.
"""

from ._estimators import LpRegression, SensitivitySampler
from .lewis import LewisWeightsResult, lewis_weights
from .lp_regression import LpRegressionResult, default_sample_size, lp_regression
from .sample import SCORES, SensitivitySample, sampling_scores, sensitivity_sample
from .scores import leverage_scores
from .sensitivities import lp_sensitivities, total_sensitivity

__all__ = [
    "SCORES",
    "LewisWeightsResult",
    "LpRegression",
    "LpRegressionResult",
    "SensitivitySample",
    "SensitivitySampler",
    "default_sample_size",
    "leverage_scores",
    "lewis_weights",
    "lp_regression",
    "lp_sensitivities",
    "sampling_scores",
    "sensitivity_sample",
    "total_sensitivity",
]
