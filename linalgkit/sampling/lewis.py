r"""Lewis weights: Cohen-Peng's fixed point for :math:`p < 4`, Newton on Lewis' convex program for :math:`p \ge 4`.

The :math:`\ell_p` Lewis weights of a full-rank :math:`A \in \mathbb{R}^{n \times d}` are the
unique :math:`w > 0` with

.. math:: w_i = \left(a_i^T (A^T W^{1 - 2/p} A)^{-1} a_i\right)^{p/2}, \qquad T(w)_i := \text{the right side}.

They sum to :math:`d`, are invariant under :math:`A \to AR` (:math:`R` invertible) and equal the
leverage scores at :math:`p = 2`.  Both methods stop by the rule of :mod:`linalgkit._solver` on the
relative fixed-point residual :math:`\rho(w) = \max_i |T(w)_i / w_i - 1|` with reference 1.
"""

import math
from dataclasses import dataclass

import numpy as np

from .._backend import capabilities, check_random_state, serial_blas
from .._solver import SolverResult, check_callback, check_tolerances, progress_bar, warn_not_converged
from .._validation import check_option, check_vector
from ..exceptions import ValidationError
from ..sketch import make_sketch
from ._common import (basis, check_design, check_p, r_factor, right_solve, row_dot, row_quadratic, sketch,
                      weighted_inverse_gram)
from .scores import SKETCH_ZETA

__all__ = ["LewisWeightsResult", "lewis_weights"]

METHODS = ("exact", "sketched")
# Sketch rows per column for the sketched fixed point (distortion about 0.1).
SKETCH_OVERSAMPLING = 100
# Floor of the weights, relative to the largest, inside W^(1 - 2/p) (zero rows have weight 0).
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class LewisWeightsResult(SolverResult):
    """Result of :func:`lewis_weights` (plus ``converged``, ``iterations``, ``residual_norm``, ``history``).

    Attributes
    ----------
    weights : array of shape (n,)
        The Lewis weights (best iterate when ``converged`` is False); ``residual_norm`` is their
        relative fixed-point residual :math:`\\rho(w)`.
    p : float
    method : str
        ``"fixed-point"``, ``"sketched-fixed-point"`` or ``"newton"``.
    """

    weights: object
    p: float
    method: str


@capabilities("linalgkit.sampling.lewis_weights",
              numpy="Cholesky on a preconditioned Gram per iteration (BLAS-3); Newton on the convex program for p >= 4",
              cupy="the same on cuBLAS/cuSOLVER",
              generic="array-API QR, Gram and inverse")
def lewis_weights(A, p, *, method="exact", x0=None, rtol=None, atol=0.0, maxiter=200, callback=None,
                  progress=False, random_state=None):
    r"""The :math:`\ell_p` Lewis weights of ``A`` (see the module docstring for the definition).

    For :math:`p < 4` the Cohen-Peng iteration :math:`w \leftarrow T(w)` contracts:
    :math:`\|\log T(w) - \log T(w')\|_\infty \le |1 - p/2|\,\|\log w - \log w'\|_\infty`, so the
    residual falls by at least that factor per iteration (exactly in one step at :math:`p = 2`).
    Each iteration costs two BLAS-3 passes over a well-conditioned basis :math:`Y = AR^{-1}`
    (a Gram matrix and its Cholesky factor), not a QR.  For :math:`p \ge 4` the iteration may
    oscillate; the weights are then :math:`w_i = (a_i^T M a_i)^{p/2}` at the minimizer of Lewis'
    convex program :math:`\min_{M \succ 0} -\log\det M + \frac{2}{p}\sum_i (a_i^T M a_i)^{p/2}`,
    found by Newton's method with a backtracking line search (:math:`O(n d^4)` per step: meant for
    :math:`d \lesssim 30`).

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
        Real, full column rank, ``n >= d``.
    p : float
        Exponent, ``p > 0``.
    method : {"exact", "sketched"}, default="exact"
        ``"sketched"`` replaces the exact leverage scores of each iteration by sketched ones
        (a fixed sparse sign sketch with :math:`\min(n, 100d)` rows: :math:`O(\mathrm{nnz}(A))` per
        iteration instead of :math:`O(nd^2)`); it converges to the fixed point of the sketched
        map, within about 20% of the Lewis weights.  Only for ``p < 4``.
    x0 : array of shape (n,), optional
        Positive starting weights; default :math:`d/n` for every row.  For :math:`p \ge 4` they
        give Newton's starting point :math:`M_0 = (A^T W_0^{1-2/p} A)^{-1}`.
    rtol, atol : float
        Stopping rule :math:`\rho(w) \le \max(\mathrm{rtol}, \mathrm{atol})`; default
        ``rtol = 0.01 * sqrt(eps)`` (1.5e-10 in float64).
    maxiter : int, default=200
    callback : callable, optional
        ``callback(w)`` after every iteration.
    progress : bool, default=False
        Show a tqdm bar.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the sketches (the basis when ``n > 4d``, and ``"sketched"``).

    Returns
    -------
    LewisWeightsResult

    Raises
    ------
    ValidationError
        For ``p <= 0``, a rank-deficient ``A``, non-positive ``x0``, or ``"sketched"`` with ``p >= 4``.

    Warns
    -----
    ConvergenceWarning
        When the rule is not met within ``maxiter`` iterations (the best iterate is returned).

    References
    ----------
    M. B. Cohen, R. Peng, ":math:`\ell_p` row sampling by Lewis weights", STOC 2015.
    D. Lewis, "Finite dimensional subspaces of :math:`L_p`", Studia Math. 63 (1978).

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sampling import lewis_weights
    >>> A = np.random.default_rng(0).standard_normal((500, 4))
    >>> result = lewis_weights(A, 1, random_state=0)
    >>> result.converged, round(float(result.weights.sum()), 8)
    (True, 4.0)
    """
    be, A = check_design(A)
    p = check_p(p)
    method = check_option(method, "method", METHODS)
    if method == "sketched" and p >= 4:
        raise ValidationError(f"method must be 'exact' for p >= 4, got method='sketched' with p={p}: the fixed "
                              f"point does not contract there; pass method='exact' (Newton on the convex program)")
    tol = check_tolerances(rtol, atol, maxiter, dtype=A.dtype, default_rtol=lambda eps: 0.01 * math.sqrt(eps))
    if x0 is not None:
        x0 = check_vector(x0, "x0", backend=be, length=A.shape[0], allow_complex=False)
        if not bool(be.xp.all(x0 > 0)):
            raise ValidationError("x0 must hold positive starting weights, got a zero or negative entry; pass "
                                  "x0=None for the uniform start d / n")
    result = _lewis_weights(be, A, p, method, tol, x0, check_callback(callback), progress,
                            check_random_state(random_state))
    if not result.converged:
        warn_not_converged("lewis_weights", tol, result.residual_norm)
    return result


