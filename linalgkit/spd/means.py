r"""Fréchet means of SPD matrices: closed forms where the geometry is flat, Riemannian gradient descent elsewhere.

The weighted Fréchet (Karcher) mean minimizes :math:`\sum_i w_i\, d^2(M, X_i)`.  Its Riemannian gradient
is :math:`-2G` with :math:`G = \sum_i w_i \operatorname{Log}_M X_i`, and the iteration
:math:`M \leftarrow \operatorname{Exp}_M(\tau G)` follows the solver contract of :mod:`linalgkit._solver`
with :math:`r_k = \|G\|_M` at the iterate :math:`M_k`: it stops at
:math:`\|G\|_M \le \max(\mathrm{rtol}\, r_{\mathrm{ref}}, \mathrm{atol}, \phi_k)`, with
:math:`r_{\mathrm{ref}} = 1` where the gradient is dimensionless (affine-invariant, power-affine) and
:math:`r_{\mathrm{ref}} = \sqrt{\operatorname{tr} M_k} = d_{BW}(0, M_k)` for Bures-Wasserstein (whose gradient
has the units of :math:`X^{1/2}`), and the rounding floor
:math:`\phi_k = 4\sqrt{n}\,\epsilon\,\kappa^{1/2}\, r_{\mathrm{ref}}` (:math:`\kappa` the condition
number of :math:`M_k`, and for Bures-Wasserstein the largest of the inputs' when larger): below it the
computed gradient is rounding noise of the whitening, so a right answer does not warn.  Problems over
leading batch axes run together but each has its own step and its own stopping test; a converged problem
stops moving.  Inputs whose entries leave the dtype's safe range are scaled by
a power of two first (every mean here is homogeneous, :math:`\bar M(cX) = c\,\bar M(X)`).

* Flat pullbacks (Euclidean, log-Euclidean, power-Euclidean, Cholesky, log-Cholesky): closed form
  :math:`\chi^{-1}(\sum_i w_i \chi(X_i))`.
* Affine-invariant (and power-affine on :math:`X_i^p`): Karcher's gradient descent started at the
  log-Euclidean mean; :math:`\|G\|_M = \|\sum_i w_i \log(M^{-1/2} X_i M^{-1/2})\|_F` is the criterion
  pyRiemann's ``mean_riemann`` uses, so tolerances compare one to one.
* Bures-Wasserstein: the same iteration with :math:`\tau = 1` is exactly the fixed point
  :math:`M \leftarrow \bar T M \bar T`, :math:`\bar T = \sum_i w_i T_{M \to X_i}` (Álvarez-Esteban et al.,
  J. Math. Anal. Appl. 2016).

The step adapts.  After an accepted step, :math:`\tau = \min(\tau_{\max}, 1/h)` with :math:`h` the curvature
measured along the last gradient (a secant estimate, :func:`_secant_step`): the Hessian of the
affine-invariant Karcher functional exceeds the identity (non-positive curvature), so :math:`\tau = 1`
overshoots and :math:`\tau_{\max} = 1`; on 1000 matrices of 22 x 22 the secant step cuts the iterations to
``tol = 1e-8`` from 5 to 3 (``python -m benchmarks.ablations karcher``).  The Bures-Wasserstein Hessian is
below the identity (non-negative curvature), so the fixed point undershoots and :math:`\tau_{\max} = 100`
(:data:`_BW_LONGEST_STEP`).  A step that makes :math:`\|G\|` grow is rejected and :math:`\tau` halved.
"""

import numbers
from dataclasses import dataclass, replace

import numpy as np

from .._backend import capabilities, get_backend
from .._solver import SolverResult, Tolerances, check_callback, check_tolerances, progress_bar, renamed_argument
from .._solver import warn_not_converged
from .._validation import check_array, check_scalar
from ..exceptions import ShapeError, ValidationError
from . import _geometry as g
from .metrics import _CAPS, _check_same_n, _rescaling, _run, _spd, _spd_scaled, get_metric

