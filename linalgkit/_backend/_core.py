"""The backend record: which array library and device a call computes on."""

import os
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import array_api_compat
import array_api_compat.numpy
import numpy as np
import scipy.sparse

from ..exceptions import BackendError

__all__ = ["Backend", "cupy_module", "get_backend", "gpu_available", "gpu_disabled", "numba_disabled"]

_SCALAR_TYPES = (bool, int, float, complex, np.generic)


def _flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def gpu_disabled():
    """True when ``LINALGKIT_DISABLE_GPU`` opts out of CuPy (CuPy is then never imported)."""
    return _flag("LINALGKIT_DISABLE_GPU")


def numba_disabled():
    """True when ``LINALGKIT_DISABLE_NUMBA`` asks NumPy inputs to take the pure array-API path."""
    return _flag("LINALGKIT_DISABLE_NUMBA")


@lru_cache(maxsize=1)
def _import_cupy():
    try:
        import cupy
    except Exception:  # ImportError, or a CUDA library that fails to load
        return None
    return cupy


def cupy_module():
    """The ``cupy`` module, or None when it is disabled, missing or broken (imported lazily)."""
    return None if gpu_disabled() else _import_cupy()


def gpu_available():
    """True when CuPy imports and sees at least one CUDA device."""
    cupy = cupy_module()
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@dataclass(frozen=True)
class Backend:
    """Where one call computes: the array namespace, its kind, device and sparse module.

    Attributes
    ----------
    xp : module
        Array-API namespace of the inputs (from ``array_api_compat``).
    kind : {"numpy", "cupy", "generic"}
        ``"numpy"`` and ``"cupy"`` have native kernels (Numba, CUDA); ``"generic"`` is any other
        array-API library, served by pure array-API code.
    device : object
        Device of the inputs, to pass as ``device=`` when creating arrays.
    sparse : module or None
        ``scipy.sparse`` for NumPy, ``cupyx.scipy.sparse`` for CuPy, None otherwise.
    use_numba : bool
        Whether NumPy inputs run the Numba kernels (False under ``LINALGKIT_DISABLE_NUMBA=1``).
    """

    xp: ModuleType
    kind: str
    device: object
    sparse: ModuleType | None
    use_numba: bool

    def asarray(self, obj, dtype=None):
        """Array on this backend's device; no copy when ``obj`` already is one of the right dtype."""
        return self.xp.asarray(obj, dtype=dtype, device=self.device)

    def empty(self, shape, dtype):
        """Uninitialized array on this backend's device."""
        return self.xp.empty(shape, dtype=dtype, device=self.device)

    def zeros(self, shape, dtype):
        """Array of zeros on this backend's device."""
        return self.xp.zeros(shape, dtype=dtype, device=self.device)

    def from_host(self, array):
        """Explicit upload of a NumPy array to this backend's device (no-op for NumPy)."""
        if self.kind == "numpy":
            return np.asarray(array)
        if self.kind == "cupy":
            return cupy_module().asarray(array)
        return self.xp.asarray(np.asarray(array), device=self.device)

    def to_host(self, array):
        """Explicit download of an array of this backend to NumPy (no-op for NumPy)."""
        if self.kind == "numpy":
            return np.asarray(array)
        if self.kind == "cupy":
            return array.get()
        return np.from_dlpack(array)

    def issparse(self, obj):
        """True when ``obj`` is a sparse matrix or array of this backend's sparse module."""
        return self.sparse is not None and self.sparse.issparse(obj)


@lru_cache(maxsize=None)
def _classify(array_type):
    """Library of one argument type: 'numpy', 'cupy', 'dask', 'generic' or None (array-like)."""
    module = array_type.__module__ or ""
    if issubclass(array_type, np.ndarray) or issubclass(array_type, (scipy.sparse.spmatrix, scipy.sparse.sparray)):
        return "numpy"
    if module.startswith(("cupy", "cupyx")):
        return "cupy"
    if module.startswith("dask"):
        return "dask"
    if hasattr(array_type, "__array_namespace__"):
        return "generic"
    return None


def _numpy_backend(use_numba):
    return Backend(array_api_compat.numpy, "numpy", "cpu", scipy.sparse, use_numba)


_NUMPY = {True: _numpy_backend(True), False: _numpy_backend(False)}


def _cupy_backend(first):
    cupy = cupy_module()
    if cupy is None:
        raise BackendError(
            "a CuPy array was passed but the GPU backend is disabled (LINALGKIT_DISABLE_GPU is set) "
            "or CuPy cannot be imported; unset LINALGKIT_DISABLE_GPU or pass NumPy arrays with .get()"
        )
    import cupyx.scipy.sparse

    dense = first.data if cupyx.scipy.sparse.issparse(first) else first
    import array_api_compat.cupy

    return Backend(array_api_compat.cupy, "cupy", dense.device, cupyx.scipy.sparse, False)


def _describe(kind, value):
    if kind == "generic":
        return f"a {type(value).__module__.split('.')[0]} array"
    return f"a {kind} array"


def get_backend(*arrays, **named_arrays):
    """Resolve the backend of a call from its array arguments.

    Parameters
    ----------
    *arrays, **named_arrays : array_like, sparse matrix, scalar or None
        The call's arguments.  Pass them by keyword (``get_backend(A=A, b=b)``) so that errors
        name them.  None, Python and NumPy scalars, and array-likes such as lists carry no
        backend and are ignored; if nothing else is given the backend is NumPy.

    Returns
    -------
    Backend
        The frozen record every layer below receives.

    Raises
    ------
    BackendError
        When arguments come from different libraries or devices (data are never moved between
        host and GPU implicitly), for Dask arrays (see ``linalgkit.dask``), or for CuPy arrays
        while the GPU backend is disabled.
    """
    items = [(f"argument {i}", a) for i, a in enumerate(arrays)] + list(named_arrays.items())
    seen = []
    for name, value in items:
        if value is None or isinstance(value, _SCALAR_TYPES):
            continue
        kind = _classify(type(value))
        if kind == "dask":
            raise BackendError(
                f"{name} is a Dask array; the in-memory functions take NumPy or CuPy arrays: pass "
                f"{name}.compute(), or use the distributed versions in linalgkit.dask"
            )
        if kind is not None:
            seen.append((name, kind, value))
    if not seen:
        return _NUMPY[not numba_disabled()]
    first_name, first_kind, first = seen[0]
    for name, kind, value in seen[1:]:
        if kind != first_kind or (
            kind == "generic" and array_api_compat.array_namespace(value) is not array_api_compat.array_namespace(first)
        ):
            raise BackendError(
                f"{first_name} is {_describe(first_kind, first)} but {name} is {_describe(kind, value)}; "
                f"linalgkit never moves data between libraries or devices implicitly: convert one of them "
                f"first (cupy.asarray(...) to upload, .get() to download)"
            )
    if first_kind == "numpy":
        return _NUMPY[not numba_disabled()]
    if first_kind == "cupy":
        backend = _cupy_backend(first)
    else:
        xp = array_api_compat.array_namespace(first)
        backend = Backend(xp, "generic", array_api_compat.device(first), None, False)
    for name, _, value in seen[1:]:
        device = array_api_compat.device(value.data if backend.issparse(value) else value)
        if device != backend.device:
            raise BackendError(
                f"{first_name} is on device {backend.device} but {name} is on device {device}; "
                f"move one of them so that all arrays share a device"
            )
    return backend