def _lewis_weights(be, A, p, method, tol, w0, callback, progress, rng):
    """Private implementation of :func:`lewis_weights` on checked arguments (does not warn).

    Host BLAS runs serially: an iteration is two tall-skinny GEMMs around small LAPACK calls, and
    on the shared 2-core machine one map T(w) of 50,000 x 22 took 0.03 s serial against 0.08-2.9 s
    threaded (OpenBLAS workers spinning against other processes), in the same process.
    """
    with serial_blas(be):
        return _lewis_iterations(be, A, p, method, tol, w0, callback, progress, rng)


def _lewis_iterations(be, A, p, method, tol, w0, callback, progress, rng):
    Y = basis(be, A, rng, exact=False).Y
    n, d = Y.shape
    w = be.xp.full((n,), d / n, dtype=Y.dtype, device=be.device) if w0 is None else be.xp.astype(w0, Y.dtype)
    with progress_bar(progress, tol.maxiter, "Lewis weights") as bar:
        if p >= 4:
            return _newton(be, Y, w, p, tol, callback, bar)
        if method == "sketched":
            step = _sketched_map(be, Y, p, rng)
            return _fixed_point(be, step, w, p, tol, callback, bar, "sketched-fixed-point")
        return _fixed_point(be, lambda v: lewis_map(be, Y, v, p), w, p, tol, callback, bar, "fixed-point")


def lewis_map(be, Y, w, p):
    r"""The Cohen-Peng map :math:`T(w)_i = (y_i^T (Y^T W^{1-2/p} Y)^{-1} y_i)^{p/2}`."""
    xp = be.xp
    floor = float(xp.max(w)) * _EPS
    s = None if p == 2 else xp.maximum(w, floor) ** (1 - 2 / p)
    return xp.maximum(row_quadratic(be, Y, weighted_inverse_gram(be, Y, s)), 0.0) ** (p / 2)


def fixed_point_residual(be, w, Tw):
    r""":math:`\rho(w) = \max_i |T(w)_i / w_i - 1|` over the rows with :math:`w_i > 0`."""
    xp = be.xp
    positive = w > 0
    ratio = xp.where(positive, Tw / xp.where(positive, w, 1.0), 1.0)
    return float(xp.max(xp.abs(ratio - 1.0)))


def _fixed_point(be, step, w, p, tol, callback, bar, name):
    """Iterate ``w <- step(w)``; iteration 0 is the start, each iteration one map (callback and bar after it)."""
    Tw = step(w)
    record = _Record(fixed_point_residual(be, w, Tw), w)
    while not record.met(tol) and record.iterations < tol.maxiter:
        w = Tw
        _advance(record, callback, bar, w)
        Tw = step(w)
        record.add(fixed_point_residual(be, w, Tw), w)
    return record.result(p, name, tol)


class _Record:
    """History, best iterate and the last residual of one iteration (the solver contract's bookkeeping)."""

    def __init__(self, residual, w):
        self.history, self.best, self.last, self.iterations = [residual], (residual, w), residual, 0

    def add(self, residual, w):
        self.history.append(residual)
        self.last = residual
        if residual < self.best[0]:
            self.best = (residual, w)

    def met(self, tol):
        return self.last <= tol.threshold(1.0)

    def result(self, p, name, tol):
        residual, w = self.best
        return LewisWeightsResult(w, p, name, converged=residual <= tol.threshold(1.0), iterations=self.iterations,
                                  residual_norm=residual, history=tuple(self.history))


