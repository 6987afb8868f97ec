r"""Kernel (Hiai-Petz) metrics without closed-form geodesics: Exp by the Hamiltonian ODE, Log by shooting.

A kernel metric is :math:`g_\Sigma(X, Y) = \sum_{ij} X'_{ij} Y'_{ij} / \varphi(d_i, d_j)` with
:math:`X' = P^\top X P`, :math:`\Sigma = P \operatorname{diag}(d) P^\top` and :math:`\varphi` symmetric and
positive.  Its cometric is explicit (cometric stability, Thanwerdas & Pennec, LAA 2023, arXiv 2109.05768):
:math:`H(\Sigma, \xi) = \tfrac12 \sum_{ij} \varphi(d_i, d_j)\, \xi'^2_{ij}`, so geodesics solve

.. math::
    \dot\Sigma = \partial_\xi H = P(\varphi \circ \xi')P^\top, \qquad
    \dot\xi = -\partial_\Sigma H = -P G P^\top, \quad
    G_{ij} = \sum_k \xi'_{ik}\xi'_{kj}\,\frac{\varphi(d_i, d_k) - \varphi(d_j, d_k)}{d_i - d_j},

(the quotient is :math:`\partial_1\varphi(d_i, d_k)` on ties), derived from first-order eigenvalue and
eigenvector perturbation; no :math:`n^2 \times n^2` metric is ever inverted.  ``exp`` integrates this
system with classical RK4 over ``n_steps`` steps (global error :math:`O(n_{\mathrm{steps}}^{-4})`, about
1e-9 relative at 40 steps for unit distances, see the tests), and ``log`` shoots: it solves
:math:`\operatorname{Exp}_S(V) = P` by Broyden's quasi-Newton method on half-vectorized coordinates
(initial Jacobian :math:`I`, initial guess the :math:`\operatorname{Log}_S P` of a closed-form neighbour,
halved while its geodesic leaves the cone, per-matrix backtracking) until the solver contract's rule (:mod:`linalgkit._solver`) holds with
:math:`r_k = \operatorname{vech}(\operatorname{Exp}_S(V_k) - P)` and :math:`r_{\mathrm{ref}} =
\operatorname{vech}(P)` (Frobenius norms, the largest over a batch): superlinear near the solution; for
points too far apart it may not converge, and the best iterate is returned with one
:class:`~linalgkit.exceptions.ConvergenceWarning`.
"""

import numpy as np

from .._solver import warn_not_converged
from ..exceptions import NotSupportedError, ValidationError
from . import _spectral as sp
from ._geometry import Flat, KernelCoordinates, Pullback, SpectralChart, unvech_weighted, vech_weighted

__all__ = ["KernelMetric"]

LOG_EUCLIDEAN = Pullback("log_euclidean", Flat(), SpectralChart("boxcox", 0.0))


def _norms(be, x):
    """Euclidean norms of the rows of ``x``; NaN (the geodesic left the domain) counts as infinite."""
    xp = be.xp
    norms = xp.sqrt(xp.sum(x**2, axis=-1))
    return xp.where(xp.isnan(norms), xp.full_like(norms, float("inf")), norms)


def _largest_norm(be, x):
    return float(be.xp.max(_norms(be, x)))


