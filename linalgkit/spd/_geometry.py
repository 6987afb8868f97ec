r"""The metric classes behind :mod:`linalgkit.spd.metrics` (array-level, inputs already validated).

Every metric but Bures-Wasserstein is the pullback :math:`g = c^2\,\chi^* g_{\mathrm{base}}` of a base
geometry by a chart :math:`\chi`, so distance, inner product, Exp, Log, geodesics, transport and the
mean all follow from the base ones (Thanwerdas & Pennec 2023, arXiv 2109.05768, Sec. 3):

========================  =====================================  ===========  ===========
metric                    chart :math:`\chi`                      base         :math:`c`
========================  =====================================  ===========  ===========
euclidean                 identity                               Euclidean    1
log_euclidean             :math:`\log`                           Euclidean    1
power_euclidean(p)        :math:`(X^p - I)/p` (log at p = 0)     Euclidean    1
power_affine(p)           :math:`X^p`                            AI           1/|p|
cholesky                  :math:`L = \operatorname{chol}(X)`     Euclidean    1
log_cholesky              :math:`\lfloor L\rfloor + \log D_L`    Euclidean    1
========================  =====================================  ===========  ===========

The base geometries are the flat Euclidean one (on symmetric or lower-triangular charts) and the
affine-invariant one; Bures-Wasserstein is implemented directly.
"""

import math

from ..exceptions import ValidationError
from . import _spectral as sp

__all__ = ["AffineInvariant", "BuresWasserstein", "Chart", "Flat", "Pullback"]


def _trace(xp, X):
    return xp.sum(xp.linalg.diagonal(X), axis=-1)


def _diag(xp, d):
    """Diagonal matrices from vectors ``(..., n)``."""
    n = d.shape[-1]
    return xp.eye(n, dtype=d.dtype, device=_device(d)) * d[..., None, :]


def _device(x):
    import array_api_compat

    return array_api_compat.device(x)


def _eye_like(xp, X):
    return xp.eye(X.shape[-1], dtype=X.dtype, device=_device(X))


def _solve_lower(xp, C, X):
    """``C^{-1} X`` for lower-triangular ``C`` (general solver: batched in every namespace)."""
    return xp.linalg.solve(C, X)


def vech_weighted(xp, W, lower_only=False):
    r"""Upper-triangle vector of symmetric ``W`` with off-diagonals times :math:`\sqrt{2}`.

    The map is an isometry from (Sym(n), Frobenius) to :math:`\mathbb{R}^{n(n+1)/2}`.  With
    ``lower_only`` the lower triangle of a lower-triangular ``W`` is taken with weight 1 instead.
    """
    n = W.shape[-1]
    rows, cols = _triangle(n, lower_only)
    flat = xp.reshape(W, (*W.shape[:-2], n * n))
    index = xp.asarray([r * n + c for r, c in zip(rows, cols)], device=_device(W))
    weights = xp.asarray([1.0 if (r == c or lower_only) else math.sqrt(2) for r, c in zip(rows, cols)],
                         dtype=W.dtype, device=_device(W))
    return xp.take(flat, index, axis=-1) * weights


def unvech_weighted(xp, v, n, lower_only=False):
    """Inverse of :func:`vech_weighted`."""
    rows, cols = _triangle(n, lower_only)
    full = [0] * (n * n)
    scale = [0.0] * (n * n)
    for k, (r, c) in enumerate(zip(rows, cols)):
        w = 1.0 if (r == c or lower_only) else 1 / math.sqrt(2)
        full[r * n + c], scale[r * n + c] = k, w
        if not lower_only:
            full[c * n + r], scale[c * n + r] = k, w
    index = xp.asarray(full, device=_device(v))
    weights = xp.asarray(scale, dtype=v.dtype, device=_device(v))
    return xp.reshape(xp.take(v, index, axis=-1) * weights, (*v.shape[:-1], n, n))