def _advance(record, callback, bar, w):
    record.iterations += 1
    bar.update()
    if callback is not None:
        callback(w)


def _sketched_map(be, Y, p, rng):
    """The Cohen-Peng map with each leverage computation through one fixed sparse sign sketch."""
    n, d = Y.shape
    m = min(n, SKETCH_OVERSAMPLING * d)
    S = (make_sketch("gaussian", m, n, random_state=rng) if be.kind == "generic" else
         make_sketch("sparse_sign", m, n, random_state=rng, zeta=min(SKETCH_ZETA, m)))
    xp = be.xp

    def step(w):
        floor = float(xp.max(w)) * _EPS
        root = xp.maximum(w, floor) ** (0.5 - 1 / p)
        R = r_factor(be, sketch(be, S, Y * root[:, None]))
        Z = right_solve(be, Y, R)
        return row_dot(be, Z, Z) ** (p / 2)

    return step


def _svec_basis(d):
    r"""Orthonormal basis ``D`` (:math:`d^2 \times d(d+1)/2`) of symmetric matrices: ``vec(S) = D svec(S)``."""
    columns = []
    for k in range(d):
        for j in range(k, d):
            E = np.zeros((d, d))
            if j == k:
                E[k, k] = 1.0
            else:
                E[k, j] = E[j, k] = 1 / math.sqrt(2)
            columns.append(E.ravel())
    return np.stack(columns, axis=1)


# Rows per block when assembling the Newton Hessian (bounds the n x d^2 temporary).
_NEWTON_BLOCK = 4096


def _newton(be, Y, w, p, tol, callback, bar):
    r"""Newton's method on :math:`g(M) = -\log\det M + \frac{2}{p}\sum_i (y_i^T M y_i)^{p/2}` (convex for p >= 2).

    Iteration 0 is :math:`M_0 = (Y^T W_0^{1-2/p} Y)^{-1}`; each iteration is one damped Newton step.
    """
    n, d = Y.shape
    D = be.asarray(be.from_host(_svec_basis(d)), dtype=Y.dtype)
    M = weighted_inverse_gram(be, Y, w ** (1 - 2 / p))
    v = row_quadratic(be, Y, M)
    w = v ** (p / 2)
    record = _Record(fixed_point_residual(be, w, lewis_map(be, Y, w, p)), w)
    while not record.met(tol) and record.iterations < tol.maxiter:
        M = _newton_step(be, Y, M, v, p, D)
        if M is None:  # no decrease along the Newton direction: optimal to working precision
            break
        v = row_quadratic(be, Y, M)
        w = v ** (p / 2)
        _advance(record, callback, bar, w)
        record.add(fixed_point_residual(be, w, lewis_map(be, Y, w, p)), w)
    return record.result(p, "newton", tol)


def _objective(be, Y, M, p):
    xp = be.xp
    eigenvalues = xp.linalg.eigvalsh(M)
    if not bool(eigenvalues[0] > 0):
        return math.inf
    return float(-xp.sum(xp.log(eigenvalues)) + (2 / p) * xp.sum(row_quadratic(be, Y, M) ** (p / 2)))


def _newton_step(be, Y, M, v, p, D):
    """One damped Newton step on the symmetric matrix ``M`` (backtracking keeps it positive definite).

    Armijo's test allows the objective's rounding error, so that steps below it are still taken;
    returns None when no step decreases the objective.
    """
    xp = be.xp
    n, d = Y.shape
    M_inv = xp.linalg.inv(M)
    gradient = -M_inv + xp.matrix_transpose(Y) @ (Y * (v ** (p / 2 - 1))[:, None])
    hessian = xp.matrix_transpose(D) @ xp.reshape(M_inv[:, None, :, None] * M_inv[None, :, None, :],
                                                  (d * d, d * d)) @ D
    curvature = (p / 2 - 1) * v ** (p / 2 - 2)
    for start in range(0, n, _NEWTON_BLOCK):
        block = Y[start:start + _NEWTON_BLOCK]
        Z = xp.reshape(block[:, :, None] * block[:, None, :], (block.shape[0], d * d)) @ D
        hessian = hessian + xp.matrix_transpose(Z) @ (Z * curvature[start:start + _NEWTON_BLOCK, None])
    g = xp.matrix_transpose(D) @ xp.reshape(gradient, (d * d,))
    delta = xp.reshape(D @ xp.linalg.solve(hessian, -g[:, None])[:, 0], (d, d))
    slope = float(xp.sum(g * (xp.matrix_transpose(D) @ xp.reshape(delta, (d * d,)))))
    current, t = _objective(be, Y, M, p), 1.0
    slack = 16 * np.finfo(np.float64).eps * (abs(current) + n)
    for _ in range(60):
        trial = M + t * delta
        if _objective(be, Y, trial, p) <= current + 1e-4 * t * slope + slack:
            return (trial + xp.matrix_transpose(trial)) / 2
        t /= 2
    return None
