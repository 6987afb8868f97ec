"""Fixed-width SIMD values for Numba kernels that run :data:`WIDTH` small problems in lock-step.

A :class:`Lanes` value holds one number per problem, as an LLVM vector kept in registers.  Kernels
load it from a row of a 2-D array whose rows hold one entry of every problem (``A[row, col:col +
WIDTH]``), compute on it with the usual operators, and store it back; data-dependent steps take both
branches and pick per lane with :func:`select`.  Why not plain loops over the lanes: Numba cannot tell
LLVM that two arrays do not overlap, so a sixteen-iteration loop that reads one array and writes another
is either unrolled and left scalar or vectorized behind run-time overlap checks; on the lower Gram product
of 22 x 22 lane matrices such loops take 2.0-2.5x the time of the ``Lanes`` version, in which every step is
one vector instruction (``python -m benchmarks.ablations lanes``).

Arithmetic (``+ - * /``, unary ``-``) accepts a Lanes value and a Python/NumPy scalar on either side
(the scalar is broadcast) and contracts ``a * b + c`` into fused multiply-adds, but never reassociates.
Comparisons give a :class:`Mask` (ordered, except ``!=``, which is true for NaN), combined with
``& | ~``.

Loads and stores do not check their bounds; :func:`bounds_checked` compiles a copy of a kernel module
in which they do (the debug mode, see :mod:`linalgkit._simd._checks`).  Kernel modules take their
``njit`` options from :func:`kernel_options`.
"""

from ._checks import bounds_checked, kernel_options
from ._lanes import WIDTH, Lanes, Mask, any_lane, fabs, load, log, max_lane, select, splat, sqrt, store

__all__ = ["WIDTH", "Lanes", "Mask", "any_lane", "bounds_checked", "fabs", "kernel_options", "load", "log",
           "max_lane", "select", "splat", "sqrt", "store"]
