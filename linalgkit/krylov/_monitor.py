"""Defaults shared by the family's solvers (the per-iteration hook is :class:`linalgkit._solver.IterationMonitor`)."""

__all__ = ["DEFAULT_RTOL", "default_maxiter"]

DEFAULT_RTOL = 1e-5  # SciPy's default for its Krylov solvers


def default_maxiter(maxiter, n):
    """``maxiter`` or, when None, ``10 n`` inner iterations (SciPy's ``10 n``, counted in iterations)."""
    return 10 * n if maxiter is None else maxiter
