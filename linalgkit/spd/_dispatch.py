"""The one dispatch point of the SPD kernels, and the one table of their size cut-overs.

Each function takes the :class:`~linalgkit._backend.Backend` record ``be``, checked arrays, and the
array-API ``body`` that computes the same on any backend (on NumPy and CuPy its ``xp.linalg`` calls
are LAPACK and cuSOLVER).  It runs the lane kernels of :mod:`linalgkit.spd._numba` when :func:`lanes`
says so (NumPy with Numba on, float32/float64, a batch and a matrix size within :data:`CUTOVERS`),
recomputing the lanes that fail by ``body`` on those matrices only; everything else is ``body``.
Kernels receive plain C-contiguous NumPy stacks.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["CUTOVERS", "Cutover", "ai_pairwise", "eigh", "from_eig", "lanes", "mean_log", "squared_distances"]


@dataclass(frozen=True)
class Cutover:
    """One size cut-over: its ``value``, the ablation of ``benchmarks/ablations.py`` that measured it, its findings."""

    value: int
    ablation: str
    measured: str


CUTOVERS = {
    "batch": Cutover(128, "lockstep",
                     "smallest stack (matrices, or pairs) sent to the parallel lane kernels; eigh of 22 x 22 "
                     "stacks, lanes / LAPACK: 5.2 at 16 matrices, 4.6 at 32, 1.2 at 64, 0.94 at 128, 0.55 at 256 "
                     "(16 lanes, AVX-512); 0.14, 0.12, 0.09, 0.11, 0.11 with 8 lanes on an AVX2 EPYC"),
    "eigenvalues_n": Cutover(128, "lockstep",
                             "largest n of the eigenvalue-only lane kernels (AI and BW pairs, AI pairwise); "
                             "lanes / LAPACK, AI and BW: 0.24 and 0.34 at n = 3, 0.12 and 0.26 at 22, 0.24 and "
                             "0.48 at 64, 0.29 and 0.90 at 128, 0.90 and 1.54 at 160, 0.52 and 0.88 at 200 "
                             "(16 lanes, AVX-512); with 8 lanes on an AVX2 EPYC 0.04 and 0.04 at 3, 0.09 and 0.09 "
                             "at 22, 0.16 and 0.23 at 64, 0.21 and 0.36 at 128, 0.23 and 0.43 at 160"),
    "vectors_n": Cutover(80, "lockstep",
                         "largest n of the lane kernels with eigenvectors; lanes / LAPACK for LE pairs, eigh and "
                         "the Karcher gradient: 0.44, 0.37, 0.25 at n = 22; 0.29, 0.42, 0.35 at 48; 0.89, 0.58, "
                         "0.91 at 64; 0.63, 0.54, 0.42 at 80; 0.98, 1.50, 0.61 at 96; 1.67, 1.13, 0.98 at 112 "
                         "(16 lanes, AVX-512; each rotation streams two rows of n lane vectors through the cache); "
                         "with 8 lanes on an AVX2 EPYC 0.12, 0.14, 0.06 at 22; 0.24, 0.24, 0.14 at 64; 0.31, 0.25, "
                         "0.20 at 80; 0.42, 0.40, 0.23 at 112"),
}
"""Size cut-overs of the family, by name (the lanes are off where a size ``value`` is 0).  The ratios are
best-of-3 times on 2-core machines shared with other jobs, so they vary by tens of percent between runs;
``python -m benchmarks.ablations lockstep`` prints them.  The 8-lane ratios (the default without AVX-512,
``linalgkit._simd.WIDTH``) are lower at every size: the lanes would still win above both size limits, which
were set on the 16-lane machine and are kept."""

_PAIR_KERNELS = {"affine_invariant": ("ai_squared_distances", "eigenvalues_n"),
                 "bures_wasserstein": ("bw_squared_distances", "eigenvalues_n"),
                 "log_euclidean": ("le_squared_distances", "vectors_n")}


def _kernels():
    from . import _numba  # compiled lazily: importing linalgkit.spd compiles nothing

    return _numba


def _numba_dtype(be, S):
    return be.kind == "numpy" and be.use_numba and S.dtype.name in ("float32", "float64")


def lanes(be, S, limit=None, count=None):
    """Whether the stack ``S`` of shape ``(..., n, n)`` runs in lanes.

    ``count`` (default: the matrices of ``S``) is compared with the ``"batch"`` cut-over and ``n`` with
    the cut-over named ``limit`` (None: no size limit).
    """
    n = S.shape[-1]
    count = S.size // (n * n) if count is None else count
    return (_numba_dtype(be, S) and count >= CUTOVERS["batch"].value
            and (limit is None or n <= CUTOVERS[limit].value))


def _stack(S):
    return np.ascontiguousarray(S).reshape(-1, *S.shape[-2:])


def eigh(be, S):
    """Ascending eigenvalues ``(..., n)`` and eigenvectors (columns) of a symmetric batch ``S``: lanes or LAPACK."""
    if not lanes(be, S, "vectors_n"):
        return be.xp.linalg.eigh(S)
    stack = _stack(S)
    d, P, failed = np.empty(stack.shape[:-1], S.dtype), np.empty_like(stack), np.zeros(stack.shape[0], bool)
    _kernels().eigh_stack(stack, d, P, failed)
    if failed.any():
        d[failed], P[failed] = np.linalg.eigh(stack[failed])
    return d.reshape(S.shape[:-1]), P.reshape(S.shape)


def from_eig(be, P, values, body):
    """``P diag(values) P^T`` for a batch: the parallel kernel on NumPy batches, else ``body(P, values)``."""
    if not lanes(be, P):
        return body(P, values)
    stack = _stack(P)
    out = np.empty_like(stack)
    _kernels().from_eig_stack(stack, np.ascontiguousarray(values).reshape(stack.shape[:-1]), out)
    return out.reshape(P.shape)


def squared_distances(be, metric, A, B, body):
    """Squared distances of the pairs ``(A_k, B_k)`` (batches that broadcast) for ``metric`` in
    "affine_invariant", "bures_wasserstein", "log_euclidean"; ``body(A, B)`` where the lanes do not run.

    Log-Euclidean pairs run in lanes only for equal shapes (a broadcast base point is cheaper once by LAPACK).
    """
    name, limit = _PAIR_KERNELS[metric]
    if metric == "log_euclidean" and A.shape != B.shape:
        return body(A, B)
    A, B = be.xp.broadcast_arrays(A, B)
    if not lanes(be, A, limit):
        return body(A, B)
    a, b = _stack(A), _stack(B)
    out, failed = np.empty(a.shape[0], dtype=A.dtype), np.zeros(a.shape[0], dtype=bool)
    getattr(_kernels(), name)(a, b, out, failed)
    if failed.any():
        out[failed] = body(a[failed], b[failed])
    return out.reshape(A.shape[:-2])


def ai_pairwise(be, X, Y, symmetric, body, pair_body):
    """Affine-invariant squared distances ``(N, M)`` between stacks ``X``, ``Y``: lanes, else ``body()``.

    With Cholesky factors (LAPACK) ``X_i = L_i L_i^T`` and ``Y_j = R_j R_j^T``, the lanes need ``L_i^{-1}``
    and ``R_j``; failed pairs are recomputed by ``pair_body(X[rows], Y[cols])``.  ``symmetric``: only
    ``j > i`` is computed and mirrored.
    """
    N, M, n = X.shape[0], Y.shape[0], X.shape[-1]
    if not lanes(be, X, "eigenvalues_n", count=N * M):
        return body()
    kernels = _kernels()
    X, Y = np.ascontiguousarray(X), np.ascontiguousarray(Y)
    L_inv, R = _lower_inverses(np.linalg.cholesky(X)), np.linalg.cholesky(Y)
    out, failed = np.zeros((N, M), dtype=X.dtype), np.zeros((N, M), dtype=bool)
    rows, cols = kernels.tasks(N, M, symmetric)
    kernels.ai_squared_pairwise(L_inv, kernels.lane_layout(R), rows, cols, symmetric, out, failed)
    rows, cols = np.nonzero(failed)
    if rows.size:
        out[rows, cols] = pair_body(X[rows], Y[cols])
        if symmetric:
            out[cols, rows] = out[rows, cols]
    return out


def _lower_inverses(L):
    """Inverses of a stack of lower-triangular ``L`` by forward substitution, row ``i`` from rows ``< i``, batched.

    Exact triangular arithmetic (an LU-based inverse would pivot), and ``n`` batched products instead of one
    LAPACK call per matrix (``scipy.linalg.solve_triangular`` on 500 matrices of 22 x 22 took 27-53 ms,
    this about 1 ms).
    """
    K, n = L.shape[0], L.shape[-1]
    inverse = np.zeros_like(L)
    for i in range(n):
        row = -(L[:, i:i + 1, :i] @ inverse[:, :i, :])[:, 0, :]
        row[:, i] += 1.0
        inverse[:, i, :] = row / L[:, i, i, None]
    return inverse


def mean_log(be, S, X, w, body):
    r"""Affine-invariant :math:`\sum_i w_i \operatorname{Log}_S X_i` for one base point ``S`` and a stack ``X``.

    In lanes (one fused pass: whitening, eigen-decomposition, weighted sum), else ``body(S, X, w)``.  The
    lanes whiten with the Cholesky factor :math:`S = L L^T`: :math:`L = S^{1/2} U` with :math:`U`
    orthogonal, so :math:`L \log(L^{-1} X L^{-T}) L^T = S^{1/2} \log(S^{-1/2} X S^{-1/2}) S^{1/2}`.
    Failed lanes (the sum is linear in them) are added by ``body``.
    """
    if not (S.ndim == 2 and X.ndim == 3 and lanes(be, X, "vectors_n")):
        return body(S, X, w)
    import numba

    from .._simd import WIDTH

    K, n = X.shape[0], X.shape[-1]
    X, w = np.ascontiguousarray(X), np.ascontiguousarray(w, dtype=X.dtype)
    L = np.linalg.cholesky(S)
    L_inv = _lower_inverses(L[None])[0]
    weights, failed = np.zeros((1, K + WIDTH), dtype=X.dtype), np.zeros(K, dtype=bool)
    weights[0, :K] = w
    partial = np.zeros((numba.get_num_threads(), n, n), dtype=X.dtype)
    _kernels().ai_whitened_log_sums(X, L_inv, weights, partial, failed)
    lower = np.tril(partial.sum(axis=0))
    G = L @ (lower + np.tril(lower, -1).T) @ L.T
    G = (G + G.T) / 2
    return G + body(S, X[failed], w[failed]) if failed.any() else G
