r"""The lane kernels of the SPD family: many small SPD problems, :data:`~linalgkit._simd.WIDTH` in SIMD lock-step.

This is the family's one hand-written eigen-solver (Householder tridiagonalization, then QL); LAPACK
(NumPy's batched ``eigh``/``eigvalsh``/``cholesky``) serves the lanes that fail and the sizes above the
lane limits, chosen in :mod:`linalgkit.spd._dispatch`, which also holds the limits.  Kernels receive
plain C-contiguous NumPy stacks ``(K, n, n)`` and write into arrays of their caller.

Each lane of a :mod:`linalgkit._simd` value holds one problem (16 lanes with AVX-512, else 8); every branch
is taken by all lanes and resolved per lane, so a lane that has converged idles until the slowest of its
group is done.

Affine-invariant :func:`ai_squared_pairwise`: one task takes a row ``X_i`` and ``WIDTH`` consecutive
columns ``Y_j``.  With lower Cholesky factors ``X_i = L L^T`` and ``Y_j = R R^T``,

.. math::  M = L^{-1} R \quad (\text{lower triangular}), \qquad W = M M^T = L^{-1} Y_j L^{-T},
           \qquad d^2(X_i, Y_j) = \sum_k \log^2 \lambda_k(W),

so the whitening costs two triangular products (``n^3 / 3`` multiply-adds) instead of two full ones.
``W`` is scaled to largest diagonal entry 1, reduced to a tridiagonal by Householder reflections and
diagonalized by the root-free QL iteration of Pal, Walker and Kahan (LAPACK ``dsterf``), whose inner step
needs one division and no square root.

Pairs ``(A_k, B_k)``, ``WIDTH`` per task: :func:`ai_squared_distances` and :func:`bw_squared_distances`
factor both matrices in the lanes and need eigenvalues only; :func:`le_squared_distances` diagonalizes
each matrix with its eigenvectors (Householder, ``Q`` accumulated in place, QL with rotations), and
:math:`\|\log A_k - \log B_k\|_F^2` summed from the two spectral sums; :func:`ai_whitened_log_sums`
does the same for the Karcher gradient, :func:`eigh_stack` for any symmetric stack.

A lane that the iteration cannot handle (a matrix not positive definite or not finite, a divisor below the
underflow threshold, more than :data:`MAX_STEPS` QL steps for one eigenvalue) is flagged in ``failed``
for the caller to recompute by LAPACK.  Loads and stores are unchecked;
:func:`linalgkit._simd.bounds_checked` compiles a copy of this module that checks them.
"""

import numpy as np
from numba import njit, prange

from .._simd import WIDTH, any_lane, fabs, kernel_options, load, log, max_lane, select, splat, sqrt, store

MAX_STEPS = 60
"""QL steps allowed for one eigenvalue before its lane is flagged."""

_OPTIONS = kernel_options()
_PARALLEL = kernel_options(parallel=True)


@njit(**_OPTIONS)
def _lane_rows(n, dtype):
    """Five workspaces of ``n`` lane rows: ``d, e, taus, v, w``."""
    return (np.empty((n, WIDTH), dtype), np.empty((n, WIDTH), dtype), np.empty((n, WIDTH), dtype),
            np.empty((n, WIDTH), dtype), np.empty((n, WIDTH), dtype))


@njit(**_OPTIONS)
def _write_lanes(result, first, out, failed):
    """``out[first + lane] = result[0, lane]`` and ``failed[first + lane] = result[1, lane] != 0`` within ``out``."""
    for lane in range(min(WIDTH, out.shape[0] - first)):
        out[first + lane] = result[0, lane]
        failed[first + lane] = result[1, lane] != 0.0


@njit(**_OPTIONS)
def _lower_gram(M, W, n):
    """Lower triangle of ``W = M M^T`` for a lower-triangular ``M``, every lane (rows ``a * n + b``)."""
    for a in range(n):
        for c in range(a + 1):
            total = load(M, a * n, 0) * load(M, c * n, 0)
            for b in range(1, c + 1):
                total = total + load(M, a * n + b, 0) * load(M, c * n + b, 0)
            store(W, a * n + c, 0, total)


@njit(**_OPTIONS)
def _whiten(L_inv, R, col, M, W):
    """``M = L_inv R[col + lane]`` and the lower triangle of ``W = M M^T``, all lanes (rows ``a * n + b``)."""
    n = L_inv.shape[0]
    for a in range(n):
        for b in range(a + 1):
            total = L_inv[a, b] * load(R, b * n + b, col)
            for k in range(b + 1, a + 1):
                total = total + L_inv[a, k] * load(R, k * n + b, col)
            store(M, a * n + b, 0, total)
    _lower_gram(M, W, n)


@njit(**_OPTIONS)
def _normalize(W, n):
    """Scale each positive definite lane of ``W`` to largest diagonal entry 1; return the scales and failed lanes.

    A lane without a positive, finite largest diagonal entry fails (a NaN elsewhere surfaces as a QL that
    does not converge); failed lanes become the identity (scale 1), so that they cost no QL steps.
    """
    scale = load(W, 0, 0)
    for i in range(1, n):
        diagonal = load(W, i * n + i, 0)
        scale = select(diagonal > scale, diagonal, scale)
    return _rescale(W, n, scale, ~(scale > 0.0) | ~(scale < np.inf))