__all__ = ["MeanResult", "geometric_mean", "mean"]


@dataclass(frozen=True, kw_only=True)
class MeanResult(SolverResult):
    """Outcome of :func:`mean` with ``return_info=True`` (a :class:`~linalgkit._solver.SolverResult`).

    Attributes
    ----------
    mean : array, shape (..., n, n)
        The mean found: the best iterate when not converged.
    converged, iterations, history
        As in :class:`~linalgkit._solver.SolverResult` (closed forms: True, 0, None); ``history`` holds
        the gradient norm after each step.
    residual_norm : float
        Gradient norm :math:`\\|\\sum_i w_i \\operatorname{Log}_M X_i\\|_M` at ``mean`` (largest over the
        batch; 0 for closed forms).
    """

    mean: object

    @property
    def gradient_norm(self):
        """Alias of ``residual_norm``: the Riemannian gradient norm at ``mean``."""
        return self.residual_norm


@capabilities("linalgkit.spd.mean", **_CAPS)
def mean(X, *, metric="affine_invariant", weights=None, init=None, rtol=None, atol=0.0, maxiter=100, callback=None,
         progress=False, return_info=False, tol=None):
    r"""Weighted Fréchet mean :math:`\arg\min_M \sum_i w_i\, d^2(M, X_i)` of SPD matrices.

    Iterative means (affine-invariant, power-affine, Bures-Wasserstein) follow the solver contract
    (:mod:`linalgkit._solver`) with :math:`r_k` the Riemannian gradient norm
    :math:`\|\sum_i w_i \operatorname{Log}_{M_k} X_i\|_{M_k}` and :math:`r_{\mathrm{ref}} = 1`: they stop at
    :math:`r_k \le \max(\mathrm{rtol}, \mathrm{atol})`.  The gradient is dimensionless for the
    affine-invariant and power-affine metrics, and has the units of :math:`X^{1/2}` for Bures-Wasserstein.
    Closed forms (flat pullbacks) ignore the tolerances.

    Parameters
    ----------
    X : array, shape (..., n_matrices, n, n)
        SPD matrices (the definiteness rule of ``docs/spd.rst``, "Hostile input"); leading axes are
        independent problems, each with its own step and stopping test.
    metric : str or metric object, default="affine_invariant"
    weights : array, shape (n_matrices,), optional
        Non-negative weights (normalized to sum 1); uniform by default.
    init : array, shape (..., n, n), optional
        Starting point of iterative means (default: log-Euclidean mean for AI, arithmetic mean otherwise).
    rtol : float, optional
        Relative tolerance; default 1e-10 for float64 and 1e-4 for float32 inputs.
    atol : float, default=0.0
        Absolute tolerance.
    maxiter : int, default=100
        Largest number of gradient steps.
    callback : callable, optional
        ``callback(Mk)`` with the current mean after every step.
    progress : bool, default=False
        Show a tqdm bar over the steps.
    return_info : bool, default=False
        Return a :class:`MeanResult` (mean, convergence flag, iterations, gradient norm, history).
    tol : float, optional
        Deprecated: the former absolute tolerance on the gradient norm, now ``rtol``
        (:math:`r_{\mathrm{ref}} = 1`); passing it warns with a FutureWarning and stops exactly as before.

    Returns
    -------
    array, shape (..., n, n), or MeanResult

    Warns
    -----
    ConvergenceWarning
        When ``maxiter`` steps do not meet the rule; the best iterate is returned, flagged
        ``converged=False`` in the :class:`MeanResult`.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.spd import mean
    >>> mean(np.array([np.eye(2), 4 * np.eye(2)]))
    array([[2., 0.],
           [0., 2.]])
    """
    be = get_backend(X=X, weights=weights, init=init)
    X, scale = _spd_scaled(be, X, "X")
    if X.ndim < 3 or X.shape[-3] == 0:
        raise ShapeError(f"X must be a stack (..., n_matrices, n, n) of at least one matrix, got shape "
                         f"{tuple(X.shape)}; add an axis with X[None]")
    tolerances = _tolerances(rtol, atol, maxiter, tol, X.dtype)
    callback = check_callback(callback)
    w = _weights(be, weights, X)
    if init is not None:
        init = _spd(be, init, "init")
        _check_same_n(X=X[..., 0, :, :], init=init)
    m = get_metric(metric)
    if not X.size:  # empty leading batch: an empty stack of means
        M = be.xp.zeros((*X.shape[:-3], *X.shape[-2:]), dtype=X.dtype, device=be.device)
        result = MeanResult(mean=M, converged=True, iterations=0, residual_norm=0.0)
        return result if return_info else M
    c = _rescaling(be, X.dtype, be.xp.max(scale, axis=-1)) if getattr(m, "equivariant", False) else None
    if c is not None:  # homogeneous means: solve for X / c, scale back
        X, init = X / c[..., None, None, None], None if init is None else init / c[..., None, None]
        seen = callback
        callback = None if seen is None else (lambda M: seen(M * c[..., None, None]))
    with progress_bar(progress, tolerances.maxiter, f"{m.name} mean") as bar:
        result = _run(be, lambda: _mean(be, m, X, w, tolerances, init, callback, bar), view=lambda r: r.mean, X=X)
    if c is not None:
        result = replace(result, mean=result.mean * c[..., None, None])
    if not result.converged:
        warn_not_converged(f"the {m.name} mean", tolerances, result.residual_norm, stacklevel=3)
    return result if return_info else result.mean


