r"""The :math:`\ell_p` regression solvers: the dual LP (HiGHS) for :math:`p = 1`, exactly on all rows or on a working
set of them, and damped Newton-IRLS for :math:`p > 1`.

Both work on NumPy / SciPy sparse inputs; the callers in :mod:`.lp_regression` and
:mod:`.sensitivities` validate and warn.
"""

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.optimize

from ._common import basis, left_solve, weighted_inverse_gram

__all__ = ["LpSolution", "certified_lower_bound", "l1_dual_lp", "l1_working_set", "lp_objective", "newton_irls"]


@dataclass(frozen=True)
class LpSolution:
    """What a solver returns: ``x``, its objective, a certified lower bound, and the solver-contract fields."""

    x: object
    objective: float
    lower_bound: float
    converged: bool
    iterations: int
    residual_norm: float
    history: tuple | None
    method: str


def lp_objective(A, x, b, p):
    r""":math:`\|Ax - b\|_p^p`."""
    return float(np.sum(np.abs(np.asarray(A @ x) - b) ** p))


def l1_dual_lp(A, b):
    r"""Exact :math:`\min_x \|Ax - b\|_1` through its dual :math:`\max\{b^T y : A^T y = 0,\ \|y\|_\infty \le 1\}`.

    HiGHS solves the dual (``n`` bounded variables, ``d`` equality constraints: far smaller than
    the primal's ``n + d`` variables and ``2n`` inequalities); ``x`` is minus the marginals of the
    equality constraints, and the dual objective :math:`b^T y` is a certified lower bound.
    ``residual_norm`` is the relative duality gap.
    """
    d = A.shape[1]
    result = scipy.optimize.linprog(-b, A_eq=A.T, b_eq=np.zeros(d), bounds=(-1.0, 1.0), method="highs")
    if result.status != 0:
        return LpSolution(np.zeros(d), lp_objective(A, np.zeros(d), b, 1), -math.inf, False, int(result.nit),
                          math.inf, None, "dual-lp")
    x = -np.asarray(result.eqlin.marginals)
    objective, lower = lp_objective(A, x, b, 1), -float(result.fun)
    gap = max(objective - lower, 0.0) / max(objective, np.finfo(np.float64).tiny)
    return LpSolution(x, objective, lower, True, int(result.nit), gap, None, "dual-lp")


