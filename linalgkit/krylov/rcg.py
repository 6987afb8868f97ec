r"""Recycled (deflated) conjugate gradients for sequences of SPD systems (Saad, Yeung, Erhel, Guyomarc'h 2000)."""

import numbers

import numpy as np
import scipy.linalg

from .._backend import capabilities, serial_blas
from .._solver import IterationMonitor, check_callback, check_tolerances, progress_bar, warn_not_converged
from .._validation import check_scalar
from ..exceptions import NotSPDError
from ._common import RecycleSpace, check_system, norm, to_device
from ._cutovers import BREAKDOWN
from ._engine import EngineResult
from ._monitor import DEFAULT_RTOL, default_maxiter
from .gcrodr import check_recycle, check_sizes, to_result

__all__ = ["rcg"]

_NOT_SPD = ("A must be symmetric positive definite for rcg, got {what}; solve it with gcrodr (any nonsingular A) "
            "or make it SPD")


_NOT_SYMMETRIC = "A must be symmetric for rminres, got {what}; solve it with gcrodr (any nonsingular A)"


def check_symmetric(be, A, *, definite=True):
    """Raise :class:`NotSPDError` when an explicit ``A`` is not symmetric (to 1e-10).

    With ``definite``, also when a diagonal entry is <= 0 (a necessary condition for SPD).
    """
    if not hasattr(A, "T") or callable(getattr(A, "matvec", None)):
        return
    xp = be.xp
    if be.issparse(A):
        gap = abs(A - A.T).max()
        scale, diagonal = abs(A).max(), A.diagonal()
    else:
        gap = xp.max(xp.abs(A - xp.matrix_transpose(A)))
        scale, diagonal = xp.max(xp.abs(A)), xp.linalg.diagonal(A)
    if float(gap) > 1e-10 * float(scale):
        message = _NOT_SPD if definite else _NOT_SYMMETRIC
        raise NotSPDError(message.format(what=f"max |A - A^T| = {float(gap):.3g}"))
    if not definite:
        return
    smallest = float(xp.min(diagonal))
    if not smallest > 0:
        raise NotSPDError(_NOT_SPD.format(what=f"a diagonal entry {smallest:.3g} <= 0"))


class _Deflation:
    r"""The space :math:`W` (rows), :math:`AW` and the Cholesky factor of :math:`W^TAW`; projections onto it."""

    def __init__(self, be, system, W, AW):
        self.be, self.W, self.AW = be, W, AW
        E = be.to_host(W @ be.xp.matrix_transpose(AW)).astype(np.float64)
        self.factor = scipy.linalg.cho_factor((E + E.T) / 2)
        self.dtype = system.dtype

    def solve(self, v):
        r""":math:`W^T (W^TAW)^{-1} (AW)^T v`-coefficients: :math:`\mu = (W^TAW)^{-1}(AW)v`."""
        rhs = self.be.to_host(self.AW @ v).astype(np.float64)
        return to_device(self.be, scipy.linalg.cho_solve(self.factor, rhs), self.dtype)


def _deflation(be, system, U, C):
    if U is None:
        return None
    AW = system.apply_A(U) if C is None else C
    try:
        return _Deflation(be, system, U, AW)
    except np.linalg.LinAlgError as error:
        raise NotSPDError(_NOT_SPD.format(what="W^T A W not positive definite on the recycle space")) from error


def _ritz(be, system, defl, P, AP, k):
    """The ``k`` Ritz vectors of ``A`` with the smallest Ritz values in span(W, P): new ``(W, AW, theta)``."""
    xp = be.xp
    Z = P if defl is None else xp.concat([defl.W, P], axis=0)
    AZ = AP if defl is None else xp.concat([defl.AW, AP], axis=0)
    T = be.to_host(Z @ xp.matrix_transpose(AZ)).astype(np.float64)
    S = be.to_host(Z @ xp.matrix_transpose(Z)).astype(np.float64)
    # CG's directions lose A-orthogonality once extreme Ritz values converge, so Z is numerically
    # rank deficient: Rayleigh-Ritz on an orthonormal basis of its well-determined part.
    s, V = np.linalg.eigh((S + S.T) / 2)
    keep = s > BREAKDOWN * 1e3 * s[-1]
    X = V[:, keep] / np.sqrt(s[keep])
    theta, Y = np.linalg.eigh(X.T @ ((T + T.T) / 2) @ X)
    k = min(k, len(theta))
    if k == 0:
        return None
    theta, Y = theta[:k], X @ Y[:, :k]
    Yd = to_device(be, Y.T, system.dtype)
    return Yd @ Z, Yd @ AZ, theta


