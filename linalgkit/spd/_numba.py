"""Numba kernels of the SPD family: batched eigen-decompositions and the affine-invariant whitening.

Every public kernel runs in parallel over a stack of matrices (or pairs), one task per group of
:data:`LANES` matrices with the BLAS held at one thread by the caller, so that both cores work on small
matrices, which a single batched NumPy call leaves to one core.  Small matrices are diagonalized by
Householder tridiagonalization and implicit QL interleaved over the group (:func:`_eigen_lanes`), larger
ones by LAPACK.  The whitening is
``Z = C^{-1} A C^{-T}`` with ``C = chol(B)``; the generalized eigenvalues of ``(A, B)`` are the
eigenvalues of ``Z``.
"""

import numpy as np
from numba import njit, prange

# Reassociation lets LLVM vectorize the dot products below (sums in a different order, same accuracy);
# NaN and infinity keep their IEEE meaning, on which the callers' checks rely.
_REASSOCIATE = {"reassoc", "contract"}


@njit(cache=True, fastmath=_REASSOCIATE)
def _dot(x, y, length):
    """``sum(x[:length] * y[:length])``."""
    total = 0.0
    for k in range(length):
        total += x[k] * y[k]
    return total


@njit(cache=True, fastmath=_REASSOCIATE)
def _whiten(C_inv, A, Z, T):
    """``Z = C_inv A C_inv^T`` for a lower-triangular ``C_inv`` (``T`` is workspace); rows of ``T`` as axpys."""
    n = A.shape[0]
    for i in range(n):
        row = T[i]
        row[:] = 0.0
        for k in range(i + 1):
            factor, source = C_inv[i, k], A[k]
            for q in range(n):
                row[q] += factor * source[q]
    for i in range(n):
        for j in range(i + 1):
            Z[i, j] = Z[j, i] = _dot(T[i], C_inv[j], j + 1)


@njit(cache=True, fastmath=_REASSOCIATE)
def _cholesky(A, C):
    """Lower Cholesky factor of ``A`` into ``C``; False (and ``C`` undefined) when ``A`` is not positive definite."""
    n = A.shape[0]
    for j in range(n):
        s = A[j, j] - _dot(C[j], C[j], j)
        if not s > 0:
            return False
        C[j, j] = np.sqrt(s)
        for i in range(j + 1, n):
            C[i, j] = (A[i, j] - _dot(C[i], C[j], j)) / C[j, j]
        for i in range(j):
            C[i, j] = 0.0
    return True


@njit(cache=True, fastmath=_REASSOCIATE)
def _lower_inverse(C, out):
    """Inverse of a lower-triangular ``C``: row ``i`` is ``(e_i - sum_k C[i, k] out[k]) / C[i, i]``, ``k < i``."""
    n = C.shape[0]
    for i in range(n):
        row = out[i]
        row[:] = 0.0
        row[i] = 1.0
        for k in range(i):
            factor, above = C[i, k], out[k]
            for q in range(k + 1):
                row[q] -= factor * above[q]
        inverse = 1.0 / C[i, i]
        for q in range(i + 1):
            row[q] *= inverse


@njit(cache=True)
def _finite(X):
    return np.all(np.isfinite(X))


