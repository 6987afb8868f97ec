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

from ..exceptions import NotSupportedError, ValidationError
from . import _dispatch as dispatch
from . import _spectral as sp

__all__ = ["AffineInvariant", "BuresWasserstein", "Chart", "Flat", "Pullback"]


def _trace(be, X):
    xp = be.xp
    return xp.sum(xp.linalg.diagonal(X), axis=-1)


def _diag(be, d):
    """Diagonal matrices from vectors ``(..., n)``."""
    xp = be.xp
    n = d.shape[-1]
    return xp.eye(n, dtype=d.dtype, device=_device(d)) * d[..., None, :]


def _device(x):
    import array_api_compat

    return array_api_compat.device(x)


def _eye_like(be, X):
    xp = be.xp
    return xp.eye(X.shape[-1], dtype=X.dtype, device=_device(X))


def _solve_lower(be, C, X):
    """``C^{-1} X`` for lower-triangular ``C`` (general solver: batched in every namespace)."""
    xp = be.xp
    return xp.linalg.solve(C, X)


def factor(be, X):
    """Lower Cholesky factor of ``X``, NaN where ``X`` breaks the definiteness rule.

    The rule (:func:`~linalgkit._validation.definiteness_floor`) is screened by the pivots: a matrix
    whose squared pivots all exceed :math:`\\sqrt{\\epsilon}` times its largest diagonal entry passes;
    the others are tested exactly on their eigenvalues.  NaN makes the caller's funnel name the argument.
    """
    xp = be.xp
    L = xp.linalg.cholesky(X)
    if not X.size:
        return L
    eps = float(xp.finfo(X.dtype).eps)
    pivots = xp.linalg.diagonal(L) ** 2
    top = xp.max(xp.linalg.diagonal(X), axis=-1)
    if bool(xp.all(xp.min(pivots, axis=-1) > math.sqrt(eps) * top)):
        return L
    w = xp.linalg.eigvalsh(X)
    bad = ~(w[..., 0] > X.shape[-1] * eps * w[..., -1])
    return xp.where(bad[..., None, None], xp.full_like(L, float("nan")), L)


def _ruled(be, result, *matrices):
    """``result`` with NaN where one of ``matrices`` breaks the definiteness rule (screened as in :func:`factor`)."""
    xp = be.xp
    for X in matrices:
        result = xp.where(xp.isfinite(factor(be, X)[..., :1, :1]), result, xp.full_like(result, float("nan")))
    return result


def _whitened(be, L, X):
    """Singular value decomposition ``U, s`` of :math:`M = L^{-1} \\operatorname{chol}(X)`.

    :math:`L^{-1} X L^{-T} = U \\operatorname{diag}(s^2) U^T`: the whitened matrix from the factor, its
    eigenvalues as squared singular values (accurate where ``eigh`` of the product loses them).
    """
    U, s, _ = be.xp.linalg.svd(_solve_lower(be, L, factor(be, X)), full_matrices=False)
    return U, s


def _from_svd(be, U, values):
    """``U diag(values) U^T``, symmetrized."""
    return sp.sym(be, (U * values[..., None, :]) @ be.xp.matrix_transpose(U))


def vech_weighted(be, W, lower_only=False):
    r"""Upper-triangle vector of symmetric ``W`` with off-diagonals times :math:`\sqrt{2}`.

    The map is an isometry from (Sym(n), Frobenius) to :math:`\mathbb{R}^{n(n+1)/2}`.  With
    ``lower_only`` the lower triangle of a lower-triangular ``W`` is taken with weight 1 instead.
    """
    xp = be.xp
    n = W.shape[-1]
    rows, cols = _triangle(n, lower_only)
    flat = xp.reshape(W, (*W.shape[:-2], n * n))
    index = xp.asarray([r * n + c for r, c in zip(rows, cols)], device=_device(W))
    weights = xp.asarray([1.0 if (r == c or lower_only) else math.sqrt(2) for r, c in zip(rows, cols)],
                         dtype=W.dtype, device=_device(W))
    return xp.take(flat, index, axis=-1) * weights