def _triangle(n, lower_only):
    if lower_only:
        return [i for i in range(n) for j in range(i + 1)], [j for i in range(n) for j in range(i + 1)]
    return [i for i in range(n) for j in range(i, n)], [j for i in range(n) for j in range(i, n)]


def weighted_sum(xp, w, Y):
    """``sum_i w_i Y_i`` over the matrix stack axis ``-3`` of ``Y``."""
    return xp.sum(w[:, None, None] * Y, axis=-3)


class Metric:
    """Shared defaults (overridden where cheaper): orthonormal tangent coordinates of ``Log_S X`` and back,
    and the weighted mean of the logarithms that drives Karcher's iteration."""

    def log_coordinates(self, xp, S, X):
        return self.coordinates(xp, S, self.log(xp, S, X))

    def exp_coordinates(self, xp, S, c):
        return self.exp(xp, S, self.from_coordinates(xp, S, c))

    def mean_log(self, xp, S, X, w):
        """``sum_i w_i Log_S X_i`` for ``S`` of shape ``(..., n, n)`` and ``X`` of shape ``(..., N, n, n)``."""
        return weighted_sum(xp, w, self.log(xp, S[..., None, :, :], X))


class KernelCoordinates(Metric):
    r"""Inner product and orthonormal coordinates of a kernel metric.

    The metric is :math:`g = \sum_{ij} X'_{ij}Y'_{ij}/\varphi(d_i, d_j)`.

    Subclasses define ``_kernel(xp, d)``, the matrix :math:`\varphi(d_i, d_j)`; coordinates are
    :math:`X'_{ij}/\sqrt{\varphi(d_i, d_j)}` in the eigenbasis of the base point, half-vectorized.
    """

    def inner(self, xp, S, U, V):
        e = sp.eig(xp, S)
        return xp.sum(e.rotate_in(U) * e.rotate_in(V) / self._kernel(xp, e.d), axis=(-2, -1))

    def coordinates(self, xp, S, V):
        e = sp.eig(xp, S)
        return vech_weighted(xp, e.rotate_in(V) / xp.sqrt(self._kernel(xp, e.d)))

    def from_coordinates(self, xp, S, c):
        e = sp.eig(xp, S)
        return sp.sym(xp, e.rotate_out(unvech_weighted(xp, c, S.shape[-1]) * xp.sqrt(self._kernel(xp, e.d))))


class Flat(Metric):
    """Euclidean (Frobenius) geometry of a vector space of matrices (the chart images)."""

    name = "flat"

    def __init__(self, lower=False):
        self.lower = lower

    def squared_distance(self, xp, A, B):
        return xp.sum((A - B) ** 2, axis=(-2, -1))

    def inner(self, xp, S, U, V):
        return xp.sum(U * V, axis=(-2, -1))

    def exp(self, xp, S, V):
        return S + V

    def log(self, xp, S, P):
        return P - S

    def geodesic(self, xp, A, B, t):
        return (1 - t) * A + t * B

    def transport(self, xp, A, B, V):
        return V

    def coordinates(self, xp, S, V):
        return vech_weighted(xp, V, self.lower)

    def from_coordinates(self, xp, S, c):
        return unvech_weighted(xp, c, S.shape[-1], self.lower)


