r"""The Cholesky-QR Gram matrix :math:`([A\ B]W)^T([A\ B]W)` by row blocks on Python threads, BLAS on one thread each.

SciPy's BLAS wrappers (``scipy.linalg.get_blas_funcs``) hold the GIL, so two Python threads calling
them run one after the other; the same routines reached through :mod:`scipy.linalg.cython_blas`
with :mod:`ctypes` release it.  Each thread takes a contiguous range of row blocks and, per block,
copies it into a buffer that stays in its core's cache, multiplies it by ``W`` in place
(``trmm``) and adds its Gram matrix into the thread's own upper triangle (``syrk``); the
triangles are summed.  With the BLAS limited to one thread (``serial_blas``), the two cores run
two single-threaded BLAS streams instead of one two-threaded call per block, which synchronizes
its threads twice per block and leaves them spinning after the last one
(``python -m benchmarks.ablations gram_threads``).
"""

import ctypes
import functools

import numba
import numpy as np

from .._backend import map_on_threads

__all__ = ["gram_of_upper_product"]

_ARGUMENTS = {"trmm": 11, "syrk": 10}
_SCALARS = {np.dtype(np.float64): ("d", ctypes.c_double), np.dtype(np.float32): ("s", ctypes.c_float)}


@functools.lru_cache(maxsize=None)
def _routine(prefix, name):
    """The Fortran-ABI routine ``prefix + name`` of :mod:`scipy.linalg.cython_blas` as a GIL-releasing ctypes call."""
    from numba.extending import get_cython_function_address

    address = get_cython_function_address("scipy.linalg.cython_blas", prefix + name)
    return ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * _ARGUMENTS[name])(address)


def _char(letter):
    return ctypes.byref(ctypes.c_char(letter))


def _int(value):
    return ctypes.byref(ctypes.c_int(value))


def _blocks_gram(A, B, W, start, stop, rows):
    """Upper triangle (Fortran order) of the Gram matrix of rows ``start:stop`` of :math:`[A\\ B]W`."""
    d, width = A.shape[1], W.shape[0]
    prefix, scalar = _SCALARS[W.dtype]
    trmm, syrk = _routine(prefix, "trmm"), _routine(prefix, "syrk")
    gram = np.zeros((width, width), dtype=W.dtype, order="F")
    buffer = np.empty((rows, width), dtype=W.dtype)  # C order: its transpose is the Fortran width x rows block
    one, size = ctypes.byref(scalar(1.0)), _int(width)
    left, upper, transposed, plain = _char(b"L"), _char(b"U"), _char(b"T"), _char(b"N")
    w, z, g = W.ctypes.data, buffer.ctypes.data, gram.ctypes.data
    for first in range(start, stop, rows):
        last = min(first + rows, stop)
        buffer[: last - first, :d], buffer[: last - first, d:] = A[first:last], B[first:last]
        count = _int(last - first)
        trmm(left, upper, transposed, plain, size, count, one, w, size, z, size)  # Z^T <- W^T Z^T
        syrk(upper, plain, size, count, one, z, size, one, g, size)  # upper triangle of G += Z^T Z
    return gram


def gram_of_upper_product(A, B, W, rows):
    r""":math:`Y^TY` for :math:`Y = [A\ B]\,W`, ``W`` upper triangular, by blocks of ``rows`` rows on threads.

    ``A`` (n x d) and ``B`` (n x k) are dense NumPy arrays and ``W`` a Fortran-ordered
    ``(d + k) x (d + k)`` array, all of one dtype (float32 or float64).  Runs on
    ``numba.get_num_threads()`` threads, the family's thread count; the caller limits the BLAS
    to one thread.
    """
    n = A.shape[0]
    blocks = -(-n // rows)
    threads = max(1, min(numba.get_num_threads(), blocks))
    bounds = [min(n, t * blocks // threads * rows) for t in range(threads + 1)]
    grams = map_on_threads(lambda t: _blocks_gram(A, B, W, bounds[t], bounds[t + 1], rows), range(threads))
    G = functools.reduce(np.add, grams)
    return np.triu(G) + np.triu(G, 1).T
