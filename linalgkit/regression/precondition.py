r"""Sketch-and-precondition least squares to full accuracy: Cholesky QR, LSQR, iterative sketching, FOSSILS."""

import math
import warnings
from dataclasses import dataclass

from .._backend import capabilities, check_random_state
from .._solver import (IterationMonitor, SolverResult, check_callback, check_tolerances, progress_bar,
                       warn_not_converged)
from .._validation import check_option, check_vector
from ..exceptions import RankDeficiencyWarning
from ..sketch import SKETCH_KINDS
from ._cholqr import CholeskyBreakdown, cholqr_factor, refine, solve_upper
from ._common import check_problem, check_sketch_size, residual_norm, sketch_and_factor
from ._cutovers import CHOLQR_SKETCH, PRECONDITION_SKETCH, SPARSE_SKETCH, STABLE_SKETCH

__all__ = ["PreconditionedLstsqResult", "default_preconditioner_size", "lstsq_precondition"]

METHODS = ("auto", "cholqr", "lsqr", "ihs", "fossils")

# Default rtol of each method, a function of the machine epsilon of A's dtype (see lstsq_precondition).
DEFAULT_RTOL = {
    "cholqr": lambda eps: eps,
    "lsqr": lambda eps: max(1e-12, 100 * eps),
    "ihs": lambda eps: max(1e-12, 100 * eps),
    "fossils": lambda eps: 10 * eps,
}