def _tolerances(rtol, atol, maxiter, tol, dtype):
    """The contract's tolerances; the deprecated ``tol`` becomes the same absolute threshold as before."""
    rtol = renamed_argument("tol", tol, "rtol", rtol, stacklevel=4)
    if tol is None:
        return check_tolerances(rtol, atol, maxiter, dtype=dtype, default_rtol=lambda eps: 1e-10 if eps < 1e-10
                                else 1e-4)
    check_scalar(tol, "tol", low=0)  # used as is, not raised to the machine epsilon: the former rule exactly
    check_scalar(maxiter, "maxiter", kind=numbers.Integral, low=1)
    return Tolerances(0.0, float(tol), int(maxiter))


def _weights(be, weights, X):
    xp = be.xp
    N = X.shape[-3]
    if weights is None:
        return xp.full((N,), 1 / N, dtype=X.dtype, device=be.device)
    w = check_array(weights, "weights", backend=be, ndim=1, numeric="cast", allow_complex=False)
    if w.shape[0] != N:
        raise ShapeError(f"weights must have one entry per matrix ({N}), got {w.shape[0]}")
    if bool(xp.any(w < 0)) or not bool(xp.sum(w) > 0):
        raise ValidationError("weights must be non-negative with a positive sum, got negative or all-zero "
                              "weights; pass e.g. numpy.ones(n_matrices)")
    w = xp.astype(w, X.dtype)
    return w / xp.sum(w)


def _mean(be, m, X, w, tolerances, init, callback, bar):
    if isinstance(m, g.Pullback) and isinstance(m.base, g.Flat):
        M = m.chart.inverse(be, g.weighted_sum(be, w, m.chart.forward(be, X)[0]))
        return MeanResult(mean=M, converged=True, iterations=0, residual_norm=0.0)
    if isinstance(m, g.Pullback):  # descent on the chart images, where the gradient is 1/scale times smaller
        images = m.chart.forward(be, X)[0]
        start = None if init is None else m.chart.forward(be, init)[0]
        seen = None if callback is None else (lambda M: callback(m.chart.inverse(be, M)))
        scaled = Tolerances(tolerances.rtol / m.scale, tolerances.atol / m.scale, tolerances.maxiter)
        base = _descent(be, m.base, images, w, scaled, start, seen, bar)
        return MeanResult(mean=m.chart.inverse(be, base.mean), converged=base.converged, iterations=base.iterations,
                          residual_norm=base.residual_norm * m.scale,
                          history=tuple(h * m.scale for h in base.history))
    if not isinstance(m, g.AffineInvariant) and not bool(be.xp.all(be.xp.isfinite(g.factor(be, X)))):
        # the definiteness rule, screened by one Cholesky factorization (AI screens in its first gradient)
        return MeanResult(mean=be.xp.full(X.shape[-2:], float("nan"), dtype=X.dtype), converged=False,
                          iterations=0, residual_norm=float("nan"))
    return _descent(be, m, X, w, tolerances, init, callback, bar)


