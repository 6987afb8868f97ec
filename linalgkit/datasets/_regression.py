"""Least-squares test problems with a known solution."""

import numbers
from dataclasses import dataclass

import numpy as np

from .._backend import check_random_state
from .._validation import check_scalar

__all__ = ["LstsqProblem", "make_lstsq_problem"]


@dataclass(frozen=True)
class LstsqProblem:
    """A generated least-squares problem ``min ||A x - b||_2`` and its exact answer.

    Attributes
    ----------
    A : ndarray of shape (n, d)
    b : ndarray of shape (n,)
    x : ndarray of shape (d,)
        The least-squares solution :math:`x^*`.
    residual : ndarray of shape (n,)
        :math:`r = b - A x^*`, orthogonal to the range of ``A``.
    pinv_norm : float
        :math:`\\|A^+\\|_2` (equal to the condition number, since :math:`\\|A\\|_2 = 1`).
    """

    A: np.ndarray
    b: np.ndarray
    x: np.ndarray
    residual: np.ndarray
    pinv_norm: float


def _haar(rng, n, d):
    """``n x d`` matrix with orthonormal columns, Haar distributed (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, d)))
    return q * np.sign(np.diag(r))


def make_lstsq_problem(n, d, *, cond=1e3, residual_norm=1.0, coherent=False, random_state=None):
    r"""Tall least-squares problem with a known solution, :math:`A = U \Sigma V^T` and :math:`b = A x^* + r`.

    :math:`\sigma` is log-spaced from 1 down to ``1 / cond``, :math:`V` is Haar orthogonal,
    :math:`x^* \sim N(0, I_d)`, and :math:`r = \rho (I - UU^T) g / \|(I - UU^T) g\|` with
    :math:`g \sim N(0, I_n)`, so that :math:`A^T r = 0` and :math:`x^*` is the least-squares solution
    with residual norm :math:`\rho`.  :math:`U` is Haar (incoherent: leverage scores near
    :math:`d/n`) or, with ``coherent=True``, supported on the first ``d`` rows (leverage 1 there):
    the case where uniform row sampling and CountSketch fail.  This is the generator of the
    experiments of Epperly et al. (arXiv 2311.04362).

    Parameters
    ----------
    n, d : int
        Shape of ``A``, ``n > d >= 1``.
    cond : float, default=1e3
        Condition number of ``A`` (finite, at least 1).
    residual_norm : float, default=1.0
        :math:`\rho = \|b - A x^*\|_2` (finite, at least 0).
    coherent : bool, default=False
        Put all of the range of ``A`` on its first ``d`` rows.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of every random draw.

    Returns
    -------
    LstsqProblem
        ``A``, ``b``, the solution ``x``, the residual and :math:`\|A^+\|_2`.

    Examples
    --------
    >>> from linalgkit.datasets._regression import make_lstsq_problem
    >>> p = make_lstsq_problem(100, 5, cond=10.0, random_state=0)
    >>> p.A.shape, bool(abs(p.A.T @ p.residual).max() < 1e-12)
    ((100, 5), True)
    """
    check_scalar(n, "n", kind=numbers.Integral, low=2)
    check_scalar(d, "d", kind=numbers.Integral, low=1, high=n - 1, closed="both")
    check_scalar(cond, "cond", low=1.0, high=float(np.finfo(np.float64).max))  # finite: inf would give NaN
    check_scalar(residual_norm, "residual_norm", low=0.0, high=float(np.finfo(np.float64).max))
    rng = check_random_state(random_state)
    if coherent:
        U = np.zeros((n, d))
        U[:d] = _haar(rng, d, d)
    else:
        U = _haar(rng, n, d)
    sigma = np.logspace(0, -np.log10(cond), d)
    V = _haar(rng, d, d)
    A = (U * sigma) @ V.T
    x = rng.standard_normal(d)
    g = rng.standard_normal(n)
    g -= U @ (U.T @ g)
    residual = residual_norm * g / np.linalg.norm(g)
    return LstsqProblem(A, A @ x + residual, x, residual, float(cond))