@dataclass(frozen=True)
class PreconditionedLstsqResult(SolverResult):
    """Result of :func:`lstsq_precondition`, a :class:`~linalgkit._solver.SolverResult`.

    Attributes
    ----------
    x : array of shape (d,)
        The solution (the best iterate when ``converged`` is False).
    method : str
        ``"cholqr"``, ``"lsqr"``, ``"ihs"`` or ``"fossils"``, or ``"lsqr-column-scaling"`` /
        ``"lapack"`` for a fallback without the sketch.
    sketch : str
    m : int
    cond : float
        2-norm condition number of ``SA`` (that of the preconditioner ``R``).
    fallback : bool
        True when the sketch could not precondition and another solver produced ``x`` (see
        :func:`lstsq_precondition`).
    converged : bool
        Whether the method's stopping rule was met on the returned ``x``.
    iterations : int
        Iterations run (for ``"cholqr"``: the Cholesky-QR solve and each refinement step).
    residual_norm : float
        :math:`\\|A x - b\\|_2` of the returned ``x``, computed exactly.
    history : tuple of float
        :math:`\\|A x_k - b\\|_2` for the warm start ``k = 0`` and every iteration (LSQR's running
        estimate for ``"lsqr"``, exact for ``"ihs"``), after each refinement step (``"fossils"``), or
        of each tested iterate (``"cholqr"``).
    """

    x: object
    method: str
    sketch: str
    m: int
    cond: float
    fallback: bool

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
    The result is at most ``n`` (the constants are in :mod:`linalgkit.regression._cutovers`).

    Parameters
    ----------
    n, d : int
        Shape of ``A``.
    sparse : bool, default=False
        Whether ``A`` is sparse.

    Returns
    -------
    int
        The sketch size ``m``.
    """
    per_row, floor, cap = PRECONDITION_SKETCH
    target = SPARSE_SKETCH * d if sparse else max(min(n // per_row, cap * d), floor * d)
    return min(n, max(target, d + 1))


def _default_size(method, n, d, sparse):
    if method == "lsqr":
        return default_preconditioner_size(n, d, sparse=sparse)
    factor = CHOLQR_SKETCH if method == "cholqr" else STABLE_SKETCH
    return min(n, max(factor * d, d + 1))


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

    def matvec(self, v):
        return self.A @ self.solve(v)

    def rmatvec(self, u):
        return self.solve(self.A.T @ u, trans=True)


def _norm(backend, v):
    return float(backend.xp.linalg.vector_norm(v))


def _lsqr(backend, op, r0, tolerances, monitor, start):
    r"""LSQR (Paige & Saunders 1982) for :math:`\min_y \|\bar A y - r_0\|`; returns ``(y, converged, k, history)``.

    Stops when :math:`\|\bar A^T r_k\| \le \max(\mathrm{rtol}\,\|\bar A\|_F\,\|r_k\|, \mathrm{atol})`
    (LSQR's estimates of both sides) or :math:`\|r_k\| \le \max(\mathrm{rtol}\,\|r_0\|, \mathrm{atol})`.
    Its residual norm decreases monotonically, so the last iterate is the best.  ``monitor`` sees
    :math:`x_k = x_0 + R^{-1}y_k` (``start`` is :math:`x_0`).
    """
    beta = _norm(backend, r0)
    y = backend.zeros((op.R.shape[0],), r0.dtype)
    if beta <= tolerances.atol or beta == 0:
        return y, True, 0, (beta,)
    u = r0 / beta
    v = op.rmatvec(u)
    alpha = _norm(backend, v)
    if alpha == 0:
        return y, True, 0, (beta,)
    v = v / alpha
    w = v
    phibar, rhobar, anorm2 = beta, alpha, alpha**2
    history = [beta]
    for k in range(1, tolerances.maxiter + 1):
        u = op.matvec(v) - alpha * u
        beta = _norm(backend, u)
        u = u / beta if beta > 0 else u
        v = op.rmatvec(u) - beta * v
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
        normal_residual = phibar * alpha * abs(c)
        if (normal_residual <= tolerances.threshold(math.sqrt(anorm2) * phibar)
                or phibar <= tolerances.threshold(history[0]) or alpha == 0):
            return y, True, k, tuple(history)
    return y, False, tolerances.maxiter, tuple(history)


def _ihs(backend, op, b, x, m, tolerances, monitor):
    r"""Iterative sketching with momentum, :math:`x_{k+1} = x_k + \alpha R^{-1}R^{-T}A^T(b - Ax_k) + \beta\Delta_k`.

    :math:`\Delta_k = x_k - x_{k-1}`, :math:`\alpha = (1 - d/m)^2`, :math:`\beta = d/m` (the optimal
    heavy-ball parameters for a Gaussian embedding; Epperly, arXiv 2311.04362; Ozaslan, Pilanci &
    Arikan 2019).  Stops when :math:`\|R^{-T}A^T r_k\| \le \max(\mathrm{rtol}\,\|b\|, \mathrm{atol})`
    (the left side estimates :math:`\|A(x_k - x^*)\|`; relative to :math:`\|r_k\|` it could not go
    below the rounding floor :math:`\kappa(A)\,u`).  Returns the iterate with the smallest left side.
    """
    q = op.R.shape[0] / m
    alpha, beta = (1 - q) ** 2, q
    previous = x
    tolerance = tolerances.threshold(_norm(backend, b))
    residual = b - op.A @ x
    history, best = [_norm(backend, residual)], None
    for k in range(tolerances.maxiter + 1):
        gradient = op.rmatvec(residual)
        size = _norm(backend, gradient)
        if best is None or size < best[0]:
            best = (size, x, k)
        if size <= tolerance or k == tolerances.maxiter:
            break
        x, previous = x + alpha * op.solve(gradient) + beta * (x - previous), x
        residual = b - op.A @ x
        history.append(_norm(backend, residual))
        monitor(lambda: x)
    size, x, _ = best
    return x, size <= tolerance, k, tuple(history), size


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
    on the warm start and after each step.  Backward stable (Epperly, Meier & Nakatsukasa, arXiv
    2406.03468).  Returns the tested iterate with the smallest estimate.
    """
    q = op.R.shape[0] / m
    alpha, beta = (1 - q) ** 2, q
    sigma = backend.to_host(factor.singular_values)
    fro, bnorm = float(math.sqrt((sigma**2).sum())), _norm(backend, b)
    tolerance = tolerances.threshold(fro)

    def tested(x):
        residual = b - op.A @ x
        gradient = op.A.T @ residual
        return residual, gradient, _backward_error_estimate(backend, factor, x, residual, gradient, fro, bnorm)

    residual, gradient, estimate = tested(x)
    history, iterations, best = [_norm(backend, residual)], 0, (estimate, x)
    for step in range(2):
        if best[0] <= tolerance or iterations >= tolerances.maxiter:
            break
        c = op.solve(gradient, trans=True)
        delta = previous = c
        update_floor = tolerances.rtol * (sigma[0] * _norm(backend, x) + 0.04 * factor.cond * history[-1])
        for k in range(1, tolerances.maxiter - iterations + 1):
            update = alpha * (c - op.rmatvec(op.matvec(delta))) + beta * (delta - previous)
            delta, previous = delta + update, delta
            iterations += 1
            monitor(lambda: x + op.solve(delta))
            if step == 0 and _norm(backend, update) <= update_floor:
                break
            if step == 1 and k % 5 == 0 and tested(x + op.solve(delta))[2] <= tolerance:
                break
        x = x + op.solve(delta)
        residual, gradient, estimate = tested(x)
        history.append(_norm(backend, residual))
        if estimate < best[0]:
            best = (estimate, x)
    estimate, x = best
    return x, estimate <= tolerance, iterations, tuple(history), estimate / fro


def _cholqr(backend, A, b, factor, tolerances, monitor):
    """Cholesky QR of the sketch-preconditioned ``[A b]`` and refinement (see :mod:`._cholqr`)."""
    x, P, singular_values = cholqr_factor(backend, A, b, factor.stacked)
    return refine(backend, A, b, x, P, singular_values, tolerances, monitor)


def _fallback(backend, A, b, tolerances, monitor):
    """Solve without the sketch: LAPACK ``gelsd`` (SVD-based ``pinv`` off NumPy) for dense ``A``, column-scaled LSQR
    for sparse ``A``; returns ``(x, converged, iterations, method)``."""
    xp = backend.xp
    if not backend.issparse(A):
        if backend.kind == "numpy":
            import scipy.linalg

            return scipy.linalg.lstsq(A, b, check_finite=False)[0], True, 0, "lapack"
        return xp.linalg.pinv(A) @ b, True, 0, "lapack"
    norms = xp.sqrt(xp.asarray(A.multiply(A).sum(axis=0)).ravel())
    norms = xp.where(norms > 0, norms, 1.0)
    op = _Preconditioned(backend, A, xp.diag(norms))
    zero = backend.zeros((A.shape[1],), b.dtype)
    y, converged, k, _ = _lsqr(backend, op, b, tolerances, monitor, zero)
    return y / norms, converged, k, "lsqr-column-scaling"


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
      Rule: LSQR's two tests, :math:`r_k = \bar A^T\bar r_k` with :math:`\|r_{\mathrm{ref}}\| =
      \|\bar A\|_F\|\bar r_k\|`, or :math:`r_k = \bar r_k` with :math:`r_{\mathrm{ref}} = \bar r_0`
      (:math:`\bar A = AR^{-1}`, :math:`\bar r_k` the residual; LSQR's running estimates).
    * ``method="ihs"``: iterative sketching with momentum, forward stable (Epperly, arXiv
      2311.04362).  Rule: :math:`r_k = R^{-T}A^T(b - Ax_k)`, :math:`r_{\mathrm{ref}} = b`.
    * ``method="fossils"``: FOSSILS, two steps of iterative refinement each solved by the same
      heavy-ball iteration, backward stable (Epperly, Meier & Nakatsukasa, arXiv 2406.03468).
      Rule: :math:`r_k` the Karlson-Walden backward-error estimate, :math:`\|r_{\mathrm{ref}}\| =
      \|A\|_F` (both from the SVD of :math:`SA`).

    The rule in full (stop at :math:`\|r_k\| \le \max(\mathrm{rtol}\,\|r_{\mathrm{ref}}\|,
    \mathrm{atol})`), ``callback``, ``progress`` and the non-convergence behaviour are those of the
    solver contract, :mod:`linalgkit._solver`.

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
        Tall real matrix (dense NumPy/CuPy, or SciPy/CuPy sparse: CSR is fastest).
    b : array of shape (n,)
        Right-hand side, on the same library and device as ``A``.
    sketch : str, default="sparse_sign"
        Sketch kind (see :func:`linalgkit.sketch.make_sketch`); the default costs
        :math:`O(\zeta\,\mathrm{nnz}(A))` and embeds with :math:`m = O(d)`.
    m : int, optional
        Sketch size in ``(d, n]``; default :math:`4d` for ``"cholqr"``,
        :func:`default_preconditioner_size` for ``"lsqr"`` and :math:`12d` for ``"ihs"`` and
        ``"fossils"`` (all at most ``n``).
    method : {"auto", "cholqr", "lsqr", "ihs", "fossils"}, default="auto"
        ``"auto"`` is ``"cholqr"`` for dense ``A`` and ``"lsqr"`` for sparse ``A``.
    x0 : array of shape (d,), optional
        Starting point instead of the sketch-and-solve warm start (``"lsqr"``, ``"ihs"``,
        ``"fossils"``; ``"cholqr"`` starts from its direct solution and ignores it).
    rtol : float, optional
        Relative tolerance of the rule; default the machine epsilon of ``A``'s dtype for
        ``"cholqr"``, ten times it for ``"fossils"`` (the backward-error estimate, built from the
        SVD of ``SA``, stalls at 3-4 eps on ``2^17 x 200``), and ``max(1e-12, 100 eps)`` for
        ``"lsqr"`` and ``"ihs"`` (so that a float32 solve can meet it).  Raised to ``eps`` when
        smaller.
    atol : float, default=0.0
        Absolute tolerance of the rule.
    maxiter : int, default=100
        Most iterations (after the warm start; summed over both refinement steps for
        ``"fossils"``; the Cholesky-QR solve counts as the first for ``"cholqr"``).
    callback : callable, optional
        ``callback(xk)`` after every iteration, with the current iterate of shape ``(d,)``.
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
    sketch = check_option(sketch, "sketch", tuple(SKETCH_KINDS))
    method = resolve_method(check_option(method, "method", METHODS), backend.issparse(A))
    tolerances = default_tolerances(method, A.dtype, rtol, atol, maxiter)
    callback = check_callback(callback)
    if x0 is not None:
        x0 = backend.xp.astype(check_vector(x0, "x0", backend=backend, length=d, allow_complex=False), A.dtype)
    m = _default_size(method, n, d, backend.issparse(A)) if m is None else check_sketch_size(m, n, d)
    return _lstsq_precondition(backend, A, b, sketch=sketch, m=m, method=method, x0=x0, tolerances=tolerances,
                               callback=callback, progress=progress, random_state=check_random_state(random_state))


def _lstsq_precondition(backend, A, b, *, sketch, m, method, tolerances, random_state, x0=None, callback=None,
                        progress=False):
    """:func:`lstsq_precondition` on checked arrays and options: the entry other families call.

    ``method`` is resolved (:func:`resolve_method`), ``tolerances`` from :func:`default_tolerances`,
    ``random_state`` a Generator.
    """
    d = A.shape[1]
    with progress_bar(progress, tolerances.maxiter, f"lstsq_precondition ({method})") as bar:
        monitor = IterationMonitor(callback, bar)
        factor = sketch_and_factor(backend, A, b, sketch, m, random_state, vectors=method == "fossils")
        if factor.rank < d:
            return _solve_without_sketch(backend, A, b, sketch, m, factor.cond, tolerances, monitor)
        fallback = False
        if method == "cholqr":
            try:
                x, converged, iterations, rnorm, history, reached = _cholqr(backend, A, b, factor, tolerances,
                                                                             monitor)
            except CholeskyBreakdown:
                warnings.warn(f"the Cholesky factorization of [A b] R_s^-1 broke down (S A has condition number "
                              f"{factor.cond:.2g}): solving with LSQR preconditioned by the sketch instead "
                              f"(fallback=True); A may be numerically rank-deficient", RankDeficiencyWarning,
                              stacklevel=3)
                method, fallback = "lsqr", True
                tolerances = default_tolerances("lsqr", A.dtype, None, tolerances.atol, tolerances.maxiter)
        if method != "cholqr":
            op = _Preconditioned(backend, A, factor.R)
            start = op.solve(factor.c) if x0 is None else x0  # the sketch-and-solve warm start R^-1 c
            x, converged, iterations, history, reached = _iterate(backend, method, op, factor, b, start, m,
                                                                  tolerances, monitor)
            rnorm = residual_norm(backend, A, x, b)
    if not converged:
        warn_not_converged(f"lstsq_precondition (method={method!r})", tolerances, reached, stacklevel=4,
                           advice="raise maxiter or m, or loosen rtol")
    return PreconditionedLstsqResult(x, method, sketch, m, factor.cond, fallback, converged=converged,
                                     iterations=iterations, residual_norm=rnorm, history=history)


def _iterate(backend, method, op, factor, b, start, m, tolerances, monitor):
    """Run LSQR, IHS or FOSSILS from ``start``: ``(x, converged, iterations, history, reached)``."""
    if method == "lsqr":
        y, converged, iterations, history = _lsqr(backend, op, b - op.A @ start, tolerances, monitor, start)
        return start + op.solve(y), converged, iterations, history, history[-1]
    if method == "ihs":
        return _ihs(backend, op, b, start, m, tolerances, monitor)
    return _fossils(backend, op, factor, b, start, m, tolerances, monitor)


def _solve_without_sketch(backend, A, b, sketch, m, cond, tolerances, monitor):
    warnings.warn(f"the sketch S A is numerically rank-deficient (condition number {cond:.2g}), so its R cannot "
                  f"precondition A: solving without the sketch instead (fallback=True). A may be rank-deficient; "
                  f"otherwise use sketch='srht' or a larger m", RankDeficiencyWarning, stacklevel=4)
    tolerances = default_tolerances("lsqr", A.dtype, None, tolerances.atol, tolerances.maxiter)
    x, converged, iterations, method = _fallback(backend, A, b, tolerances, monitor)
    rnorm = residual_norm(backend, A, x, b)
    if not converged:
        warn_not_converged("the column-scaled LSQR fallback", tolerances, rnorm, stacklevel=5)
    return PreconditionedLstsqResult(x, method, sketch, m, cond, True, converged=converged, iterations=iterations,
                                     residual_norm=rnorm, history=(rnorm,))