@njit(cache=True, fastmath=_REASSOCIATE)
def _tridiagonalize(a, d, e, vectors):
    """Householder reduction of symmetric ``a`` (lower triangle read) to the tridiagonal ``(d, e)``.

    ``d`` receives the diagonal and ``e[i]`` the entry coupling ``i - 1`` and ``i`` (``e[0]`` unused);
    the rows are reduced from the last one up, as in EISPACK ``tred2``.  ``a`` is overwritten, with
    the orthogonal ``Q`` of ``a = Q T Q^T`` when ``vectors`` is True.
    """
    n = a.shape[0]
    for i in range(n - 1, 0, -1):
        h = 0.0
        scale = 0.0
        for k in range(i):
            scale += abs(a[i, k])
        if i == 1 or scale == 0.0:
            e[i] = a[i, i - 1]
        else:
            for k in range(i):
                a[i, k] /= scale
                h += a[i, k] * a[i, k]
            f = a[i, i - 1]
            g = -np.sqrt(h) if f >= 0 else np.sqrt(h)
            e[i] = scale * g
            h -= f * g
            a[i, i - 1] = f - g
            u = a[i]  # u[:i] is the Householder vector
            e[:i] = 0.0
            for k in range(i):  # e[:i] = (a[:i, :i] u) / h from the lower triangle, one row at a time
                if vectors:
                    a[k, i] = u[k] / h  # u / h kept in the (unread) upper triangle
                row = a[k]
                e[k] += _dot(row, u, k + 1)
                for j in range(k):
                    e[j] += row[j] * u[k]
            f = 0.0
            for j in range(i):
                e[j] /= h
                f += e[j] * u[j]
            hh = f / (h + h)
            for j in range(i):  # rank-2 update of the leading block's lower triangle
                f = a[i, j]
                g = e[j] - hh * f
                e[j] = g
                for k in range(j + 1):
                    a[j, k] -= f * e[k] + g * a[i, k]
        d[i] = h
    if vectors:
        _accumulate(a, d)
    else:
        for i in range(n):
            d[i] = a[i, i]


@njit(cache=True, fastmath=_REASSOCIATE)
def _accumulate(a, d):
    """Form ``Q`` in ``a`` from the reflectors left by :func:`_tridiagonalize` (``d[i] != 0``: row ``i`` holds one).

    Reflector ``i`` updates the leading block ``B = a[:i, :i]`` to ``B - (u / h) (u^T B)``, with ``u``
    in row ``i`` and ``u / h`` in column ``i``; both products run along rows.
    """
    n = a.shape[0]
    w = np.empty(n, dtype=a.dtype)
    d[0] = 0.0
    for i in range(n):
        if d[i] != 0.0:
            w[:i] = 0.0
            for k in range(i):
                factor, row = a[i, k], a[k]
                for j in range(i):
                    w[j] += factor * row[j]
            for k in range(i):
                factor, row = a[k, i], a[k]
                for j in range(i):
                    row[j] -= factor * w[j]
        d[i] = a[i, i]
        a[i, i] = 1.0
        for j in range(i):
            a[j, i] = 0.0
            a[i, j] = 0.0


LANES = 4
"""Independent tridiagonal problems that :func:`_ql_lanes` interleaves.  Each Givens step of QL waits
about 60 cycles on a square root and a division; four independent chains overlap in the core: 2.3x the
throughput of one at n = 22, eigenvalues only (``python -m benchmarks.ablations ql_lanes``); with
eigenvectors the row updates dominate."""

_SEEK, _CHASE, _DONE = 0, 1, 2


