r"""Krylov solvers for sequences of linear systems: restarted GMRES, GCRO-DR, recycled CG and MINRES.

:func:`gmres` is a fast restarted GMRES; :func:`gcrodr` (GCRO-DR, Parks et al. 2006),
:func:`rcg` (deflated CG, Saad et al. 2000) and :func:`rminres` (recycled MINRES, Wang et al.
2007) return a recycle space that speeds up the next system; :class:`RecyclingSolver` carries
it from call to call, and :func:`solve_sequence` orders a sequence of systems so that neighbours
are similar (SKR, Wang et al. 2024) before solving it.
"""

from ._common import KrylovResult, RecycleSpace
from ._recycling import RecyclingSolver
from .gcrodr import gcrodr
from .gmres import gmres
from .rcg import rcg
from .rminres import rminres
from .sequence import SequenceResult, nearest_neighbour_order, solve_sequence

__all__ = ["KrylovResult", "RecycleSpace", "RecyclingSolver", "SequenceResult", "gcrodr", "gmres",
           "nearest_neighbour_order", "rcg", "rminres", "solve_sequence"]