def unvech_weighted(be, v, n, lower_only=False):
    """Inverse of :func:`vech_weighted`."""
    xp = be.xp
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


def weighted_sum(be, w, Y):
    """``sum_i w_i Y_i`` over the matrix stack axis ``-3`` of ``Y``."""
    xp = be.xp
    return xp.sum(w[:, None, None] * Y, axis=-3)


class Metric:
    r"""Shared defaults (overridden where cheaper): orthonormal tangent coordinates of ``Log_S X`` and back,
    and the weighted mean of the logarithms that drives Karcher's iteration.

    ``equivariant``: the dilation :math:`X \mapsto cX` maps geodesics to geodesics, so
    :math:`\operatorname{Exp}_{cS}(cV) = c\operatorname{Exp}_S(V)`, :math:`\operatorname{Log}_{cS}(cP) =
    c\operatorname{Log}_S(P)`, and geodesics, parallel transport and means scale by :math:`c`.
    ``degree``: :math:`k` with :math:`g_{cS}(cU, cV) = c^k g_S(U, V)` (so :math:`d^2(cA, cB) = c^k d^2(A, B)`),
    None where the metric has none.  Derivations in ``docs/spd.rst``, "Hostile input".
    """

    equivariant = False
    degree = None

    def log_coordinates(self, be, S, X):
        return self.coordinates(be, S, self.log(be, S, X))

    def exp_coordinates(self, be, S, c):
        return self.exp(be, S, self.from_coordinates(be, S, c))

    def mean_log(self, be, S, X, w):
        """``sum_i w_i Log_S X_i`` for ``S`` of shape ``(..., n, n)`` and ``X`` of shape ``(..., N, n, n)``."""
        return weighted_sum(be, w, self.log(be, S[..., None, :, :], X))


class KernelCoordinates(Metric):
    r"""Inner product and orthonormal coordinates of a kernel metric.

    The metric is :math:`g = \sum_{ij} X'_{ij}Y'_{ij}/\varphi(d_i, d_j)`.

    Subclasses define ``_kernel(be, d)``, the matrix :math:`\varphi(d_i, d_j)`; coordinates are
    :math:`X'_{ij}/\sqrt{\varphi(d_i, d_j)}` in the eigenbasis of the base point, half-vectorized.
    """

    def inner(self, be, S, U, V):
        xp = be.xp
        e = sp.eig(be, S)
        return xp.sum(e.rotate_in(U) * e.rotate_in(V) / self._kernel(be, e.d), axis=(-2, -1))

    def coordinates(self, be, S, V):
        xp = be.xp
        e = sp.eig(be, S)
        return vech_weighted(be, e.rotate_in(V) / xp.sqrt(self._kernel(be, e.d)))

    def from_coordinates(self, be, S, c):
        xp = be.xp
        e = sp.eig(be, S)
        return sp.sym(be, e.rotate_out(unvech_weighted(be, c, S.shape[-1]) * xp.sqrt(self._kernel(be, e.d))))


class Flat(Metric):
    """Euclidean (Frobenius) geometry of a vector space of matrices (the chart images)."""

    name = "flat"
    equivariant, degree = True, 2

    def __init__(self, lower=False):
        self.lower = lower

    def squared_distance(self, be, A, B):
        xp = be.xp
        return xp.sum((A - B) ** 2, axis=(-2, -1))

    def inner(self, be, S, U, V):
        xp = be.xp
        return xp.sum(U * V, axis=(-2, -1))

    def exp(self, be, S, V):
        return S + V

    def log(self, be, S, P):
        return P - S

    def geodesic(self, be, A, B, t):
        return (1 - t) * A + t * B

    def transport(self, be, A, B, V):
        return V

    def coordinates(self, be, S, V):
        return vech_weighted(be, V, self.lower)

    def from_coordinates(self, be, S, c):
        return unvech_weighted(be, c, S.shape[-1], self.lower)