def rcg_engine(be, system, *, k, m, tolerances, U=None, C=None, monitor):
    r"""Deflated PCG from the space ``U`` (rows, ``C = AU`` when known); keeps ``m`` directions for the Ritz update."""
    xp = be.xp
    defl = _deflation(be, system, U, C)
    x = xp.zeros_like(system.b) if system.x0 is None else system.x0
    r = system.b if system.x0 is None else system.residual(x)
    threshold = tolerances.threshold(norm(be, system.b))
    rnorm0 = rnorm = norm(be, r)
    ratio = None
    if defl is not None:  # Galerkin start: x += W (W^T A W)^{-1} W^T r
        coef = to_device(be, scipy.linalg.cho_solve(defl.factor, be.to_host(defl.W @ r).astype(np.float64)),
                         system.dtype)
        x = x + coef @ defl.W
        r = r - coef @ defl.AW
        rnorm = norm(be, r)
        ratio = rnorm / rnorm0 if rnorm0 > 0 else 0.0
    history, iterations, cycles = [rnorm], 0, 1
    best = (rnorm, x)
    stored_p, stored_q = [], []
    p, rz = None, None
    while rnorm > threshold and iterations < tolerances.maxiter:
        z = system.apply_M(r)
        rz_new = float(xp.vecdot(r, z))
        if p is None:
            p = z
        else:
            p = z + (rz_new / rz) * p
        if defl is not None:
            p = p - defl.solve(z) @ defl.W
        rz = rz_new
        q = system.apply_A(p)
        pq = float(xp.vecdot(p, q))
        if not pq > 0:
            raise NotSPDError(_NOT_SPD.format(what=f"a search direction with p^T A p = {pq:.3g} <= 0"))
        alpha = rz / pq
        x = x + alpha * p
        r = r - alpha * q
        iterations += 1
        if len(stored_p) < m:
            stored_p.append(p / pq**0.5)
            stored_q.append(q / pq**0.5)
        monitor(lambda x=x: x)
        rnorm = norm(be, r)
        if rnorm < best[0]:
            best = (rnorm, x)
        if rnorm <= threshold:  # confirm on the computed residual, restart from it if the recursion drifted
            r = system.residual(x)
            rnorm = norm(be, r)
            history.append(rnorm)
            if rnorm > threshold:
                p, cycles = None, cycles + 1
    if rnorm > threshold:  # not converged: the iterate with the smallest residual, computed
        x = best[1]
        rnorm = norm(be, system.residual(x))
        history.append(rnorm)
    W, AW, theta = (None, None, None) if defl is None else (defl.W, defl.AW, None)
    if k > 0 and stored_p:
        update = _ritz(be, system, defl, xp.stack(stored_p), xp.stack(stored_q), k)
        if update is not None:
            W, AW, theta = update
    return EngineResult(x, rnorm <= threshold, iterations, cycles, rnorm, tuple(history), W, AW, theta, ratio)


def _rcg(be, system, *, k, m, tolerances, U, C, monitor):
    """Private implementation on a checked system (no warning); serial host BLAS as in :func:`gcrodr`."""
    with serial_blas(be):
        result = rcg_engine(be, system, k=k, m=m, tolerances=tolerances, U=U, C=C, monitor=monitor)
    space = None
    if result.U is not None:
        xp = be.xp
        space = RecycleSpace(xp.matrix_transpose(result.U), xp.matrix_transpose(result.C), result.ritz_values,
                             system.A, system.M)
    return to_result(be, result, system, space)


@capabilities("linalgkit.krylov.rcg", numpy="NumPy/SciPy BLAS-1/2, LAPACK Cholesky and eigh of the small space",
              cupy="the same code on CuPy arrays and cupyx sparse (small factorizations on the host)",
              generic="pure array-API iteration (small factorizations on the host)")