class AffineInvariant(Metric):
    r"""Affine-invariant metric :math:`g_S(U, V) = \operatorname{tr}(S^{-1} U S^{-1} V)` (Pennec et al. 2006)."""

    name = "affine_invariant"

    def squared_distance(self, xp, A, B):
        A, B = xp.broadcast_arrays(A, B)
        if sp.numba_batch(xp, A):
            from ._lockstep import ai_pairs

            return _numba_pairs(ai_pairs, A, B)
        C = xp.linalg.cholesky(B)
        Z = sp.sym(xp, _solve_lower(xp, C, xp.matrix_transpose(_solve_lower(xp, C, A))))
        return log_squared_sum(xp, Z)

    def _halves(self, xp, S):
        e = sp.eig(xp, S)
        return sp.from_eig(e, xp.sqrt(e.d)), sp.from_eig(e, 1 / xp.sqrt(e.d))

    def inner(self, xp, S, U, V):
        C = xp.linalg.cholesky(S)
        white = [_solve_lower(xp, C, xp.matrix_transpose(_solve_lower(xp, C, W))) for W in (U, V)]
        return xp.sum(white[0] * white[1], axis=(-2, -1))

    def exp(self, xp, S, V):
        R, Ri = self._halves(xp, S)
        return sp.congruence(xp, R, sp.apply(xp, sp.congruence(xp, Ri, V), "exp"))

    def log(self, xp, S, P):
        R, Ri = self._halves(xp, S)
        return sp.congruence(xp, R, sp.apply(xp, sp.congruence(xp, Ri, P), "log"))

    def mean_log(self, xp, S, X, w):
        # Log_S X_i = R log(Ri X_i Ri) R is linear in the whitened log: sum first, then one congruence
        if S.ndim == 2 and X.ndim == 3 and sp.numba_batch(xp, X):
            from ._numba import QL_VECTORS_LARGEST_N

            if X.shape[-1] <= QL_VECTORS_LARGEST_N:
                return _numba_mean_log(S, X, w)
        R, Ri = self._halves(xp, S)
        white = sp.apply(xp, sp.congruence(xp, Ri[..., None, :, :], X), "log")
        return sp.congruence(xp, R, weighted_sum(xp, w, white))

    def geodesic(self, xp, A, B, t):
        R, Ri = self._halves(xp, A)
        return sp.congruence(xp, R, sp.apply(xp, sp.congruence(xp, Ri, B), "pow", t))

    def transport(self, xp, A, B, V):
        R, Ri = self._halves(xp, A)
        E = R @ sp.apply(xp, sp.congruence(xp, Ri, B), "sqrt") @ Ri
        return sp.congruence(xp, E, V)

    def coordinates(self, xp, S, V):
        return vech_weighted(xp, sp.congruence(xp, self._halves(xp, S)[1], V))

    def from_coordinates(self, xp, S, c):
        return sp.congruence(xp, self._halves(xp, S)[0], unvech_weighted(xp, c, S.shape[-1]))

    def log_coordinates(self, xp, S, X):
        return vech_weighted(xp, sp.apply(xp, sp.congruence(xp, self._halves(xp, S)[1], X), "log"))

    def exp_coordinates(self, xp, S, c):
        white = sp.apply(xp, unvech_weighted(xp, c, S.shape[-1]), "exp")
        return sp.congruence(xp, self._halves(xp, S)[0], white)


def _numba_mean_log(S, X, w):
    r"""``sum_i w_i Log_S X_i`` for one NumPy base point, fused in one Numba pass over ``X`` (SIMD lanes).

    Any factor :math:`S = L L^T` whitens as well as :math:`S^{1/2}`: :math:`L = S^{1/2} U` with
    :math:`U` orthogonal, so :math:`L \log(L^{-1} X L^{-T}) L^T = S^{1/2} \log(S^{-1/2} X S^{-1/2}) S^{1/2}`;
    the Cholesky factor is cheaper and triangular.
    """
    import numpy as np

    from ._lockstep import whitened_log_sum

    L = np.linalg.cholesky(S)
    L_inv = _solve_lower(np, L, np.eye(S.shape[-1], dtype=S.dtype))
    lower = whitened_log_sum(np.ascontiguousarray(X), L_inv, np.ascontiguousarray(w, dtype=X.dtype))
    return sp.congruence(np, L, np.tril(lower) + np.tril(lower, -1).T)


def _numba_pairs(kernel, A, B):
    """``kernel(A[k], B[k])`` for every pair of two equal-shape NumPy batches (``kernel(A, B, out)`` on flat stacks)."""
    import numpy as np

    n = A.shape[-1]
    out = np.empty(A.shape[:-2], dtype=A.dtype)
    kernel(np.ascontiguousarray(A).reshape(-1, n, n), np.ascontiguousarray(B).reshape(-1, n, n), out.reshape(-1))
    return out


