"""The stateful recycling solver: set up once, solve many systems, carry the recycle space."""

import numbers

from .._solver import IterationMonitor, check_callback, check_tolerances, progress_bar, warn_not_converged
from .._validation import check_option, check_scalar
from ..exceptions import NotSPDError, ValidationError
from ._common import check_system
from ._cutovers import GUARD_EASY, GUARD_RATIO
from ._monitor import DEFAULT_RTOL, default_maxiter
from .gcrodr import _gcrodr, check_recycle, check_sizes
from .rcg import _rcg, check_symmetric
from .rminres import _rminres

__all__ = ["RecyclingSolver"]

METHODS = ("gcrodr", "rcg", "rminres", "auto")
RECYCLE = ("auto", True, False)


class RecyclingSolver:
    r"""Solve a sequence of systems one call at a time, carrying the recycle space between calls.

    PyAMG's pattern: configure once, then ``solve(A, b)`` many times.  Each call passes the
    space of the previous one to :func:`~linalgkit.krylov.gcrodr` (or
    :func:`~linalgkit.krylov.rcg`); when ``A`` or ``M`` is a different object than last time,
    :math:`C = AMU` is recomputed (``k`` products), otherwise it is reused as is.

    Recycling costs ``k`` products per new operator and shortens every cycle to ``m - k`` new
    vectors; on easy or unrelated systems it loses to GMRES-DR.  ``recycle="auto"`` guards it
    twice (thresholds in :mod:`linalgkit.krylov._cutovers`):

    - a *stale* space, whose projection keeps more than ``GUARD_RATIO`` of the first residual's
      norm, is dropped before the first cycle (that solve runs as GMRES-DR);
    - after a solve that GMRES-DR finished within ``GUARD_EASY`` restart cycles, or a recycled
      solve that needed more products than the last fresh one, the next solves run fresh, and a
      recycled solve is tried again after ``GUARD_EASY * 5`` of them.

    Parameters
    ----------
    method : {"gcrodr", "rcg", "rminres", "auto"}, default="gcrodr"
        ``"auto"``, from the first system with ``M`` None: ``"rcg"`` when ``A`` is an explicit
        symmetric matrix with a positive diagonal, ``"rminres"`` when it is symmetric otherwise,
        else ``"gcrodr"``; ``"rminres"`` from then on if CG meets a direction of non-positive
        curvature (``A`` symmetric indefinite).  With ``M``, ``"auto"`` is ``"gcrodr"``.
    k : int, default=20
        Dimension of the recycle space.
    m : int, optional
        Cycle length of GCRO-DR (default 40) or directions (Lanczos vectors) stored by recycled CG
        and MINRES for their Ritz update (default ``4 k``).
    recycle : {"auto", True, False}, default="auto"
        True always passes the space on; False solves each system fresh (GMRES-DR / CG).
    rtol, atol, maxiter
        Tolerances of every solve (see :func:`~linalgkit.krylov.gcrodr`).

    Attributes
    ----------
    space : RecycleSpace or None
        The space the next solve starts from.
    history_ : list of KrylovResult
        Every solve's result, in call order.
    """

    def __init__(self, method="gcrodr", *, k=20, m=None, recycle="auto", rtol=None, atol=0.0, maxiter=None):
        self.method = check_option(method, "method", METHODS)
        if not isinstance(recycle, (str, bool)) or recycle not in RECYCLE:
            raise ValidationError(f"recycle must be one of 'auto', True, False, got {recycle!r}")
        self.recycle = recycle
        check_scalar(k, "k", kind=numbers.Integral, low=0)
        self.k = int(k)
        self.m = m
        self.rtol, self.atol, self.maxiter = rtol, atol, maxiter
        self.space = None
        self.history_ = []
        self._method = None if method == "auto" else method
        self._fresh_cost = None
        self._rest = 0

    def __repr__(self):
        k = "none" if self.space is None else self.space.k
        return (f"RecyclingSolver(method={self.method!r}, k={self.k}, m={self.m}, recycle={self.recycle!r}; "
                f"{len(self.history_)} solves, space dimension {k})")

    def reset(self):
        """Forget the recycle space and the guard's statistics."""
        self.space, self._fresh_cost, self._rest = None, None, 0
        return self

    def _resolve(self, system):
        if self._method is None:
            self._method = "gcrodr"
            if system.M is None and not callable(getattr(system.A, "matvec", None)):
                try:
                    check_symmetric(system.be, system.A, definite=False)
                    self._method = "rminres"
                    check_symmetric(system.be, system.A)
                    self._method = "rcg"
                except NotSPDError:
                    pass
        return self._method

    def _use_space(self):
        if self.space is None or self.recycle is False:
            return False
        if self.recycle is True:
            return True
        if self._rest > 0:
            self._rest -= 1
            return False
        return True

    def _update_guard(self, result, used):
        if self.recycle != "auto":
            return
        if not used:
            self._fresh_cost = result.matvecs
            if result.cycles <= GUARD_EASY and self._method == "gcrodr":
                self._rest = 5 * GUARD_EASY
        elif self._fresh_cost is not None and result.matvecs > self._fresh_cost:
            self._rest = 5 * GUARD_EASY

    def solve(self, A, b, x0=None, *, M=None, callback=None, progress=False):
        """Solve :math:`Ax = b` from the carried space and keep the new one.

        Parameters
        ----------
        A : array, sparse matrix or LinearOperator of shape (n, n)
        b : array of shape (n,)
        x0 : array of shape (n,), optional
        M : array, sparse matrix or LinearOperator, optional
            Right preconditioner (``rcg``: SPD preconditioner), applied as ``M @ v``.
        callback : callable, optional
            ``callback(xk)`` after every inner iteration.
        progress : bool, default=False

        Returns
        -------
        KrylovResult
        """
        system = check_system(A, b, x0, M)
        result = self._solve(system, check_callback(callback), progress)
        if not result.converged:
            warn_not_converged(f"RecyclingSolver({self._method})", self._tolerances(system), result.residual_norm)
        return result

    def _tolerances(self, system):
        return check_tolerances(self.rtol, self.atol, default_maxiter(self.maxiter, system.n), dtype=system.dtype,
                                default_rtol=DEFAULT_RTOL)

    def _solve(self, system, callback=None, progress=False):
        """One solve on a checked system, without the warning (``solve_sequence`` reports once)."""
        method = self._resolve(system)
        tolerances = self._tolerances(system)
        m = (40 if method == "gcrodr" else 4 * self.k) if self.m is None else self.m
        k, m = check_sizes(self.k, m) if self.k else (0, max(int(m), 1))
        if self.space is not None and self.space.U.shape[0] != system.n:
            self.space = None
        used = self._use_space()
        U, C = check_recycle(self.space if used else None, system, m if method == "gcrodr" else system.n + 1)
        guard = GUARD_RATIO if self.recycle == "auto" else None
        with progress_bar(progress, tolerances.maxiter, method) as bar:
            monitor = IterationMonitor(callback, bar)
            try:
                result = self._run(method, system, k, m, tolerances, U, C, monitor, guard)
            except NotSPDError:
                if self.method != "auto" or method != "rcg":
                    raise
                self._method, self.space = "rminres", None  # A passed the symmetry check: indefinite
                return self._solve(system, callback, progress)
        self._update_guard(result, used and U is not None)
        if result.recycle is not None:
            self.space = result.recycle
        self.history_.append(result)
        return result

    def _run(self, method, system, k, m, tolerances, U, C, monitor, guard):
        be = system.be
        if method == "rcg":
            return _rcg(be, system, k=k, m=m, tolerances=tolerances, U=U, C=C, monitor=monitor)
        if method == "rminres":
            return _rminres(be, system, k=k, m=m, tolerances=tolerances, U=U, C=C, monitor=monitor)
        return _gcrodr(be, system, k=k, m=m, tolerances=tolerances, U=U, C=C, monitor=monitor, guard=guard)
