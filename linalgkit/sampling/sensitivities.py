r""":math:`\ell_p` sensitivities :math:`s_i = \sup_{Ax \ne 0} |a_i^T x|^p / \|Ax\|_p^p`: exact, bounded, approximated.

:math:`s_i = 1 / \min\{\|Ax\|_p^p : a_i^T x = 1\}` is one :math:`\ell_p` regression per row; the
total sensitivity :math:`\mathfrak{S}_p = \sum_i s_i` governs the size of a sensitivity sample
(:math:`\mathfrak{S}_p \le d` for :math:`p \le 2`, :math:`\le d^{p/2}` for :math:`p > 2`, and
:math:`\mathfrak{S}_2 = d`).
"""

import math
import numbers

import numpy as np

from .._backend import capabilities, check_random_state, serial_blas
from .._solver import Tolerances, progress_bar
from .._validation import check_option, check_scalar
from ..exceptions import BackendError
from ._common import basis, bernoulli_rows, check_design, check_p, check_sample_size
from ._solvers import l1_dual_lp, newton_irls
from .lewis import _lewis_weights
from .scores import _leverage_scores

__all__ = ["lp_sensitivities", "total_sensitivity"]

METHODS = ("exact", "lewis_bound", "leverage_bound", "approximate")
# Tolerances of the inner regressions (one per row) and of the Lewis weights behind the bounds.
_INNER = Tolerances(1e-10, 0.0, 100)


def _default_embedding_size(n, d):
    return min(n, 20 * d * math.ceil(math.log2(d + 1)))


def _check_arguments(A, p, method):
    """The funnel shared by :func:`lp_sensitivities` and :func:`total_sensitivity`: ``(be, A, p, method)``."""
    be, A = check_design(A)
    method = check_option(method, "method", METHODS)
    solves = method in ("exact", "approximate")
    p = check_p(p, low=1.0 if solves else 0.0, purpose=f"method={method!r}")
    if solves and be.kind != "numpy":
        raise BackendError(f"A is a {be.kind} array, but method={method!r} solves regressions with HiGHS / NumPy; "
                           f"pass A as a NumPy array or use method='lewis_bound'")
    return be, A, p, method


@capabilities("linalgkit.sampling.lp_sensitivities",
              numpy="exact: one HiGHS dual LP (p = 1) or Newton-IRLS per row; bounds from Lewis weights / leverage",
              cupy="bounds only (lewis_bound, leverage_bound)",
              generic="bounds only (lewis_bound, leverage_bound)")
def lp_sensitivities(A, p, *, method="exact", m=None, random_state=None):
    r"""The :math:`\ell_p` sensitivities of the rows of ``A``, or upper bounds or approximations of them.

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
        Real, full column rank, ``n >= d``.
    p : float
        Exponent, ``p > 0`` (``p >= 1`` for ``"exact"`` and ``"approximate"``, which solve
        :math:`\ell_p` regressions).
    method : {"exact", "lewis_bound", "leverage_bound", "approximate"}, default="exact"
        ``"exact"``: one regression :math:`\min\{\|Ax\|_p^p : a_i^T x = 1\}` per row (the HiGHS
        dual LP for :math:`p = 1`): :math:`n` solves of size :math:`n \times (d-1)`, for small ``n``.
        ``"lewis_bound"``: :math:`s_i \le w_i` for :math:`p \le 2` and
        :math:`s_i \le d^{p/2-1} w_i` for :math:`p > 2` (:math:`w` the Lewis weights).
        ``"leverage_bound"``: :math:`s_i \le \tau_i^{p/2}` for :math:`p \le 2` and
        :math:`s_i \le n^{p/2-1}\tau_i^{p/2}` for :math:`p > 2`.
        ``"approximate"`` (Padmanabhan, Woodruff & Zhang 2023): the sensitivities of the rows of
        ``A`` with respect to an :math:`\ell_p` subspace embedding :math:`SA` (a Lewis-weight sample
        of ``m`` rows), :math:`\tilde s_i = 1/\min\{\|SAx\|_p^p : a_i^T x = 1\}`, within the
        embedding's distortion :math:`(1 \pm \varepsilon)` of :math:`s_i`: :math:`n` solves of size
        :math:`m \times (d-1)` instead of :math:`n \times (d-1)`.  (Their further grouping, which
        cuts the count of solves to :math:`n/\alpha` for an :math:`\alpha`-approximation, is not
        implemented.)
    m : int, optional
        Embedding size of ``"approximate"``; default :math:`\min(n, 20 d \lceil\log_2(d+1)\rceil)`.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the sketches and of the sample.

    Returns
    -------
    array of shape (n,)

    Raises
    ------
    ValidationError
        For ``p <= 0`` (``p < 1`` with a regression method), a rank-deficient ``A``, or ``m > n``.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sampling import lp_sensitivities
    >>> A = np.random.default_rng(0).standard_normal((60, 3))
    >>> s = lp_sensitivities(A, 1)
    >>> bool(s.sum() <= 3), bool(np.all(s <= lp_sensitivities(A, 1, method="lewis_bound") * (1 + 1e-6)))
    (True, True)
    """
    be, A, p, method = _check_arguments(A, p, method)
    if m is not None:
        m = check_sample_size(m, A.shape[0])
    return _lp_sensitivities(be, A, p, method, m, check_random_state(random_state))


