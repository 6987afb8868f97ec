"""Array-backend shim: one place that knows about NumPy, CuPy and other array-API libraries."""

from ._capabilities import CAPABILITIES, capabilities
from ._core import Backend, cupy_module, get_backend, gpu_available, gpu_disabled, numba_disabled
from ._random import check_random_state, rademacher, standard_normal, uniform_integers
from ._threads import map_on_threads, serial_blas

__all__ = [
    "CAPABILITIES",
    "Backend",
    "capabilities",
    "check_random_state",
    "cupy_module",
    "get_backend",
    "gpu_available",
    "gpu_disabled",
    "map_on_threads",
    "numba_disabled",
    "rademacher",
    "serial_blas",
    "standard_normal",
    "uniform_integers",
]
