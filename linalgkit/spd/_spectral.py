r"""One spectral primitive for functions of symmetric matrices, and their Fréchet derivatives.

For a symmetric :math:`S = P \operatorname{diag}(d) P^\top` (one ``eigh``), a scalar function acts
as :math:`f(S) = P \operatorname{diag}(f(d)) P^\top`, and its Fréchet derivative is given by the
Daleckii-Krein formula :math:`D_S f[X] = P \,(F \circ P^\top X P)\, P^\top` with the first divided
differences :math:`F_{ij} = (f(d_i) - f(d_j)) / (d_i - d_j)` and :math:`F_{ii} = f'(d_i)`.

Divided differences are evaluated without cancellation: each function has a closed form in
``log1p``/``expm1`` of the relative gap, and a *relative* tie test
:math:`|d_i - d_j| \le \tau \max(d_i, d_j)` with :math:`\tau = \sqrt{\epsilon}` switches to the
derivative at the midpoint, whose error :math:`O(\tau^2)` is below the unit round-off.
"""

import math

import array_api_compat

from .._backend import numba_disabled

__all__ = [
    "Eig",
    "apply",
    "congruence",
    "divided_differences",
    "pair_divided_differences",
    "eig",
    "eigvalsh",
    "frechet",
    "frechet_inverse",
    "from_eig",
    "sym",
]


class Eig:
    """Eigen-decomposition ``S = P diag(d) P^T`` of a batch of symmetric matrices (with its namespace)."""

    __slots__ = ("xp", "d", "P")

    def __init__(self, xp, d, P):
        self.xp, self.d, self.P = xp, d, P

    def rotate_in(self, X):
        """``P^T X P``: ``X`` written in the eigenbasis."""
        return self.xp.matrix_transpose(self.P) @ X @ self.P

    def rotate_out(self, Y):
        """``P Y P^T``: back from the eigenbasis."""
        return self.P @ Y @ self.xp.matrix_transpose(self.P)


PARALLEL_PAIRS = 64
"""Smallest batch sent to the parallel Numba kernels (below it, starting threads costs more than it saves)."""


def numba_batch(xp, S):
    """Whether the batch ``S`` of shape ``(..., n, n)`` goes to the parallel Numba kernels.

    That is: NumPy float32/float64 arrays of at least :data:`PARALLEL_PAIRS` matrices, unless
    ``LINALGKIT_DISABLE_NUMBA`` sends NumPy inputs down the pure array-API path.
    """
    is_numpy = array_api_compat.is_numpy_namespace(xp) and not numba_disabled()
    return is_numpy and S.dtype.name in ("float32", "float64") and S.size >= PARALLEL_PAIRS * S.shape[-1] ** 2


def eig(xp, S):
    """Eigen-decomposition of a batch ``(..., n, n)`` of symmetric matrices (ascending eigenvalues)."""
    if not numba_batch(xp, S):
        d, P = xp.linalg.eigh(S)
        return Eig(xp, d, P)
    from ._lockstep import eigh

    stack = _stack(S)
    d, P = xp.empty(stack.shape[:-1], dtype=S.dtype), xp.empty_like(stack)
    eigh(stack, d, P)
    return Eig(xp, xp.reshape(d, S.shape[:-1]), xp.reshape(P, S.shape))


def eigvalsh(xp, S):
    """Ascending eigenvalues of a batch ``(..., n, n)`` of symmetric matrices, shape ``(..., n)``."""
    if not numba_batch(xp, S):
        return xp.linalg.eigvalsh(S)
    from ._numba import eigvalsh_stack

    stack = _stack(S)
    d = xp.empty(stack.shape[:-1], dtype=S.dtype)
    eigvalsh_stack(stack, d)
    return xp.reshape(d, S.shape[:-1])


def from_eig(e, values):
    """``P diag(values) P^T`` for an :class:`Eig` ``e`` and values of the same shape ``(..., n)`` as ``e.d``."""
    xp = e.xp
    if not numba_batch(xp, e.P):
        return sym(xp, (e.P * values[..., None, :]) @ xp.matrix_transpose(e.P))
    from ._numba import from_eig_stack

    stack = _stack(e.P)
    out = xp.empty_like(stack)
    from_eig_stack(stack, xp.reshape(values, stack.shape[:-1]), out)
    return xp.reshape(out, e.P.shape)