class AffineInvariant(Metric):
    r"""Affine-invariant metric :math:`g_S(U, V) = \operatorname{tr}(S^{-1} U S^{-1} V)` (Pennec et al. 2006)."""

    name = "affine_invariant"
    equivariant, degree = True, 0

    def squared_distance(self, be, A, B):
        return dispatch.squared_distances(be, "affine_invariant", A, B, lambda A, B: self._squared_distance(be, A, B))

    def _squared_distance(self, be, A, B):
        """Array-API body: singular values :math:`\\sigma` of :math:`M = C^{-1} R` with :math:`B = C C^T`,
        :math:`A = R R^T`, so :math:`\\lambda(A, B) = \\sigma^2` without forming :math:`M M^T` (whose
        eigenvalues would lose the digits the condition number squares)."""
        xp = be.xp
        C, R = factor(be, B), factor(be, A)
        s = xp.linalg.svdvals(_solve_lower(be, C, R))
        return 4 * xp.sum(xp.log(s) ** 2, axis=-1)

    def _halves(self, be, S):
        xp = be.xp
        e = sp.eig(be, S)
        return sp.from_eig(e, xp.sqrt(e.d)), sp.from_eig(e, 1 / xp.sqrt(e.d))

    def inner(self, be, S, U, V):
        xp = be.xp
        C = xp.linalg.cholesky(S)
        white = [_solve_lower(be, C, xp.matrix_transpose(_solve_lower(be, C, W))) for W in (U, V)]
        return xp.sum(white[0] * white[1], axis=(-2, -1))

    def exp(self, be, S, V):
        """:math:`L \\exp(L^{-1} V L^{-T}) L^T` with :math:`S = L L^T` (equal to the :math:`S^{1/2}` form)."""
        xp = be.xp
        L = factor(be, S)
        white = _solve_lower(be, L, xp.matrix_transpose(_solve_lower(be, L, V)))
        return sp.congruence(be, L, sp.apply(be, sp.sym(be, white), "exp"))

    def log(self, be, S, P):
        """:math:`L \\log(L^{-1} P L^{-T}) L^T`, the whitened logarithm from singular values (:func:`_whitened`)."""
        L = factor(be, S)
        U, s = _whitened(be, L, P)
        return sp.congruence(be, L, _from_svd(be, U, 2 * be.xp.log(s)))

    def mean_log(self, be, S, X, w):
        return dispatch.mean_log(be, S, X, w, lambda S, X, w: self._mean_log(be, S, X, w))

    def _mean_log(self, be, S, X, w):
        """Array-API body: ``Log_S X_i = L log(L^{-1} X_i L^{-T}) L^T`` is linear in the whitened log, summed first."""
        L = factor(be, S)
        U, s = _whitened(be, L[..., None, :, :], X)
        return sp.congruence(be, L, weighted_sum(be, w, _from_svd(be, U, 2 * be.xp.log(s))))

    def geodesic(self, be, A, B, t):
        """:math:`L (L^{-1} B L^{-T})^t L^T` with :math:`A = L L^T`, the power from singular values."""
        L = factor(be, A)
        U, s = _whitened(be, L, B)
        return sp.congruence(be, L, _from_svd(be, U, s ** (2 * t)))

    def transport(self, be, A, B, V):
        R, Ri = self._halves(be, A)
        E = R @ sp.apply(be, sp.congruence(be, Ri, B), "sqrt") @ Ri
        return sp.congruence(be, E, V)

    def coordinates(self, be, S, V):
        return vech_weighted(be, sp.congruence(be, self._halves(be, S)[1], V))

    def from_coordinates(self, be, S, c):
        return sp.congruence(be, self._halves(be, S)[0], unvech_weighted(be, c, S.shape[-1]))

    def log_coordinates(self, be, S, X):
        return vech_weighted(be, sp.apply(be, sp.congruence(be, self._halves(be, S)[1], X), "log"))

    def exp_coordinates(self, be, S, c):
        white = sp.apply(be, unvech_weighted(be, c, S.shape[-1]), "exp")
        return sp.congruence(be, self._halves(be, S)[0], white)


