r"""Shared steps of the sampling family: the input funnel, a well-conditioned basis of range(A), weighted Grams.

Every score of this family is invariant under :math:`A \to AR` (:math:`R` invertible), so each
computation starts from a basis :math:`Y = A R^{-1}` of :math:`\mathrm{range}(A)` with
:math:`\kappa(Y)` near 1: the thin QR factor :math:`Q`, or :math:`A R^{-1}` with :math:`R` from
LAPACK's QR of ``A`` (dense) or of a sparse sign sketch :math:`\Pi A` (sparse ``A``;
:math:`\kappa(Y) \le 3` with high probability at :math:`4d` sketch rows).  On such a basis
weighted Gram matrices :math:`Y^T D Y` are factored by Cholesky (BLAS-3, no QR per iteration)
without squaring a large condition number of :math:`A`.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .._backend import get_backend
from .._validation import check_matrix, check_scalar
from ..exceptions import ArgumentTypeError, ShapeError, ValidationError
from ..sketch import make_sketch
from ..sketch.operators import apply_sketch

__all__ = ["Basis", "RankDeficientError", "check_design", "check_p", "check_sample_size"]


class RankDeficientError(ValidationError):
    """A matrix of the sampling family is numerically rank-deficient (raised by :func:`check_rank`)."""

# Sketch rows per column of A for the basis (a subspace embedding with distortion about 1/2).
_BASIS_OVERSAMPLING = 4


def check_design(A, name="A"):
    """Resolve the backend and validate a tall real matrix; returns ``(be, A)`` (sparse as CSR)."""
    be = get_backend(**{name: A})
    A = check_matrix(A, name, backend=be, allow_complex=False)
    n, d = A.shape
    if n < d:
        raise ShapeError(f"{name} must have at least as many rows as columns, got shape {(n, d)}; row sampling "
                         f"needs a tall matrix (transpose it if the samples are its columns)")
    return be, (A.tocsr() if be.issparse(A) else A)


def check_p(p, *, low=0.0, purpose="l_p scores"):
    """Validate the exponent ``p``: a real number above ``low`` (0 for scores, 1 for regression)."""
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise ArgumentTypeError(f"p must be a real number, got {type(p).__name__} {p!r}; pass e.g. p=1")
    if not (p > low and math.isfinite(p)) and not (low == 1.0 and p == 1.0):
        bound = "p >= 1 (the problem is not convex below 1)" if low == 1.0 else f"p > {low:g}"
        raise ValidationError(f"p must be finite with {bound} for {purpose}, got {p!r}; pass e.g. p=1 (robust) "
                              f"or p=2 (least squares)")
    return float(p)


def check_sample_size(m, n, name="m"):
    """Validate an expected sample size ``m`` in ``[1, n]``."""
    check_scalar(m, name, kind=numbers.Integral, low=1)
    if m > n:
        raise ValidationError(f"{name} must be at most the number of rows n = {n}, got {m}; pass {name} <= {n} "
                              f"(with {name} = n every row is kept and nothing is gained by sampling)")
    return int(m)


@dataclass(frozen=True)
class Basis:
    r"""A basis :math:`Y = A R^{-1}` of range(A) with :math:`\kappa(Y)` near 1 (orthonormal when ``exact``)."""

    Y: object
    R: object
    exact: bool


def basis(be, A, rng, *, exact):
    """Basis of range(A): thin QR factor (``exact``), or ``A R^{-1}`` with ``R`` from a QR of ``A`` (dense) or of a
    sparse sign sketch of ``A`` (sparse, ``n > 4d``).

    Raises :class:`ValidationError` naming ``A`` when it is numerically rank-deficient.
    """
    n, d = A.shape
    m = _BASIS_OVERSAMPLING * d
    if be.issparse(A) and not exact and m < n:
        S = make_sketch("sparse_sign", m, n, random_state=rng, zeta=min(8, m // 2))
        R = r_factor(be, sketch(be, S, A))
        check_rank(be, R, n)
        return Basis(right_solve(be, A, R), R, False)
    dense = A.toarray() if be.issparse(A) else A
    if exact:
        Q, R = _thin_qr(be, dense)
        check_rank(be, R, n)
        return Basis(Q, R, True)
    R = r_factor(be, dense)
    check_rank(be, R, n)
    return Basis(right_solve(be, dense, R), R, False)


def _thin_qr(be, A):
    if be.kind == "numpy":
        return scipy.linalg.qr(A, mode="economic", check_finite=False)
    Q, R = be.xp.linalg.qr(A)
    return Q, R


# Block size of LAPACK geqrt, whose recursive BLAS-3 panels run about 2x faster than geqrf on tall A
# (the same choice as linalgkit.regression's sketch QR).
_QR_BLOCK = 32


def r_factor(be, X):
    """Upper-triangular factor of the QR factorization of a dense tall ``X`` (``Q`` is not formed)."""
    if be.kind == "numpy":
        geqrt, = scipy.linalg.get_lapack_funcs(("geqrt",), (X,))
        return np.triu(geqrt(min(_QR_BLOCK, X.shape[1]), X, overwrite_a=False)[0][: X.shape[1]])
    return be.xp.linalg.qr(X)[1]


def check_rank(be, R, n):
    """Raise when the triangular factor of A is numerically singular (gelsd's rank rule on its singular values)."""
    s = np.linalg.svd(R, compute_uv=False) if be.kind == "numpy" else be.to_host(be.xp.linalg.svdvals(R))
    d = R.shape[1]
    rank = int(np.count_nonzero(s > max(n, d) * np.finfo(s.dtype).eps * s[0])) if s[0] > 0 else 0
    if rank < d:
        raise RankDeficientError(f"A must have full column rank, got numerical rank {rank} < d = {d} (A is rank-"
                              f"deficient); drop dependent columns, e.g. keep those chosen by "
                              f"scipy.linalg.qr(A, pivoting=True), or add a small ridge")


def sketch(be, S, X):
    """:math:`SX` for a checked dense array or CSR matrix ``X``, through the sketch family's validation-free entry."""
    return apply_sketch(be, S, X, be.zeros((X.shape[0], 0), X.dtype))


def right_solve(be, A, R):
    r""":math:`A R^{-1}` for an upper-triangular ``R`` (dense result; sparse ``A`` times :math:`R^{-1}`)."""
    if be.kind == "numpy" and not be.issparse(A):
        return scipy.linalg.solve_triangular(R, A.T, trans="T", check_finite=False).T
    if be.kind == "numpy":
        return np.asarray(A @ scipy.linalg.solve_triangular(R, np.eye(R.shape[0], dtype=R.dtype),
                                                            check_finite=False))
    inverse = be.xp.linalg.inv(R)
    return A @ inverse


def left_solve(be, R, G):
    r""":math:`R^{-1} G` for an upper-triangular ``R``."""
    if be.kind == "numpy":
        return scipy.linalg.solve_triangular(R, G, check_finite=False)
    return be.xp.linalg.solve(R, G)


def weighted_inverse_gram(be, Y, s):
    r""":math:`(Y^T \mathrm{diag}(s) Y)^{-1}` by Cholesky (``s >= 0``; ``s = None`` for the plain Gram)."""
    xp = be.xp
    Z = Y if s is None else Y * xp.sqrt(s)[:, None]
    gram = xp.matrix_transpose(Z) @ Z
    if be.kind == "numpy":
        try:
            return scipy.linalg.cho_solve(scipy.linalg.cho_factor(gram, check_finite=False),
                                          np.eye(gram.shape[0], dtype=gram.dtype), check_finite=False)
        except np.linalg.LinAlgError:  # a weighting too extreme for the Gram: go through the QR of Z
            R = r_factor(be, Z)
            inverse = scipy.linalg.solve_triangular(R, np.eye(R.shape[0], dtype=R.dtype), check_finite=False)
            return inverse @ inverse.T
    return xp.linalg.inv(gram)


def row_quadratic(be, Y, M):
    r""":math:`y_i^T M y_i` for every row :math:`y_i` of ``Y``."""
    return row_dot(be, Y @ M, Y)


def row_dot(be, X, Y):
    r""":math:`x_i^T y_i` for every row: ``einsum`` on NumPy (one pass, no ``n x d`` product temporary: 10x faster
    than ``sum(X * Y, axis=1)`` on 2^20 x 50 here)."""
    if be.kind == "numpy":
        return np.einsum("ij,ij->i", X, Y)
    return be.xp.sum(X * Y, axis=1)


def stack_columns(be, A, b):
    """``[A b]``, sparse when ``A`` is."""
    if be.issparse(A):
        return be.sparse.hstack([A, be.sparse.csr_matrix(b[:, None])], format="csr")
    return be.xp.concat([A, b[:, None]], axis=1)


def bernoulli_rows(be, u, m, rng):
    r"""Keep row :math:`i` independently with probability :math:`q_i = \min(1, m u_i / \sum u)`.

    Uniform numbers are drawn on the host (one seed, the same rows on every backend).  Returns the
    kept indices (int64, increasing) and their :math:`q_i`, on the device of ``u``.
    """
    xp = be.xp
    q = xp.minimum(m * u / xp.sum(u), 1.0)
    draws = be.asarray(be.from_host(rng.random(u.shape[0])), dtype=q.dtype)
    indices = xp.nonzero(draws < q)[0]
    return xp.astype(indices, xp.int64), xp.take(q, indices, axis=0)