def log_squared_sum(xp, Z):
    r""":math:`\sum_i \log^2 \lambda_i(Z)` for a batch of SPD ``Z`` (NaN propagates from non-SPD input)."""
    return xp.sum(xp.log(sp.eigvalsh(xp, Z)) ** 2, axis=-1)


class BuresWasserstein(KernelCoordinates):
    r"""Bures-Wasserstein metric :math:`g_S(U, V) = \tfrac12 \operatorname{tr}(\mathcal{L}_S(U) V)`.

    :math:`\mathcal{L}_S(U)` solves the Lyapunov equation :math:`S L + L S = U` (Bhatia, Jain & Lim 2019;
    Malagò et al. 2018).  It is the Wasserstein-2 geometry of centred Gaussians.
    """

    name = "bures_wasserstein"

    def squared_distance(self, xp, A, B):
        A, B = xp.broadcast_arrays(A, B)
        if sp.numba_batch(xp, A):
            from ._lockstep import bw_pairs

            def fallback(A, B, out):
                out[...] = self._squared_distance(xp, A, B)

            return _numba_pairs(lambda A, B, out: bw_pairs(A, B, out, fallback), A, B)
        return self._squared_distance(xp, A, B)

    def _squared_distance(self, xp, A, B):
        C = xp.linalg.cholesky(B)
        M = sp.sym(xp, xp.matrix_transpose(C) @ A @ C)
        w = sp.eigvalsh(xp, M)
        # eig(C^T A C) = eig(AB): clearly negative values mean A is not PD (NaN lets the funnel name it);
        # round-off-sized negatives are clipped at 0
        indefinite = w[..., 0] < -100 * float(xp.finfo(w.dtype).eps) * w[..., -1]
        nuclear = xp.sum(xp.sqrt(xp.clip(w, 0, None)), axis=-1)
        nuclear = xp.where(indefinite, xp.full_like(nuclear, float("nan")), nuclear)
        return xp.clip(_trace(xp, A) + _trace(xp, B) - 2 * nuclear, 0, None)

    def _kernel(self, xp, d):
        return 2 * (d[..., :, None] + d[..., None, :])

    def _lyapunov(self, e, V):
        return e.rotate_out(e.rotate_in(V) / (e.d[..., :, None] + e.d[..., None, :]))

    def _transport_map(self, xp, A, B):
        """``T = A^{-1/2} (A^{1/2} B A^{1/2})^{1/2} A^{-1/2}``, the optimal map with ``T A T = B``."""
        e = sp.eig(xp, A)
        R, Ri = sp.from_eig(e, xp.sqrt(e.d)), sp.from_eig(e, 1 / xp.sqrt(e.d))
        return sp.congruence(xp, Ri, sp.apply(xp, sp.congruence(xp, R, B), "sqrt"))

    def exp(self, xp, S, V):
        e = sp.eig(xp, S)
        G = sp.sym(xp, self._lyapunov(e, V)) + _eye_like(xp, S)
        return sp.congruence(xp, G, S)

    def log(self, xp, S, P):
        TS = self._transport_map(xp, S, P) @ S
        return TS + xp.matrix_transpose(TS) - 2 * S

    def geodesic(self, xp, A, B, t):
        TA = self._transport_map(xp, A, B) @ A
        return sp.sym(xp, (1 - t) ** 2 * A + t**2 * B + t * (1 - t) * (TA + xp.matrix_transpose(TA)))

    def transport(self, xp, A, B, V):
        """Closed form between commuting ``A``, ``B`` (shared eigenbasis); raises otherwise."""
        e = sp.eig(xp, A)
        B_rot = e.rotate_in(B)
        b = xp.linalg.diagonal(B_rot)
        off = xp.max(xp.abs(B_rot - _diag(xp, b)), axis=(-2, -1))
        if bool(xp.any(off > 1e-10 * xp.max(xp.abs(b), axis=-1))):
            raise NotImplementedError(
                "bures_wasserstein parallel transport has a closed form only between commuting matrices "
                "(A @ B == B @ A); for other pairs use linalgkit.spd.pole_ladder_transport")
        ratio = xp.sqrt((b[..., :, None] + b[..., None, :]) / (e.d[..., :, None] + e.d[..., None, :]))
        return sp.sym(xp, e.rotate_out(e.rotate_in(V) * ratio))


