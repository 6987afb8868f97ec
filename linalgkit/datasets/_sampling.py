r"""Designs where row sampling is hard: a few huge rows and a heavy-tailed column (the l_p sampling tests)."""

import numbers
from dataclasses import dataclass

import numpy as np

from .._backend import check_random_state
from .._validation import check_scalar

__all__ = ["L1RegressionProblem", "make_heavy_tailed_design", "make_l1_regression_problem"]


def make_heavy_tailed_design(n, d, *, random_state=None):
    r"""Gaussian ``n x d`` design whose last column is :math:`10^{-3} g` except 5 rows set to 50, and whose
    next-to-last column is :math:`0.1\,\mathrm{Cauchy}`.

    The 5 huge entries make 5 rows carry almost all of the last column (leverage and Lewis weight
    near 1 there), which uniform sampling misses; the Cauchy column makes every :math:`\ell_p`
    norm of ``A x`` dominated by a few rows.

    Parameters
    ----------
    n, d : int
        Shape, ``n >= 5`` and ``d >= 2``.
    random_state : None, int or numpy.random.Generator, default=None

    Returns
    -------
    ndarray of shape (n, d)
    """
    check_scalar(n, "n", kind=numbers.Integral, low=5)
    check_scalar(d, "d", kind=numbers.Integral, low=2)
    rng = check_random_state(random_state)
    A = rng.standard_normal((n, d))
    A[:, -1] *= 1e-3
    A[rng.choice(n, size=5, replace=False), -1] = 50.0
    A[:, -2] = 0.1 * rng.standard_cauchy(n)
    return A


@dataclass(frozen=True)
class L1RegressionProblem:
    """A robust-regression problem ``b = A x + noise + outliers``.

    Attributes
    ----------
    A : ndarray of shape (n, d)
    b : ndarray of shape (n,)
    x : ndarray of shape (d,)
        The coefficients used to generate ``b`` (not the l_1 optimum).
    outliers : ndarray of int
        Rows with a gross error.
    """

    A: np.ndarray
    b: np.ndarray
    x: np.ndarray
    outliers: np.ndarray


def make_l1_regression_problem(n, d, *, outlier_fraction=0.02, heavy_tailed=True, random_state=None):
    r""":math:`b = A x + \mathrm{Laplace}(1) + 20\,\mathrm{Cauchy}` on a fraction of rows.

    Parameters
    ----------
    n, d : int
    outlier_fraction : float in [0, 1], default=0.02
    heavy_tailed : bool, default=True
        ``A`` from :func:`make_heavy_tailed_design` (else standard Gaussian).
    random_state : None, int or numpy.random.Generator, default=None

    Returns
    -------
    L1RegressionProblem
    """
    check_scalar(outlier_fraction, "outlier_fraction", low=0.0, high=1.0)
    rng = check_random_state(random_state)
    A = make_heavy_tailed_design(n, d, random_state=rng) if heavy_tailed else rng.standard_normal((n, d))
    x = rng.standard_normal(d)
    b = A @ x + rng.laplace(size=n)
    outliers = rng.choice(n, size=int(round(outlier_fraction * n)), replace=False)
    b[outliers] += 20.0 * rng.standard_cauchy(outliers.size)
    return L1RegressionProblem(A, b, x, np.sort(outliers))