@njit(**_OPTIONS)
def _normalize_symmetric(W, n):
    """Scale each lane of ``W`` to largest magnitude 1 (a zero lane keeps scale 1); NaN or infinity fails a lane."""
    scale = splat(W, 0.0)
    failed = scale != 0.0
    for i in range(n):
        for j in range(i + 1):
            x = load(W, i * n + j, 0)
            failed = failed | (x != x)
            scale = select(fabs(x) > scale, fabs(x), scale)
    failed = failed | ~(scale < np.inf)
    return _rescale(W, n, select(scale == 0.0, 1.0, scale), failed)


@njit(**_OPTIONS)
def _rescale(W, n, scale, failed):
    """Divide the lower triangle of ``W`` by ``scale``; failed lanes become the identity with scale 1."""
    scale = select(failed, 1.0, scale)
    inverse = 1.0 / scale
    for i in range(n):
        for j in range(i + 1):
            store(W, i * n + j, 0, select(failed, 1.0 if i == j else 0.0, load(W, i * n + j, 0) * inverse))
    return scale, failed


@njit(**_OPTIONS)
def _tridiagonalize(A, n, d, e, taus, v, w):
    """Householder reduction of the lower triangle of ``A`` to the tridiagonal ``(d, e)``.

    Rows are reduced from the last one up, as in EISPACK ``tred2``: row ``i`` is annihilated left of
    ``i - 1`` by ``H = I - tau v v^T``; with ``p = tau B v`` and ``w = p - (tau / 2)(p^T v) v``, the
    leading block ``B = A[:i, :i]`` becomes ``B - v w^T - w v^T``.  A whitened ``L^{-1} Y L^{-T}`` has its
    large entries at the bottom right (the rows of ``L^{-1}`` grow downwards), and this order with QL
    keeps the small eigenvalues accurate relative to themselves: for matrices of condition 1e8 the
    squared distances agree with 50-digit arithmetic to 1e-8 to 5e-7, where LAPACK's generalized
    ``eigvalsh`` (top-down ``dsytrd``) and pyRiemann are off by 5e-4 to 1e-2 (``python -m
    benchmarks.ablations lockstep``).  ``e[k]`` couples ``k`` and ``k + 1``.  Row ``i`` of ``A``
    keeps ``v`` (``v[i - 1] = 1`` implied) and ``taus[i]`` its ``tau``, for :func:`_accumulate`.
    """
    for i in range(n - 1, 1, -1):
        row = i * n
        tail = splat(A, 0.0)
        for j in range(i - 1):
            x = load(A, row + j, 0)
            tail = tail + x * x
        alpha = load(A, row + i - 1, 0)
        norm = sqrt(alpha * alpha + tail)
        beta = select(alpha >= 0.0, -norm, norm)
        trivial = tail == 0.0  # already reduced: H = I
        tau = select(trivial, 0.0, (beta - alpha) / beta)
        scale = select(trivial, 0.0, 1.0 / (alpha - beta))
        store(e, i - 1, 0, select(trivial, alpha, beta))
        store(d, i, 0, load(A, row + i, 0))
        store(taus, i, 0, tau)
        store(v, i - 1, 0, splat(A, 1.0))
        for j in range(i - 1):
            vj = load(A, row + j, 0) * scale
            store(v, j, 0, vj)
            store(A, row + j, 0, vj)
        for j in range(i):
            store(w, j, 0, splat(A, 0.0))
        for r in range(i):  # w = B v from the lower triangle
            vr = load(v, r, 0)
            total = load(A, r * n + r, 0) * vr
            for c in range(r):
                a = load(A, r * n + c, 0)
                total = total + a * load(v, c, 0)
                store(w, c, 0, load(w, c, 0) + a * vr)
            store(w, r, 0, load(w, r, 0) + total)
        dot = splat(A, 0.0)
        for r in range(i):
            wr = load(w, r, 0) * tau
            store(w, r, 0, wr)
            dot = dot + wr * load(v, r, 0)
        half = -0.5 * tau * dot
        for r in range(i):
            store(w, r, 0, load(w, r, 0) + half * load(v, r, 0))
        for r in range(i):
            vr, wr = load(v, r, 0), load(w, r, 0)
            for c in range(r + 1):
                store(A, r * n + c, 0, load(A, r * n + c, 0) - (vr * load(w, c, 0) + wr * load(v, c, 0)))
    store(d, 0, 0, load(A, 0, 0))
    store(e, n - 1, 0, splat(A, 0.0))
    if n > 1:
        store(d, 1, 0, load(A, n + 1, 0))
        store(e, 0, 0, load(A, n, 0))