def _stack(S):
    """A NumPy batch ``(..., n, n)`` as a C-contiguous stack ``(K, n, n)`` for the Numba kernels."""
    import numpy as np

    return np.ascontiguousarray(S).reshape(-1, *S.shape[-2:])


def apply(xp, S, name, p=None):
    """``f(S)`` for ``f`` in {"sqrt", "invsqrt", "log", "exp", "pow"} (``pow`` takes ``p``), one ``eigh``."""
    e = eig(xp, S)
    return from_eig(e, scalar(xp, name, e.d, p))


def sym(xp, X):
    """Symmetric part ``(X + X^T) / 2`` (removes round-off asymmetry of products)."""
    return (X + xp.matrix_transpose(X)) / 2


def congruence(xp, G, X):
    """``G X G^T``, symmetrized."""
    return sym(xp, G @ X @ xp.matrix_transpose(G))


def scalar(xp, name, d, p=None):
    """The scalar function ``name`` applied elementwise to eigenvalues ``d``."""
    if name == "sqrt":
        return xp.sqrt(d)
    if name == "invsqrt":
        return 1 / xp.sqrt(d)
    if name == "log":
        return xp.log(d)
    if name == "exp":
        return xp.exp(d)
    if name == "pow":
        return d**p
    if name == "boxcox":
        return xp.log(d) if p == 0 else xp.expm1(p * xp.log(d)) / p
    raise ValueError(f"unknown spectral function {name!r}")


def divided_differences(xp, name, d, p=None):
    r"""First divided differences :math:`F_{ij} = f^{[1]}(d_i, d_j)` of ``f = name``, shape ``(..., n, n)``.

    ``"log"``: :math:`\log\!1p(r)/(x - y)` with :math:`r = (x - y)/y`, :math:`x \ge y`; ``"exp"``:
    :math:`e^{M}\,\mathrm{expm1}(-\delta)/(-\delta)` with :math:`M = \max(x, y)`,
    :math:`\delta = |x - y|`; ``"pow"`` (:math:`x^p`) and ``"boxcox"``
    (:math:`(x^p - 1)/p`, the log at ``p = 0``): :math:`y^{p-1}\,\mathrm{expm1}(p\log\!1p(r))/r`
    (divided by ``p`` for Box-Cox).  Ties use :math:`f'` at the midpoint.
    """
    return pair_divided_differences(xp, name, d[..., :, None], d[..., None, :], p)


def pair_divided_differences(xp, name, x, y, p=None):
    """:func:`divided_differences` of ``f = name`` for broadcasting arrays ``x``, ``y`` (elementwise pairs)."""
    tau = math.sqrt(float(xp.finfo(x.dtype).eps))
    if name == "exp":
        high = xp.maximum(x, y)
        delta = xp.abs(x - y)
        tie = delta <= tau
        safe = xp.where(tie, xp.ones_like(delta), delta)
        return xp.where(tie, xp.exp((x + y) / 2), xp.exp(high) * (xp.expm1(-safe) / -safe))
    high, low = xp.maximum(x, y), xp.minimum(x, y)
    gap = high - low
    tie = gap <= tau * high
    safe = xp.where(tie, xp.ones_like(gap), gap)
    r = safe / low
    mid = (x + y) / 2
    if name == "log" or (name == "boxcox" and p == 0):
        return xp.where(tie, 1 / mid, xp.log1p(r) / safe)
    if name in ("pow", "boxcox"):
        scale = p if name == "pow" else 1
        quotient = low ** (p - 1) * xp.expm1(p * xp.log1p(r)) / r
        return xp.where(tie, scale * mid ** (p - 1), quotient / (1 if name == "pow" else p))
    if name == "sqrt":
        return 1 / (xp.sqrt(x) + xp.sqrt(y))
    raise ValueError(f"no divided differences for {name!r}")


def frechet(e, F, X):
    """Daleckii-Krein derivative ``P (F o P^T X P) P^T`` for the divided differences ``F`` at ``e``."""
    return sym(e.xp, e.rotate_out(F * e.rotate_in(X)))


def frechet_inverse(e, F, Y):
    """Inverse of :func:`frechet`: ``P ((P^T Y P) / F) P^T`` (the derivative of the inverse function)."""
    return sym(e.xp, e.rotate_out(e.rotate_in(Y) / F))
