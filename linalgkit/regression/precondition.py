r"""Sketch-and-precondition least squares to full accuracy: Cholesky QR, LSQR, iterative sketching, FOSSILS."""

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from .._backend import capabilities, check_random_state
from .._solver import (IterationMonitor, SolverResult, check_callback, check_tolerances, progress_bar,
                       warn_not_converged)
from .._validation import check_option, check_scalar
from ..exceptions import ArgumentTypeError, RankDeficiencyWarning
from ..sketch import SKETCH_KINDS
from ._cholqr import CholeskyBreakdown, cholqr_factor, refine, solve_upper
from ._common import check_problem, check_sketch_size, check_start, residual_norm, sketch_and_factor
from ._cutovers import CHOLQR_SKETCH, DIVERGENCE, PRECONDITION_SKETCH, SPARSE_SKETCH, STABLE_SKETCH

__all__ = ["PreconditionedLstsqResult", "default_preconditioner_size", "lstsq_precondition"]

METHODS = ("auto", "cholqr", "lsqr", "ihs", "fossils")

# Default rtol of each method, a function of the machine epsilon of A's dtype (see lstsq_precondition).
DEFAULT_RTOL = {
    "cholqr": lambda eps: eps,
    "lsqr": lambda eps: max(1e-12, 100 * eps),
    "ihs": lambda eps: max(1e-12, 10 * eps),
    "fossils": lambda eps: 10 * eps,
}


@dataclass(frozen=True)
class PreconditionedLstsqResult(SolverResult):
    """Result of :func:`lstsq_precondition`, a :class:`~linalgkit._solver.SolverResult`.

    Attributes
    ----------
    x : array of shape (d,) or (d, k)
        The solution, one column per right-hand side (the best iterate when ``converged`` is False).
    method : str
        ``"cholqr"``, ``"lsqr"``, ``"ihs"`` or ``"fossils"``; ``"lapack"`` for a direct solve (no
        sketch, or a fallback) and ``"lsqr-column-scaling"`` for the sparse fallback.
    sketch : str
    m : int
        Sketch size; 0 when no sketch was drawn (a direct solve, or ``b = 0``).
    cond : float
        2-norm condition number of ``SA`` (that of the preconditioner ``R``); that of ``A`` for a
        direct LAPACK solve; NaN when unknown.
    fallback : bool
        True when the sketch could not precondition and another solver produced ``x`` (see
        :func:`lstsq_precondition`).
    column_converged : tuple of bool or None
        For ``k`` right-hand sides, whether each column met the rule (``converged`` is their
        conjunction); None for a vector ``b``.
    converged : bool
        Whether the method's stopping rule was met on the returned ``x`` (by every column).
    iterations : int
        Iterations run, the most over the columns (for ``"cholqr"``: the Cholesky-QR solve and
        each refinement step).
    residual_norm : float
        :math:`\\|A x - b\\|_2` of the returned ``x`` (Frobenius for ``k`` columns), computed exactly.
    history : tuple of float or None
        :math:`\\|A x_k - b\\|_2` for the warm start ``k = 0`` and every iteration (LSQR's running
        estimate for ``"lsqr"``, exact for ``"ihs"``), after each refinement step (``"fossils"``), or
        of each tested iterate (``"cholqr"``, Frobenius over the columns).  None for ``k > 1``
        columns solved one by one.
    """

    x: object
    method: str
    sketch: str
    m: int
    cond: float
    fallback: bool
    column_converged: tuple | None = None

    @property
    def residual_history(self):
        """The same tuple as ``history`` (its name before the solver contract)."""
        return self.history


def default_preconditioner_size(n, d, *, sparse=False):
    r"""Default sketch size for ``method="lsqr"``: :math:`\min(\max(n/16, 4d), 20d)` (dense ``A``), :math:`8d` (sparse).

    Larger ``m`` means fewer iterations (the preconditioned matrix has condition number about
    :math:`(1 + \sqrt{d/m})/(1 - \sqrt{d/m})`, so LSQR contracts by :math:`\sqrt{d/m}` per
    iteration) but a dearer QR of :math:`SA` (:math:`2md^2` flops); the cap ``n / 16`` keeps that QR
    within an eighth of a dense QR of ``A``, and :math:`4d` is the floor below which the iteration
    count grows quickly.  Iterations are cheap on sparse ``A``, so a smaller sketch pays there.
    The result is at most ``n`` (the constants are in :mod:`linalgkit.regression._cutovers`); where
    it reaches ``n`` the sketch gives no speed-up and :func:`lstsq_precondition` solves directly.

    Parameters
    ----------
    n, d : int
        Shape of ``A``, ``n > d >= 1``.
    sparse : bool, default=False
        Whether ``A`` is sparse.

    Returns
    -------
    int
        The sketch size ``m``.
    """
    check_scalar(d, "d", kind=numbers.Integral, low=1)
    check_scalar(n, "n", kind=numbers.Integral, low=d + 1)
    if not isinstance(sparse, bool):
        raise ArgumentTypeError(f"sparse must be True or False, got {type(sparse).__name__}")
    return min(n, _target_size("lsqr", n, d, sparse))


