r""":math:`\ell_p` regression :math:`\min_x \|Ax - b\|_p`: exact (dual LP, Newton-IRLS) or on a sensitivity sample."""

import math
from dataclasses import dataclass

from .._backend import capabilities, check_random_state, get_backend, serial_blas
from .._solver import SolverResult, check_callback, check_tolerances, progress_bar, warn_not_converged
from .._validation import check_consistent_length, check_matrix, check_option, check_vector
from ..exceptions import BackendError, ShapeError
from ._common import basis, check_p, check_sample_size
from ._solvers import certified_lower_bound, l1_dual_lp, l1_working_set, lp_objective, newton_irls
from .sample import SCORES, _sensitivity_sample

__all__ = ["LpRegressionResult", "default_sample_size", "lp_regression"]

METHODS = ("sampled", "exact")


@dataclass(frozen=True)
class LpRegressionResult(SolverResult):
    r"""Result of :func:`lp_regression` (plus ``converged``, ``iterations``, ``residual_norm``, ``history``).

    Attributes
    ----------
    x : ndarray of shape (d,)
    objective : float
        :math:`\|Ax - b\|_p^p` on all ``n`` rows.
    lower_bound : float
        A certified lower bound on :math:`\min_x \|Ax - b\|_p^p` (weak duality, exact up to
        rounding), so ``objective / lower_bound`` bounds the suboptimality of ``x``.
    p : float
    method : str
        The solver of the (sampled) problem: ``"dual-lp"`` (all its rows), ``"working-set"`` (the
        dual LP on a working set of rows, certified on all), ``"dual-lp-fallback"`` (the working
        set hit its cap and all rows were solved) or ``"newton-irls"``.
    m : int or None
        Rows of the sample solved (None for ``method="exact"``).
    scores : str or None
        Scores of the sample.

    Notes
    -----
    For the dual LP methods, ``residual_norm`` is the relative duality gap of the solved problem
    (and ``history`` the gap after each reduced LP of the working set); for ``"newton-irls"`` it
    is :math:`\|Y^T\varphi(r)\|_2` (see :func:`lp_regression`).
    """

    x: object
    objective: float
    lower_bound: float
    p: float
    method: str
    m: int | None
    scores: str | None


@capabilities("linalgkit.sampling.default_sample_size", numpy="size rule (Python)", cupy="size rule (Python)",
              generic="size rule (Python)")
def default_sample_size(n, d):
    r"""Default expected sample size :math:`\min(n, \lceil 20 (d+1) \ln(d+1) \rceil)` of ``method="sampled"``.

    Parameters
    ----------
    n, d : int
        Rows and columns of ``A``.

    Returns
    -------
    int
    """
    return min(n, math.ceil(20 * (d + 1) * math.log(d + 1)) if d > 0 else n)


@capabilities("linalgkit.sampling.lp_regression",
              numpy="HiGHS dual LP (p = 1; exact: on a working set of rows), Newton-IRLS with Cholesky on a "
                    "sketch-preconditioned basis (p > 1); dense and SciPy sparse",
              cupy=None, generic=None)