class Chart:
    """A diffeomorphism from SPD(n) onto a chart (its image) with its differential.

    ``forward(S)`` returns ``(W, state)``; ``differential(state, V)`` and ``differential_inverse(state, W)``
    reuse the factorization kept in ``state``; ``inverse(W)`` maps chart points back to SPD(n).
    """

    lower = False

    def forward(self, xp, S):
        raise NotImplementedError

    def inverse(self, xp, W):
        raise NotImplementedError

    def differential(self, xp, state, V):
        raise NotImplementedError

    def differential_inverse(self, xp, state, W):
        raise NotImplementedError


class IdentityChart(Chart):
    """The identity: Euclidean metric on SPD(n) itself."""

    def forward(self, xp, S):
        return S, None

    def inverse(self, xp, W):
        return W

    def differential(self, xp, state, V):
        return V

    def differential_inverse(self, xp, state, W):
        return W


class SpectralChart(Chart):
    r"""A scalar function applied to eigenvalues.

    ``"boxcox"``: :math:`(x^p - 1)/p` (log at p = 0); ``"pow"``: :math:`x^p`.
    """

    def __init__(self, function, p):
        self.function, self.p = function, p

    def forward(self, xp, S):
        e = sp.eig(xp, S)
        return sp.from_eig(e, sp.scalar(xp, self.function, e.d, self.p)), e

    def inverse(self, xp, W):
        e = sp.eig(xp, W)
        if self.function == "pow":
            return sp.from_eig(e, e.d ** (1 / self.p))
        if self.p == 0:
            return sp.from_eig(e, xp.exp(e.d))
        base = 1 + self.p * e.d
        if bool(xp.any(base <= 0)):
            raise ValidationError(
                f"the power_euclidean(p={self.p}) Exp leaves the SPD cone for this tangent vector (the metric "
                f"is not geodesically complete); scale the tangent vector down")
        return sp.from_eig(e, xp.exp(xp.log(base) / self.p))

    def _dd(self, xp, e):
        return sp.divided_differences(xp, self.function, e.d, self.p)

    def differential(self, xp, state, V):
        return sp.frechet(state, self._dd(xp, state), V)

    def differential_inverse(self, xp, state, W):
        return sp.frechet_inverse(state, self._dd(xp, state), W)


class CholeskyChart(Chart):
    r"""Cholesky factor :math:`L` (Dryden et al. 2009) or log-Cholesky :math:`\lfloor L\rfloor + \log D_L` (Lin 2019).

    The differential of :math:`S \mapsto L` is :math:`V \mapsto L\,(L^{-1} V L^{-\top})_{1/2}`, where
    :math:`(\cdot)_{1/2}` keeps the strictly lower part and half the diagonal.
    """

    lower = True

    def __init__(self, log_diagonal):
        self.log_diagonal = log_diagonal

    def forward(self, xp, S):
        L = xp.linalg.cholesky(S)
        if not self.log_diagonal:
            return L, L
        d = xp.linalg.diagonal(L)
        return xp.tril(L, k=-1) + _diag(xp, xp.log(d)), L

    def inverse(self, xp, W):
        L = xp.tril(W, k=-1) + _diag(xp, xp.exp(xp.linalg.diagonal(W))) if self.log_diagonal else W
        return sp.sym(xp, L @ xp.matrix_transpose(L))

    def differential(self, xp, L, V):
        white = _solve_lower(xp, L, xp.matrix_transpose(_solve_lower(xp, L, V)))
        half = xp.tril(white, k=-1) + _diag(xp, xp.linalg.diagonal(white) / 2)
        X = L @ half
        if not self.log_diagonal:
            return X
        return xp.tril(X, k=-1) + _diag(xp, xp.linalg.diagonal(X) / xp.linalg.diagonal(L))

    def differential_inverse(self, xp, L, W):
        X = xp.tril(W, k=-1) + _diag(xp, xp.linalg.diagonal(W) * xp.linalg.diagonal(L)) if self.log_diagonal \
            else xp.tril(W)
        LX = L @ xp.matrix_transpose(X)
        return LX + xp.matrix_transpose(LX)