@njit(**_OPTIONS)
def _deflation_point(d, e, top, squares, relative):
    """The first ``m >= top`` with ``e[m]`` negligible (``n - 1`` if none) and ``d[m]``, for every lane.

    ``e`` holds the squared couplings when ``squares``.  Negligible: ``e[m]^2 <= eps^2 |d[m] d[m + 1]|``
    if ``relative`` (small eigenvalues of definite matrices to full relative accuracy), else
    ``|e[m]| <= eps (|d[m]| + |d[m + 1]|)`` (indefinite matrices, whose eigenvalues may be 0).
    """
    n = d.shape[0]
    eps = np.finfo(d.dtype).eps
    m, d_m = splat(d, n - 1), load(d, n - 1, 0)
    for i in range(n - 2, top - 1, -1):
        d_i, d_next, e_i = load(d, i, 0), load(d, i + 1, 0), load(e, i, 0)
        squared, size = e_i if squares else e_i * e_i, fabs(d_i) + fabs(d_next)
        negligible = squared <= eps * eps * (fabs(d_i * d_next) if relative else size * size)
        m, d_m = select(negligible, i, m), select(negligible, d_i, d_m)
    return m, d_m


@njit(**_OPTIONS)
def _clear_deflated(e, top, m, active):
    """``e[m] = 0`` in the lanes that took a QL step from ``top`` (their deflation point ``m``)."""
    for i in range(top + 1, e.shape[0]):
        store(e, i, 0, select(active & (m == i), 0.0, load(e, i, 0)))


@njit(**_OPTIONS)
def _root_free_ql(d, e, failed):
    """Eigenvalues of the tridiagonals ``(d, e)`` into ``d``, by implicit QL on ``e^2`` (LAPACK ``dsterf``).

    Relative deflation (:func:`_deflation_point`).  One step from ``top`` to ``m``, per rotation ``i``:
    ``r = p + e_i^2``, ``c = p / r``, ``s = e_i^2 / r``, ``gamma' = c (d_i - sigma) - s gamma``,
    ``d_{i+1} = gamma + d_i - gamma'``, ``p' = gamma'^2 / c`` (``= c_old e_i^2`` when ``c = 0``).  The two
    quotients share one division, ``1 / (r p)`` (``c = 0``, ``s = 1`` when ``p = 0``); a lane where ``r p``
    falls below ``tiny / eps`` is flagged instead.  Returns ``failed`` with the lanes that did not converge added.

    The rotations of a step run in two loops (:func:`_staggered_rotations` while the active lanes' ``m``
    differ, then :func:`_aligned_rotations`, where every active lane rotates), so that the long second
    loop carries no per-lane masks; the arithmetic of every lane is that of one plain loop.
    """
    n = d.shape[0]
    small_product = np.finfo(d.dtype).tiny / np.finfo(d.dtype).eps
    for i in range(n - 1):
        x = load(e, i, 0)
        store(e, i, 0, x * x)
    for top in range(n):
        for step in range(MAX_STEPS + 1):
            m, d_m = _deflation_point(d, e, top, True, True)
            active = m > top
            if not any_lane(active):
                break
            if step == MAX_STEPS:
                failed = failed | active
                break
            d_top, e_top = load(d, top, 0), load(e, top, 0)
            root = sqrt(e_top)
            sigma = (load(d, top + 1, 0) - d_top) / (2.0 * root)
            radius = sqrt(sigma * sigma + 1.0)
            sigma = d_top - root / (sigma + select(sigma >= 0.0, radius, -radius))  # Wilkinson's shift
            gamma = d_m - sigma
            shortest = int(-max_lane(select(active, -m, 1.0 - n)))  # the smallest m of the active lanes
            c, s, gamma, p, low = _staggered_rotations(d, e, m, sigma, int(max_lane(m)) - 1, shortest - 1,
                                                       splat(d, 1.0), splat(d, 0.0), gamma, gamma * gamma)
            failed = failed | (low < small_product)
            c, s, gamma, p, low = _aligned_rotations(d, e, active, any_lane(~active), sigma, shortest - 2, top,
                                                     c, s, gamma, p)
            failed = failed | (active & (low < small_product))
            store(e, top, 0, select(active, s * p, e_top))
            store(d, top, 0, select(active, sigma + gamma, d_top))
    return failed


@njit(**_OPTIONS)
def _rotation(d, e, i, sigma, c, gamma, p):
    """Rotation ``i`` of :func:`_root_free_ql`: ``r``, ``r p``, ``c'``, ``s'``, ``gamma'``, ``p'`` and ``d_{i+1}``.

    ``r p`` is infinity where ``p = 0`` (no division took place).
    """
    bb = load(e, i, 0)
    r = p + bb
    product, nonzero = r * p, p != 0.0
    quotient = 1.0 / product
    c_next, s_next = select(nonzero, p * p * quotient, 0.0), select(nonzero, bb * p * quotient, 1.0)
    d_i = load(d, i, 0)
    gamma_next = c_next * (d_i - sigma) - s_next * gamma
    p_next = select(nonzero, gamma_next * gamma_next * (r * r * quotient), c * bb)
    return r, select(nonzero, product, np.inf), c_next, s_next, gamma_next, p_next, gamma + (d_i - gamma_next)


