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

from . import _dispatch

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
    """Eigen-decomposition ``S = P diag(d) P^T`` of a batch of symmetric matrices (with its backend)."""

    __slots__ = ("be", "d", "P")

    def __init__(self, be, d, P):
        self.be, self.d, self.P = be, d, P

    def rotate_in(self, X):
        """``P^T X P``: ``X`` written in the eigenbasis."""
        return self.be.xp.matrix_transpose(self.P) @ X @ self.P

    def rotate_out(self, Y):
        """``P Y P^T``: back from the eigenbasis."""
        return self.P @ Y @ self.be.xp.matrix_transpose(self.P)


def eig(be, S):
    """Eigen-decomposition of a batch ``(..., n, n)`` of symmetric matrices (ascending eigenvalues)."""
    return Eig(be, *_dispatch.eigh(be, S))


def eigvalsh(be, S):
    """Ascending eigenvalues of a batch ``(..., n, n)`` of symmetric matrices, shape ``(..., n)`` (LAPACK)."""
    return be.xp.linalg.eigvalsh(S)


def from_eig(e, values):
    """``P diag(values) P^T`` for an :class:`Eig` ``e`` and values of the same shape ``(..., n)`` as ``e.d``."""
    be = e.be
    return _dispatch.from_eig(be, e.P, values,
                              lambda P, v: sym(be, (P * v[..., None, :]) @ be.xp.matrix_transpose(P)))


def apply(be, S, name, p=None):
    """``f(S)`` for ``f`` in {"sqrt", "invsqrt", "log", "exp", "pow"} (``pow`` takes ``p``), one ``eigh``."""
    e = eig(be, S)
    return from_eig(e, scalar(be, name, e.d, p))


def sym(be, X):
    """Symmetric part ``(X + X^T) / 2`` (removes round-off asymmetry of products)."""
    return (X + be.xp.matrix_transpose(X)) / 2


def congruence(be, G, X):
    """``G X G^T``, symmetrized."""
    return sym(be, G @ X @ be.xp.matrix_transpose(G))


def scalar(be, name, d, p=None):
    """The scalar function ``name`` applied elementwise to eigenvalues ``d``."""
    xp = be.xp
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


def divided_differences(be, name, d, p=None):
    r"""First divided differences :math:`F_{ij} = f^{[1]}(d_i, d_j)` of ``f = name``, shape ``(..., n, n)``.

    ``"log"``: :math:`\log\!1p(r)/(x - y)` with :math:`r = (x - y)/y`, :math:`x \ge y`; ``"exp"``:
    :math:`e^{M}\,\mathrm{expm1}(-\delta)/(-\delta)` with :math:`M = \max(x, y)`,
    :math:`\delta = |x - y|`; ``"pow"`` (:math:`x^p`) and ``"boxcox"``
    (:math:`(x^p - 1)/p`, the log at ``p = 0``): :math:`y^{p-1}\,\mathrm{expm1}(p\log\!1p(r))/r`
    (divided by ``p`` for Box-Cox).  Ties use :math:`f'` at the midpoint.
    """
    return pair_divided_differences(be.xp, name, d[..., :, None], d[..., None, :], p)


def pair_divided_differences(xp, name, x, y, p=None):
    """:func:`divided_differences` of ``f = name`` for broadcasting arrays ``x``, ``y`` (elementwise pairs).

    Takes the namespace ``xp``, not a backend: it is the elementwise building block of the user-facing
    kernels ``phi(xp, x, y)`` of :func:`~linalgkit.spd.kernel_metric`.
    """
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
    return sym(e.be, e.rotate_out(F * e.rotate_in(X)))


def frechet_inverse(e, F, Y):
    """Inverse of :func:`frechet`: ``P ((P^T Y P) / F) P^T`` (the derivative of the inverse function)."""
    return sym(e.be, e.rotate_out(e.rotate_in(Y) / F))