def _start(be, m, X, w):
    xp = be.xp
    if isinstance(m, g.AffineInvariant):  # the log-Euclidean mean: one affine-invariant step from the identity
        identity = xp.eye(X.shape[-1], dtype=X.dtype, device=be.device)
        return m.exp(be, identity, m.mean_log(be, identity, X, w))
    return g.weighted_sum(be, w, X)


def _descent(be, m, X, w, tolerances, init, callback, bar):
    """Riemannian gradient descent, each problem of the batch with its own step and stopping test.

    A step that makes a problem's :math:`\\|G\\|_M` grow (or leave the cone) is rejected there and its
    step halved; problems that meet the rule (module docstring) stop moving.  Returns the iterate of
    smallest gradient norm of each problem.
    """
    xp = be.xp
    M = _start(be, m, X, w) if init is None else init
    M = xp.broadcast_to(M, (*X.shape[:-3], *X.shape[-2:]))
    G = m.mean_log(be, M, X, w)
    spread = _input_spread(be, m, X)
    norm, limit = _gradient_norm(be, m, M, G), _threshold(be, m, M, tolerances, spread)
    best, best_norm, history = M, norm, []
    tau, steps = np.ones_like(norm), 0
    active = norm > limit
    while active.any() and steps < tolerances.maxiter:
        steps += 1
        M_new = m.exp(be, M, _per_matrix(be, tau, M) * G)
        G_new = m.mean_log(be, M_new, X, w)
        norm_new = _gradient_norm(be, m, M_new, G_new)
        accept = active & ~((norm_new > norm) & (tau > 1e-8)) & np.isfinite(norm_new)
        tau = np.where(active & ~accept, tau / 2, tau)
        if accept.any():
            tau = np.where(accept, _secant_step(be, m, M_new, G, G_new, tau), tau)
            keep = _per_matrix(be, accept, M)
            M, G = xp.where(keep, M_new, M), xp.where(keep, G_new, G)
            norm = np.where(accept, norm_new, norm)
            improved = norm < best_norm
            best, best_norm = xp.where(_per_matrix(be, improved, M), M, best), np.where(improved, norm, best_norm)
            limit = np.where(accept, _threshold(be, m, M, tolerances, spread), limit)
        active = (norm > limit) & (tau > 1e-12)
        history.append(float(np.max(norm)))
        bar.update(1)
        bar.set_postfix_str(f"gradient norm {history[-1]:.3g}")
        if callback is not None:
            callback(M)
    converged = bool(np.all(best_norm <= limit))
    return MeanResult(mean=best, converged=converged, iterations=steps, residual_norm=float(np.max(best_norm)),
                      history=tuple(history))


def _per_matrix(be, values, M):
    """Host per-problem ``values`` (shape ``M.shape[:-2]``) as a backend array broadcasting against ``M``."""
    return be.from_host(np.asarray(values))[..., None, None]


