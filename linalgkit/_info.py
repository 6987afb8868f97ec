"""``python -m linalgkit info``: versions, threads and which backends answer."""

import importlib.metadata
import platform

from ._backend import CAPABILITIES, cupy_module, gpu_available, gpu_disabled, numba_disabled

__all__ = ["print_info"]

_PACKAGES = ("linalgkit", "numpy", "scipy", "numba", "scikit-learn", "networkx", "array-api-compat", "cupy",
             "dask", "distributed")


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _gpu_line():
    if gpu_disabled():
        return "disabled (LINALGKIT_DISABLE_GPU)"
    cupy = cupy_module()
    if cupy is None:
        return "CuPy not importable"
    if not gpu_available():
        return f"CuPy {cupy.__version__} imports, but no CUDA device answers"
    props = cupy.cuda.runtime.getDeviceProperties(0)
    return f"CuPy {cupy.__version__}, device 0: {props['name'].decode()}"


def print_info(file=None):
    """Print versions, Numba threads, GPU and Dask availability, and the capability table."""
    import numba

    cupy_version = _version("cupy")
    if cupy_version == "not installed":
        cupy_version = next((v for v in map(_version, ("cupy-cuda12x", "cupy-cuda13x")) if v != "not installed"),
                            cupy_version)
    print(f"python      {platform.python_version()} ({platform.machine()})", file=file)
    for name in _PACKAGES:
        version = cupy_version if name == "cupy" else _version(name)
        print(f"{name:<11} {version}", file=file)
    numba_state = "disabled (LINALGKIT_DISABLE_NUMBA)" if numba_disabled() else "enabled"
    print(f"numba       {numba_state}, {numba.get_num_threads()} threads, layer {numba.config.THREADING_LAYER}",
          file=file)
    print(f"gpu         {_gpu_line()}", file=file)
    print(f"dask        {'installed' if _version('dask') != 'not installed' else 'not installed'}", file=file)
    print("\nbackends per function:", file=file)
    for name, kinds in sorted(CAPABILITIES.items()):
        print(f"  {name}", file=file)
        for kind, how in kinds.items():
            print(f"    {kind:<8} {how or 'not supported'}", file=file)
