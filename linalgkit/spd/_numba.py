"""Numba kernels of the SPD family: batched eigen-decompositions and the affine-invariant whitening.

Every public kernel runs in parallel over a stack of matrices (or pairs), one LAPACK call per matrix
with the BLAS held at one thread by the caller, so that both cores work on small matrices, which a single
batched NumPy call leaves to one core.  The whitening is ``Z = C^{-1} A C^{-T}`` with ``C = chol(B)``;
the generalized eigenvalues of ``(A, B)`` are the eigenvalues of ``Z``.
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
def _ai_squared(C_inv, A):
    """``sum_i log^2 lambda_i(Z)`` of ``Z = C_inv A C_inv^T`` (NaN when ``Z`` is not finite or not positive)."""
    Z, T = np.empty_like(A), np.empty_like(A)
    _whiten(C_inv, A, Z, T)
    if not _finite(Z):
        return np.nan
    return np.sum(np.log(np.linalg.eigvalsh(Z)) ** 2)


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


@njit(cache=True)
def _finite(X):
    return np.all(np.isfinite(X))


@njit(cache=True, parallel=True)
def eigh_stack(S, d, P):
    """``S[k] = P[k] diag(d[k]) P[k]^T`` (ascending ``d[k]``) for a stack ``S``; NaN where ``S[k]`` is not finite."""
    for k in prange(S.shape[0]):
        if not _finite(S[k]):
            d[k, :] = np.nan
            P[k, :, :] = np.nan
            continue
        w, v = np.linalg.eigh(S[k])
        d[k, :] = w
        P[k, :, :] = v


@njit(cache=True, parallel=True)
def eigvalsh_stack(S, d):
    """Ascending eigenvalues ``d[k]`` of each symmetric ``S[k]`` in a stack; NaN where ``S[k]`` is not finite."""
    for k in prange(S.shape[0]):
        if _finite(S[k]):
            d[k, :] = np.linalg.eigvalsh(S[k])
        else:
            d[k, :] = np.nan


@njit(cache=True, parallel=True)
def from_eig_stack(P, values, out):
    """``out[k] = P[k] diag(values[k]) P[k]^T``, exactly symmetric, for stacks ``P`` and ``values``."""
    for k in prange(P.shape[0]):
        M = (P[k] * values[k]) @ P[k].T
        out[k, :, :] = (M + M.T) / 2
