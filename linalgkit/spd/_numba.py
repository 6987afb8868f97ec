"""Numba kernels of the SPD family: batched eigen-decompositions and the affine-invariant whitening.

Every public kernel runs in parallel over a stack of matrices (or pairs), one task per matrix with the
BLAS held at one thread by the caller, so that both cores work on small matrices, which a single
batched NumPy call leaves to one core.  Small matrices are diagonalized by Householder
tridiagonalization and implicit QL (:func:`_small_eigen`), larger ones by LAPACK.  The whitening is
``Z = C^{-1} A C^{-T}`` with ``C = chol(B)``; the generalized eigenvalues of ``(A, B)`` are the
eigenvalues of ``Z``.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _whiten(C_inv, A, Z, T):
    """``Z = C_inv A C_inv^T`` for a lower-triangular ``C_inv`` (``T`` is workspace)."""
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            s = 0.0
            for k in range(i + 1):
                s += C_inv[i, k] * A[k, j]
            T[i, j] = s
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(j + 1):
                s += T[i, k] * C_inv[j, k]
            Z[i, j] = s
            Z[j, i] = s


@njit(cache=True)
def _cholesky(A, C):
    """Lower Cholesky factor of ``A`` into ``C``; False (and ``C`` undefined) when ``A`` is not positive definite."""
    n = A.shape[0]
    for j in range(n):
        s = A[j, j]
        for k in range(j):
            s -= C[j, k] * C[j, k]
        if not s > 0:
            return False
        C[j, j] = np.sqrt(s)
        for i in range(j + 1, n):
            t = A[i, j]
            for k in range(j):
                t -= C[i, k] * C[j, k]
            C[i, j] = t / C[j, j]
        for i in range(j):
            C[i, j] = 0.0
    return True


@njit(cache=True)
def _lower_inverse(C, out):
    """Inverse of a lower-triangular ``C`` by forward substitution."""
    n = C.shape[0]
    for j in range(n):
        for i in range(n):
            out[i, j] = 0.0
        out[j, j] = 1.0 / C[j, j]
        for i in range(j + 1, n):
            s = 0.0
            for k in range(j, i):
                s += C[i, k] * out[k, j]
            out[i, j] = -s / C[i, i]


@njit(cache=True)
def _finite(X):
    return np.all(np.isfinite(X))


@njit(cache=True)
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
            f = 0.0
            for j in range(i):  # e[:i] = (a[:i, :i] u) / h, with u = a[i, :i] the Householder vector
                if vectors:
                    a[j, i] = a[i, j] / h  # u / h kept in the (unread) upper triangle
                g = 0.0
                for k in range(j + 1):
                    g += a[j, k] * a[i, k]
                for k in range(j + 1, i):
                    g += a[k, j] * a[i, k]
                e[j] = g / h
                f += e[j] * a[i, j]
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


@njit(cache=True)
def _accumulate(a, d):
    """Form ``Q`` in ``a`` from the reflectors left by :func:`_tridiagonalize` (``d[i] != 0``: row ``i`` holds one)."""
    n = a.shape[0]
    d[0] = 0.0
    for i in range(n):
        if d[i] != 0.0:
            for j in range(i):
                g = 0.0
                for k in range(i):
                    g += a[i, k] * a[k, j]
                for k in range(i):
                    a[k, j] -= g * a[k, i]
        d[i] = a[i, i]
        a[i, i] = 1.0
        for j in range(i):
            a[j, i] = 0.0
            a[i, j] = 0.0


@njit(cache=True)
def _ql(d, e, Qt):
    """Eigenvalues of the tridiagonal ``(d, e)`` of :func:`_tridiagonalize` into ``d`` (unsorted).

    Implicit QL with Wilkinson's shift (EISPACK ``tql2``); each Givens rotation is also applied to the
    rows of ``Qt`` (``Q^T``, or an ``(n, 0)`` array for eigenvalues only), whose rows become the
    eigenvectors.  An off-diagonal ``e[m]`` is deflated when ``|e[m]| <= eps (|d[m]| + |d[m+1]|)``.
    The entries must be of order one (no overflow guard for ``sqrt(f^2 + g^2)``).  Returns False when
    an eigenvalue takes more than 60 QL steps.
    """
    n = d.shape[0]
    eps = np.finfo(d.dtype).eps
    e[: n - 1] = e[1:].copy()
    e[n - 1] = 0.0
    for l in range(n):
        for iteration in range(61):
            m = l
            while m < n - 1 and abs(e[m]) > eps * (abs(d[m]) + abs(d[m + 1])):
                m += 1
            if m == l:
                break
            if iteration == 60:
                return False
            g = (d[l + 1] - d[l]) / (2.0 * e[l])
            r = np.sqrt(g * g + 1.0)
            g = d[m] - d[l] + e[l] / (g + (r if g >= 0 else -r))
            s, c, p = 1.0, 1.0, 0.0
            i = m - 1
            while i >= l:  # chase the bulge from m up to l with Givens rotations
                f, b = s * e[i], c * e[i]
                r = np.sqrt(f * f + g * g)
                e[i + 1] = r
                if r == 0.0:  # underflow: d[i + 1] is decoupled, restart from l
                    d[i + 1] -= p
                    e[m] = 0.0
                    break
                s, c = f / r, g / r
                g = d[i + 1] - p
                r = (d[i] - g) * s + 2.0 * c * b
                p = s * r
                d[i + 1] = g + p
                g = c * r - b
                for k in range(Qt.shape[1]):
                    f = Qt[i + 1, k]
                    Qt[i + 1, k] = s * Qt[i, k] + c * f
                    Qt[i, k] = c * Qt[i, k] - s * f
                i -= 1
            else:
                d[l] -= p
                e[l] = g
                e[m] = 0.0
    return True


QL_LARGEST_N = 48
"""Largest ``n`` whose eigenvalues alone :func:`_small_eigen` computes; LAPACK's ``syevd`` is faster above
it (2-core machine: 1.7x faster at n = 16, 1.3x at 40, 1.1x at 48, 0.9x at 64)."""

QL_VECTORS_LARGEST_N = 64
"""The same limit with eigenvectors (1.9x faster at n = 22, 1.5x at 48, 1.2x at 64, 1.0x at 80)."""


@njit(cache=True)
def _small_eigen(S, d, vectors):
    """Ascending eigenvalues of a finite symmetric ``S`` into ``d``, and ``Q^T`` (eigenvectors as rows).

    Householder tridiagonalization and QL: faster than LAPACK's ``syevd`` up to :data:`QL_LARGEST_N`
    (:data:`QL_VECTORS_LARGEST_N` with vectors), whose level-2 BLAS calls cost more than their work at
    these sizes.  ``S`` is scaled to largest
    entry 1 first so that no step can overflow.  Without ``vectors`` the returned array is ``(n, 0)``;
    NaN everywhere when QL does not converge.
    """
    n = S.shape[0]
    scale = np.max(np.abs(S))
    a = S / scale if scale > 0 else np.zeros_like(S)
    e = np.empty_like(d)
    _tridiagonalize(a, d, e, vectors)
    Qt = a.T.copy() if vectors else np.empty((n, 0), dtype=S.dtype)
    if not _ql(d, e, Qt):
        d[:] = np.nan
        Qt[:, :] = np.nan
    order = np.argsort(d)
    d[:] = d[order] * (scale if scale > 0 else 1.0)
    return Qt[order]


@njit(cache=True)
def _eigvalsh(S, d):
    """Ascending eigenvalues of a finite symmetric ``S`` into ``d`` (see :func:`_small_eigen`)."""
    if S.shape[0] > QL_LARGEST_N:
        d[:] = np.linalg.eigvalsh(S)
    else:
        _small_eigen(S, d, False)


@njit(cache=True)
def _ai_squared(C_inv, A):
    """``sum_i log^2 lambda_i(Z)`` of ``Z = C_inv A C_inv^T`` (NaN when ``Z`` is not finite or not positive)."""
    Z, T = np.empty_like(A), np.empty_like(A)
    _whiten(C_inv, A, Z, T)
    if not _finite(Z):
        return np.nan
    d = np.empty(A.shape[0], dtype=A.dtype)
    _eigvalsh(Z, d)
    return np.sum(np.log(d) ** 2)


@njit(cache=True, parallel=True)
def ai_squared_distances(A, B, out):
    """``out[k] = d_AI^2(A[k], B[k])`` through ``C = chol(B[k])`` (NaN where ``B[k]`` is not positive definite)."""
    for k in prange(A.shape[0]):
        C = np.empty_like(B[k])
        if not _cholesky(B[k], C):
            out[k] = np.nan  # reported by the caller's input funnel, with the matrix index
            continue
        C_inv = np.empty_like(C)
        _lower_inverse(C, C_inv)
        out[k] = _ai_squared(C_inv, A[k])


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
def ai_squared_pairwise(X, C_inv, rows, cols, out):
    """``out[k] = d_AI^2(X[rows[k]], Y[cols[k]])`` from ``C_inv = chol(Y)^{-1}`` for the listed pairs."""
    for k in prange(rows.shape[0]):
        out[k] = _ai_squared(C_inv[cols[k]], X[rows[k]])


@njit(cache=True, parallel=True)
def eigh_stack(S, d, P):
    """``S[k] = P[k] diag(d[k]) P[k]^T`` (ascending ``d[k]``) for a stack ``S``; NaN where ``S[k]`` is not finite."""
    for k in prange(S.shape[0]):
        if not _finite(S[k]):
            d[k, :] = np.nan
            P[k, :, :] = np.nan
            continue
        if S.shape[1] > QL_VECTORS_LARGEST_N:
            w, v = np.linalg.eigh(S[k])
            d[k, :] = w
            P[k, :, :] = v
        else:
            P[k, :, :] = _small_eigen(S[k], d[k], True).T


@njit(cache=True, parallel=True)
def eigvalsh_stack(S, d):
    """Ascending eigenvalues ``d[k]`` of each symmetric ``S[k]`` in a stack; NaN where ``S[k]`` is not finite."""
    for k in prange(S.shape[0]):
        if _finite(S[k]):
            _eigvalsh(S[k], d[k])
        else:
            d[k, :] = np.nan


@njit(cache=True, parallel=True)
def from_eig_stack(P, values, out):
    """``out[k] = P[k] diag(values[k]) P[k]^T``, exactly symmetric, for stacks ``P`` and ``values``."""
    for k in prange(P.shape[0]):
        M = (P[k] * values[k]) @ P[k].T
        out[k, :, :] = (M + M.T) / 2
