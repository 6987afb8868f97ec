r"""The solver contract: one signature, one stopping rule, one result and one non-convergence behaviour.

Every iterative function of linalgkit takes the SciPy names

``x0``
    starting point (None: the method's own warm start);
``rtol``, ``atol``
    relative and absolute tolerances of the stopping rule below;
``maxiter``
    most iterations; reaching it without meeting the rule is non-convergence;
``callback``
    ``callback(xk)`` called with the current iterate after every iteration;
``progress``
    ``True`` shows a tqdm bar over the iterations (off by default).

**Stopping rule.**  An iteration stops at the first iterate with

.. math:: \|r_k\| \le \max(\mathrm{rtol}\cdot\|r_{\mathrm{ref}}\|,\ \mathrm{atol}),

where :math:`r_k` is the method's residual (or gradient, or update) and :math:`r_{\mathrm{ref}}`
its reference quantity (for a linear system :math:`Ax = b`, :math:`r_k = b - Ax_k` and
:math:`r_{\mathrm{ref}} = b`, as in SciPy).  Each method's docstring names its :math:`r_k` and
:math:`r_{\mathrm{ref}}`, and refers here for the rest.

**Result.**  A method returns a frozen dataclass that extends :class:`SolverResult`
(``converged``, ``iterations``, ``residual_norm``, ``history``) with what it adds (``x``, the
chosen parameters).  ``converged`` is True only when the rule was met on the returned answer.

**Non-convergence** is reported, not raised: the method returns its best iterate with
``converged=False`` and emits one :class:`~linalgkit.exceptions.ConvergenceWarning`
(:func:`warn_not_converged`).
"""

import math
import numbers
import warnings
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from ._validation import check_scalar
from .exceptions import ArgumentTypeError, ConvergenceWarning

__all__ = ["IterationMonitor", "SolverResult", "Tolerances", "check_callback", "check_tolerances", "progress_bar",
           "renamed_argument", "warn_not_converged"]


@dataclass(frozen=True, kw_only=True)
class SolverResult:
    r"""Base result of every iterative method (fields keyword-only, so that subclasses add theirs first).

    Attributes
    ----------
    converged : bool
        Whether the stopping rule (see :mod:`linalgkit._solver`) was met on the returned answer.
    iterations : int
        Iterations run.
    residual_norm : float
        The method's residual norm of the returned answer, as its docstring names it: the norm the
        stopping rule tests (the gradient norm of a mean), or, where the rule tests a derived
        quantity (the normal-equation residual of least squares), :math:`\|b - Ax\|` itself.
    history : tuple of float or None
        That norm along the solve, when the method records it: after each iteration, or, for a
        nested method, at the start and after each outer step (a restart cycle, a refinement
        step), as the method's docstring says; at most ``iterations + 1`` entries.
    """

    converged: bool
    iterations: int
    residual_norm: float
    history: tuple | None = None


@dataclass(frozen=True)
class Tolerances:
    r"""Checked ``rtol``, ``atol`` and ``maxiter`` of one call; :meth:`threshold` is the stopping rule's right side.

    Parameters
    ----------
    rtol : float
        Relative tolerance, at least the working dtype's machine epsilon.
    atol : float
        Absolute tolerance.
    maxiter : int
        Most iterations.
    """

    rtol: float
    atol: float
    maxiter: int

    def threshold(self, reference_norm):
        r""":math:`\max(\mathrm{rtol}\,\|r_{\mathrm{ref}}\|,\ \mathrm{atol})`.

        Parameters
        ----------
        reference_norm : float
            :math:`\|r_{\mathrm{ref}}\|`, the method's reference norm (``norm(b)`` for ``Ax = b``).

        Returns
        -------
        float
        """
        return max(self.rtol * float(reference_norm), self.atol)

    def describe(self):
        """``"rtol=..., atol=..."`` for messages."""
        return f"rtol={self.rtol:.3g}, atol={self.atol:.3g}"