def lp_regression(A, b, p, *, method="sampled", m=None, scores="lewis", x0=None, rtol=None, atol=0.0, maxiter=100,
                  callback=None, progress=False, random_state=None):
    r"""Least :math:`\ell_p` regression :math:`\min_x \|Ax - b\|_p^p`, :math:`p \ge 1`, exactly or on a coreset.

    ``method="exact"``: for :math:`p = 1` the dual LP
    :math:`\max\{b^T y : A^T y = 0, \|y\|_\infty \le 1\}` by HiGHS (``x`` from its equality
    marginals), on a working set of rows: :math:`y_i = \mathrm{sign}(r_i)` is fixed on the rows
    whose residual at an IRLS start is far from zero, the rest solved, and fixed rows whose sign
    turns out wrong are freed until the duality gap on all rows certifies the optimum
    (Portnoy & Koenker 1997; ``l1_working_set`` in ``linalgkit/sampling/_solvers.py``); for
    :math:`p > 1` damped Newton-IRLS: weighted least squares with weights
    :math:`\max(|r_i|, \delta)^{p-2}`, a step starting at :math:`1/(p-1)` and halved until the
    objective decreases (plain IRLS overshoots by :math:`p - 1` and diverges for large :math:`p`;
    this safeguard, not the Adil-Peng-Sachdeva p-IRLS, is what is implemented).  Stopping rule
    (:mod:`linalgkit._solver`): :math:`\|Y^T\varphi(r)\|_2 \le \max(\mathrm{rtol}\,\|\varphi(r)\|_2,
    \mathrm{atol})`, :math:`\varphi(r) = \mathrm{sign}(r)|r|^{p-1}`, :math:`Y = AR^{-1}` a
    well-conditioned basis.

    ``method="sampled"``: the same solver on a :func:`sensitivity_sample` of ``[A b]`` with
    expected size ``m``; with Lewis weights and :math:`m = O(d\log(d/\varepsilon)/\varepsilon^2)`
    the answer is within :math:`1 + \varepsilon` of the optimum (Cohen & Peng 2015).  The
    objective is then evaluated on all rows, and a certified lower bound on the optimum
    (one projection, :math:`O(nd^2)`) tells how far it can be from it.

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
        Real, full column rank.
    b : array of shape (n,)
    p : float
        Exponent, ``p >= 1``.
    method : {"sampled", "exact"}, default="sampled"
    m : int, optional
        Expected sample size of ``"sampled"``; default :func:`default_sample_size`.
    scores : str, default="lewis"
        Scores of the sample (see :func:`sensitivity_sample`).
    x0 : array of shape (d,), optional
        Start of Newton-IRLS (default: the least-squares solution); unused for :math:`p = 1`.
    rtol, atol, maxiter, callback, progress
        Solver contract of :mod:`linalgkit._solver` for Newton-IRLS; default ``rtol = 1e-8``.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the sample and of the preconditioning sketch.

    Returns
    -------
    LpRegressionResult

    Raises
    ------
    ValidationError
        For ``p < 1``, ``m > n``, a rank-deficient ``A``, or non-finite values.
    BackendError
        For arrays other than NumPy / SciPy sparse (HiGHS runs on the host).

    Warns
    -----
    ConvergenceWarning
        When Newton-IRLS stops before its rule (best iterate returned) or HiGHS fails.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sampling import lp_regression
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((5000, 3))
    >>> b = A @ [1.0, 2.0, 3.0] + rng.laplace(size=5000)
    >>> result = lp_regression(A, b, 1, random_state=0)
    >>> result.m < 5000, bool(result.objective <= 1.25 * result.lower_bound)
    (True, True)
    """
    be = get_backend(A=A, b=b)
    if be.kind != "numpy":
        raise BackendError(f"A is a {be.kind} array, but lp_regression runs HiGHS and Newton-IRLS on the host; pass "
                           f"NumPy arrays (A.get(), b.get() for CuPy)")
    A = check_matrix(A, "A", backend=be, allow_complex=False)
    b = check_vector(b, "b", backend=be, allow_complex=False)
    check_consistent_length(("A", A), ("b", b))
    n, d = A.shape
    if n < d:
        raise ShapeError(f"A must have at least as many rows as columns, got shape {(n, d)}; an underdetermined "
                         f"l_p regression has no unique solution")
    A = A.tocsr() if be.issparse(A) else A
    p = check_p(p, low=1.0, purpose="l_p regression")
    method = check_option(method, "method", METHODS)
    scores = check_option(scores, "scores", SCORES)
    if m is not None:
        m = check_sample_size(m, n)
    if x0 is not None:
        x0 = check_vector(x0, "x0", backend=be, length=d, allow_complex=False)
    tol = check_tolerances(rtol, atol, maxiter, dtype=A.dtype, default_rtol=1e-8)
    result = _lp_regression(be, A, b.astype(A.dtype, copy=False), p, method, m, scores, x0, tol,
                            check_callback(callback), progress, check_random_state(random_state))
    if not result.converged:
        warn_not_converged("lp_regression", tol, result.residual_norm)
    return result


def _lp_regression(be, A, b, p, method, m, scores, x0, tol, callback, progress, rng):
    """Private implementation of :func:`lp_regression` on checked arguments (does not warn).

    Host BLAS runs serially, for the reason given in :func:`~linalgkit.sampling.lewis._lewis_weights`.
    """
    with serial_blas(be):
        return _regression(be, A, b, p, method, m, scores, x0, tol, callback, progress, rng)


def _regression(be, A, b, p, method, m, scores, x0, tol, callback, progress, rng):
    if method == "exact":
        solution = l1_working_set(be, A, b, rng) if p == 1 else _solve(be, A, b, p, x0, tol, callback, progress, rng)
        return _result(solution, solution.objective, solution.lower_bound, p, None, None)
    sample = _sensitivity_sample(be, A, b, p, default_sample_size(*A.shape) if m is None else m, scores, rng)
    solution = _solve(be, sample.A, sample.b, p, x0, tol, callback, progress, rng)
    objective = lp_objective(A, solution.x, b, p)
    Y = basis(be, A, rng, exact=False).Y
    lower = certified_lower_bound(be, Y, b - A @ solution.x, p)
    return _result(solution, objective, lower, p, int(sample.indices.shape[0]), scores)


def _solve(be, A, b, p, x0, tol, callback, progress, rng):
    if p == 1:
        return l1_dual_lp(A, b)
    with progress_bar(progress, tol.maxiter, "l_p regression") as bar:
        return newton_irls(be, A, b, p, tol, x0, callback, bar, rng)


def _result(solution, objective, lower, p, m, scores):
    return LpRegressionResult(solution.x, objective, lower, p, solution.method, m, scores,
                              converged=solution.converged, iterations=solution.iterations,
                              residual_norm=solution.residual_norm, history=solution.history)
