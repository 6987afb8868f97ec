"""Dense fast Walsh-Hadamard transform."""

import math

import numpy as np

from .._backend import capabilities, get_backend
from .._validation import check_array, check_axis, check_out
from ..exceptions import ArgumentTypeError, DTypeError, ShapeError

__all__ = ["fwht", "ifwht"]

_BACKENDS = dict(
    numpy="Numba kernel: radix-8/4 butterflies, cache-blocked, multi-threaded",
    cupy="CUDA kernel, one launch per butterfly stage",
    generic="pure array-API butterflies (one reshape per stage)",
)


@capabilities("linalgkit.transforms.fwht", **_BACKENDS)
def fwht(x, axis=-1, *, normalize=False, out=None, check_finite=False):
    r"""Fast Walsh-Hadamard transform in natural (Hadamard) order.

    Computes :math:`y = c\,H_N x` along ``axis``, where :math:`H_N` is the Sylvester-Hadamard
    matrix, :math:`(H_N)_{jk} = (-1)^{\mathrm{popcount}(j \,\&\, k)}`, equal to
    ``scipy.linalg.hadamard(N)``, and :math:`c = 1` or :math:`c = N^{-1/2}` with
    ``normalize=True`` (the orthonormal transform, its own inverse).  Costs
    :math:`N \log_2 N` additions per transformed vector.

    Parameters
    ----------
    x : array_like
        Real or complex array of any batch shape: float32, float64, complex64 and complex128
        are kept, integer and boolean arrays (and lists) are cast to float64 as :mod:`numpy.fft`
        does.  NumPy, CuPy, or any array-API array (served by a slower pure array-API path).
        Any memory layout and byte order; a zero-size array gives an empty result.
    axis : int, default=-1
        Axis along which to transform; its length ``N`` must be a power of two (or 0).
    normalize : bool, default=False
        Scale by :math:`N^{-1/2}` so that the transform is orthonormal.
    out : array, optional
        Writeable array of the same shape, dtype and library as ``x`` (float64 for an integer
        ``x``) to write the result into; may be ``x`` itself for an in-place transform, or
        overlap it (the result is then staged in a temporary).
    check_finite : bool, default=False
        Raise :class:`~linalgkit.exceptions.NonFiniteError` when ``x`` holds NaN or infinity.
        Off by default because it costs a pass over ``x``: non-finite values then propagate,
        and since every output depends on every input, one NaN makes its whole transformed
        vector NaN (other vectors of the batch are unaffected).

    Returns
    -------
    array
        The transform, of the same shape, dtype (in native byte order) and library as ``x``
        (``out`` when given).

    Raises
    ------
    ShapeError
        If the length along ``axis`` is not a power of two (zero-pad it to the next one), or
        ``out`` has another shape than ``x``.
    ValidationError
        If ``axis`` is out of range, or ``out`` is read-only.
    DTypeError
        If ``x`` is a half-precision, extended-precision (``numpy.longdouble``) or object array
        (cast it to float32, float64 or complex128), or ``out`` has another dtype than the
        (cast) ``x``.
    ArgumentTypeError
        If ``axis`` is not an integer, ``normalize`` or ``check_finite`` not a bool, or ``out``
        not an array.
    BackendError
        If ``out`` is an array of another library than ``x``.

    See Also
    --------
    ifwht : The inverse transform.

    Notes
    -----
    Natural order is the order of ``scipy.linalg.hadamard``, not sequency (Walsh) order.  On
    NumPy inputs a vector longer than the cache is split as :math:`N = RC` with
    :math:`H_N = H_R \otimes H_C`, so the data are read about twice instead of
    :math:`\lceil\log_2 N / 2\rceil` times.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.transforms import fwht
    >>> fwht(np.array([1.0, 0.0, 1.0, 0.0]))
    array([2., 2., 0., 0.])
    >>> fwht([1, 0, 1, 0], normalize=True)  # integers are cast to float64
    array([1., 1., 0., 0.])
    """
    return _transform(x, axis, normalize, out, check_finite, inverse=False)


