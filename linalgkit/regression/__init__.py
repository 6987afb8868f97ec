r"""Randomized least squares: sketch-and-solve with an :math:`\ell_\infty` guarantee, and sketch-and-precondition.

:func:`lstsq_sketched` solves :math:`\min\|S(Ax - b)\|` once (fast, accuracy
:math:`\varepsilon/\sqrt d\,\|r\|\|A^+\|` per coordinate); :func:`lstsq_precondition` uses the same
sketch to precondition LSQR or iterative sketching down to full double accuracy;
:class:`SketchedLinearRegression` wraps both for scikit-learn.
"""

from ._estimators import SketchedLinearRegression
from .precondition import PreconditionedLstsqResult, default_preconditioner_size, lstsq_precondition
from .sketched import SketchedLstsqResult, lstsq_sketched, sketch_size

__all__ = [
    "PreconditionedLstsqResult",
    "SketchedLinearRegression",
    "SketchedLstsqResult",
    "default_preconditioner_size",
    "lstsq_precondition",
    "lstsq_sketched",
    "sketch_size",
]