class BuresWasserstein(KernelCoordinates):
    r"""Bures-Wasserstein metric :math:`g_S(U, V) = \tfrac12 \operatorname{tr}(\mathcal{L}_S(U) V)`.

    :math:`\mathcal{L}_S(U)` solves the Lyapunov equation :math:`S L + L S = U` (Bhatia, Jain & Lim 2019;
    Malagò et al. 2018).  It is the Wasserstein-2 geometry of centred Gaussians.
    """

    name = "bures_wasserstein"
    equivariant, degree = True, 1

    def squared_distance(self, be, A, B):
        return dispatch.squared_distances(be, "bures_wasserstein", A, B, lambda A, B: self._squared_distance(be, A, B))

    def _squared_distance(self, be, A, B):
        """Array-API body: the nuclear norm :math:`\\sum \\sigma(C^T R)` with :math:`B = C C^T`, :math:`A = R R^T`
        (the singular values are the square roots of :math:`\\lambda(AB)`, without a square root of a product)."""
        xp = be.xp
        C, R = factor(be, B), factor(be, A)
        nuclear = xp.sum(xp.linalg.svdvals(xp.matrix_transpose(C) @ R), axis=-1)
        return xp.clip(_trace(be, A) + _trace(be, B) - 2 * nuclear, 0, None)

    def _kernel(self, be, d):
        return 2 * (d[..., :, None] + d[..., None, :])

    def _lyapunov(self, e, V):
        return e.rotate_out(e.rotate_in(V) / (e.d[..., :, None] + e.d[..., None, :]))

    def _transport_map(self, be, A, B):
        r"""The optimal map :math:`T = L^{-\top} (L^\top B L)^{1/2} L^{-1}`, :math:`T A T = B`, :math:`A = L L^\top`.

        :math:`(L^\top B L)^{1/2} = U \Sigma U^\top` from the SVD :math:`L^\top C = U \Sigma W^\top`,
        :math:`B = C C^\top`: the square root's eigenvalues are singular values, accurate to
        :math:`\epsilon \|L^\top C\|`, where ``eigh`` of the product :math:`A^{1/2} B A^{1/2}` loses
        :math:`\epsilon \|A\| \|B\|` (at inputs of condition 1e12 the Bures-Wasserstein mean's gradient then
        stalls at rounding noise).
        """
        xp = be.xp
        L = factor(be, A)
        U, s, _ = xp.linalg.svd(xp.matrix_transpose(L) @ factor(be, B), full_matrices=False)
        L_inv = _solve_lower(be, L, _eye_like(be, A))
        return sp.congruence(be, xp.matrix_transpose(L_inv), _from_svd(be, U, s))

    def exp(self, be, S, V):
        e = sp.eig(be, S)
        G = sp.sym(be, self._lyapunov(e, V)) + _eye_like(be, S)
        return _ruled(be, sp.congruence(be, G, S), S)

    def log(self, be, S, P):
        xp = be.xp
        TS = self._transport_map(be, S, P) @ S
        return _ruled(be, TS + xp.matrix_transpose(TS) - 2 * S, S, P)

    def geodesic(self, be, A, B, t):
        xp = be.xp
        TA = self._transport_map(be, A, B) @ A
        return _ruled(be, sp.sym(be, (1 - t) ** 2 * A + t**2 * B + t * (1 - t) * (TA + xp.matrix_transpose(TA))), A, B)

    def transport(self, be, A, B, V):
        """Closed form between commuting ``A``, ``B`` (shared eigenbasis); raises otherwise."""
        xp = be.xp
        e = sp.eig(be, A)
        B_rot = e.rotate_in(B)
        b = xp.linalg.diagonal(B_rot)
        off = xp.max(xp.abs(B_rot - _diag(be, b)), axis=(-2, -1))
        if bool(xp.any(off > 1e-10 * xp.max(xp.abs(b), axis=-1))):
            raise NotSupportedError(
                "bures_wasserstein parallel transport has a closed form only between commuting matrices "
                "(A @ B == B @ A); for other pairs use linalgkit.spd.pole_ladder_transport")
        ratio = xp.sqrt((b[..., :, None] + b[..., None, :]) / (e.d[..., :, None] + e.d[..., None, :]))
        return sp.sym(be, e.rotate_out(e.rotate_in(V) * ratio))