def _condition(w):
    """Condition numbers from ascending eigenvalues ``w`` (infinite where not positive)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w[..., 0] > 0, w[..., -1] / w[..., 0], np.inf)


def _input_spread(be, m, X):
    """Bures-Wasserstein: the largest condition number of the inputs, per problem (its gradient's rounding
    grows with them, not with the mean's); None for the other metrics (the mean's condition number)."""
    if not isinstance(m, g.BuresWasserstein):
        return None
    return np.max(_condition(be.to_host(be.xp.linalg.eigvalsh(X))), axis=-1)


def _threshold(be, m, M, tolerances, spread=None):
    """Per-problem stopping threshold :math:`\\max(\\mathrm{rtol}\\, r_{\\mathrm{ref}}, \\mathrm{atol}, \\phi)`
    (module docstring); ``spread`` replaces the mean's condition number in :math:`\\phi` when given."""
    xp = be.xp
    w = be.to_host(xp.linalg.eigvalsh(M))
    eps, n = float(np.finfo(w.dtype).eps), M.shape[-1]
    condition = _condition(w) if spread is None else np.maximum(_condition(w), spread)
    reference = np.sqrt(np.sum(w, axis=-1)) if isinstance(m, g.BuresWasserstein) else np.ones(w.shape[:-1])
    floor = 4 * np.sqrt(n) * eps * np.sqrt(condition) * reference
    return np.maximum(np.maximum(tolerances.rtol * reference, tolerances.atol), floor)


def _secant_step(be, m, M, G_old, G_new, tau):
    r"""Next step :math:`1/h` from the curvature :math:`h` of the last step along :math:`G_{old}`, within
    :math:`(0, \tau_{\max}]` (:data:`_BW_LONGEST_STEP`); 1 where :math:`h \le 0`.

    A step :math:`\tau G` changes the gradient by about :math:`\tau h G`, so
    :math:`h = \langle G_{old}, G_{old} - G_{new}\rangle / (\tau \|G_{old}\|^2)` (both measured at the new
    point ``M``; per problem).
    """
    old = be.to_host(m.inner(be, M, G_old, G_old))
    drop = old - be.to_host(m.inner(be, M, G_old, G_new))
    longest = _BW_LONGEST_STEP if isinstance(m, g.BuresWasserstein) else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        curvature = np.where(old > 0, drop / (tau * np.where(old > 0, old, 1.0)), 0.0)
        return np.where(curvature * longest > 1.0, 1.0 / curvature, np.where(curvature > 0, longest, 1.0))


_BW_LONGEST_STEP = 100.0
r"""Longest secant step of the Bures-Wasserstein mean (1 for the others).  Affine-invariant Karcher functionals have
Hessians above the identity (non-positive curvature), so :math:`\tau \le 1`; the Bures-Wasserstein one has
its Hessian below the identity (non-negative curvature), so :math:`\tau = 1` (the fixed point) undershoots:
at inputs of condition 1e12 the fixed point contracts by about 0.9 per step, and steps up to 100 cut the
iterations to ``rtol = 1e-10`` from over 100 to 12-42 (``make_spd_matrices(N, 4, cond=1e12)``, N = 4, 10, 50,
three seeds).  Steps that leave the cone or make :math:`\|G\|` grow are rejected and halved."""


def _gradient_norm(be, m, M, G):
    """Per-problem :math:`\\|G\\|_M` on the host; NaN (a trial point outside the cone) counts as infinite."""
    xp = be.xp
    norm = np.asarray(be.to_host(xp.sqrt(xp.clip(m.inner(be, M, G, G), 0, None))), dtype=float)
    return np.where(np.isnan(norm), np.inf, norm)


@capabilities("linalgkit.spd.geometric_mean", **_CAPS)
def geometric_mean(A, B, t=0.5):
    r"""Weighted matrix geometric mean :math:`A \#_t B = A^{1/2}(A^{-1/2} B A^{-1/2})^t A^{1/2}`.

    The affine-invariant geodesic from ``A`` (``t = 0``) to ``B`` (``t = 1``); at ``t = 1/2`` the
    unique SPD solution of the Riccati equation :math:`M A^{-1} M = B`, symmetric in ``A`` and ``B``.

    Parameters
    ----------
    A, B : array, shape (..., n, n)
    t : float, default=0.5

    Returns
    -------
    array, shape (..., n, n)
    """
    from .metrics import geodesic

    return geodesic(A, B, t, metric="affine_invariant")
