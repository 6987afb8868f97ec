"""Debug mode of the lane kernels: every lane load and store checked against the bounds of its array.

The check is compiled in, not tested at run time: :func:`bounds_checked` loads a fresh, uncached copy of
a kernel module while :data:`enabled` is True, so that the copy's loads and stores test their row and
columns and raise ``IndexError`` when outside the array.  The normal (cached) kernels never see the
flag and carry no check.
"""

import importlib
import importlib.util
import os
import sys
from contextlib import contextmanager

__all__ = ["WIDTH_VARIABLE", "bounds_checked", "enabled", "kernel_options"]

WIDTH_VARIABLE = "LINALGKIT_LANE_WIDTH"
"""Environment variable that sets the lane width (8 or 16) for ablations; kernels then compile uncached."""

enabled = False
"""True while :func:`bounds_checked` compiles; read by the load/store code generators."""


def kernel_options(parallel=False):
    """``njit`` options of a lane kernel: cached, NumPy error model (masked lanes may divide by zero).

    Under :func:`bounds_checked` the copy is neither cached (the cache key ignores the flag) nor
    parallel (so that an ``IndexError`` surfaces from a plain loop), and Numba's own ``boundscheck``
    checks its ordinary indexing as well.  With :data:`WIDTH_VARIABLE` set, kernels are not cached either:
    the cache is keyed by the CPU, which fixes the default width, not by the variable.
    """
    if enabled:
        return {"cache": False, "error_model": "numpy", "boundscheck": True}
    cache = not os.environ.get(WIDTH_VARIABLE)
    return {"cache": cache, "error_model": "numpy", **({"parallel": True} if parallel else {})}


@contextmanager
def bounds_checked(module_name):
    """A fresh copy of the kernel module ``module_name`` whose lane loads and stores check their bounds.

    Its kernels compile on their first call, which must happen inside the ``with`` block::

        with bounds_checked("linalgkit.spd._numba") as checked:
            checked.eigh_stack(S, d, P, failed)
    """
    global enabled
    origin = importlib.import_module(module_name).__file__  # the normal module first, with its normal options
    copy = importlib.util.module_from_spec(importlib.util.spec_from_file_location(f"{module_name}_checked", origin))
    enabled = True
    try:
        sys.modules[copy.__name__] = copy
        copy.__spec__.loader.exec_module(copy)
        yield copy
    finally:
        enabled = False
        sys.modules.pop(copy.__name__, None)