class Chart:
    r"""A diffeomorphism from SPD(n) onto a chart (its image) with its differential.

    ``forward(S)`` returns ``(W, state)``; ``differential(state, V)`` and ``differential_inverse(state, W)``
    reuse the factorization kept in ``state``; ``inverse(W)`` maps chart points back to SPD(n).
    ``power``: :math:`q` with :math:`\chi(cX) = c^q \chi(X) + b_c` (a dilation and a translation of the
    chart), None where the dilation acts otherwise.
    """

    lower = False
    power = None

    def forward(self, be, S):
        raise NotImplementedError

    def inverse(self, be, W):
        raise NotImplementedError

    def differential(self, be, state, V):
        raise NotImplementedError

    def differential_inverse(self, be, state, W):
        raise NotImplementedError


class IdentityChart(Chart):
    """The identity: Euclidean metric on SPD(n) itself."""

    power = 1.0

    def forward(self, be, S):
        return S, None

    def inverse(self, be, W):
        return W

    def differential(self, be, state, V):
        return V

    def differential_inverse(self, be, state, W):
        return W


class SpectralChart(Chart):
    r"""A scalar function applied to eigenvalues.

    ``"boxcox"``: :math:`(x^p - 1)/p` (log at p = 0); ``"pow"``: :math:`x^p`.
    """

    def __init__(self, function, p):
        self.function, self.p = function, p
        self.power = p  # (c^p X^p - 1)/p = c^p (X^p - 1)/p + (c^p - 1)/p; log(cX) = log X + log(c) I

    def forward(self, be, S):
        """Chart image, NaN where ``S`` breaks the definiteness rule (its eigenvalues are at hand)."""
        xp = be.xp
        e = sp.eig(be, S)
        values = sp.scalar(be, self.function, e.d, self.p)
        if S.size:
            floor = S.shape[-1] * float(xp.finfo(S.dtype).eps)
            bad = ~(e.d[..., :1] > floor * e.d[..., -1:])
            values = xp.where(bad, xp.full_like(values, float("nan")), values)
        return sp.from_eig(e, values), e

    def inverse(self, be, W):
        xp = be.xp
        e = sp.eig(be, W)
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

    def _dd(self, be, e):
        return sp.divided_differences(be, self.function, e.d, self.p)

    def differential(self, be, state, V):
        return sp.frechet(state, self._dd(be, state), V)

    def differential_inverse(self, be, state, W):
        return sp.frechet_inverse(state, self._dd(be, state), W)