@njit(**_OPTIONS)
def _staggered_rotations(d, e, m, sigma, first, last, c, s, gamma, p):
    """Rotations ``i = first, ..., last`` (descending), each in the lanes with ``m > i`` (a lane starts at ``m - 1``).

    ``e[m]`` is set to 0 (deflated) in the lanes that rotate at ``i = m - 1``.  Returns ``c, s, gamma, p``
    and the smallest ``r p`` of the rotations with ``p != 0`` (infinity if none).
    """
    low = splat(d, np.inf)
    for i in range(first, last - 1, -1):
        rotate = m > i
        r, product, c_next, s_next, gamma_next, p_next, d_next = _rotation(d, e, i, sigma, c, gamma, p)
        store(e, i + 1, 0, select(rotate, select(m > i + 1, s * r, 0.0), load(e, i + 1, 0)))
        store(d, i + 1, 0, select(rotate, d_next, load(d, i + 1, 0)))
        low = select(rotate & (product < low), product, low)
        c, s = select(rotate, c_next, c), select(rotate, s_next, s)
        gamma, p = select(rotate, gamma_next, gamma), select(rotate, p_next, p)
    return c, s, gamma, p, low


@njit(**_OPTIONS)
def _aligned_rotations(d, e, active, masked, sigma, first, last, c, s, gamma, p):
    """Rotations ``i = first, ..., last`` (descending) in every ``active`` lane, all of which have ``m > i + 1``.

    Inactive lanes compute garbage that only their ``d``, ``e`` would see: stores keep their old values
    (``masked``: some lane is inactive; the branch is loop-invariant, so the unmasked loop has no blends).
    Returns as :func:`_staggered_rotations`, ``r p`` of inactive lanes included (the caller masks it).
    """
    low = splat(d, np.inf)
    for i in range(first, last - 1, -1):
        r, product, c_next, s_next, gamma_next, p_next, d_next = _rotation(d, e, i, sigma, c, gamma, p)
        if masked:
            store(e, i + 1, 0, select(active, s * r, load(e, i + 1, 0)))
            store(d, i + 1, 0, select(active, d_next, load(d, i + 1, 0)))
        else:
            store(e, i + 1, 0, s * r)
            store(d, i + 1, 0, d_next)
        low = select(product < low, product, low)
        c, s, gamma, p = c_next, s_next, gamma_next, p_next
    return c, s, gamma, p, low


@njit(**_OPTIONS)
def _accumulate(A, n, taus):
    """Overwrite ``A`` with ``Q^T`` for ``Q = H_{n-1} ... H_2``, the reflectors :func:`_tridiagonalize` left in it.

    ``Q`` is built as ``H_i Q`` for ``i = 2, ..., n - 1`` (EISPACK ``tred2``): before ``H_i`` it differs from
    the identity in its leading ``i x i`` block only, which ``H_i`` (stored in row ``i``) updates and whose
    rows held reflectors already applied; then row and column ``i`` join the block as ``e_i``.
    """
    for i in range(n):
        if i >= 2:
            tau, row = load(taus, i, 0), i * n
            for r in range(i):
                total = load(A, r * n + i - 1, 0)  # v[i - 1] = 1
                for c in range(i - 1):
                    total = total + load(A, r * n + c, 0) * load(A, row + c, 0)
                scaled = tau * total
                for c in range(i - 1):
                    store(A, r * n + c, 0, load(A, r * n + c, 0) - scaled * load(A, row + c, 0))
                store(A, r * n + i - 1, 0, load(A, r * n + i - 1, 0) - scaled)
        for c in range(i):
            store(A, i * n + c, 0, splat(A, 0.0))
            store(A, c * n + i, 0, splat(A, 0.0))
        store(A, i * n + i, 0, splat(A, 1.0))


@njit(**_OPTIONS)
def _ql_vectors(d, e, Qt, failed, relative=True):
    """Eigenvalues of the tridiagonals ``(d, e)`` into ``d`` and their rotations applied to the rows of ``Qt``.

    Implicit QL with Wilkinson's shift (EISPACK ``tql2``; :func:`_root_free_ql` has no rotations to
    apply and avoids the square root), deflating by :func:`_deflation_point` (``relative`` for definite
    matrices).  Each Givens rotation mixes rows ``i`` and ``i + 1`` of ``Qt``; lanes that do not rotate
    apply the identity.  Rows of ``Qt`` become the eigenvectors.  Entries must be at most of order one.
    Returns ``failed`` with the lanes that did not converge (or met ``f = g = 0``) added.
    """
    n = d.shape[0]
    for top in range(n):
        for step in range(MAX_STEPS + 1):
            m, d_m = _deflation_point(d, e, top, False, relative)
            active = m > top
            if not any_lane(active):
                break
            if step == MAX_STEPS:
                failed = failed | active
                break
            d_top, e_top = load(d, top, 0), load(e, top, 0)
            h = (load(d, top + 1, 0) - d_top) / (2.0 * e_top)
            radius = sqrt(h * h + 1.0)
            g = d_m - d_top + e_top / (h + select(h >= 0.0, radius, -radius))
            s, c, p = splat(d, 1.0), splat(d, 1.0), splat(d, 0.0)
            for i in range(int(max_lane(m)) - 1, top - 1, -1):
                rotate = m > i
                e_i = load(e, i, 0)
                f, b = s * e_i, c * e_i
                norm = sqrt(f * f + g * g)
                zero = norm == 0.0
                failed = failed | (rotate & zero)
                inverse = 1.0 / select(zero, 1.0, norm)
                s_next, c_next = f * inverse, g * inverse
                h = load(d, i + 1, 0) - p
                r = (load(d, i, 0) - h) * s_next + 2.0 * c_next * b
                p_next = s_next * r
                store(e, i + 1, 0, select(rotate, norm, load(e, i + 1, 0)))
                store(d, i + 1, 0, select(rotate, h + p_next, load(d, i + 1, 0)))
                sine, cosine = select(rotate, s_next, 0.0), select(rotate, c_next, 1.0)
                upper, lower = i * n, (i + 1) * n
                for q in range(n):
                    x, y = load(Qt, upper + q, 0), load(Qt, lower + q, 0)
                    store(Qt, lower + q, 0, sine * x + cosine * y)
                    store(Qt, upper + q, 0, cosine * x - sine * y)
                g = select(rotate, c_next * r - b, g)
                s, c, p = select(rotate, s_next, s), select(rotate, c_next, c), select(rotate, p_next, p)
            store(d, top, 0, select(active, d_top - p, d_top))
            store(e, top, 0, select(active, g, e_top))
            _clear_deflated(e, top, m, active)
    return failed


