r"""Randomized least squares: sketch-and-solve with an :math:`\ell_\infty` guarantee.

:func:`lstsq_sketched` solves :math:`\min\|S(Ax - b)\|` once (fast, accuracy
:math:`\varepsilon/\sqrt d\,\|r\|\|A^+\|` per coordinate).
"""

from .sketched import SketchedLstsqResult, lstsq_sketched, sketch_size

__all__ = ["SketchedLstsqResult", "lstsq_sketched", "sketch_size"]
