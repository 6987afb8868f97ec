"""Per-iteration hook shared by the family's solvers: callback and progress bar."""

__all__ = ["DEFAULT_RTOL", "Monitor", "default_maxiter"]

DEFAULT_RTOL = 1e-5  # SciPy's default for its Krylov solvers


class Monitor:
    """Calls ``callback(xk)`` and advances the progress bar after every inner iteration."""

    def __init__(self, callback, bar):
        self.callback, self.bar = callback, bar

    def __call__(self, iterate):
        """``iterate`` returns :math:`x_k`; it is evaluated only when a callback is set."""
        if self.callback is not None:
            self.callback(iterate())
        self.bar.update(1)


def default_maxiter(maxiter, n):
    """``maxiter`` or, when None, ``10 n`` inner iterations (SciPy's ``10 n``, counted in iterations)."""
    return 10 * n if maxiter is None else maxiter