@njit(**_OPTIONS)
def _gather(S, first, A):
    """Lane ``j`` of ``A`` (rows ``a * n + b``) gets ``S[first + j]``; lanes past the end of ``S`` the identity."""
    n = S.shape[1]
    for lane in range(WIDTH):
        k = first + lane
        for a in range(n):
            for b in range(n):
                A[a * n + b, lane] = S[k, a, b] if k < S.shape[0] else (1.0 if a == b else 0.0)


@njit(**_OPTIONS)
def _diagonalize(Qt, n, work, failed, definite):
    """Eigen-decomposition of the normalized symmetric lanes of ``Qt`` (rows ``a * n + b``), in place.

    Eigenvectors become the rows of ``Qt``, eigenvalues land in ``work[0]``; returns ``failed`` with the
    lanes whose QL failed added.  ``definite`` selects the relative deflation test; the caller normalizes
    (:func:`_normalize` or :func:`_normalize_symmetric`).
    """
    d, e, taus, v, w = work
    _tridiagonalize(Qt, n, d, e, taus, v, w)
    _accumulate(Qt, n, taus)
    return _ql_vectors(d, e, Qt, failed, definite)


@njit(**_OPTIONS)
def _add_spectral(Qt, n, coefficients, D):
    """``D += sum_k coefficients[k] q_k q_k^T`` for the eigenvector rows ``q_k`` of ``Qt``.

    ``D`` holds the lower triangle packed by rows (entry ``(a, b)``, ``b <= a``, in row ``a (a + 1) / 2 + b``).
    """
    for k in range(n):
        coefficient = load(coefficients, k, 0)
        for a in range(n):
            scaled, packed = coefficient * load(Qt, k * n + a, 0), a * (a + 1) // 2
            for b in range(a + 1):
                store(D, packed + b, 0, load(D, packed + b, 0) + scaled * load(Qt, k * n + b, 0))


@njit(**_OPTIONS)
def _ill_conditioned(d, n, floor):
    """Lanes whose eigenvalues ``d`` (rows ``0..n-1``) have ``min <= floor * max``."""
    low, high = load(d, 0, 0), load(d, 0, 0)
    for i in range(1, n):
        x = load(d, i, 0)
        low, high = select(x < low, x, low), select(x > high, x, high)
    return ~(low > high * floor)


@njit(**_OPTIONS)
def _add_logarithm(S, first, sign, Qt, work, D):
    """``D += sign * log(S[first + lane])`` (packed) for every lane; returns the failed lanes.

    A lane that breaks the definiteness rule (smallest eigenvalue at most ``n eps`` times the largest)
    fails, for the caller's exact check.
    """
    n = S.shape[1]
    _gather(S, first, Qt)
    scale, failed = _normalize(Qt, n)
    failed = _diagonalize(Qt, n, work, failed, True)
    failed = failed | _ill_conditioned(work[0], n, n * np.finfo(S.dtype).eps)
    d, v = work[0], work[3]
    for k in range(n):
        store(v, k, 0, sign * log(load(d, k, 0) * scale))
    _add_spectral(Qt, n, v, D)
    return failed