def l1_working_set(be, A, b, rng, *, start_rows=None, max_rounds=None):
    r"""Exact :math:`\min_x \|Ax - b\|_1` by the dual LP on a working set of rows (Portnoy & Koenker 1997).

    At an optimum :math:`u_i = \mathrm{sign}(r_i)` for every row with a nonzero residual
    :math:`r = b - Ax`, and only about ``d`` rows have a zero one.  So: predict the signs from a
    start (least squares, then :data:`_IRLS_STEPS` reweighted least-squares steps with weights
    :math:`1/\max(|r_i|, \delta)`, on the basis :math:`Y = AR^{-1}`), keep free the
    ``start_rows`` rows of smallest :math:`|r_i| / \|y_i\|_2` (the leverage-scaled residual of
    Portnoy-Koenker's band), fix :math:`u_i = s_i = \mathrm{sign}(r_i)` on the others (``F``),
    and solve the reduced dual
    :math:`\max\{b_S^T u_S : A_S^T u_S = -A_F^T s_F,\ \|u_S\|_\infty \le 1\}` by HiGHS; ``x``
    is minus its equality marginals.  :math:`u = (u_S, s_F)` is feasible for the full dual, so
    :math:`b^T u` is a lower bound on the optimum and the duality gap
    :math:`\|Ax - b\|_1 - b^T u = \sum_{i \in F} (|r_i| - s_i r_i)` (plus the reduced LP's own
    gap) certifies ``x``.  Rows of ``F`` with :math:`s_i r_i < |r_i|` (a wrong sign: the KKT
    conditions fail there) join the working set and the reduced LP is solved again, until their
    part of the gap is below :data:`_FIXED_GAP_RTOL` of the objective; an infeasible reduced dual
    (too few free rows to balance the fixed ones) doubles the band.  This is the preprocessing of
    Portnoy & Koenker (Statistical Science 12, 1997; R's ``quantreg::rq.fit.pfn``), with the
    "globs" of the fixed rows written as the right-hand side :math:`-A_F^T s_F` and a pilot
    from IRLS on all rows instead of a subsample (on the issue's 50,000 x 21 problem it
    mispredicts 125 signs, the Lewis-coreset solution 2,449: ``ablation_working_set_start``).

    The working set only grows, so the loop is finite; after ``max_rounds`` LPs, when more than
    :data:`_MAX_FRACTION` of the rows would be free, or when the reduced LPs together would have
    more than ``n`` rows (the work of one full solve), the full dual LP is solved instead and
    the method is reported as ``"dual-lp-fallback"``.  ``iterations`` counts the reduced LPs (HiGHS's iterations after
    a fallback) and ``history`` holds the relative duality gap after each (inf where the reduced
    dual was infeasible).  Small problems (``start_rows`` over :data:`_MAX_FRACTION` of ``n``) go to
    :func:`l1_dual_lp` directly.
    """
    n, d = A.shape
    free_rows = min(n, _START_ROWS_PER_COLUMN * d) if start_rows is None else start_rows
    if free_rows > _MAX_FRACTION * n:
        return l1_dual_lp(A, b)
    Y = basis(be, A, rng, exact=False).Y
    r = _irls_residual(be, Y, b)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero row of A: its sign never changes, rank it last
        order = np.argsort(np.abs(r) / np.linalg.norm(Y, axis=1))
    signs, free, history, rows_solved = np.sign(r), np.zeros(n, dtype=bool), [], 0
    free[order[:free_rows]] = True
    for _ in range(_MAX_ROUNDS if max_rounds is None else max_rounds):
        rows_solved += np.count_nonzero(free)
        if np.count_nonzero(free) > _MAX_FRACTION * n or rows_solved > n:
            break
        step = _reduced_dual(A, b, free, signs)
        if step is None:
            return _fallback(A, b, history)
        if step is _INFEASIBLE:
            free_rows = 2 * free_rows
            free[order[:free_rows]] = True
            history.append(math.inf)
            continue
        x, u = step
        r = b - np.asarray(A @ x)
        objective, lower = float(np.sum(np.abs(r))), float(b @ u)
        gap = max(objective - lower, 0.0) / max(objective, np.finfo(np.float64).tiny)
        history.append(gap)
        excess = np.where(free, 0.0, np.abs(r) - signs * r)
        if float(np.sum(excess)) <= _FIXED_GAP_RTOL * objective:
            return LpSolution(x, objective, lower, True, len(history), gap, tuple(history), "working-set")
        free |= excess > 0
    return _fallback(A, b, history)


def _irls_residual(be, Y, b):
    r"""Residual of the start: least squares, then reweighted least squares for :math:`\ell_1` on the basis ``Y``.

    Weights :math:`1/\max(|r_i|, \delta)`, :math:`\delta = 10^{-9}\max|r|`; at most
    :data:`_IRLS_STEPS` steps, ending when the objective falls by less than :data:`_IRLS_RTOL`
    (the residual of the smallest objective is returned).
    """
    z = weighted_inverse_gram(be, Y, None) @ (Y.T @ b)
    r = b - Y @ z
    f = float(np.sum(np.abs(r)))
    for _ in range(_IRLS_STEPS):
        weights = 1.0 / np.maximum(np.abs(r), max(1e-9 * float(np.max(np.abs(r))), np.finfo(np.float64).tiny))
        z = weighted_inverse_gram(be, Y, weights) @ (Y.T @ (weights * b))
        r_new = b - Y @ z
        f_new = float(np.sum(np.abs(r_new)))
        if f_new >= f:  # no decrease: keep the better residual
            break
        r, f, previous = r_new, f_new, f
        if f > (1 - _IRLS_RTOL) * previous:
            break
    return r


