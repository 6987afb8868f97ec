r"""Sketch-and-precondition least squares to full accuracy (Blendenpik/LSRN-type, iterative sketching)."""

import math
import numbers
import warnings
from dataclasses import dataclass

from .._backend import capabilities, check_random_state
from .._validation import check_option, check_scalar, check_vector
from ..exceptions import ConvergenceWarning, RankDeficiencyWarning
from ..sketch import SKETCH_KINDS
from ._common import check_problem, check_sketch_size, residual_norm, sketch_and_factor

__all__ = ["PreconditionedLstsqResult", "default_preconditioner_size", "lstsq_precondition"]

METHODS = ("lsqr", "ihs", "fossils")


@dataclass(frozen=True)
class PreconditionedLstsqResult:
    """Result of :func:`lstsq_precondition`.

    Attributes
    ----------
    x : array of shape (d,)
        The solution (the best iterate when ``converged`` is False).
    converged : bool
        Whether the stopping rule was met within ``maxiter`` iterations.
    iterations : int
        Iterations run after the warm start.
    residual_norm : float
        :math:`\\|A x - b\\|_2` of the returned ``x``, recomputed exactly.
    residual_history : tuple of float
        :math:`\\|A x_k - b\\|_2` for the warm start ``k = 0`` and every iteration (LSQR's running
        estimate for ``"lsqr"``, exact for ``"ihs"``), or after each refinement step (``"fossils"``).
    method : str
        ``"lsqr"``, ``"ihs"`` or ``"fossils"``, or ``"lsqr-column-scaling"`` / ``"lapack"`` for a fallback.
    sketch : str
    m : int
    cond : float
        2-norm condition number of ``SA`` (that of the preconditioner ``R``).
    fallback : bool
        True when ``SA`` was numerically rank-deficient and the problem was solved without the
        sketch (see :func:`lstsq_precondition`).
    """

    x: object
    converged: bool
    iterations: int
    residual_norm: float
    residual_history: tuple
    method: str
    sketch: str
    m: int
    cond: float
    fallback: bool