@njit(cache=True, fastmath=_REASSOCIATE)
def _ql_lanes(d, e, Qt):
    """Eigenvalues of the tridiagonals ``(d[j], e[j])`` into ``d[j]`` (unsorted), for every lane ``j`` at once.

    Implicit QL with Wilkinson's shift (EISPACK ``tql2``), one lane per problem; ``e[j, i]`` couples
    ``i`` and ``i + 1``.  Each Givens rotation is also applied to the rows of ``Qt[j]`` (``Q^T``, or
    ``(n, 0)`` for eigenvalues only), whose rows become the eigenvectors.  The lanes advance one
    rotation at a time in turn: a lane either chases a bulge (``_CHASE``) or looks for the next
    unreduced block and computes its shift (``_SEEK``).  ``e[j, m]`` is deflated when
    ``|e[j, m]| <= eps (|d[j, m]| + |d[j, m+1]|)``.  Entries must be of order one (no overflow guard
    for ``sqrt(f^2 + g^2)``).  Returns a boolean per lane: False when an eigenvalue took more than 60
    QL steps.
    """
    lanes, n = d.shape
    eps = np.finfo(d.dtype).eps
    phase = np.full(lanes, _SEEK)
    l, m = np.zeros(lanes, np.int64), np.zeros(lanes, np.int64)
    i, steps = np.zeros(lanes, np.int64), np.zeros(lanes, np.int64)
    s, c, p, g = np.ones(lanes), np.ones(lanes), np.zeros(lanes), np.zeros(lanes)
    converged = np.ones(lanes, np.bool_)
    active = lanes
    while active > 0:
        for j in range(lanes):
            if phase[j] == _CHASE:  # one rotation of the bulge chase from m up to l
                k = i[j]
                f, b = s[j] * e[j, k], c[j] * e[j, k]
                r = np.sqrt(f * f + g[j] * g[j])
                e[j, k + 1] = r
                if r == 0.0:  # underflow: d[k + 1] is decoupled, restart from l
                    d[j, k + 1] -= p[j]
                    e[j, m[j]] = 0.0
                    phase[j] = _SEEK
                    continue
                sj, cj = f / r, g[j] / r
                h = d[j, k + 1] - p[j]
                r = (d[j, k] - h) * sj + 2.0 * cj * b
                p[j] = sj * r
                d[j, k + 1] = h + p[j]
                g[j], s[j], c[j] = cj * r - b, sj, cj
                upper, lower = Qt[j, k], Qt[j, k + 1]
                for q in range(upper.shape[0]):
                    f = lower[q]
                    lower[q] = sj * upper[q] + cj * f
                    upper[q] = cj * upper[q] - sj * f
                i[j] = k - 1
                if k == l[j]:
                    d[j, k] -= p[j]
                    e[j, k] = g[j]
                    e[j, m[j]] = 0.0
                    phase[j] = _SEEK
            elif phase[j] == _SEEK:  # find the unreduced block [l, m]; start a chase or finish the lane
                lj = l[j]
                mj = lj
                while lj < n:
                    mj = lj
                    while mj < n - 1 and abs(e[j, mj]) > eps * (abs(d[j, mj]) + abs(d[j, mj + 1])):
                        mj += 1
                    if mj != lj:
                        break
                    lj += 1
                    steps[j] = 0
                if lj == n or steps[j] == 60:
                    converged[j] = lj == n
                    phase[j] = _DONE
                    active -= 1
                    continue
                steps[j] += 1
                h = (d[j, lj + 1] - d[j, lj]) / (2.0 * e[j, lj])
                r = np.sqrt(h * h + 1.0)
                g[j] = d[j, mj] - d[j, lj] + e[j, lj] / (h + (r if h >= 0 else -r))
                s[j], c[j], p[j] = 1.0, 1.0, 0.0
                l[j], m[j], i[j] = lj, mj, mj - 1
                phase[j] = _CHASE
    return converged


QL_LARGEST_N = 200
"""Largest ``n`` whose eigenvalues alone :func:`_eigen_lanes` computes; above it LAPACK's ``syevd``.  Our time /
LAPACK's on a 2-core machine (``python -m benchmarks.ablations eigensolver``): 0.50 at n = 22, 0.51 at 64,
0.56 at 128, 0.66 at 200; larger sizes unmeasured."""

QL_VECTORS_LARGEST_N = 112
"""The same limit with eigenvectors (0.47 at n = 22, 0.63 at 64, 0.81 at 80, 0.98 at 112, 1.05 at 128)."""


@njit(cache=True)
def _eigen_lanes(S, d, Qt):
    """Ascending eigenvalues ``d[j]`` of the symmetric ``S[j]``, and ``Q^T`` (eigenvectors as rows) in ``Qt[j]``.

    Up to :data:`LANES` matrices at once: Householder tridiagonalization of each, then the interleaved
    QL of :func:`_ql_lanes`.  ``Qt`` of shape ``(k, n, 0)`` asks for eigenvalues only.  Each ``S[j]`` is
    scaled to largest entry 1 first so that no step can overflow; NaN for a lane whose matrix is not
    finite or whose QL does not converge.
    """
    lanes, n = d.shape
    vectors = Qt.shape[2] > 0
    e = np.empty_like(d)
    scales = np.ones(lanes, dtype=d.dtype)
    finite = np.empty(lanes, dtype=np.bool_)
    for j in range(lanes):
        finite[j] = _finite(S[j])
        largest = np.max(np.abs(S[j])) if finite[j] else 0.0
        if largest > 0:
            scales[j] = largest
        a = S[j] / scales[j] if finite[j] else np.zeros_like(S[j])
        _tridiagonalize(a, d[j], e[j], vectors)
        e[j, : n - 1] = e[j, 1:].copy()
        e[j, n - 1] = 0.0
        if vectors:
            Qt[j, :, :] = a.T
    converged = _ql_lanes(d, e, Qt)
    for j in range(lanes):
        if not (converged[j] and finite[j]):
            d[j, :] = np.nan
            Qt[j, :, :] = np.nan
        order = np.argsort(d[j])
        d[j, :] = d[j][order] * scales[j]
        if vectors:
            Qt[j, :, :] = Qt[j][order].copy()