@njit(**_PARALLEL)
def eigh_stack(S, d, P, failed):
    """``S[k] = P[k] diag(d[k]) P[k]^T`` with ascending ``d[k]`` for a stack of symmetric ``S`` ``(K, n, n)``.

    ``failed[k]`` marks the matrices to recompute (not finite, QL breakdown).
    """
    K, n = S.shape[0], S.shape[1]
    groups = -(-K // WIDTH)
    chunks = min(groups, 64)
    for chunk in prange(chunks):
        Qt, work = np.empty((n * n, WIDTH), S.dtype), _lane_rows(n, S.dtype)
        values, flags = work[0], np.empty((1, WIDTH), S.dtype)
        for group in range(chunk * groups // chunks, (chunk + 1) * groups // chunks):
            first = group * WIDTH
            _gather(S, first, Qt)
            scale, bad = _normalize_symmetric(Qt, n)
            bad = _diagonalize(Qt, n, work, bad, False)
            for i in range(n):
                store(values, i, 0, load(values, i, 0) * scale)
            store(flags, 0, 0, select(bad, splat(flags, 1.0), 0.0))
            for lane in range(min(WIDTH, K - first)):
                k = first + lane
                failed[k] = flags[0, lane] != 0.0
                order = np.argsort(values[:, lane])
                for j in range(n):
                    d[k, j] = values[order[j], lane]
                    row = order[j] * n
                    for a in range(n):
                        P[k, a, j] = Qt[row + a, lane]


@njit(**_PARALLEL)
def le_squared_distances(A, B, out, failed):
    """``out[k] = ||log A[k] - log B[k]||_F^2`` for stacks of shape ``(K, n, n)``, ``WIDTH`` pairs per task.

    ``failed[k]`` marks the pairs to recompute (non-finite or non-positive lanes, QL breakdown).
    """
    K, n = A.shape[0], A.shape[1]
    groups = -(-K // WIDTH)
    chunks = min(groups, 64)
    for chunk in prange(chunks):
        Qt, work = np.empty((n * n, WIDTH), A.dtype), _lane_rows(n, A.dtype)
        D, result = np.empty((n * (n + 1) // 2, WIDTH), A.dtype), np.empty((2, WIDTH), A.dtype)
        for group in range(chunk * groups // chunks, (chunk + 1) * groups // chunks):
            first = group * WIDTH
            D[:, :] = 0.0
            bad = _add_logarithm(A, first, 1.0, Qt, work, D) | _add_logarithm(B, first, -1.0, Qt, work, D)
            total = splat(D, 0.0)
            for a in range(n):
                packed = a * (a + 1) // 2
                x = load(D, packed + a, 0)
                total = total + x * x
                for b in range(a):
                    x = load(D, packed + b, 0)
                    total = total + 2.0 * x * x
            store(result, 0, 0, total)
            store(result, 1, 0, select(bad, splat(result, 1.0), 0.0))
            _write_lanes(result, first, out, failed)


@njit(**_OPTIONS)
def _congruence(L_inv, X, W, row):
    """Lower triangle of ``W = L_inv X L_inv^T`` for a lower-triangular ``L_inv`` shared by all lanes.

    Row ``a`` of ``L_inv X`` (in ``row``) gives row ``a`` of ``W``: ``n^3 / 2 + n^3 / 6`` multiply-adds.
    """
    n = L_inv.shape[0]
    for a in range(n):
        for b in range(n):
            total = L_inv[a, 0] * load(X, b, 0)
            for k in range(1, a + 1):
                total = total + L_inv[a, k] * load(X, k * n + b, 0)
            store(row, b, 0, total)
        for c in range(a + 1):
            total = load(row, 0, 0) * L_inv[c, 0]
            for k in range(1, c + 1):
                total = total + load(row, k, 0) * L_inv[c, k]
            store(W, a * n + c, 0, total)


@njit(**_PARALLEL)
def ai_whitened_log_sums(X, L_inv, weights, partial, failed):
    r"""``partial.sum(0) = sum_i w_i log(L_inv X_i L_inv^T)`` (lower triangle), ``WIDTH`` matrices per group.

    ``weights`` has shape ``(1, K + WIDTH)`` (zero past ``K``); each thread sums into its ``partial[t]``.
    ``failed[i]`` marks the matrices left out (non-finite, QL breakdown, whitened condition number above
    :math:`1/\sqrt{\epsilon}`), for the caller to add.
    """
    K, n = X.shape[0], X.shape[1]
    threads, groups = partial.shape[0], -(-K // WIDTH)
    for t in prange(threads):
        G, Qt, work = np.empty((n * n, WIDTH), X.dtype), np.empty((n * n, WIDTH), X.dtype), _lane_rows(n, X.dtype)
        D, flags = np.zeros((n * (n + 1) // 2, WIDTH), X.dtype), np.empty((1, WIDTH), X.dtype)
        d, v = work[0], work[3]
        for group in range(t * groups // threads, (t + 1) * groups // threads):
            first = group * WIDTH
            _gather(X, first, G)
            _congruence(L_inv, G, Qt, v)
            scale, bad = _normalize(Qt, n)
            bad = _diagonalize(Qt, n, work, bad, True)
            bad = bad | _ill_conditioned(d, n, np.sqrt(np.finfo(X.dtype).eps))  # the factor's SVD keeps more digits
            weight = select(bad, 0.0, load(weights, 0, first))
            for k in range(n):
                store(v, k, 0, weight * log(load(d, k, 0) * scale))
            _add_spectral(Qt, n, v, D)
            store(flags, 0, 0, select(bad, splat(flags, 1.0), 0.0))
            for lane in range(min(WIDTH, K - first)):
                failed[first + lane] = flags[0, lane] != 0.0
        for a in range(n):
            for b in range(a + 1):
                partial[t, a, b] = np.sum(D[a * (a + 1) // 2 + b])


@njit(**_OPTIONS)
def _log_squared_sum(W, n, work, failed, result):
    r"""``result[0] = sum_k log^2 lambda_k(W)`` for every lane (``W`` destroyed), ``result[1] = 1`` where it failed.

    A lane whose condition number exceeds :math:`1/\sqrt{\epsilon}` also fails: the eigenvalues of the
    Gram matrix ``W = M M^T`` lose the digits that the singular values of ``M`` (the caller's fallback) keep.
    """
    d, e, taus, v, w = work
    scale, singular = _normalize(W, n)
    _tridiagonalize(W, n, d, e, taus, v, w)
    failed = _root_free_ql(d, e, failed | singular)
    total = splat(d, 0.0)
    for i in range(n):
        x = log(load(d, i, 0) * scale)
        total = total + x * x
    failed = failed | _ill_conditioned(d, n, np.sqrt(np.finfo(d.dtype).eps))
    store(result, 0, 0, total)
    store(result, 1, 0, select(failed, splat(result, 1.0), 0.0))


@njit(**_OPTIONS)
def _cholesky(A, n):
    """Lower Cholesky factor of every lane of ``A`` in place; returns the lanes that are not positive definite.

    A lane fails when a pivot is not above sqrt(eps) times its largest diagonal entry (a screen for
    the definiteness rule, applied exactly by the caller to the failed lanes).  A failed lane continues
    on a unit pivot (its result is discarded), so that no lane produces NaN.
    """
    failed = splat(A, 0.0) != 0.0
    top = load(A, 0, 0)
    for j in range(1, n):
        diagonal = load(A, j * n + j, 0)
        top = select(diagonal > top, diagonal, top)
    floor = top * np.sqrt(np.finfo(A.dtype).eps)
    for j in range(n):
        total = load(A, j * n + j, 0)
        for k in range(j):
            x = load(A, j * n + k, 0)
            total = total - x * x
        failed = failed | ~(total > floor)
        pivot = sqrt(select(failed, 1.0, total))
        store(A, j * n + j, 0, pivot)
        inverse = 1.0 / pivot
        for i in range(j + 1, n):
            total = load(A, i * n + j, 0)
            for k in range(j):
                total = total - load(A, i * n + k, 0) * load(A, j * n + k, 0)
            store(A, i * n + j, 0, total * inverse)
    return failed


@njit(**_OPTIONS)
def _solve_gram(L, M, n):
    """``M <- L^{-1} M`` for lower-triangular ``L`` and ``M`` (row by row, in place), then ``L <- M M^T`` (lower)."""
    for a in range(n):
        inverse = 1.0 / load(L, a * n + a, 0)
        for b in range(a + 1):
            total = load(M, a * n + b, 0)
            for k in range(b, a):
                total = total - load(L, a * n + k, 0) * load(M, k * n + b, 0)
            store(M, a * n + b, 0, total * inverse)
    _lower_gram(M, L, n)


@njit(**_PARALLEL)
def ai_squared_distances(A, B, out, failed):
    """``out[k] = d_AI^2(A[k], B[k])`` for stacks of shape ``(K, n, n)``, ``WIDTH`` pairs per task.

    With ``A = R R^T`` and ``B = L L^T`` (Cholesky in lanes), ``M = L^{-1} R`` and the eigenvalues of
    ``M M^T = L^{-1} A L^{-T}``.  ``failed[k]`` marks the pairs to recompute.
    """
    K, n = A.shape[0], A.shape[1]
    groups = -(-K // WIDTH)
    chunks = min(groups, 64)
    for chunk in prange(chunks):
        L, M, work = np.empty((n * n, WIDTH), A.dtype), np.empty((n * n, WIDTH), A.dtype), _lane_rows(n, A.dtype)
        result = np.empty((2, WIDTH), A.dtype)
        for group in range(chunk * groups // chunks, (chunk + 1) * groups // chunks):
            first = group * WIDTH
            _gather(B, first, L)
            _gather(A, first, M)
            bad = _cholesky(L, n) | _cholesky(M, n)
            _solve_gram(L, M, n)
            _log_squared_sum(L, n, work, bad, result)
            _write_lanes(result, first, out, failed)


@njit(**_OPTIONS)
def _transposed_product_gram(C, R, n, row):
    """``R <- C^T R`` (full; ``C``, ``R`` lower triangular) row by row in place, then ``C <- R R^T`` (lower).

    Row ``a`` of ``C^T R`` reads the rows ``k >= a`` of ``R``, so it may replace row ``a`` once computed.
    """
    for a in range(n):
        for b in range(n):
            first = max(a, b)
            total = load(C, first * n + a, 0) * load(R, first * n + b, 0)
            for k in range(first + 1, n):
                total = total + load(C, k * n + a, 0) * load(R, k * n + b, 0)
            store(row, b, 0, total)
        for b in range(n):
            store(R, a * n + b, 0, load(row, b, 0))
    for a in range(n):
        for c in range(a + 1):
            total = load(R, a * n, 0) * load(R, c * n, 0)
            for b in range(1, n):
                total = total + load(R, a * n + b, 0) * load(R, c * n + b, 0)
            store(C, a * n + c, 0, total)


@njit(**_PARALLEL)
def bw_squared_distances(A, B, out, failed):
    """``out[k] = d_BW^2(A[k], B[k]) = tr A + tr B - 2 sum_i lambda_i^{1/2}`` with ``lambda = eig(A B)``.

    With ``A = R R^T`` and ``B = C C^T`` (Cholesky in lanes), ``lambda`` are the eigenvalues of
    ``N N^T``, ``N = C^T R``; no matrix square root.  ``failed[k]`` marks the pairs to recompute.
    """
    K, n = A.shape[0], A.shape[1]
    groups = -(-K // WIDTH)
    chunks = min(groups, 64)
    for chunk in prange(chunks):
        C, R, work = np.empty((n * n, WIDTH), A.dtype), np.empty((n * n, WIDTH), A.dtype), _lane_rows(n, A.dtype)
        result = np.empty((2, WIDTH), A.dtype)
        d, e, taus, v, w = work
        for group in range(chunk * groups // chunks, (chunk + 1) * groups // chunks):
            first = group * WIDTH
            _gather(B, first, C)
            _gather(A, first, R)
            traces = splat(C, 0.0)
            for i in range(n):
                traces = traces + load(C, i * n + i, 0) + load(R, i * n + i, 0)
            bad = _cholesky(C, n) | _cholesky(R, n)
            _transposed_product_gram(C, R, n, v)
            scale, singular = _normalize(C, n)
            _tridiagonalize(C, n, d, e, taus, v, w)
            bad = _root_free_ql(d, e, bad | singular)
            nuclear = splat(d, 0.0)
            for i in range(n):
                x = load(d, i, 0)
                nuclear = nuclear + sqrt(select(x > 0.0, x, 0.0))
            distance = traces - 2.0 * nuclear * sqrt(scale)
            store(result, 0, 0, select(distance > 0.0, distance, 0.0))
            store(result, 1, 0, select(bad, splat(result, 1.0), 0.0))
            _write_lanes(result, first, out, failed)


@njit(**_OPTIONS)
def _ai_squared_distances(L_inv, R, col, work, result):
    """``result[0] = d^2(X_i, Y_{col + lane})`` for every lane, ``result[1] = 1`` where the lane failed."""
    M, W = work[0], work[1]
    _whiten(L_inv, R, col, M, W)
    _log_squared_sum(W, L_inv.shape[0], work[2:], splat(W, 0.0) != 0.0, result)


@njit(**_PARALLEL)
def ai_squared_pairwise(L_inv, R, rows, cols, symmetric, out, failed):
    """``out[i, j] = d_AI^2(X_i, Y_j)`` for the tasks ``(rows[t], cols[t] + lane)`` with ``j < out.shape[1]``.

    ``L_inv[i]`` is the inverse of the lower Cholesky factor of ``X_i``; ``R[a * n + b, j]`` holds entry
    ``(a, b)`` of the factor of ``Y_j``, with ``WIDTH`` padding columns.  ``symmetric`` also writes
    ``out[j, i]``.  ``failed[i, j]`` marks the pairs to recompute.
    """
    tasks, n = rows.shape[0], L_inv.shape[1]
    chunks = min(tasks, 64)
    for chunk in prange(chunks):
        squares = (np.empty((n * n, WIDTH), L_inv.dtype), np.empty((n * n, WIDTH), L_inv.dtype))
        work = squares + _lane_rows(n, L_inv.dtype)
        result = np.empty((2, WIDTH), L_inv.dtype)
        for task in range(chunk * tasks // chunks, (chunk + 1) * tasks // chunks):
            i, first = rows[task], cols[task]
            _ai_squared_distances(L_inv[i], R, first, work, result)
            for lane in range(min(WIDTH, out.shape[1] - first)):
                j = first + lane
                out[i, j] = result[0, lane]
                failed[i, j] = result[1, lane] != 0.0
                if symmetric:
                    out[j, i] = result[0, lane]


def lane_layout(C):
    """Stack ``(K, n, n)`` as ``(n * n, K + WIDTH)``: column ``k`` is ``C[k]`` row by row, padded with identities."""
    K, n = C.shape[0], C.shape[1]
    R = np.zeros((n * n, K + WIDTH), dtype=C.dtype)
    R[:, :K] = C.reshape(K, n * n).T
    R[np.arange(n) * (n + 1), K:] = 1.0
    return R


def tasks(N, M, symmetric):
    """Rows and first columns of the lane groups covering all pairs (``j > i`` only when ``symmetric``)."""
    if not symmetric:
        starts = np.arange(0, M, WIDTH)
        return np.repeat(np.arange(N), starts.size), np.tile(starts, N)
    counts = -(-(N - 1 - np.arange(N)) // WIDTH)
    rows = np.repeat(np.arange(N), counts)
    offsets = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, rows + 1 + WIDTH * offsets


@njit(**_PARALLEL)
def from_eig_stack(P, values, out):
    """``out[k] = P[k] diag(values[k]) P[k]^T``, exactly symmetric, for stacks ``P``, ``values`` (BLAS per matrix)."""
    for k in prange(P.shape[0]):
        M = (P[k] * values[k]) @ P[k].T
        out[k, :, :] = (M + M.T) / 2