def _reduced_dual(A, b, free, signs):
    r"""The dual LP over the free rows with :math:`u_i = s_i` fixed elsewhere: ``(x, u)``, :data:`_INFEASIBLE`, or
    None when HiGHS fails otherwise."""
    fixed = np.where(free, 0.0, signs).astype(np.float64)  # u in float64, as HiGHS returns it, for any dtype of A
    rows = np.nonzero(free)[0]
    result = scipy.optimize.linprog(-b[rows], A_eq=A[rows].T, b_eq=-np.asarray(A.T @ fixed), bounds=(-1.0, 1.0),
                                    method="highs")
    if result.status == 2:
        return _INFEASIBLE
    if result.status != 0:
        return None
    fixed[rows] = result.x
    return -np.asarray(result.eqlin.marginals), fixed


def _fallback(A, b, history):
    """The full dual LP after the working set gave up, reported as such (its rounds kept in ``history``)."""
    solution = l1_dual_lp(A, b)
    return replace(solution, method="dual-lp-fallback", history=tuple(history))


# The working set of l1_working_set: free rows at the start per column of A, the largest free fraction before the
# full LP is solved instead, the most reduced LPs, and the part of the relative duality gap left to fixed rows.
_START_ROWS_PER_COLUMN = 20
_MAX_FRACTION = 0.25
_MAX_ROUNDS = 30
_FIXED_GAP_RTOL = 1e-12
_INFEASIBLE = object()
# The IRLS start: at most this many reweighted least-squares steps, stopping at this relative decrease.
_IRLS_STEPS = 40
_IRLS_RTOL = 1e-6


def newton_irls(be, A, b, p, tol, x0, callback, bar, rng):
    r"""Damped Newton-IRLS for :math:`\min_x \|Ax - b\|_p^p`, :math:`p > 1`.

    On a well-conditioned basis :math:`Y = AR^{-1}` (coordinates :math:`z = Rx`) each iteration
    solves the weighted least-squares problem with weights
    :math:`\omega_i = \max(|r_i|, \delta)^{p-2}` (:math:`\delta = 10^{-10}\max|r|`) by Cholesky,
    and moves along :math:`\Delta = z_{\mathrm{WLS}} - z` by a step :math:`t` starting at
    :math:`1/(p-1)` (the Newton step: the plain IRLS step :math:`t = 1` overshoots by a factor
    :math:`p - 1`, the reason plain IRLS diverges for large :math:`p`) and halved until the
    objective decreases (up to its rounding error).  :math:`t = 1` is the majorize-minimize step for
    :math:`p \le 2`, so the objective never increases.  Iteration 0 is the start (``x0``, or the
    least-squares solution, which solves :math:`p = 2` directly).  A residual at the rounding level
    of ``b`` (:math:`\max|r| \le 8\epsilon\max|b|`, an exact fit) ends the solve.  Stopping rule (see :mod:`linalgkit._solver`):
    :math:`\|Y^T\varphi(r)\|_2 \le \max(\mathrm{rtol}\,\|\varphi(r)\|_2, \mathrm{atol})` with
    :math:`\varphi(r) = \mathrm{sign}(r)|r|^{p-1}`, the optimality condition
    :math:`A^T\varphi(r) = 0` in the basis.
    """
    base = basis(be, A, rng, exact=False)
    Y, R = base.Y, base.R
    z = (R @ x0) if x0 is not None else weighted_inverse_gram(be, Y, None) @ (Y.T @ b)
    r, f, gradient, threshold = _state(Y, z, b, p, tol)
    history, best, iterations = [gradient], (z, f, gradient, threshold), 0
    while gradient > threshold and iterations < tol.maxiter and p != 2:
        step = _newton_direction(be, Y, r, p)
        t, allowed = 1.0 / (p - 1.0), f * (1 + _rounding(r))  # steps below f's rounding error are still taken
        for _ in range(40):
            if float(np.sum(np.abs(r - t * (Y @ step)) ** p)) <= allowed:
                break
            t /= 2
        else:  # no decrease along the direction: the iterate is optimal to working precision
            break
        z = z + t * step
        iterations += 1
        bar.update()
        if callback is not None:
            callback(left_solve(be, R, z))
        r, f, gradient, threshold = _state(Y, z, b, p, tol)
        history.append(gradient)
        if f <= best[1] * (1 + _rounding(r)):  # equal to rounding: the later iterate has the smaller gradient
            best = (z, f, gradient, threshold)
    z, _, gradient, threshold = best
    converged = gradient <= threshold or p == 2  # p = 2: the least-squares start is the solution
    return _solution(be, A, b, R, z, p, converged, iterations, gradient, history, Y)