def dtype_eps(dtype):
    """Machine epsilon of a floating ``dtype`` (NumPy, CuPy or array-API dtype objects, scalar types, names)."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:  # an array-API library's own dtype object, e.g. array_api_strict.float32
        dtype = np.dtype(str(dtype).rsplit(".", 1)[-1])
    return float(np.finfo(dtype).eps)


def check_tolerances(rtol, atol, maxiter, *, dtype, default_rtol):
    """Validate the tolerances of one call.

    Parameters
    ----------
    rtol : float or None
        Relative tolerance in ``[0, 1)``; None takes ``default_rtol``.
    atol : float
        Absolute tolerance, at least 0.
    maxiter : int
        Most iterations, at least 1.
    dtype : dtype
        Working dtype: an ``rtol`` below its machine epsilon cannot be met, so it is raised to it
        (a float32 solve asked for 1e-12 stops at the float32 floor instead of always warning).
    default_rtol : float or callable
        The method's default, or a function of the machine epsilon returning it.

    Returns
    -------
    Tolerances
    """
    eps = dtype_eps(dtype)
    if rtol is None:
        rtol = default_rtol(eps) if callable(default_rtol) else default_rtol
    check_scalar(rtol, "rtol", low=0.0, high=1.0, closed="left")
    check_scalar(atol, "atol", low=0.0)
    check_scalar(maxiter, "maxiter", kind=numbers.Integral, low=1)
    return Tolerances(max(float(rtol), eps), float(atol), int(maxiter))


def check_callback(callback):
    """Validate a ``callback``: None or a callable taking the current iterate.

    Parameters
    ----------
    callback : callable or None
        The argument as passed.

    Returns
    -------
    callable or None
    """
    if callback is not None and not callable(callback):
        raise ArgumentTypeError(f"callback must be None or a callable callback(xk), got {type(callback).__name__}; "
                                f"pass a function of the current iterate")
    return callback


def renamed_argument(old_name, old_value, new_name, new_value, *, default=None, convert=None, stacklevel=3):
    """Map a deprecated argument to its new name for one release, with a :class:`FutureWarning`.

    Parameters
    ----------
    old_name, new_name : str
        The deprecated and the new argument names, for the messages.
    old_value, new_value : object
        What the caller passed under each name.
    default : object, default=None
        The value meaning "not passed" (the default of both arguments).
    convert : callable, optional
        Turns an old value into a new one (e.g. an absolute into a relative tolerance).
    stacklevel : int, default=3
        Passed to :func:`warnings.warn`; 3 points at the caller of the public function.

    Returns
    -------
    object
        ``new_value`` when the old argument was not passed (``old_value is default``), else
        ``convert(old_value)`` (or ``old_value``).

    Raises
    ------
    ArgumentTypeError
        When both names were passed.
    """
    if old_value is default:
        return new_value
    if new_value is not default:
        raise ArgumentTypeError(f"{old_name} and {new_name} were both passed; {old_name} is the old name of "
                                f"{new_name}: pass {new_name} only")
    warnings.warn(f"{old_name} is deprecated and will be removed in the next release; pass {new_name} instead",
                  FutureWarning, stacklevel=stacklevel)
    return old_value if convert is None else convert(old_value)


def progress_bar(progress, total, description):
    """A tqdm bar over ``total`` iterations when ``progress`` is True, else a no-op with the same ``update``.

    Parameters
    ----------
    progress : bool
        The caller's ``progress`` argument.
    total : int
        Iterations at most (``maxiter``).
    description : str
        Label of the bar.

    Returns
    -------
    context manager
        Yields an object with ``update(n=1)`` and ``set_postfix_str(s)``.
    """
    if not isinstance(progress, bool):
        raise ArgumentTypeError(f"progress must be True or False, got {type(progress).__name__}")
    if not progress:
        return nullcontext(_NoBar())
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, leave=False)


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s):
        pass


def warn_not_converged(method, tolerances, reached, *, stacklevel=3, advice="raise maxiter or loosen rtol"):
    """Emit the one :class:`ConvergenceWarning` of a solve that stopped before meeting its rule.

    Parameters
    ----------
    method : str
        Name of the method, first word of the message.
    tolerances : Tolerances
        The call's tolerances, or, for a method whose rule is not stated by ``rtol`` / ``atol``
        (the noise-based rule of :func:`~linalgkit.transforms.sparse_wht`), any record with
        ``maxiter`` and ``describe()``.
    reached : float or None
        The tested norm of the returned answer (None or NaN when unknown).
    stacklevel : int, default=3
        Counted from the caller of this function (3: the caller of the public function).
    advice : str, default="raise maxiter or loosen rtol"
        The fix, last in the message.
    """
    reached = "nan" if reached is None or math.isnan(reached) else f"{reached:.3g}"
    warnings.warn(f"{method} did not meet its stopping rule ({tolerances.describe()}) within "
                  f"maxiter={tolerances.maxiter} iterations (reached {reached}); returning the best iterate "
                  f"(converged=False): {advice}", ConvergenceWarning, stacklevel=stacklevel)


class IterationMonitor:
    """The per-iteration hook of a solver: ``callback(xk)`` and one step of the progress bar.

    Parameters
    ----------
    callback : callable or None
        The checked ``callback`` argument.
    bar : object with ``update``
        What :func:`progress_bar` entered.
    """

    def __init__(self, callback, bar):
        self.callback, self.bar = callback, bar

    def __call__(self, iterate):
        """Report one iteration; ``iterate()`` returns :math:`x_k` and is evaluated only when a callback is set."""
        if self.callback is not None:
            self.callback(iterate())
        self.bar.update(1)

    @property
    def wants_iterates(self):
        """Whether every iterate must be formed (a callback is set): a compiled loop may run only without one."""
        return self.callback is not None

    def advance(self, count):
        """Report ``count`` iterations that ran without a callback (in a compiled loop)."""
        self.bar.update(count)
