r"""GCRO-DR: restarted GMRES with deflated restarting and a recycle space carried across systems."""

import numbers

from .._backend import capabilities, serial_blas
from .._solver import IterationMonitor, check_callback, check_tolerances, progress_bar, warn_not_converged
from .._validation import check_array, check_scalar
from ..exceptions import ShapeError, ValidationError
from ._common import KrylovResult, RecycleSpace, check_system
from ._engine import gcrodr_engine
from ._monitor import DEFAULT_RTOL, default_maxiter

__all__ = ["gcrodr"]


def check_recycle(recycle, system, m, name="recycle"):
    """``(U, C)`` as rows from ``None``, a :class:`RecycleSpace` or an ``(n, k)`` array (``C`` only when valid)."""
    if recycle is None:
        return None, None
    be = system.be
    space = recycle if isinstance(recycle, RecycleSpace) else RecycleSpace(recycle)
    U = check_array(space.U, name, backend=be, ndim=2, numeric="cast", allow_complex=False)
    if U.shape[0] != system.n:
        raise ShapeError(f"{name} must have {system.n} rows (one per unknown), got shape {tuple(U.shape)}; "
                         f"pass the recycle space of a system of the same size")
    if U.shape[1] >= m:
        raise ValidationError(f"{name} must have fewer than m={m} columns, got {U.shape[1]}; "
                              f"raise m or pass fewer columns")
    U = be.xp.astype(be.xp.matrix_transpose(U), system.dtype)
    C = None
    if space.valid_for(system.A, system.M):
        C = be.xp.astype(be.xp.matrix_transpose(space.C), system.dtype)
    return U, C


def check_sizes(k, m):
    """Validate the recycle dimension ``k`` and the cycle length ``m`` (``0 <= k < m``)."""
    check_scalar(m, "m", kind=numbers.Integral, low=1)
    check_scalar(k, "k", kind=numbers.Integral, low=0)
    if k >= m:
        raise ValidationError(f"k must be smaller than m, got k={k} and m={m}; a cycle runs m - k new Arnoldi "
                              f"steps: use e.g. k = m // 2")
    return int(k), int(m)


def _space(be, result, system):
    if result.U is None:
        return None
    xp = be.xp
    return RecycleSpace(xp.matrix_transpose(result.U), xp.matrix_transpose(result.C), result.ritz_values,
                        system.A, system.M)


def to_result(be, result, system, space):
    """The public :class:`KrylovResult` of an engine run."""
    return KrylovResult(x=result.x, matvecs=system.matvecs, cycles=result.cycles, recycle=space,
                        projection_ratio=result.projection_ratio, converged=bool(result.converged),
                        iterations=result.iterations, residual_norm=result.residual_norm, history=result.history)


def _gcrodr(be, system, *, k, m, tolerances, U, C, monitor, guard=None):
    """Private implementation on a checked system (no warning: the caller reports non-convergence).

    The host BLAS runs serially: the products are GEMVs and skinny GEMMs, memory-bound, and a
    threaded OpenBLAS on a busy machine made them up to 40x slower (spinning workers).
    """
    with serial_blas(be):
        result = gcrodr_engine(be, system, k=k, m=m, tolerances=tolerances, U=U, C=C, monitor=monitor,
                               guard=guard)
    return to_result(be, result, system, _space(be, result, system) if k > 0 else None)


@capabilities("linalgkit.krylov.gcrodr", numpy="Numba MGS Arnoldi step, LAPACK eig for harmonic Ritz",
              cupy="the same code on CuPy arrays and cupyx sparse (small eig on the host)",
              generic="pure array-API Arnoldi (small eig on the host)")
