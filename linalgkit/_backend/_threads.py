"""Thread control of the host BLAS around linalgkit's own LAPACK calls, and work spread over Python threads."""

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import lru_cache


@lru_cache(maxsize=1)
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def serial_blas(backend):
    """Context manager in which the host BLAS runs on one thread (a no-op off NumPy).

    Used around LAPACK calls that gain little from threads: batches of small matrices, and
    tall-skinny factorizations that sit between Numba kernels.  A multi-threaded OpenBLAS call
    leaves its workers busy-waiting for about 0.1 s; a Numba parallel kernel that starts in that
    window shares the cores with them: the SRHT sketch of 2^17 x 201 ran 1.6x slower right after a
    threaded QR (``python -m benchmarks.ablations blas_spin``).

    Parameters
    ----------
    backend : Backend
        The backend of the arrays the calls work on.

    Returns
    -------
    context manager
    """
    if backend.kind != "numpy":
        return nullcontext()
    return _controller().limit(limits=1, user_api="blas")


def map_on_threads(func, items):
    """``[func(item) for item in items]``, on up to ``numba.get_num_threads()`` Python threads.

    For work that releases the GIL (NumPy's random draws and large ufuncs, BLAS through ctypes),
    so that the threads run on separate cores; Numba's thread count is linalgkit's one host thread
    setting.  One item, or one thread, runs in the caller's thread.

    Parameters
    ----------
    func : callable
        Called once per item.
    items : sequence

    Returns
    -------
    list
        The results, in the order of ``items``.
    """
    import numba

    threads = min(numba.get_num_threads(), len(items))
    if threads <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(func, items))