@capabilities("linalgkit.transforms.ifwht", **_BACKENDS)
def ifwht(x, axis=-1, *, normalize=False, out=None, check_finite=False):
    r"""Inverse fast Walsh-Hadamard transform in natural (Hadamard) order.

    Computes :math:`x = N^{-1} H_N y` along ``axis`` (since :math:`H_N^2 = N I`), or
    :math:`N^{-1/2} H_N y` with ``normalize=True``, so that ``ifwht(fwht(x)) == x`` for either
    choice of ``normalize``.  Parameters, returns and errors are those of :func:`fwht`.

    Parameters
    ----------
    x : array_like
        Real or complex floating array whose length along ``axis`` is a power of two.
    axis : int, default=-1
        Axis along which to transform.
    normalize : bool, default=False
        Use the orthonormal scaling :math:`N^{-1/2}` (the inverse of ``fwht(..., normalize=True)``).
    out : array, optional
        Array to write the result into; may be ``x``.
    check_finite : bool, default=False
        Raise when ``x`` holds NaN or infinity.

    Returns
    -------
    array
        The inverse transform, of the same shape, dtype and library as ``x``.

    See Also
    --------
    fwht : The forward transform.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.transforms import fwht, ifwht
    >>> x = np.array([3.0, -1.0, 0.5, 2.0])
    >>> bool(np.allclose(ifwht(fwht(x)), x))
    True
    """
    return _transform(x, axis, normalize, out, check_finite, inverse=True)


def _transform(x, axis, normalize, out, check_finite, inverse):
    """Validate the arguments of :func:`fwht` / :func:`ifwht` once, then run :func:`_fwht`."""
    be = get_backend(x=x, out=out)
    _check_flag(normalize, "normalize")
    _check_flag(check_finite, "check_finite")
    x = check_array(x, "x", backend=be, numeric="cast", finite=check_finite, allow_empty=True)
    if be.kind == "numpy" and x.dtype.char in "gG":  # numpy.longdouble / clongdouble: no kernel has them
        kept = "complex128" if x.dtype.kind == "c" else "float64"
        raise DTypeError(f"x must have dtype float32, float64, complex64 or complex128, got {x.dtype.name}; convert "
                         f"it with x.astype({kept}) (the transform has no extended-precision kernel)")
    axis = check_axis(axis, x.ndim)
    length = x.shape[axis]
    if length & (length - 1):
        target = 1 << (length - 1).bit_length()
        raise ShapeError(
            f"x must have a power-of-two length along axis {axis}, got {length}; zero-pad it to {target}, "
            f"e.g. numpy.pad(x, pad_width) with {target - length} zeros after the data on that axis"
        )
    if out is not None:
        out = check_out(out, "out", like=_in_byte_order_of(x, out), backend=be)
    length = max(length, 1)  # the empty transform: nothing to scale
    if normalize:
        scale = 1 / math.sqrt(length)
    else:
        scale = 1 / length if inverse else 1
    return _fwht(be, x, axis, scale, out)


def _in_byte_order_of(x, out):
    """``x`` viewed in the byte order of a NumPy ``out`` of its dtype (the result is written in ``out``'s order)."""
    if isinstance(x, np.ndarray) and isinstance(out, np.ndarray) and out.dtype.isnative != x.dtype.isnative:
        swapped = x.dtype.newbyteorder()
        if swapped == out.dtype:
            return x.view(swapped)
    return x


def _check_flag(value, name):
    """Refuse a non-boolean flag (a string or a number is not silently read as true or false)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}; pass True or False")


def _fwht(be, x, axis, scale, out=None):
    """``scale`` times the transform of the checked array ``x`` along ``axis`` (``0 <= axis < x.ndim``).

    The length along ``axis`` is a power of two.  The family's one dispatch point: the Numba
    kernel for NumPy, the CUDA kernel for CuPy, pure array-API butterflies otherwise.  Other
    modules (the sparse WHT, sketches) call this, not :func:`fwht`, so that nothing is validated
    twice.
    """
    if be.kind == "numpy" and be.use_numba:
        from ._fwht_numba import transform_3d
        return _run_native(np, transform_3d, x, axis, scale, out)
    if be.kind == "cupy":
        import cupy

        from ._fwht_cupy import transform_3d
        return _run_native(cupy, transform_3d, x, axis, scale, out)
    from ._fwht_xp import transform

    result = transform(be.xp, x, axis, scale)
    if out is None:
        return result
    out[...] = result
    return out


def _run_native(module, transform_3d, x, axis, scale, out):
    """Run a native ``(P, N, Q)`` kernel on C-contiguous data, writing into ``out`` when usable."""
    shape = x.shape
    cube = (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :]))
    if not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder("="))
    src = module.ascontiguousarray(x)
    direct = (
        out is not None
        and out.flags.c_contiguous
        and out.dtype.isnative
        and (out is x or not module.may_share_memory(out, x))
    )
    dst = out if direct else module.empty(shape, dtype=x.dtype)
    if dst.size:
        transform_3d(src.reshape(cube), dst.reshape(cube), scale)
    if out is None or direct:
        return dst
    out[...] = dst
    return out