def _lp_sensitivities(be, A, p, method, m, rng):
    """Private implementation of :func:`lp_sensitivities` on checked arguments."""
    n, d = A.shape
    if method == "lewis_bound":
        w = _lewis_weights(be, A, p, "exact", _lewis_tolerances(), None, None, False, rng).weights
        return w if p <= 2 else d ** (p / 2 - 1) * w
    if method == "leverage_bound":
        tau = _leverage_scores(be, A, "exact", None, None, rng)
        return tau ** (p / 2) if p <= 2 else n ** (p / 2 - 1) * tau ** (p / 2)
    Y = basis(be, A, rng, exact=True).Y
    if method == "exact":
        with serial_blas(be):  # n small regressions (see lewis._lewis_weights)
            return np.array([row_sensitivity(be, Y, Y[i], p, rng) for i in range(n)])
    u = _lewis_weights(be, Y, p, "exact", sampling_tolerances(), None, None, False, rng).weights
    indices, q = bernoulli_rows(be, u, _default_embedding_size(n, d) if m is None else m, rng)
    embedding = Y[indices] * (q ** (-1 / p))[:, None]
    with serial_blas(be):
        return np.array([row_sensitivity(be, embedding, Y[i], p, rng) for i in range(n)])


def _lewis_tolerances():
    return Tolerances(1e-10, 0.0, 500)


def sampling_tolerances():
    """Lewis weights as sampling scores: a constant factor suffices (Cohen-Peng), so ``rtol = 1e-3``."""
    return Tolerances(1e-3, 0.0, 500)


def row_sensitivity(be, B, c, p, rng):
    r""":math:`1 / \min\{\|Bx\|_p^p : c^T x = 1\}`, by eliminating the largest coordinate of ``c``.

    With :math:`k = \arg\max|c_k|`, :math:`x_k = (1 - c_{-k}^T x_{-k}) / c_k` turns the problem into
    the unconstrained regression :math:`\min \|(B_{-k} - B_k c_{-k}^T / c_k) z + B_k / c_k\|_p^p`.
    """
    k = int(np.argmax(np.abs(c)))
    if c[k] == 0:
        return 0.0
    target = -B[:, k] / c[k]
    if B.shape[1] == 1:
        return 1.0 / float(np.sum(np.abs(target) ** p))
    rest = np.delete(np.arange(B.shape[1]), k)
    M = B[:, rest] - np.outer(B[:, k], c[rest] / c[k])
    if p == 1:
        value = l1_dual_lp(M, target).objective
    else:
        with progress_bar(False, 0, "") as bar:
            value = newton_irls(be, M, target, p, _INNER, None, None, bar, rng).objective
    return 1.0 / value if value > 0 else math.inf


@capabilities("linalgkit.sampling.total_sensitivity",
              numpy="as lp_sensitivities; approximate: Lewis-weight importance sampling of exact sensitivities",
              cupy="bounds only", generic="bounds only")
def total_sensitivity(A, p, *, method="exact", m=None, random_state=None):
    r"""The total sensitivity :math:`\mathfrak{S}_p(A) = \sum_i s_i`, or an upper bound or estimate of it.

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
    p : float
    method : {"exact", "lewis_bound", "leverage_bound", "approximate"}, default="exact"
        The first three sum :func:`lp_sensitivities` of that method.  ``"approximate"``
        (Padmanabhan, Woodruff & Zhang 2023): draw ``m`` rows i.i.d. with probabilities
        :math:`\pi_i \propto u_i` (the Lewis bound :math:`u_i \ge s_i`), compute their exact
        sensitivities, and return the unbiased estimate
        :math:`\sum_i u_i \cdot \frac{1}{m}\sum_j s_{i_j} / u_{i_j}`; since
        :math:`s_i/u_i \in [0, 1]`, its relative standard deviation is at most
        :math:`\sqrt{\sum u / (m\,\mathfrak{S})}`.
    m : int, optional
        Rows of ``"approximate"``; default :math:`\min(n, 4d)`.
    random_state : None, int or numpy.random.Generator, default=None

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sampling import total_sensitivity
    >>> A = np.random.default_rng(0).standard_normal((200, 3))
    >>> round(total_sensitivity(A, 2, method="lewis_bound"), 10)
    3.0
    """
    be, A, p, method = _check_arguments(A, p, method)
    if m is not None:
        check_scalar(m, "m", kind=numbers.Integral, low=1)
    rng = check_random_state(random_state)
    if method != "approximate":
        return float(be.xp.sum(_lp_sensitivities(be, A, p, method, None, rng)))
    return _estimated_total(be, A, p, min(A.shape[0], 4 * A.shape[1]) if m is None else int(m), rng)


def _estimated_total(be, A, p, m, rng):
    n, d = A.shape
    Y = basis(be, A, rng, exact=True).Y
    u = _lp_sensitivities(be, Y, p, "lewis_bound", None, rng)
    rows = rng.choice(n, size=m, p=u / u.sum())
    ratios = [row_sensitivity(be, Y, Y[i], p, rng) / u[i] for i in rows]
    return float(u.sum() * np.mean(ratios))