@njit(cache=True)
def _eigvalsh_lanes(S, d):
    """Ascending eigenvalues ``d[j]`` of each symmetric ``S[j]``, NaN where not finite.

    LAPACK above :data:`QL_LARGEST_N`.
    """
    if S.shape[1] <= QL_LARGEST_N:
        _eigen_lanes(S, d, np.empty((S.shape[0], S.shape[1], 0), dtype=S.dtype))
        return
    for j in range(S.shape[0]):
        if _finite(S[j]):
            d[j, :] = np.linalg.eigvalsh(S[j])
        else:
            d[j, :] = np.nan


@njit(cache=True)
def _log_squared_sums(Z, out):
    """``out[j] = sum_i log^2 lambda_i(Z[j])`` for a group of whitened ``Z[j]`` (NaN where not finite)."""
    d = np.empty(Z.shape[:2], dtype=Z.dtype)
    _eigvalsh_lanes(Z, d)
    for j in range(Z.shape[0]):
        out[j] = np.sum(np.log(d[j]) ** 2)


@njit(cache=True, parallel=True)
def ai_squared_distances(A, B, out):
    """``out[k] = d_AI^2(A[k], B[k])`` through ``C = chol(B[k])`` (NaN where ``B[k]`` is not positive definite)."""
    K, n = A.shape[0], A.shape[1]
    for group in prange((K + LANES - 1) // LANES):
        first, count = group * LANES, min(LANES, K - group * LANES)
        Z = np.empty((count, n, n), dtype=A.dtype)
        C, C_inv, T = np.empty((n, n), A.dtype), np.empty((n, n), A.dtype), np.empty((n, n), A.dtype)
        for j in range(count):
            if _cholesky(B[first + j], C):
                _lower_inverse(C, C_inv)
                _whiten(C_inv, A[first + j], Z[j], T)
            else:  # reported by the caller's input funnel, with the matrix index
                Z[j, :, :] = np.nan
        _log_squared_sums(Z, out[first:first + count])


@njit(cache=True, fastmath=_REASSOCIATE)
def _add_spectral(Qt, coefficients, out):
    """``out += Q diag(coefficients) Q^T`` (lower triangle only) for eigenvectors given as rows of ``Qt``."""
    n = coefficients.shape[0]
    for k in range(n):
        vector, factor = Qt[k], coefficients[k]
        for a in range(n):
            scaled, row = factor * vector[a], out[a]
            for b in range(a + 1):
                row[b] += scaled * vector[b]


@njit(cache=True, parallel=True)
def ai_whitened_log_sums(X, C_inv, w, partial):
    """``partial.sum(0) = sum_i w_i log(C_inv X_i C_inv^T)`` (lower triangle) for a stack ``X``.

    One pass, no stack intermediates: each thread whitens, diagonalizes and accumulates its share of
    the matrices, :data:`LANES` at a time, into its own ``partial[t]``.  NaN propagates from a
    matrix that is not finite or not positive definite after whitening.
    """
    K, n = X.shape[0], X.shape[1]
    threads, groups = partial.shape[0], (K + LANES - 1) // LANES
    for t in prange(threads):
        Z, T = np.empty((LANES, n, n), dtype=X.dtype), np.empty((n, n), dtype=X.dtype)
        d, Qt = np.empty((LANES, n), dtype=X.dtype), np.empty((LANES, n, n), dtype=X.dtype)
        for group in range(t * groups // threads, (t + 1) * groups // threads):
            first, count = group * LANES, min(LANES, K - group * LANES)
            for j in range(count):
                _whiten(C_inv, X[first + j], Z[j], T)
            _eigen_lanes(Z[:count], d[:count], Qt[:count])
            for j in range(count):
                _add_spectral(Qt[j], w[first + j] * np.log(d[j]), partial[t])


@njit(cache=True, parallel=True)
def le_squared_distances(A, B, out):
    """``out[k] = ||log A[k] - log B[k]||_F^2``, both logarithms from one group of lanes, no stack temporaries.

    NaN where ``A[k]`` or ``B[k]`` is not finite or has a non-positive eigenvalue.
    """
    K, n = A.shape[0], A.shape[1]
    pairs = LANES // 2
    for group in prange((K + pairs - 1) // pairs):
        first, count = group * pairs, min(pairs, K - group * pairs)
        S = np.empty((2 * count, n, n), dtype=A.dtype)
        for j in range(count):
            S[2 * j], S[2 * j + 1] = A[first + j], B[first + j]
        d, Qt = np.empty((2 * count, n), dtype=A.dtype), np.empty((2 * count, n, n), dtype=A.dtype)
        _eigen_lanes(S, d, Qt)
        D = np.empty((n, n), dtype=A.dtype)
        for j in range(count):
            D[:, :] = 0.0
            _add_spectral(Qt[2 * j], np.log(d[2 * j]), D)
            _add_spectral(Qt[2 * j + 1], -np.log(d[2 * j + 1]), D)
            total = 0.0
            for a in range(n):
                total += D[a, a] ** 2 + 2.0 * _dot(D[a], D[a], a)
            out[first + j] = total


@njit(cache=True, parallel=True)
def cholesky_factors(B, out):
    """``out[k] = chol(B[k])`` (lower) for a stack ``B`` of shape ``(K, n, n)`` (NaN where not positive definite)."""
    for k in prange(B.shape[0]):
        if not _cholesky(B[k], out[k]):
            out[k, :, :] = np.nan


@njit(cache=True, parallel=True)
def lower_inverses(B, out):
    """``out[k] = chol(B[k])^{-1}`` for a stack ``B`` of shape ``(K, n, n)`` (NaN where not positive definite)."""
    for k in prange(B.shape[0]):
        C = np.empty_like(B[k])
        if _cholesky(B[k], C):
            _lower_inverse(C, out[k])
        else:
            out[k, :, :] = np.nan


@njit(cache=True, parallel=True)
def eigh_stack(S, d, P):
    """``S[k] = P[k] diag(d[k]) P[k]^T`` (ascending ``d[k]``) for a stack ``S``; NaN where ``S[k]`` is not finite."""
    K, n = S.shape[0], S.shape[1]
    for group in prange((K + LANES - 1) // LANES):
        first, count = group * LANES, min(LANES, K - group * LANES)
        if n > QL_VECTORS_LARGEST_N:
            for k in range(first, first + count):
                if _finite(S[k]):
                    d[k, :], P[k, :, :] = np.linalg.eigh(S[k])
                else:
                    d[k, :], P[k, :, :] = np.nan, np.nan
            continue
        Qt = np.empty((count, n, n), dtype=S.dtype)
        _eigen_lanes(S[first:first + count], d[first:first + count], Qt)
        for j in range(count):
            P[first + j, :, :] = Qt[j].T


@njit(cache=True, parallel=True)
def eigvalsh_stack(S, d):
    """Ascending eigenvalues ``d[k]`` of each symmetric ``S[k]`` in a stack; NaN where ``S[k]`` is not finite."""
    K = S.shape[0]
    for group in prange((K + LANES - 1) // LANES):
        first, count = group * LANES, min(LANES, K - group * LANES)
        _eigvalsh_lanes(S[first:first + count], d[first:first + count])


@njit(cache=True, parallel=True)
def from_eig_stack(P, values, out):
    """``out[k] = P[k] diag(values[k]) P[k]^T``, exactly symmetric, for stacks ``P`` and ``values``."""
    for k in prange(P.shape[0]):
        M = (P[k] * values[k]) @ P[k].T
        out[k, :, :] = (M + M.T) / 2
