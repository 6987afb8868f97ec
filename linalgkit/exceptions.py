"""Exceptions and warnings raised by linalgkit.

Every error subclasses :class:`LinalgkitError` and the built-in exception a caller would
already catch (``ValueError`` for bad values and shapes, ``TypeError`` for bad types), so
``except ValueError`` keeps working.
"""

__all__ = [
    "ArgumentTypeError",
    "BackendError",
    "ConvergenceWarning",
    "DTypeError",
    "LinalgkitError",
    "NonFiniteError",
    "NotSPDError",
    "NotSupportedError",
    "RankDeficiencyWarning",
    "ShapeError",
    "ValidationError",
]


class LinalgkitError(Exception):
    """Base class of every exception linalgkit raises on purpose."""


class ValidationError(LinalgkitError, ValueError):
    """An argument has a bad value: wrong shape, out of range, not finite, not SPD."""


class ShapeError(ValidationError):
    """An array argument has the wrong number of dimensions or the wrong length."""


class NonFiniteError(ValidationError):
    """An array argument holds NaN or infinity where finite values are required."""


class NotSPDError(ValidationError):
    """A matrix that must be symmetric positive definite is not."""


class ArgumentTypeError(LinalgkitError, TypeError):
    """An argument has the wrong type (a string where a number is expected, a list where a callable is)."""


class NotSupportedError(LinalgkitError, NotImplementedError):
    """The operation exists, but not for these arguments (a metric without closed-form transport)."""


class DTypeError(ArgumentTypeError):
    """An array argument has a dtype the function cannot work with."""


class BackendError(LinalgkitError, TypeError):
    """Array arguments live in different libraries or on different devices.

    Also raised instead of copying GPU data to the host without being asked.
    """


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before reaching its tolerance.

    The result it returns is its best iterate, flagged ``converged=False``.
    """


class RankDeficiencyWarning(UserWarning):
    """A matrix that should have full column rank is numerically rank-deficient.

    Raised, for instance, when a sketch ``S A`` loses rank (CountSketch hashing two heavy rows of
    a coherent ``A`` together); the result then says which fallback produced it.
    """