def default_preconditioner_size(n, d, *, sparse=False):
    r"""Default sketch size for preconditioning: :math:`\min(\max(n/16, 4d), 20d)` (dense ``A``), :math:`8d` (sparse).

    Larger ``m`` means fewer iterations (the preconditioned matrix has condition number about
    :math:`(1 + \sqrt{d/m})/(1 - \sqrt{d/m})`, so LSQR contracts by :math:`\sqrt{d/m}` per
    iteration) but a dearer QR of :math:`SA` (:math:`2md^2` flops); the cap ``n / 16`` keeps that QR
    within an eighth of a dense QR of ``A``, and :math:`4d` is the floor below which the iteration
    count grows quickly.  Iterations are cheap on sparse ``A``, so a smaller sketch pays there.
    The result is at most ``n``.

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
    target = 8 * d if sparse else max(min(n // 16, 20 * d), 4 * d)
    return min(n, max(target, d + 1))


class _Preconditioned:
    r"""The operator :math:`\bar A = A R^{-1}` and its adjoint, by triangular solves with ``R``."""

    def __init__(self, backend, A, R):
        self.A, self.R, self.backend = A, R, backend
        if backend.kind == "numpy":
            import scipy.linalg

            self._solve = scipy.linalg.solve_triangular
        elif backend.kind == "cupy":
            import cupyx.scipy.linalg

            self._solve = cupyx.scipy.linalg.solve_triangular
        else:
            self._solve = None

    def solve(self, y, trans=False):
        """:math:`R^{-1} y`, or :math:`R^{-T} y` when ``trans``."""
        if self._solve is not None:
            return self._solve(self.R, y, trans=1 if trans else 0, check_finite=False)
        R = self.backend.xp.matrix_transpose(self.R) if trans else self.R
        return self.backend.xp.linalg.solve(R, y)

    def matvec(self, v):
        return self.A @ self.solve(v)

    def rmatvec(self, u):
        return self.solve(self.A.T @ u, trans=True)


def _norm(backend, v):
    return float(backend.xp.linalg.vector_norm(v))


def _lsqr(backend, op, r0, rtol, maxiter):
    r"""LSQR (Paige & Saunders 1982) for :math:`\min_y \|\bar A y - r_0\|`; returns ``(y, converged, k, history)``.

    Stops when :math:`\|\bar A^T r_k\| \le \mathrm{rtol}\,\|\bar A\|_F\,\|r_k\|` (LSQR's estimate of
    the Frobenius norm) or :math:`\|r_k\| \le \mathrm{rtol}\,\|r_0\|`.
    """
    beta = _norm(backend, r0)
    y = backend.zeros((op.R.shape[0],), r0.dtype)
    if beta == 0:
        return y, True, 0, (0.0,)
    u = r0 / beta
    v = op.rmatvec(u)
    alpha = _norm(backend, v)
    if alpha == 0:
        return y, True, 0, (beta,)
    v = v / alpha
    w = v
    phibar, rhobar, anorm2 = beta, alpha, alpha**2
    history = [beta]
    for k in range(1, maxiter + 1):
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
        normal_residual = phibar * alpha * abs(c)
        if normal_residual <= rtol * math.sqrt(anorm2) * phibar or phibar <= rtol * history[0] or alpha == 0:
            return y, True, k, tuple(history)
    return y, False, maxiter, tuple(history)


def _ihs(backend, op, b, x, m, rtol, maxiter):
    r"""Iterative sketching with momentum, :math:`x_{k+1} = x_k + \alpha R^{-1}R^{-T}A^T(b - Ax_k) + \beta\Delta_k`.

    :math:`\Delta_k = x_k - x_{k-1}`, :math:`\alpha = (1 - d/m)^2`, :math:`\beta = d/m` (the optimal
    heavy-ball parameters for a Gaussian embedding; Epperly, arXiv 2311.04362; Ozaslan, Pilanci &
    Arikan 2019).  Stops when
    :math:`\|R^{-T}A^T r_k\| \le \mathrm{rtol}\,\|b\|` (the left side estimates
    :math:`\|A(x_k - x^*)\|`; relative to :math:`\|r_k\|` it could not go below the rounding floor
    :math:`\kappa(A)\,u`).
    """
    q = op.R.shape[0] / m
    alpha, beta = (1 - q) ** 2, q
    previous = x
    tolerance = rtol * _norm(backend, b)
    residual = b - op.A @ x
    history = [_norm(backend, residual)]
    for k in range(1, maxiter + 1):
        gradient = op.rmatvec(residual)
        if _norm(backend, gradient) <= tolerance:
            return x, True, k - 1, tuple(history)
        x, previous = x + alpha * op.solve(gradient) + beta * (x - previous), x
        residual = b - op.A @ x
        history.append(_norm(backend, residual))
    converged = _norm(backend, op.rmatvec(residual)) <= tolerance
    return x, converged, maxiter, tuple(history)


def _backward_error_estimate(backend, op, factor, x, residual, fro, bnorm):
    r"""Karlson-Walden estimate of the least-squares backward error of ``x`` (the SVD of ``SA`` stands in for ``A``'s).

    :math:`\theta/\sqrt{1+\theta^2\|x\|^2}\;\|(\Sigma^2 + \mu I)^{-1/2} Z^T A^T r\|`, with
    :math:`\theta = \|A\|_F/\|b\|` and :math:`\mu = \theta^2\|r\|^2/(1+\theta^2\|x\|^2)`.
    """
    xp = backend.xp
    theta = fro / bnorm
    scale = 1 + theta**2 * _norm(backend, x) ** 2
    weights = xp.sqrt(factor.singular_values**2 + theta**2 * _norm(backend, residual) ** 2 / scale)
    return _norm(backend, (factor.Zt @ (op.A.T @ residual)) / weights) * theta / math.sqrt(scale)


def _fossils(backend, op, factor, b, x, m, rtol, maxiter):
    r"""FOSSILS: two steps of iterative refinement, each solved by heavy-ball iterations on :math:`\bar A^T\bar A`.

    Refinement step: :math:`r = b - Ax`, :math:`c = \bar A^T r`; iterate
    :math:`\Delta_{k+1} = \Delta_k + \alpha(c - \bar A^T\bar A\Delta_k) + \beta(\Delta_k - \Delta_{k-1})`
    from :math:`\Delta_0 = c` (:math:`\alpha = (1-d/m)^2`, :math:`\beta = d/m`); then
    :math:`x \leftarrow x + R^{-1}\Delta`.  The first step stops when the update falls below
    :math:`\mathrm{rtol}\,(\sigma_{\max}\|x\| + 0.04\,\kappa\|r\|)`, the second when the Karlson-Walden
    backward-error estimate falls below :math:`\mathrm{rtol}\,\|A\|_F` (checked every 5 steps).
    Backward stable (Epperly, Meier & Nakatsukasa, arXiv 2406.03468).
    """
    q = op.R.shape[0] / m
    alpha, beta = (1 - q) ** 2, q
    sigma = backend.to_host(factor.singular_values)
    fro, bnorm = float(math.sqrt((sigma**2).sum())), _norm(backend, b)
    tolerance = rtol * fro
    residual = b - op.A @ x
    history, iterations = [_norm(backend, residual)], 0
    for step in range(2):
        c = op.rmatvec(residual)
        delta = previous = c
        update_floor = rtol * (sigma[0] * _norm(backend, x) + 0.04 * factor.cond * history[-1])
        for k in range(1, maxiter - iterations + 1):
            update = alpha * (c - op.rmatvec(op.matvec(delta))) + beta * (delta - previous)
            delta, previous = delta + update, delta
            iterations += 1
            if step == 0 and _norm(backend, update) <= update_floor:
                break
            if step == 1 and k % 5 == 0:
                trial = x + op.solve(delta)
                if _backward_error_estimate(backend, op, factor, trial, b - op.A @ trial, fro, bnorm) <= tolerance:
                    break
        x = x + op.solve(delta)
        residual = b - op.A @ x
        history.append(_norm(backend, residual))
        if _backward_error_estimate(backend, op, factor, x, residual, fro, bnorm) <= tolerance:
            return x, True, iterations, tuple(history)
    return x, False, iterations, tuple(history)


def _fallback(backend, A, b, rtol, maxiter):
    """Solve without the sketch: LAPACK ``gelsd`` (SVD-based ``pinv`` off NumPy) for dense ``A``, column-scaled LSQR
    for sparse ``A``."""
    xp = backend.xp
    if not backend.issparse(A):
        if backend.kind == "numpy":
            import scipy.linalg

            return scipy.linalg.lstsq(A, b, check_finite=False)[0], True, 0, "lapack"
        return xp.linalg.pinv(A) @ b, True, 0, "lapack"
    norms = xp.sqrt(xp.asarray(A.multiply(A).sum(axis=0)).ravel())
    norms = xp.where(norms > 0, norms, 1.0)
    op = _Preconditioned(backend, A, xp.diag(norms))
    y, converged, k, _ = _lsqr(backend, op, b, rtol, maxiter)
    return y / norms, converged, k, "lsqr-column-scaling"


@capabilities("linalgkit.regression.lstsq_precondition",
              numpy="every sketch kind; LSQR, iterative sketching or FOSSILS with SciPy triangular solves",
              cupy="every sketch kind; cuBLAS products and cupyx triangular solves",
              generic="gaussian, rademacher and srht sketches")
def lstsq_precondition(A, b, *, sketch="sparse_sign", m=None, method="lsqr", x0=None, rtol=None, maxiter=100,
                       random_state=None):
    r"""Least squares to full accuracy by sketch-and-precondition: :math:`\min_x \|Ax - b\|_2`.

    Sketch :math:`S[A\ b]` in one pass, factor :math:`S[A\ b] = Q[R\ c; 0\ \rho]`, warm-start from
    the sketch-and-solve answer :math:`x_0 = R^{-1}c` (a cold start :math:`x_0 = 0` is not
    numerically stable: Meier, Nakatsukasa, Townsend & Webb, arXiv 2302.07202), then iterate on
    the well-conditioned :math:`\bar A = AR^{-1}` (condition number about
    :math:`(1+\sqrt{d/m})/(1-\sqrt{d/m})`, whatever the conditioning of ``A``):

    * ``method="lsqr"``: LSQR on :math:`\min_y \|\bar A y - (b - Ax_0)\|`, :math:`x = x_0 + R^{-1}y`
      (Blendenpik, Avron, Maymounkov & Toledo 2010; LSRN, Meng, Saunders & Mahoney 2014).  Stops
      when :math:`\|\bar A^T r_k\| \le \mathrm{rtol}\,\|\bar A\|_F\,\|r_k\|` or
      :math:`\|r_k\| \le \mathrm{rtol}\,\|r_0\|`.
    * ``method="ihs"``: iterative sketching with momentum, forward stable (Epperly, arXiv
      2311.04362); stops when :math:`\|R^{-T}A^T r_k\| \le \mathrm{rtol}\,\|b\|`.  Needs a larger
      ``m`` (default :math:`12d`).
    * ``method="fossils"``: FOSSILS, two steps of iterative refinement each solved by the same
      heavy-ball iteration, backward stable (Epperly, Meier & Nakatsukasa, arXiv 2406.03468); here
      ``rtol`` bounds the Karlson-Walden backward-error estimate relative to :math:`\|A\|_F`.
      Default ``m`` :math:`12d`.

    Each iteration costs two passes over ``A`` (:math:`Av` and :math:`A^Tu`) and two triangular
    solves with ``R``.

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
        Sketch size in ``(d, n]``; default :func:`default_preconditioner_size` for ``"lsqr"`` and
        ``min(12 d, n)`` for ``"ihs"`` and ``"fossils"``.
    method : {"lsqr", "ihs", "fossils"}, default="lsqr"
    x0 : array of shape (d,), optional
        Starting point instead of the sketch-and-solve warm start.
    rtol : float, optional
        Relative tolerance of the stopping rule; default 1e-12 for ``"lsqr"`` and ``"ihs"`` and twice
        the machine epsilon of ``A``'s dtype for ``"fossils"`` (a backward-error tolerance; the
        estimate, built from the SVD of ``SA``, hovers around the epsilon itself).
    maxiter : int, default=100
        Most iterations after the warm start (summed over both refinement steps for ``"fossils"``).
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the sketch (see :func:`linalgkit.sketch.make_sketch`).

    Returns
    -------
    PreconditionedLstsqResult
        ``x``, ``converged``, ``iterations``, residual norm and history, and the sketch used.

    Warns
    -----
    ConvergenceWarning
        When the stopping rule is not met within ``maxiter`` iterations (``converged=False``).
    RankDeficiencyWarning
        When :math:`SA` is numerically rank-deficient, so that ``R`` cannot precondition: the
        problem is then solved without the sketch (LAPACK ``gelsd`` for dense ``A``, LSQR with
        column scaling for sparse ``A``) and ``fallback=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.regression import lstsq_precondition
    >>> rng = np.random.default_rng(0)
    >>> A, b = rng.standard_normal((2000, 20)), rng.standard_normal(2000)
    >>> result = lstsq_precondition(A, b, random_state=0)
    >>> result.converged, bool(np.allclose(result.x, np.linalg.lstsq(A, b)[0], rtol=1e-10))
    (True, True)
    """
    backend, A, b = check_problem(A, b)
    n, d = A.shape
    sketch = check_option(sketch, "sketch", tuple(SKETCH_KINDS))
    method = check_option(method, "method", METHODS)
    if rtol is None:
        rtol = 2 * float(backend.xp.finfo(b.dtype).eps) if method == "fossils" else 1e-12
    check_scalar(rtol, "rtol", low=0.0, high=1.0, closed="neither")
    check_scalar(maxiter, "maxiter", kind=numbers.Integral, low=1)
    if x0 is not None:
        x0 = backend.xp.astype(check_vector(x0, "x0", backend=backend, length=d, allow_complex=False), A.dtype)
    if m is None:
        m = default_preconditioner_size(n, d, sparse=backend.issparse(A)) if method == "lsqr" else min(12 * d, n)
        m = max(m, d + 1)
    check_scalar(m, "m", kind=numbers.Integral)
    m = check_sketch_size(int(m), n, d)
    factor = sketch_and_factor(backend, A, b, sketch, m, check_random_state(random_state))
    if factor.rank < d:
        return _solve_without_sketch(backend, A, b, sketch, m, factor.cond, rtol, maxiter)
    op = _Preconditioned(backend, A, factor.R)
    start = factor.solve(backend) if x0 is None else x0
    if method == "lsqr":
        y, converged, iterations, history = _lsqr(backend, op, b - A @ start, rtol, maxiter)
        x = start + op.solve(y)
    elif method == "ihs":
        x, converged, iterations, history = _ihs(backend, op, b, start, m, rtol, maxiter)
    else:
        x, converged, iterations, history = _fossils(backend, op, factor, b, start, m, rtol, maxiter)
    if not converged:
        warnings.warn(f"{method} did not reach rtol={rtol} in maxiter={maxiter} iterations; returning the last "
                      f"iterate (converged=False). Raise maxiter or m, or loosen rtol", ConvergenceWarning,
                      stacklevel=2)
    return PreconditionedLstsqResult(x, converged, iterations, residual_norm(backend, A, x, b), history, method,
                                     sketch, m, factor.cond, False)


def _solve_without_sketch(backend, A, b, sketch, m, cond, rtol, maxiter):
    warnings.warn(f"the sketch S A is numerically rank-deficient (condition number {cond:.2g}), so its R cannot "
                  f"precondition A: solving without the sketch instead (fallback=True). A may be rank-deficient; "
                  f"otherwise use sketch='srht' or a larger m", RankDeficiencyWarning, stacklevel=3)
    x, converged, iterations, method = _fallback(backend, A, b, rtol, maxiter)
    if not converged:
        warnings.warn(f"the column-scaled LSQR fallback did not reach rtol={rtol} in maxiter={maxiter} iterations "
                      f"(converged=False)", ConvergenceWarning, stacklevel=3)
    rnorm = residual_norm(backend, A, x, b)
    return PreconditionedLstsqResult(x, converged, iterations, rnorm, (rnorm,), method, sketch, m, cond, True)