class CholeskyChart(Chart):
    r"""Cholesky factor :math:`L` (Dryden et al. 2009) or log-Cholesky :math:`\lfloor L\rfloor + \log D_L` (Lin 2019).

    The differential of :math:`S \mapsto L` is :math:`V \mapsto L\,(L^{-1} V L^{-\top})_{1/2}`, where
    :math:`(\cdot)_{1/2}` keeps the strictly lower part and half the diagonal.
    """

    lower = True

    def __init__(self, log_diagonal):
        self.log_diagonal = log_diagonal
        self.power = None if log_diagonal else 0.5  # chol(cX) = c^(1/2) chol(X); log-Cholesky mixes 1/2 and 0

    def forward(self, be, S):
        xp = be.xp
        L = factor(be, S)
        if not self.log_diagonal:
            return L, L
        d = xp.linalg.diagonal(L)
        return xp.tril(L, k=-1) + _diag(be, xp.log(d)), L

    def inverse(self, be, W):
        xp = be.xp
        L = xp.tril(W, k=-1) + _diag(be, xp.exp(xp.linalg.diagonal(W))) if self.log_diagonal else W
        return sp.sym(be, L @ xp.matrix_transpose(L))

    def differential(self, be, L, V):
        xp = be.xp
        white = _solve_lower(be, L, xp.matrix_transpose(_solve_lower(be, L, V)))
        half = xp.tril(white, k=-1) + _diag(be, xp.linalg.diagonal(white) / 2)
        X = L @ half
        if not self.log_diagonal:
            return X
        return xp.tril(X, k=-1) + _diag(be, xp.linalg.diagonal(X) / xp.linalg.diagonal(L))

    def differential_inverse(self, be, L, W):
        xp = be.xp
        X = xp.tril(W, k=-1) + _diag(be, xp.linalg.diagonal(W) * xp.linalg.diagonal(L)) if self.log_diagonal \
            else xp.tril(W)
        LX = L @ xp.matrix_transpose(X)
        return LX + xp.matrix_transpose(LX)


class Pullback(Metric):
    r"""The metric :math:`c^2 \chi^* g_{\mathrm{base}}`: every operation is the base one read through the chart."""

    equivariant = True  # every chart here maps the dilation to a linear map plus a translation

    def __init__(self, name, base, chart, scale=1.0):
        self.name, self.base, self.chart, self.scale = name, base, chart, scale

    @property
    def degree(self):
        """The base's degree times the chart's power (the base metric is translation-invariant where shifted)."""
        return None if self.chart.power is None else self.base.degree * self.chart.power

    def squared_distance(self, be, A, B):
        if self.name == "log_euclidean":
            return dispatch.squared_distances(be, "log_euclidean", A, B, lambda A, B: self._squared_distance(be, A, B))
        return self._squared_distance(be, A, B)

    def _squared_distance(self, be, A, B):
        """Array-API body: the base distance between chart images."""
        return self.scale**2 * self.base.squared_distance(be, self.chart.forward(be, A)[0],
                                                          self.chart.forward(be, B)[0])

    def inner(self, be, S, U, V):
        W, state = self.chart.forward(be, S)
        dU, dV = (self.chart.differential(be, state, X) for X in (U, V))
        return self.scale**2 * self.base.inner(be, W, dU, dV)

    def exp(self, be, S, V):
        W, state = self.chart.forward(be, S)
        return self.chart.inverse(be, self.base.exp(be, W, self.chart.differential(be, state, V)))

    def log(self, be, S, P):
        W, state = self.chart.forward(be, S)
        return self.chart.differential_inverse(be, state, self.base.log(be, W, self.chart.forward(be, P)[0]))

    def geodesic(self, be, A, B, t):
        return self.chart.inverse(be, self.base.geodesic(be, self.chart.forward(be, A)[0],
                                                         self.chart.forward(be, B)[0], t))

    def transport(self, be, A, B, V):
        WA, state_a = self.chart.forward(be, A)
        WB, state_b = self.chart.forward(be, B)
        moved = self.base.transport(be, WA, WB, self.chart.differential(be, state_a, V))
        return self.chart.differential_inverse(be, state_b, moved)

    def coordinates(self, be, S, V):
        W, state = self.chart.forward(be, S)
        return self.scale * self.base.coordinates(be, W, self.chart.differential(be, state, V))

    def from_coordinates(self, be, S, c):
        W, state = self.chart.forward(be, S)
        return self.chart.differential_inverse(be, state, self.base.from_coordinates(be, W, c / self.scale))

    def log_coordinates(self, be, S, X):
        W = self.chart.forward(be, S)[0]
        return self.scale * self.base.log_coordinates(be, W, self.chart.forward(be, X)[0])

    def exp_coordinates(self, be, S, c):
        W = self.chart.forward(be, S)[0]
        return self.chart.inverse(be, self.base.exp_coordinates(be, W, c / self.scale))