class KernelMetric(KernelCoordinates):
    """Kernel metric of a symmetric positive function ``phi(xp, x, y)`` (elementwise, broadcasting).

    ``dphi(xp, x, y)``, the partial derivative in ``x``, is used on ties; by default it is a central
    difference with relative step :math:`\\epsilon^{1/3}` (error about 1e-11 relative).
    """

    def __init__(self, name, phi, dphi, n_steps, tolerances, start=None):
        self.name, self.phi, self.dphi = name, phi, dphi
        self.n_steps, self.tolerances = n_steps, tolerances
        self.start = LOG_EUCLIDEAN if start is None else start

    def _kernel(self, be, d):
        return self.phi(be.xp, d[..., :, None], d[..., None, :])

    def _d1(self, be, x, y):
        xp = be.xp
        if self.dphi is not None:
            return self.dphi(xp, x, y)
        h = float(xp.finfo(x.dtype).eps) ** (1 / 3) * x
        return (self.phi(xp, x + h, y) - self.phi(xp, x - h, y)) / (2 * h)

    def _field(self, be, S, xi):
        """Right-hand side ``(dS/dt, dxi/dt)`` of Hamilton's equations at ``(S, xi)``."""
        xp = be.xp
        e = sp.eig(be, S)
        d = e.d
        F = self._kernel(be, d)
        x = e.rotate_in(xi)
        di, dj, dk = d[..., :, None, None], d[..., None, :, None], d[..., None, None, :]
        gap = di - dj
        tie = xp.abs(gap) <= 1e-5 * xp.maximum(di, dj)
        quotient = (F[..., :, None, :] - F[..., None, :, :]) / xp.where(tie, xp.ones_like(gap), gap)
        Phi = xp.where(tie, self._d1(be, (di + dj) / 2 + 0 * dk, dk + 0 * di), quotient)
        G = xp.sum(x[..., :, None, :] * x[..., None, :, :] * Phi, axis=-1)
        return sp.sym(be, e.rotate_out(F * x)), -sp.sym(be, e.rotate_out(G))

    def exp(self, be, S, V):
        e = sp.eig(be, S)
        xi = e.rotate_out(e.rotate_in(V) / self._kernel(be, e.d))
        h = 1.0 / self.n_steps
        for _ in range(self.n_steps):
            k1 = self._field(be, S, xi)
            k2 = self._field(be, S + h / 2 * k1[0], xi + h / 2 * k1[1])
            k3 = self._field(be, S + h / 2 * k2[0], xi + h / 2 * k2[1])
            k4 = self._field(be, S + h * k3[0], xi + h * k3[1])
            S = S + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            xi = xi + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        return sp.sym(be, S)

    def log(self, be, S, P):
        """Shooting: Broyden steps on ``v = vech(V)`` until ``Exp_S(V) = P`` (see the module docstring)."""
        xp = be.xp
        S, P = xp.broadcast_arrays(S, P)
        n = S.shape[-1]
        threshold = self.tolerances.threshold(_largest_norm(be, vech_weighted(be, P)))

        def mismatch(v):
            try:
                with np.errstate(all="ignore"):
                    return vech_weighted(be, self.exp(be, S, unvech_weighted(be, v, n)) - P)
            except np.linalg.LinAlgError:  # the trial geodesic left the domain (NaN): no progress
                return xp.full(v.shape, float("inf"), dtype=v.dtype)

        v = vech_weighted(be, self.start.log(be, S, P))  # initial guess: the Log of the closed-form neighbour
        f = mismatch(v)
        for _ in range(30):  # damping: shorten the guesses whose geodesic leaves the cone (incomplete metrics)
            lost = ~xp.isfinite(_norms(be, f))
            if not bool(xp.any(lost)):
                break
            v = xp.where(lost[..., None], v / 2, v)
            f = xp.where(lost[..., None], mismatch(v), f)
        if not bool(xp.all(xp.isfinite(_norms(be, f)))):
            raise ValidationError(f"{self.name} Log: the shooting failed, no trial geodesic stayed in the SPD cone "
                                  f"(the metric may not be complete, or the points are too far apart); try more "
                                  f"RK4 steps (n_steps=), points closer together, or a complete metric")
        m = v.shape[-1]
        J = xp.zeros((*v.shape[:-1], m, m), dtype=v.dtype) + xp.eye(m, dtype=v.dtype)
        for _ in range(self.tolerances.maxiter):
            size = _norms(be, f)
            if float(xp.max(size)) <= threshold:
                return unvech_weighted(be, v, n)
            dv = -xp.linalg.solve(J, f[..., None])[..., 0]
            step = xp.ones_like(size)
            for _ in range(30):  # backtracking, per batch element: halve its step until its residual decreases
                f_new = mismatch(v + step[..., None] * dv)
                better = _norms(be, f_new) < size
                if bool(xp.all(better)):
                    break
                step = xp.where(better, step, step / 2)
            step = xp.where(better, step, xp.zeros_like(step))  # elements that cannot improve stay put
            dv = step[..., None] * dv
            f_new = xp.where(better[..., None], f_new, f)
            # Broyden's update: J += (df - J dv) dv^T / (dv . dv)
            gap = f_new - f - (J @ dv[..., None])[..., 0]
            dvdv = xp.sum(dv * dv, axis=-1)
            J = J + gap[..., :, None] * dv[..., None, :] / xp.where(dvdv > 0, dvdv, 1)[..., None, None]
            v, f = v + dv, f_new
            if not bool(xp.any(better)):
                break
        if float(xp.max(_norms(be, f))) > threshold:  # residuals only decrease: v is the best iterate
            warn_not_converged(f"{self.name} Log by shooting", self.tolerances, _largest_norm(be, f), stacklevel=6,
                               advice="the shooting failed: the points may be too far apart; raise maxiter or "
                                      "n_steps (RK4 steps), loosen rtol, or split the geodesic (geodesic at t=0.5)")
        return unvech_weighted(be, v, n)

    def squared_distance(self, be, A, B):
        V = self.log(be, A, B)
        return self.inner(be, A, V, V)

    def geodesic(self, be, A, B, t):
        return self.exp(be, A, t * self.log(be, A, B))

    def transport(self, be, A, B, V):
        raise NotSupportedError(f"{self.name} has no closed-form parallel transport; use "
                                  f"linalgkit.spd.pole_ladder_transport")