def gcrodr(A, b, x0=None, *, recycle=None, k=20, m=40, rtol=None, atol=0.0, maxiter=None, M=None, callback=None,
           progress=False):
    r"""Solve :math:`Ax = b` by GCRO-DR(m, k) (Parks et al. 2006), returning a recycle space for the next system.

    Each cycle runs :math:`m - k` Arnoldi steps on :math:`(I - CC^T)AM`, where
    :math:`C = AMU` spans the image of the recycle space :math:`U`; at its end the ``k`` harmonic
    Ritz vectors of :math:`AM` with the smallest harmonic Ritz values (the slow part of the
    spectrum) become the new :math:`U`.  Arithmetic is real: a complex pair contributes its real
    and imaginary parts (so the space may hold ``k + 1`` vectors).  Without an incoming space
    the first cycle is GMRES(m) and the solve is GMRES-DR(m, k); ``k = 0`` is GMRES(m).

    Stopping rule of :mod:`linalgkit._solver` with :math:`r_k = b - Ax_k` (the preconditioner is
    applied on the right, so this is the true residual) and :math:`r_{\mathrm{ref}} = b`; it is
    tested inside each cycle on the least-squares estimate and confirmed on the computed residual
    after it.

    Parameters
    ----------
    A : array, sparse matrix or LinearOperator of shape (n, n)
        Real; dense NumPy/CuPy/array-API arrays, SciPy/cupyx sparse (any index dtype) or objects
        with ``matvec`` / ``matmat``.
    b : array of shape (n,)
    x0 : array of shape (n,), optional
        Starting guess (default zero).
    recycle : RecycleSpace or array of shape (n, j), optional
        The space of a previous solve (``result.recycle``).  Its ``C`` is reused when ``A`` and
        ``M`` are the objects it was computed with; otherwise ``C = AMU`` is recomputed
        (``j`` products).
    k : int, default=20
        Dimension of the recycle space kept (0: plain restarted GMRES).
    m : int, default=40
        Cycle length: ``k`` recycled plus ``m - k`` new Arnoldi vectors (``k < m``).
    rtol, atol : float
        Tolerances (default ``rtol=1e-5`` as SciPy, ``atol=0``).
    maxiter : int, optional
        Most inner iterations over all cycles (default ``10 n``; SciPy's ``gmres`` counts cycles).
    M : array, sparse matrix or LinearOperator, optional
        Right preconditioner, applied as ``M @ v`` (an approximation of :math:`A^{-1}`, as in SciPy).
    callback : callable, optional
        ``callback(xk)`` after every inner iteration, with the current iterate (forming it costs a
        triangular solve, a GEMV and a product with ``M``, only when a callback is set; SciPy's
        ``callback_type="x"`` calls once per cycle instead).
    progress : bool, default=False
        A tqdm bar over the inner iterations.

    Returns
    -------
    KrylovResult
        ``x``, ``recycle`` (pass it to the next solve), ``matvecs``, ``iterations``, ``cycles``,
        ``converged``, ``residual_norm``, ``history`` and ``projection_ratio``.

    Examples
    --------
    >>> from linalgkit.datasets._krylov import make_darcy_family
    >>> family = make_darcy_family(16, [0.0, 0.02], random_state=0)
    >>> first = gcrodr(*family[0], rtol=1e-8)
    >>> second = gcrodr(*family[1], recycle=first.recycle, rtol=1e-8)
    >>> bool(second.converged), second.matvecs < first.matvecs
    (True, True)
    """
    system = check_system(A, b, x0, M)
    k, m = check_sizes(k, m)
    tolerances = check_tolerances(rtol, atol, default_maxiter(maxiter, system.n), dtype=system.dtype,
                                  default_rtol=DEFAULT_RTOL)
    U, C = check_recycle(recycle, system, m)
    callback = check_callback(callback)
    with progress_bar(progress, tolerances.maxiter, "gcrodr") as bar:
        result = _gcrodr(system.be, system, k=k, m=m, tolerances=tolerances, U=U, C=C,
                         monitor=IterationMonitor(callback, bar))
    if not result.converged:
        warn_not_converged("gcrodr", tolerances, result.residual_norm)
    return result
