"""CUDA kernel of the Walsh-Hadamard transform for CuPy arrays (imported only for CuPy inputs).

The data are viewed as C-contiguous ``(P, N, Q)`` like the CPU kernel.  Each launch applies
one butterfly stage to every pair in parallel, one thread per pair: ``log2(N)`` launches that
each read and write the array once.
"""

from functools import lru_cache

import cupy

_SOURCE = r"""
#include <cupy/complex.cuh>
template <typename T>
__global__ void wht_stage(T* x, long long n_pairs, long long half_length, long long n_cols, long long h) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (; t < n_pairs; t += stride) {
        long long q = t % n_cols;
        long long r = t / n_cols;
        long long j = r % half_length;
        long long p = r / half_length;
        long long row = (j / h) * 2 * h + (j % h);
        long long i0 = (p * 2 * half_length + row) * n_cols + q;
        long long i1 = i0 + h * n_cols;
        T a = x[i0];
        T b = x[i1];
        x[i0] = a + b;
        x[i1] = a - b;
    }
}
"""

_TYPES = {"float32": "float", "float64": "double", "complex64": "complex<float>", "complex128": "complex<double>"}
_THREADS = 256


@lru_cache(maxsize=None)
def _kernel(dtype_name):
    name = f"wht_stage<{_TYPES[dtype_name]}>"
    module = cupy.RawModule(code=_SOURCE, options=("-std=c++14",), name_expressions=(name,))
    return module.get_function(name)


def transform_3d(src, dst, scale):
    """Walsh-Hadamard transform along axis 1 of C-contiguous ``(P, N, Q)`` CuPy arrays, times ``scale``."""
    n_slabs, length, n_cols = src.shape
    if dst is not src:
        cupy.copyto(dst, src)
    if scale != 1:
        dst *= dst.real.dtype.type(scale)
    n_pairs = n_slabs * (length // 2) * n_cols
    if n_pairs == 0:
        return
    kernel = _kernel(dst.dtype.name)
    blocks = min((n_pairs + _THREADS - 1) // _THREADS, 65535 * 8)
    h = 1
    while h < length:
        kernel((blocks,), (_THREADS,), (dst, cupy.int64(n_pairs), cupy.int64(length // 2), cupy.int64(n_cols),
                                         cupy.int64(h)))
        h *= 2