class Pullback(Metric):
    r"""The metric :math:`c^2 \chi^* g_{\mathrm{base}}`: every operation is the base one read through the chart."""

    def __init__(self, name, base, chart, scale=1.0):
        self.name, self.base, self.chart, self.scale = name, base, chart, scale

    def squared_distance(self, xp, A, B):
        if self._log_euclidean_pairs(xp, A, B):
            from ._lockstep import log_euclidean_pairs

            return self.scale**2 * _numba_pairs(log_euclidean_pairs, A, B)
        return self.scale**2 * self.base.squared_distance(xp, self.chart.forward(xp, A)[0],
                                                          self.chart.forward(xp, B)[0])

    def _log_euclidean_pairs(self, xp, A, B):
        """Whether ``A`` and ``B`` are equal-shape NumPy stacks of log-Euclidean pairs for the fused Numba kernel."""
        if not (isinstance(self.base, Flat) and isinstance(self.chart, SpectralChart)
                and self.chart.function == "boxcox" and self.chart.p == 0):
            return False
        if A.shape != B.shape or not sp.numba_batch(xp, A):
            return False
        from ._numba import QL_VECTORS_LARGEST_N

        return A.shape[-1] <= QL_VECTORS_LARGEST_N

    def inner(self, xp, S, U, V):
        W, state = self.chart.forward(xp, S)
        dU, dV = (self.chart.differential(xp, state, X) for X in (U, V))
        return self.scale**2 * self.base.inner(xp, W, dU, dV)

    def exp(self, xp, S, V):
        W, state = self.chart.forward(xp, S)
        return self.chart.inverse(xp, self.base.exp(xp, W, self.chart.differential(xp, state, V)))

    def log(self, xp, S, P):
        W, state = self.chart.forward(xp, S)
        return self.chart.differential_inverse(xp, state, self.base.log(xp, W, self.chart.forward(xp, P)[0]))

    def geodesic(self, xp, A, B, t):
        return self.chart.inverse(xp, self.base.geodesic(xp, self.chart.forward(xp, A)[0],
                                                         self.chart.forward(xp, B)[0], t))

    def transport(self, xp, A, B, V):
        WA, state_a = self.chart.forward(xp, A)
        WB, state_b = self.chart.forward(xp, B)
        moved = self.base.transport(xp, WA, WB, self.chart.differential(xp, state_a, V))
        return self.chart.differential_inverse(xp, state_b, moved)

    def coordinates(self, xp, S, V):
        W, state = self.chart.forward(xp, S)
        return self.scale * self.base.coordinates(xp, W, self.chart.differential(xp, state, V))

    def from_coordinates(self, xp, S, c):
        W, state = self.chart.forward(xp, S)
        return self.chart.differential_inverse(xp, state, self.base.from_coordinates(xp, W, c / self.scale))

    def log_coordinates(self, xp, S, X):
        W = self.chart.forward(xp, S)[0]
        return self.scale * self.base.log_coordinates(xp, W, self.chart.forward(xp, X)[0])

    def exp_coordinates(self, xp, S, c):
        W = self.chart.forward(xp, S)[0]
        return self.chart.inverse(xp, self.base.exp_coordinates(xp, W, c / self.scale))