def rcg(A, b, x0=None, *, recycle=None, k=20, m=None, rtol=None, atol=0.0, maxiter=None, M=None, callback=None,
        progress=False, check_spd=True):
    r"""Solve an SPD system by deflated preconditioned CG, returning a recycle space for the next system.

    With a recycle space :math:`W` (and :math:`AW`), the start is the Galerkin solution on
    :math:`W` and every search direction is made :math:`A`-orthogonal to :math:`W`:
    :math:`p \leftarrow p - W(W^TAW)^{-1}(AW)^T z`, so CG runs on the deflated operator (Saad,
    Yeung, Erhel and Guyomarc'h 2000).  The first ``m`` directions (and their images, no extra
    products) together with :math:`W` give, by Rayleigh-Ritz, the ``k`` Ritz vectors with the
    smallest Ritz values: the new space.  ``k = 0`` is plain PCG.

    Stopping rule of :mod:`linalgkit._solver` with :math:`r_k = b - Ax_k` and
    :math:`r_{\mathrm{ref}} = b`: tested on CG's recursive residual and confirmed on the computed
    one (CG restarts from it when they disagree).

    Parameters
    ----------
    A : array, sparse matrix or LinearOperator of shape (n, n)
        Symmetric positive definite.
    b : array of shape (n,)
    x0 : array of shape (n,), optional
    recycle : RecycleSpace or array of shape (n, j), optional
        The space of a previous solve; its :math:`AW` (``C``) is reused for the same ``A`` object.
    k : int, default=20
        Ritz vectors kept.
    m : int, optional
        Search directions stored for the Ritz update (default ``4 k``; more than ``k``): the first ``m`` of the solve.
    rtol, atol, maxiter, callback, progress
        As in :func:`gcrodr` (``callback(xk)`` after every iteration).
    M : array, sparse matrix or LinearOperator, optional
        SPD preconditioner applied as ``M @ r``.
    check_spd : bool, default=True
        Check an explicit ``A`` for symmetry and a positive diagonal first (one pass over it).
        A direction with :math:`p^TAp \le 0` raises in any case.

    Returns
    -------
    KrylovResult

    Raises
    ------
    NotSPDError
        When ``A`` is found not symmetric positive definite.

    Examples
    --------
    >>> from linalgkit.datasets._krylov import make_darcy_family
    >>> family = make_darcy_family(16, [0.0, 0.02], random_state=0)
    >>> first = rcg(*family[0], rtol=1e-8)
    >>> second = rcg(*family[1], recycle=first.recycle, rtol=1e-8)
    >>> bool(second.converged), second.iterations < first.iterations
    (True, True)
    """
    return solve_symmetric("rcg", _rcg, A, b, x0, M, recycle=recycle, k=k, m=m, rtol=rtol, atol=atol,
                           maxiter=maxiter, callback=callback, progress=progress, check=check_spd, definite=True)


def solve_symmetric(name, private, A, b, x0, M, *, recycle, k, m, rtol, atol, maxiter, callback, progress, check,
                    definite):
    """The public body of :func:`rcg` and :func:`~linalgkit.krylov.rminres`: validate once, run ``private``, warn once.

    ``m`` defaults to ``4 k`` stored vectors; ``check`` tests an explicit ``A`` for symmetry (and, if
    ``definite``, a positive diagonal) first.
    """
    system = check_system(A, b, x0, M)
    check_scalar(k, "k", kind=numbers.Integral, low=0)
    m = 4 * int(k) if m is None else m
    k, m = check_sizes(k, max(m, 1)) if k else (0, 1)
    tolerances = check_tolerances(rtol, atol, default_maxiter(maxiter, system.n), dtype=system.dtype,
                                  default_rtol=DEFAULT_RTOL)
    if check:
        check_symmetric(system.be, system.A, definite=definite)
    U, C = check_recycle(recycle, system, system.n + 1)
    callback = check_callback(callback)
    with progress_bar(progress, tolerances.maxiter, name) as bar:
        result = private(system.be, system, k=k, m=m, tolerances=tolerances, U=U, C=C,
                         monitor=IterationMonitor(callback, bar))
    if not result.converged:
        warn_not_converged(name, tolerances, result.residual_norm, stacklevel=4)  # the caller of rcg / rminres
    return result