def _target_size(method, n, d, sparse):
    """The method's default sketch size before the cap at ``n``."""
    if method == "lsqr":
        per_row, floor, cap = PRECONDITION_SKETCH
        target = SPARSE_SKETCH * d if sparse else max(min(n // per_row, cap * d), floor * d)
    else:
        target = (CHOLQR_SKETCH if method == "cholqr" else STABLE_SKETCH) * d
    return max(target, d + 1)


def plan(method, m, n, d, sparse):
    """``(method, m)`` of a solve; ``m = None`` asks for a direct solve without a sketch.

    A given ``m`` is kept.  Where the default sketch would have ``n`` rows or more it gives no
    speed-up, and the heavy-ball parameters of ``"ihs"`` and ``"fossils"`` assume an embedding an
    ``n``-row sparse sketch is not: dense ``A`` is then solved by LAPACK, sparse ``A`` by LSQR (whose
    convergence needs no embedding bound) with an ``n``-row sketch.
    """
    if m is not None:
        return method, m
    target = _target_size(method, n, d, sparse)
    if target < n:
        return method, target
    return ("lsqr", n) if sparse else (method, None)


def resolve_method(method, sparse):
    """``"auto"``: ``"cholqr"`` for dense ``A``, ``"lsqr"`` for sparse ``A`` (Cholesky QR would densify it)."""
    if method != "auto":
        return method
    return "lsqr" if sparse else "cholqr"


def default_tolerances(method, dtype, rtol=None, atol=0.0, maxiter=100):
    """Checked tolerances of ``method`` (resolved, not ``"auto"``) for ``A`` of ``dtype``."""
    return check_tolerances(rtol, atol, maxiter, dtype=dtype, default_rtol=DEFAULT_RTOL[method])


class _Preconditioned:
    r"""The operator :math:`\bar A = A R^{-1}` and its adjoint, by triangular solves with ``R``."""

    def __init__(self, backend, A, R):
        self.A, self.R, self.backend = A, R, backend

    def solve(self, y, trans=False):
        """:math:`R^{-1} y`, or :math:`R^{-T} y` when ``trans``."""
        return solve_upper(self.backend, self.R, y, trans=trans)

    def step(self, v, u=None, coef=0.0):
        r"""``(w, \bar A^T w, ||w||)`` for :math:`w = \bar A v + \mathrm{coef}\,u`, by :func:`_product_pair`.

        Where the pass is fused ``w`` is written over ``u`` (which the caller gives up).
        """
        w, gradient, size = _product_pair(self.backend, self.A, self.solve(v), u, coef, out=u)
        return w, self.solve(gradient, trans=True), size


def _fused(backend, A):
    """The layout of ``A`` whose products run fused in Numba (``"csr"`` or ``"dense"``), or None.

    A CSR matrix, or a C-ordered dense array, on NumPy with Numba.
    """
    if backend.kind != "numpy" or not backend.use_numba:
        return None
    if backend.issparse(A):
        return "csr" if A.format == "csr" else None
    return "dense" if isinstance(A, np.ndarray) and A.flags.c_contiguous else None


def _product_pair(backend, A, v, u=None, coef=0.0, out=None):
    r"""``(w, A^T w, ||w||)`` for :math:`w = Av + \mathrm{coef}\,u` (:math:`w = Av` when ``u`` is None).

    One read of ``A`` where :func:`_fused` (``w`` then goes into ``out`` when given, which may be
    ``u``) or where ``A`` has its own ``product_pair`` (one pass over Dask chunks); two products
    elsewhere.  LSQR's bidiagonalization step and the normal-equation test
    are both of this form, so each iteration reads ``A`` once instead of twice.
    """
    pair = getattr(A, "product_pair", None)  # an operator with its own one-pass form: linalgkit.dask.RowOperator
    if pair is not None:
        return pair(v, u, coef)
    layout = _fused(backend, A)
    if layout is not None:
        from ._numba import csr_product_pair, dense_product_pair

        w = np.empty(A.shape[0], dtype=A.dtype) if out is None else out
        source = (A.indptr, A.indices, A.data) if layout == "csr" else (A,)
        kernel = csr_product_pair if layout == "csr" else dense_product_pair
        gradient, squares = kernel(*source, v, w if u is None else u, 0.0 if u is None else coef, w)
        return w, gradient, math.sqrt(squares)
    w = A @ v if u is None else A @ v + coef * u
    return w, A.T @ w, _norm(backend, w)


def _norm(backend, v):
    return float(backend.xp.linalg.vector_norm(v))


def _normal_rule(backend, A, b, x, anorm, tolerances, solution_term=True):
    r"""The normal-equation rule on ``x``: ``(error, ratio, residual, gradient)``.

    :math:`r = b - Ax`, gradient :math:`A^Tr`, ``error`` the backward-error measure
    :math:`\|A^Tr\| / (\|A\|(\|A\|\|x\| + \|r\|))` and ``ratio`` :math:`\|A^Tr\|` over the rule's
    threshold :math:`\max(\mathrm{rtol}\,\|A\|(\|A\|\|x\| + \|r\|), \mathrm{atol})` (met when at most 1).
    Either of SciPy's LSQR tests (:math:`\|r\| \le \mathrm{rtol}(\|A\|\|x\| + \|b\|)`, or
    :math:`\|A^Tr\| \le \mathrm{rtol}\,\|A\|\|r\|`) implies it, and unlike them it can be met in
    floating point whatever the residual: the rounding of :math:`A^T(b - Ax)` is about
    :math:`u\|A\|(\|A\|\|x\| + \|b\|)`.  ``anorm`` is :math:`\|A\|`, or an estimate of it.
    ``solution_term=False`` drops :math:`\|A\|\|x\|` (SciPy's second test alone).
    """
    residual, gradient, residual_size = _product_pair(backend, A, -x, b, 1.0)
    scale = anorm * ((anorm * _norm(backend, x) if solution_term else 0.0) + residual_size)
    size = _norm(backend, gradient)
    threshold = tolerances.threshold(scale)
    ratio = size / threshold if threshold > 0 else (0.0 if size == 0 else math.inf)
    return (size / scale if scale > 0 else 0.0), ratio, residual, gradient


def _lsqr_run(backend, op, r0, gradient, tolerances, maxiter, bnorm, monitor, start):
    r"""One LSQR run (Paige & Saunders 1982) for :math:`\min_y \|\bar A y - r_0\|`; returns ``(y, k, history)``.

    ``gradient`` is :math:`A^Tr_0`, already computed by the caller's test; ``r0`` is overwritten.

    Runs until LSQR's estimates say :math:`\|\bar A^T \bar r_k\| \le \mathrm{rtol}\,\|\bar A\|_F\|\bar r_k\|`
    or :math:`\|\bar r_k\| \le \mathrm{rtol}\,\|b\|`; the caller then tests the rule on the exact
    residual.  ``monitor`` sees :math:`x_k = x_0 + R^{-1}y_k` (``start`` is :math:`x_0`).
    """
    beta = _norm(backend, r0)
    y = backend.zeros((op.R.shape[0],), r0.dtype)
    if beta == 0:
        return y, 0, (beta,)
    u, scale = r0, 1 / beta  # u holds beta_k u_k, LSQR's left vector before its normalization by scale = 1/beta_k
    v = op.solve(gradient, trans=True) / beta
    alpha = _norm(backend, v)
    if alpha == 0:
        return y, 0, (beta,)
    v = v / alpha
    w = v
    phibar, rhobar, anorm2 = beta, alpha, alpha**2
    history = [beta]
    for k in range(1, maxiter + 1):
        u, gradient, beta = op.step(v, u, -alpha * scale)  # beta u <- A v - alpha u, and A^T of it
        scale = 1 / beta if beta > 0 else 0.0
        v = scale * gradient - beta * v
        alpha = _norm(backend, v)
        v = v / alpha if alpha > 0 else v
        anorm2 += alpha**2 + beta**2
        rho = math.hypot(rhobar, beta)
        c, s = rhobar / rho, beta / rho
        theta, rhobar = s * alpha, -c * alpha
        phi, phibar = c * phibar, s * phibar
        y = y + (phi / rho) * w
        w = v - (theta / rho) * w
        history.append(phibar)
        monitor(lambda: start + op.solve(y))
        if (phibar * alpha * abs(c) <= tolerances.rtol * math.sqrt(anorm2) * phibar
                or phibar <= tolerances.rtol * bnorm or alpha == 0):
            break
    return y, k, tuple(history)


def _lsqr(backend, op, b, start, anorm, tolerances, monitor):
    r"""LSQR on :math:`\bar A = AR^{-1}` from ``start``, restarted from the exact residual until the rule holds.

    The rule is that of :func:`_normal_rule`, tested on the exact residual whenever a run of
    :func:`_lsqr_run` stops; a restart is one step of iterative refinement (a run's estimates
    drift from the exact residual on ill-conditioned ``A``).  Returns
    ``(x, converged, iterations, history, error)`` for the tested iterate with the smallest ratio.
    """
    x, iterations, history, best = start, 0, [], None
    bnorm = _norm(backend, b)
    while True:
        error, ratio, residual, gradient = _normal_rule(backend, op.A, b, x, anorm, tolerances)
        history = history or [_norm(backend, residual)]
        if best is None or ratio < best[0]:
            best = (ratio, x, error)
        if ratio <= 1 or iterations >= tolerances.maxiter:
            break
        y, k, run = _lsqr_run(backend, op, residual, gradient, tolerances, tolerances.maxiter - iterations, bnorm,
                              monitor, x)
        if k == 0:
            break
        x, iterations = x + op.solve(y), iterations + k
        history.extend(run[1:])
    ratio, x, error = best
    return x, ratio <= 1, iterations, tuple(history), error


def _ihs(backend, op, b, x, m, anorm, tolerances, monitor):
    r"""Iterative sketching with momentum, :math:`x_{k+1} = x_k + \alpha R^{-1}R^{-T}A^T(b - Ax_k) + \beta\Delta_k`.

    :math:`\Delta_k = x_k - x_{k-1}`, :math:`\alpha = (1 - d/m)^2`, :math:`\beta = d/m` (the optimal
    heavy-ball parameters for a Gaussian embedding; Epperly, arXiv 2311.04362; Ozaslan, Pilanci &
    Arikan 2019).  Stops when :math:`\|A^Tr_k\| \le \max(\mathrm{rtol}\,\|A\|\|r_k\|, \mathrm{atol})`
    (SciPy's second LSQR test, see :func:`_normal_rule`) or
    :math:`\|R^{-T}A^Tr_k\| \le \max(\mathrm{rtol}\,\|b\|, \mathrm{atol})` (the left side estimates
    :math:`\|A(x_k - x^*)\|`: the stronger test where the rounding floor :math:`\kappa(A)u` allows it,
    the first where it does not), or when the smaller of the two ratios grows
    :data:`~._cutovers.DIVERGENCE` times above the smallest seen (the sketch is too poor an
    embedding for these parameters).  Returns the iterate with the smallest ratio, so never one
    worse than the start.
    """
    q = op.R.shape[0] / m
    alpha, beta = (1 - q) ** 2, q
    previous, history, best = x, [], None
    forward_threshold = tolerances.threshold(_norm(backend, b))
    for k in range(tolerances.maxiter + 1):
        error, ratio, residual, gradient = _normal_rule(backend, op.A, b, x, anorm, tolerances, solution_term=False)
        gradient = op.solve(gradient, trans=True)
        size = _norm(backend, gradient)
        ratio = min(ratio, size / forward_threshold if forward_threshold > 0 else math.inf)
        history.append(_norm(backend, residual))
        if best is None or ratio < best[0]:
            best = (ratio, x, error)
        if ratio <= 1 or k == tolerances.maxiter or not ratio <= DIVERGENCE * best[0]:
            break
        x, previous = x + alpha * op.solve(gradient) + beta * (x - previous), x
        monitor(lambda: x)
    ratio, x, error = best
    return x, ratio <= 1, k, tuple(history), error


def _backward_error_estimate(backend, factor, x, residual, gradient, fro, bnorm):
    r"""Karlson-Walden estimate of the least-squares backward error of ``x`` (the SVD of ``SA`` stands in for ``A``'s).

    :math:`\theta/\sqrt{1+\theta^2\|x\|^2}\;\|(\Sigma^2 + \mu I)^{-1/2} Z^T A^T r\|`, with
    :math:`\theta = \|A\|_F/\|b\|` and :math:`\mu = \theta^2\|r\|^2/(1+\theta^2\|x\|^2)`; ``gradient`` is
    :math:`A^T r`.
    """
    xp = backend.xp
    theta = fro / bnorm
    scale = 1 + theta**2 * _norm(backend, x) ** 2
    weights = xp.sqrt(factor.singular_values**2 + theta**2 * _norm(backend, residual) ** 2 / scale)
    return _norm(backend, (factor.Zt @ gradient) / weights) * theta / math.sqrt(scale)


def _fossils(backend, op, factor, b, x, m, tolerances, monitor):
    r"""FOSSILS: two steps of iterative refinement, each solved by heavy-ball iterations on :math:`\bar A^T\bar A`.

    Refinement step: :math:`r = b - Ax`, :math:`c = \bar A^T r`; iterate
    :math:`\Delta_{k+1} = \Delta_k + \alpha(c - \bar A^T\bar A\Delta_k) + \beta(\Delta_k - \Delta_{k-1})`
    from :math:`\Delta_0 = c` (:math:`\alpha = (1-d/m)^2`, :math:`\beta = d/m`); then
    :math:`x \leftarrow x + R^{-1}\Delta`.  The first step's inner loop stops when the update falls
    below :math:`\mathrm{rtol}\,(\sigma_{\max}\|x\| + 0.04\,\kappa\|r\|)`, the second's when the
    Karlson-Walden backward-error estimate :math:`\hat\eta(x_k)` (checked every 5 steps) meets the
    rule :math:`\hat\eta(x_k) \le \max(\mathrm{rtol}\,\|A\|_F, \mathrm{atol})`, which is also tested
    on the warm start and after each step.  An inner loop whose update grows
    :data:`~._cutovers.DIVERGENCE` times above its smallest stops (a sketch too poor for these
    parameters), and so does the refinement when a step does not lower the estimate.  Backward
    stable (Epperly, Meier & Nakatsukasa, arXiv 2406.03468).  Returns the tested iterate with the
    smallest estimate, so never one worse than the start.  ``b`` is not zero (the caller answers
    ``x = 0`` there).
    """
    q = op.R.shape[0] / m
    alpha, beta = (1 - q) ** 2, q
    sigma = backend.to_host(factor.singular_values)
    fro, bnorm = float(math.sqrt((sigma**2).sum())), _norm(backend, b)
    tolerance = tolerances.threshold(fro)

    def tested(x):
        residual, gradient, _ = _product_pair(backend, op.A, -x, b, 1.0)
        return residual, gradient, _backward_error_estimate(backend, factor, x, residual, gradient, fro, bnorm)

    residual, gradient, estimate = tested(x)
    history, iterations, best = [_norm(backend, residual)], 0, (estimate, x)
    for step in range(2):
        if best[0] <= tolerance or iterations >= tolerances.maxiter:
            break
        c = op.solve(gradient, trans=True)
        delta = previous = c
        update_floor = tolerances.rtol * (sigma[0] * _norm(backend, x) + 0.04 * factor.cond * history[-1])
        smallest = math.inf
        for k in range(1, tolerances.maxiter - iterations + 1):
            update = alpha * (c - op.step(delta)[1]) + beta * (delta - previous)
            delta, previous = delta + update, delta
            iterations += 1
            monitor(lambda: x + op.solve(delta))
            size = _norm(backend, update)
            smallest = min(smallest, size)
            if (step == 0 and size <= update_floor) or not size <= DIVERGENCE * smallest:
                break
            if step == 1 and k % 5 == 0 and tested(x + op.solve(delta))[2] <= tolerance:
                break
        x = x + op.solve(delta)
        residual, gradient, estimate = tested(x)
        history.append(_norm(backend, residual))
        if not estimate < best[0]:
            break
        best = (estimate, x)
    estimate, x = best
    return x, estimate <= tolerance, iterations, tuple(history), estimate / fro


def _cholqr(backend, A, B, factor, tolerances, monitor):
    """Cholesky QR of the sketch-preconditioned ``[A B]`` and refinement (see :mod:`._cholqr`)."""
    X, P, singular_values = cholqr_factor(backend, A, B, factor.stacked)
    return refine(backend, A, B, X, P, singular_values, tolerances, monitor)


def _lapack(backend, A, B):
    """Dense direct solve: LAPACK ``gelsd`` (SVD-based ``pinv`` off NumPy); returns ``(X, cond, rank)``."""
    if backend.kind == "numpy":
        import scipy.linalg

        X, _, rank, s = scipy.linalg.lstsq(A, B, check_finite=False)
        return X, (float(s[0] / s[-1]) if s[-1] > 0 else math.inf), int(rank)
    return backend.xp.linalg.pinv(A) @ B, math.nan, A.shape[1]


def _column_scaled_lsqr(backend, A, B, tolerances, monitor):
    """LSQR with column scaling (no sketch) for sparse ``A``, column by column: ``(X, converged columns, k)``."""
    xp = backend.xp
    norms = xp.sqrt(xp.asarray(A.multiply(A).sum(axis=0)).ravel())
    op = _Preconditioned(backend, A, xp.diag(xp.where(norms > 0, norms, 1.0)))
    zero = backend.zeros((A.shape[1],), B.dtype)
    runs = [_lsqr(backend, op, B[:, j], zero, _norm(backend, norms), tolerances, monitor) for j in range(B.shape[1])]
    return xp.stack([run[0] for run in runs], axis=1), tuple(run[1] for run in runs), max(run[2] for run in runs)


@capabilities("linalgkit.regression.lstsq_precondition",
              numpy="every sketch kind; Cholesky QR (BLAS-3), LSQR, iterative sketching or FOSSILS",
              cupy="every sketch kind; cuBLAS products, cuSOLVER Cholesky and cupyx triangular solves",
              generic="gaussian, rademacher and srht sketches")
def lstsq_precondition(A, b, *, sketch="sparse_sign", m=None, method="auto", x0=None, rtol=None, atol=0.0,
                       maxiter=100, callback=None, progress=False, random_state=None):
    r"""Least squares to full accuracy by sketch-and-precondition: :math:`\min_x \|Ax - b\|_2`.

    Sketch :math:`S[A\ b]` in one pass and factor :math:`S[A\ b] = Q_s R_s`; then, with
    :math:`R` the ``d x d`` part of :math:`R_s`:

    * ``method="cholqr"`` (the default for dense ``A``): Cholesky QR of the well-conditioned
      :math:`[A\ b]R_s^{-1}` (one TRMM and one SYRK over ``A``), which gives the least-squares
      solution directly, then refinement only when the rule below asks for it (Balabanov 2022;
      Higgins, Szyld, Boman & Yamazaki 2023).  Forward error within a small factor of LAPACK
      ``gelsd``'s (measured 0.05-2.2x at condition numbers 1e3-1e12) in under a third of its time.
      Rule: :math:`r_k = PP^TA^T(b - Ax_k)` (the refinement correction, an estimate of the forward
      error) and :math:`\|r_{\mathrm{ref}}\| = \kappa\|x_k\| + \kappa^2\|b - Ax_k\|/\|A\|_2`
      (Wedin's first-order bound on the forward error of a backward-stable solution, with
      :math:`\kappa` from the factorization), so ``rtol`` is the backward error the forward error
      is measured against.  Dense work of about :math:`2nd^2` flops and an :math:`n \times (d+1)`
      dense temporary: not for sparse ``A``.
    * ``method="lsqr"`` (the default for sparse ``A``): LSQR on :math:`\min_y \|AR^{-1}y - (b - Ax_0)\|`,
      :math:`x = x_0 + R^{-1}y`, warm-started from the sketch-and-solve answer :math:`x_0`
      (Blendenpik, Avron, Maymounkov & Toledo 2010; LSRN, Meng, Saunders & Mahoney 2014; a cold
      start is not numerically stable: Meier, Nakatsukasa, Townsend & Webb, arXiv 2302.07202).
      Rule (tested on the exact residual :math:`b - Ax_k`; LSQR restarts from it, a step of
      iterative refinement, while the rule fails): :math:`r_k = A^T(b - Ax_k)` and
      :math:`\|r_{\mathrm{ref}}\| = \|A\|(\|A\|\|x_k\| + \|b - Ax_k\|)`, a normal-equation
      backward error implied by either of SciPy's LSQR tests and attainable in floating point
      whatever the residual; :math:`\|A\|` is estimated by :math:`\|SA\|_2`.
    * ``method="ihs"``: iterative sketching with momentum, forward stable (Epperly, arXiv
      2311.04362).  Rule: :math:`r_k = A^T(b - Ax_k)` with :math:`\|r_{\mathrm{ref}}\| =
      \|A\|\|b - Ax_k\|` (SciPy's second LSQR test), or :math:`r_k = R^{-T}A^T(b - Ax_k)` (an estimate of
      :math:`A(x_k - x^*)`) with :math:`r_{\mathrm{ref}} = b`, tested at every iterate; stops early,
      keeping the best iterate, when the rule's ratio grows a hundredfold (divergence).
    * ``method="fossils"``: FOSSILS, two steps of iterative refinement each solved by the same
      heavy-ball iteration, backward stable (Epperly, Meier & Nakatsukasa, arXiv 2406.03468).
      Rule: :math:`r_k` the Karlson-Walden backward-error estimate, :math:`\|r_{\mathrm{ref}}\| =
      \|A\|_F` (both from the SVD of :math:`SA`); a step that does not lower it ends the refinement.

    Where the default sketch would have ``n`` rows or more (``n <= 4d`` for ``"cholqr"``,
    ``n <= 12d`` for ``"ihs"`` and ``"fossils"``, :func:`default_preconditioner_size` for
    ``"lsqr"``), a sketch gives no speed-up and no useful embedding: dense ``A`` is solved by LAPACK
    ``gelsd`` (``method="lapack"``, ``m = 0``), sparse ``A`` by ``"lsqr"`` with an ``n``-row sketch.
    Columns of ``b`` that are zero have the solution 0.

    The rule in full (stop at :math:`\|r_k\| \le \max(\mathrm{rtol}\,\|r_{\mathrm{ref}}\|,
    \mathrm{atol})`), ``callback``, ``progress`` and the non-convergence behaviour are those of the
    solver contract, :mod:`linalgkit._solver`.

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
        Tall real matrix (dense NumPy/CuPy, or SciPy/CuPy sparse: CSR is fastest).
    b : array of shape (n,) or (n, k)
        Right-hand side(s), on the same library and device as ``A``.  ``k`` columns share one
        sketch and one factorization (one Cholesky QR for ``"cholqr"``); the iterative methods then
        solve them one after another, each to the rule.  Integer and boolean ``A`` and ``b`` are
        cast to float64.
    sketch : str, default="sparse_sign"
        Sketch kind (see :func:`linalgkit.sketch.make_sketch`); the default costs
        :math:`O(\zeta\,\mathrm{nnz}(A))` and embeds with :math:`m = O(d)`.
    m : int, optional
        Sketch size in ``(d, n]``; default :math:`4d` for ``"cholqr"``,
        :func:`default_preconditioner_size` for ``"lsqr"`` and :math:`12d` for ``"ihs"`` and
        ``"fossils"`` (all at most ``n``).
    method : {"auto", "cholqr", "lsqr", "ihs", "fossils"}, default="auto"
        ``"auto"`` is ``"cholqr"`` for dense ``A`` and ``"lsqr"`` for sparse ``A``.
    x0 : array of shape (d,) or (d, k), optional
        Starting point instead of the sketch-and-solve warm start (``"lsqr"``, ``"ihs"``,
        ``"fossils"``; ``"cholqr"`` starts from its direct solution and ignores it).
    rtol : float, optional
        Relative tolerance of the rule; default the machine epsilon of ``A``'s dtype for
        ``"cholqr"``, ten times it for ``"fossils"`` (the backward-error estimate, built from the
        SVD of ``SA``, stalls at 3-4 eps on ``2^17 x 200``), ``max(1e-12, 100 eps)`` for ``"lsqr"``
        and ``max(1e-12, 10 eps)`` for ``"ihs"`` (so that a float32 solve can meet them, and the
        forward test of ``"ihs"`` still bounds its error there).  Raised to ``eps`` when
        smaller.
    atol : float, default=0.0
        Absolute tolerance of the rule.
    maxiter : int, default=100
        Most iterations (after the warm start; summed over both refinement steps for
        ``"fossils"``; the Cholesky-QR solve counts as the first for ``"cholqr"``).
    callback : callable, optional
        ``callback(xk)`` after every iteration, with the current iterate: shape ``(d,)``, or, for
        ``k`` right-hand sides, that of the column being solved (``(d, k)`` for ``"cholqr"``).
    progress : bool, default=False
        Show a tqdm bar over the iterations.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the sketch (see :func:`linalgkit.sketch.make_sketch`).

    Returns
    -------
    PreconditionedLstsqResult
        ``x``, ``converged``, ``iterations``, residual norm and history, the method and sketch used.

    Warns
    -----
    ConvergenceWarning
        When the rule is not met within ``maxiter`` iterations: the best iterate is returned with
        ``converged=False``.
    RankDeficiencyWarning
        When :math:`SA` is numerically rank-deficient, so that ``R`` cannot precondition: the
        problem is then solved without the sketch (LAPACK ``gelsd`` for dense ``A``, LSQR with
        column scaling for sparse ``A``) and ``fallback=True``.  Also when the Cholesky
        factorization of ``"cholqr"`` breaks down: LSQR with the sketch's ``R`` then solves it
        (``method="lsqr"``, ``fallback=True``).

    References
    ----------
    O. Balabanov, "Randomized Cholesky QR factorizations", arXiv 2210.09953 (2022).
    A. J. Higgins, D. B. Szyld, E. G. Boman, I. Yamazaki, "Analysis of randomized Householder-Cholesky
    QR factorization with multisketching", arXiv 2309.05868 (2023).
    E. N. Epperly, M. Meier, Y. Nakatsukasa, "Fast randomized least-squares solvers can be just as
    accurate and stable as classical direct solvers", arXiv 2406.03468 (2024).

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.regression import lstsq_precondition
    >>> rng = np.random.default_rng(0)
    >>> A, b = rng.standard_normal((2000, 20)), rng.standard_normal(2000)
    >>> result = lstsq_precondition(A, b, random_state=0)
    >>> result.method, result.converged, bool(np.allclose(result.x, np.linalg.lstsq(A, b)[0], rtol=1e-12))
    ('cholqr', True, True)
    """
    backend, A, b = check_problem(A, b)
    n, d = A.shape
    sparse = backend.issparse(A)
    sketch = check_option(sketch, "sketch", tuple(SKETCH_KINDS))
    method = resolve_method(check_option(method, "method", METHODS), sparse)
    callback = check_callback(callback)
    x0 = check_start(x0, b, d, A.dtype, backend)
    method, m = plan(method, None if m is None else check_sketch_size(m, n, d), n, d, sparse)
    tolerances = default_tolerances(method, A.dtype, rtol, atol, maxiter)
    return _lstsq_precondition(backend, A, b, sketch=sketch, m=m, method=method, x0=x0, tolerances=tolerances,
                               callback=callback, progress=progress, random_state=check_random_state(random_state))


def _lstsq_precondition(backend, A, b, *, sketch, m, method, tolerances, random_state, x0=None, callback=None,
                        progress=False):
    """:func:`lstsq_precondition` on checked arrays and options: the entry other families call.

    ``method`` and ``m`` come from :func:`plan` (``m = None``: direct solve), ``tolerances`` from
    :func:`default_tolerances`, ``random_state`` is a Generator; ``b`` and ``x0`` are 1-D or 2-D.
    """
    xp, vector = backend.xp, b.ndim == 1
    B = b[:, None] if vector else b
    X0 = x0 if x0 is None or not vector else x0[:, None]
    if callback is not None and vector:
        callback = _squeezed(callback)
    nonzero = [j for j, size in enumerate(backend.to_host(xp.linalg.vector_norm(B, axis=0))) if size > 0]
    with progress_bar(progress, tolerances.maxiter * B.shape[1], f"lstsq_precondition ({method})") as bar:
        monitor = IterationMonitor(callback, bar)
        if not nonzero:
            solved = _Solved(backend.zeros((A.shape[1], B.shape[1]), A.dtype), method, 0, math.nan,
                             False, (True,) * B.shape[1], 0, (0.0,), 0.0)
        else:
            columns = nonzero if len(nonzero) < B.shape[1] else slice(None)
            start = None if X0 is None else _take_columns(xp, X0, columns)
            solved = _solve(backend, A, _take_columns(xp, B, columns), sketch, m, method, tolerances, random_state,
                            start, monitor)
            solved = _with_zero_columns(backend, solved, nonzero, B.shape[1])
    if not all(solved.converged):
        warn_not_converged(f"lstsq_precondition (method={solved.method!r})", solved.tolerances or tolerances,
                           solved.reached, stacklevel=4, advice="raise maxiter or m, or loosen rtol")
    X = solved.X[:, 0] if vector else solved.X
    return PreconditionedLstsqResult(X, solved.method, sketch, solved.m, solved.cond, solved.fallback,
                                     None if vector else solved.converged, converged=all(solved.converged),
                                     iterations=solved.iterations,
                                     residual_norm=residual_norm(backend, A, X, b) if solved.residual is None
                                     else solved.residual,
                                     history=solved.history if vector or B.shape[1] == 1 else None)


@dataclass(frozen=True)
class _Solved:
    """What a solve produced, before the result is assembled (``converged`` per column)."""

    X: object
    method: str
    m: int
    cond: float
    fallback: bool
    converged: tuple
    iterations: int
    history: tuple | None
    reached: float
    tolerances: object = None  # those of the method that produced X, when it is not the one asked for
    residual: float | None = None  # ||B - A X||_F when the method computed it exactly for X (saves a pass over A)


def _squeezed(callback):
    """``callback`` fed ``(d,)`` iterates where the solver works on ``(d, 1)`` blocks."""
    return lambda xk: callback(xk[:, 0] if xk.ndim == 2 else xk)


def _take_columns(xp, X, columns):
    return X[:, columns] if isinstance(columns, slice) else xp.stack([X[:, j] for j in columns], axis=1)


def _with_zero_columns(backend, solved, nonzero, k):
    """Put the solved columns back among the zero columns of ``b`` (whose solution is 0 and meets every rule)."""
    if len(nonzero) == k:
        return solved
    xp, zero = backend.xp, backend.zeros((solved.X.shape[0],), solved.X.dtype)
    where = {j: i for i, j in enumerate(nonzero)}
    X = xp.stack([solved.X[:, where[j]] if j in where else zero for j in range(k)], axis=1)
    converged = tuple(solved.converged[where[j]] if j in where else True for j in range(k))
    return _Solved(X, solved.method, solved.m, solved.cond, solved.fallback, converged, solved.iterations,
                   solved.history, solved.reached, solved.tolerances, solved.residual)


def _solve(backend, A, B, sketch, m, method, tolerances, random_state, X0, monitor):
    """Solve for the (nonzero) columns of ``B``: a direct solve, or the sketch and ``method``."""
    d = A.shape[1]
    if m is None:
        return _direct(backend, A, B, method="lapack", m=0, fallback=False)
    factor = sketch_and_factor(backend, A, B, sketch, m, random_state, vectors=method == "fossils")
    if factor.rank < d:
        return _solve_without_sketch(backend, A, B, m, factor.cond, tolerances, monitor)
    fallback = False
    if method == "cholqr":
        try:
            X, converged, iterations, residual, history, reached = _cholqr(backend, A, B, factor, tolerances, monitor)
            return _Solved(X, method, m, factor.cond, False, converged, iterations, history, reached, residual=residual)
        except CholeskyBreakdown:
            warnings.warn(f"the Cholesky factorization of [A b] R_s^-1 broke down (S A has condition number "
                          f"{factor.cond:.2g}): solving with LSQR preconditioned by the sketch instead "
                          f"(fallback=True); A may be numerically rank-deficient, or the columns of b dependent",
                          RankDeficiencyWarning, stacklevel=4)
            method, fallback = "lsqr", True
            tolerances = default_tolerances("lsqr", A.dtype, None, tolerances.atol, tolerances.maxiter)
    op = _Preconditioned(backend, A, factor.R)
    starts = op.solve(factor.c) if X0 is None else X0  # the sketch-and-solve warm start R^-1 c
    runs = [_iterate(backend, method, op, factor, B[:, j], starts[:, j], m, tolerances, monitor)
            for j in range(B.shape[1])]
    X = backend.xp.stack([run[0] for run in runs], axis=1)
    return _Solved(X, method, m, factor.cond, fallback, tuple(run[1] for run in runs), max(run[2] for run in runs),
                   runs[0][3], max(run[4] for run in runs), tolerances)


def _iterate(backend, method, op, factor, b, start, m, tolerances, monitor):
    """Run LSQR, IHS or FOSSILS from ``start``: ``(x, converged, iterations, history, reached)``."""
    anorm = float(backend.to_host(factor.singular_values)[0])  # ||S A||_2, the sketch's estimate of ||A||_2
    if method == "lsqr":
        return _lsqr(backend, op, b, start, anorm, tolerances, monitor)
    if method == "ihs":
        return _ihs(backend, op, b, start, m, anorm, tolerances, monitor)
    return _fossils(backend, op, factor, b, start, m, tolerances, monitor)


def _direct(backend, A, B, *, method, m, fallback):
    """LAPACK on dense ``A``; warns when ``A`` is numerically rank-deficient (minimum-norm ``X`` then)."""
    X, cond, rank = _lapack(backend, A, B)
    if rank < A.shape[1]:
        warnings.warn(f"A is numerically rank-deficient (rank {rank} < d = {A.shape[1]}, condition number "
                      f"{cond:.2g}): returning LAPACK's minimum-norm least-squares solution", RankDeficiencyWarning,
                      stacklevel=5)
    return _Solved(X, method, m, cond, fallback, (True,) * B.shape[1], 0, None, 0.0)


def _solve_without_sketch(backend, A, B, m, cond, tolerances, monitor):
    warnings.warn(f"the sketch S A is numerically rank-deficient (condition number {cond:.2g}), so its R cannot "
                  f"precondition A: solving without the sketch instead (fallback=True). A may be rank-deficient; "
                  f"otherwise use sketch='srht' or a larger m", RankDeficiencyWarning, stacklevel=5)
    if not backend.issparse(A):
        X, _, _ = _lapack(backend, A, B)
        return _Solved(X, "lapack", m, cond, True, (True,) * B.shape[1], 0, None, 0.0)
    tolerances = default_tolerances("lsqr", A.dtype, None, tolerances.atol, tolerances.maxiter)
    X, converged, iterations = _column_scaled_lsqr(backend, A, B, tolerances, monitor)
    return _Solved(X, "lsqr-column-scaling", m, cond, True, converged, iterations, None, math.nan, tolerances)