def _state(Y, z, b, p, tol):
    r"""Residual, objective, optimality norm :math:`\|Y^T\varphi(r)\|` and the rule's threshold at ``z``.

    A residual at the rounding level of ``b`` (an exact fit) meets the rule whatever its gradient,
    which is then rounding noise: the threshold is infinite.
    """
    r = b - Y @ z
    if float(np.max(np.abs(r))) <= _rounding(b) * float(np.max(np.abs(b))):
        return r, float(np.sum(np.abs(r) ** p)), 0.0, math.inf
    phi = np.sign(r) * np.abs(r) ** (p - 1)
    return r, float(np.sum(np.abs(r) ** p)), float(np.linalg.norm(Y.T @ phi)), tol.threshold(np.linalg.norm(phi))


def _newton_direction(be, Y, r, p):
    r"""The weighted least-squares correction with weights :math:`\max(|r_i|, \delta)^{p-2}`."""
    delta = max(float(np.max(np.abs(r))), np.finfo(np.float64).tiny) * 1e-10
    omega = np.maximum(np.abs(r), delta) ** (p - 2)
    return weighted_inverse_gram(be, Y, omega) @ (Y.T @ (omega * r))


def _rounding(x):
    """Relative rounding error allowed in sums over ``x`` (8 machine epsilons of its dtype)."""
    return 8 * float(np.finfo(x.dtype).eps)


def _solution(be, A, b, R, z, p, converged, iterations, gradient, history, Y):
    x = left_solve(be, R, z)
    r = b - Y @ z
    return LpSolution(x, float(np.sum(np.abs(r) ** p)), certified_lower_bound(be, Y, r, p), converged, iterations,
                      gradient, tuple(history), "newton-irls")


def certified_lower_bound(be, Y, r, p):
    r"""A lower bound on :math:`\min_x \|Ax - b\|_p^p` from any residual :math:`r = b - Ax` (weak duality).

    Any :math:`y` with :math:`A^T y = 0` gives :math:`\min_x\|Ax - b\|_p \ge b^T y / \|y\|_q`
    (:math:`1/p + 1/q = 1`), and :math:`b^T y = r^T y`.  Here :math:`y = (I - P)\varphi(r)`, with
    :math:`P` the orthogonal projector on range(A) (through the basis ``Y``) and
    :math:`\varphi(r) = \mathrm{sign}(r)|r|^{p-1}`; for :math:`p = 1`, :data:`_POCS_STEPS`
    alternating projections on the box :math:`\|y\|_\infty \le 1` and on :math:`\ker A^T` follow,
    which keep the bound valid and tighten it (from about 0.6 to 0.85 of the optimum on a
    Laplace-noise problem).  Exact up to rounding in the projection; tight for :math:`p > 1` near
    the optimum, where :math:`A^T\varphi(r) \approx 0`.
    """
    gram_inverse = weighted_inverse_gram(be, Y, None)

    def project(v):
        return v - Y @ (gram_inverse @ (Y.T @ v))

    if p == 1:
        y = project(np.sign(r))
        for _ in range(_POCS_STEPS):
            y = project(np.clip(y, -1.0, 1.0))
        scale = float(np.max(np.abs(y)))
    else:
        y = project(np.sign(r) * np.abs(r) ** (p - 1))
        scale = float(np.sum(np.abs(y) ** (p / (p - 1))) ** ((p - 1) / p))
    if scale == 0.0:
        return 0.0
    return max(float(r @ y) / scale, 0.0) ** p


# Alternating projections (box, kernel of A^T) that tighten the p = 1 lower bound; O(nd) each.
_POCS_STEPS = 16
