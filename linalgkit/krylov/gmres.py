r"""Restarted GMRES with convergence checks inside each cycle: the baseline of the recycling solvers."""

import numbers

from .._backend import capabilities
from .._solver import IterationMonitor, check_callback, check_tolerances, progress_bar, warn_not_converged
from .._validation import check_scalar
from ._common import check_system
from ._monitor import DEFAULT_RTOL, default_maxiter
from .gcrodr import _gcrodr

__all__ = ["gmres"]


@capabilities("linalgkit.krylov.gmres", numpy="Numba MGS Arnoldi step, Givens rotations on scalars",
              cupy="CGS2 Arnoldi on CuPy GEMVs and cupyx sparse", generic="pure array-API CGS2 Arnoldi")
def gmres(A, b, x0=None, *, rtol=None, atol=0.0, restart=40, maxiter=None, M=None, callback=None, progress=False):
    r"""Solve :math:`Ax = b` by restarted GMRES(``restart``) with right preconditioning.

    Each cycle builds an orthonormal Krylov basis by classical Gram-Schmidt with one
    reorthogonalization where the first pass cancelled much (CGS2 with the DGKS criterion: two or
    four GEMVs per step on a preallocated basis) and updates the QR
    factorization of the Hessenberg matrix by Givens rotations, so the least-squares residual is
    known after every step and a cycle stops as soon as it meets the rule.  This is GCRO-DR with
    ``k = 0`` (:func:`gcrodr`), the same code.

    Stopping rule of :mod:`linalgkit._solver` with :math:`r_k = b - Ax_k` (true residual: the
    preconditioner is on the right) and :math:`r_{\mathrm{ref}} = b`; confirmed on the computed
    residual after each cycle, as SciPy does.

    Parameters
    ----------
    A : array, sparse matrix or LinearOperator of shape (n, n)
        Real; dense, SciPy/cupyx sparse (any index dtype) or objects with ``matvec`` / ``matmat``.
    b : array of shape (n,)
    x0 : array of shape (n,), optional
        Starting guess (default zero).
    rtol, atol : float
        Tolerances (default ``rtol=1e-5`` as SciPy, ``atol=0``).
    restart : int, default=40
        Arnoldi steps per cycle.
    maxiter : int, optional
        Most inner iterations over all cycles (default ``10 n``; SciPy's ``gmres`` counts cycles).
    M : array, sparse matrix or LinearOperator, optional
        Right preconditioner applied as ``M @ v`` (approximates :math:`A^{-1}`, as in SciPy).
    callback : callable, optional
        ``callback(xk)`` after every inner iteration with the current iterate (formed only when a
        callback is set; SciPy's ``callback_type="x"`` is once per cycle).
    progress : bool, default=False
        A tqdm bar over the inner iterations.

    Returns
    -------
    KrylovResult
        ``x``, ``matvecs``, ``iterations``, ``cycles``, ``converged``, ``residual_norm``,
        ``history`` (``recycle`` is None).

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.datasets._krylov import make_poisson
    >>> A, b = make_poisson(16)
    >>> result = gmres(A, b, rtol=1e-8)
    >>> bool(np.linalg.norm(b - A @ result.x) <= 1e-8 * np.linalg.norm(b))
    True
    """
    system = check_system(A, b, x0, M)
    check_scalar(restart, "restart", kind=numbers.Integral, low=1)
    tolerances = check_tolerances(rtol, atol, default_maxiter(maxiter, system.n), dtype=system.dtype,
                                  default_rtol=DEFAULT_RTOL)
    callback = check_callback(callback)
    with progress_bar(progress, tolerances.maxiter, "gmres") as bar:
        result = _gcrodr(system.be, system, k=0, m=int(restart), tolerances=tolerances, U=None, C=None,
                         monitor=IterationMonitor(callback, bar))
    if not result.converged:
        warn_not_converged("gmres", tolerances, result.residual_norm)
    return result
