"""Shared steps of the sketched solvers: input funnel, one-pass sketch of [A b], QR and SVD of the sketch."""

import numbers

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse

from .._backend import get_backend, serial_blas
from .._validation import check_array, check_consistent_length, check_matrix, check_scalar
from ..exceptions import ShapeError, ValidationError
from ..sketch import make_sketch
from ..sketch.operators import apply_sketch
from ._cutovers import QR_BLOCK


def check_problem(A, b):
    """Validate a tall least-squares problem; returns ``(backend, A, b)`` with ``b`` in ``A``'s dtype.

    Integer and boolean arrays are cast to float64 (as NumPy and SciPy do); ``b`` is a vector of
    length ``n`` or an ``(n, k)`` array of ``k`` right-hand sides.
    """
    backend = get_backend(A=A, b=b)
    A = check_matrix(A, "A", backend=backend, allow_complex=False, numeric="cast")
    b = check_array(b, "b", backend=backend, allow_complex=False, numeric="cast")
    if b.ndim > 2:
        raise ShapeError(f"b must be 1-D (one right-hand side) or 2-D (n, k), got shape {tuple(b.shape)}; "
                         f"reshape it with b.reshape(b.shape[0], -1)")
    check_consistent_length(("A", A), ("b", b))
    n, d = A.shape
    if n <= d:
        raise ShapeError(f"A must be tall (more rows than columns) for sketched least squares, got shape {(n, d)}; "
                         f"solve small or wide problems with scipy.linalg.lstsq")
    if backend.issparse(A):
        A = A.tocsr()
    return backend, A, backend.xp.astype(b, A.dtype)


def check_start(x0, b, d, dtype, backend):
    """Validate a starting point: shape ``(d,)`` for a vector ``b``, ``(d, k)`` for ``k`` right-hand sides."""
    if x0 is None:
        return None
    wanted = (d,) if b.ndim == 1 else (d, b.shape[1])
    x0 = check_array(x0, "x0", backend=backend, allow_complex=False, numeric="cast")
    if tuple(x0.shape) != wanted:
        per = "column of A" if b.ndim == 1 else "column of A and right-hand side"
        raise ShapeError(f"x0 must have shape {wanted} (one entry per {per}), got {tuple(x0.shape)}")
    return backend.xp.astype(x0, dtype)


def check_sketch_size(m, n, d):
    """Validate a sketch size ``m``: an int, more rows than ``d`` (the sketch must keep rank) and at most ``n``."""
    check_scalar(m, "m", kind=numbers.Integral)
    m = int(m)
    if not d < m <= n:
        raise ValidationError(f"m must be in [{d + 1}, {n}] (more than d = {d} columns, at most n = {n} rows), got "
                              f"{m}; leave m=None for the default rule")
    return m


@dataclass(frozen=True)
class SketchedFactor:
    r"""QR of the sketch :math:`S[A\ B] = Q [R\ C;\ 0\ P]` and the SVD :math:`R = W \Sigma Z^T`.

    ``stacked`` is the whole ``(d + k) x (d + k)`` triangular factor :math:`[R\ C;\ 0\ P]` of ``k``
    right-hand sides.  ``rank`` counts singular
    values above ``max(m, d) * eps * sigma_max`` (the LAPACK ``gelsd`` default); ``cond`` is
    :math:`\sigma_{\max}/\sigma_{\min}` of :math:`SA` (that of :math:`R`).  ``W`` and ``Zt`` are
    None when only the singular values were asked for.
    """

    stacked: object
    W: object
    singular_values: object
    Zt: object
    rank: int
    cond: float

    @property
    def R(self):
        """The ``d x d`` triangular factor of :math:`SA`."""
        return self.stacked[: self.d, : self.d]

    d: int

    @property
    def c(self):
        r""":math:`Q^T S B`, the first ``d`` rows of the last ``k`` columns (shape ``(d, k)``)."""
        return self.stacked[: self.d, self.d:]

    def solve(self, backend):
        r"""Minimum-norm solution of the sketched problem, truncated to ``rank``: :math:`Z \Sigma^+ W^T c` (d x k)."""
        k, xp = self.rank, backend.xp
        return xp.matrix_transpose(self.Zt[:k, :]) @ ((xp.matrix_transpose(self.W[:, :k]) @ self.c)
                                                      / self.singular_values[:k, None])


def _qr_r(backend, X):
    """Triangular factor of the QR factorization of a dense tall ``X`` (``Q`` is never formed).

    On NumPy this calls LAPACK ``geqrt``, whose recursive panel factorization runs about 2x faster than
    ``geqrf`` (what ``numpy.linalg.qr`` calls) on the tall-skinny sketches solved here.
    """
    if backend.kind == "numpy":
        geqrt, = scipy.linalg.get_lapack_funcs(("geqrt",), (X,))
        factored = geqrt(min(QR_BLOCK, X.shape[1]), X, overwrite_a=True)[0]
        return np.triu(factored[: X.shape[1]])
    if backend.kind == "cupy":
        import cupy

        return cupy.linalg.qr(X, mode="r")
    return backend.xp.linalg.qr(X).R


def sketch_and_factor(backend, A, B, kind, m, random_state, *, vectors=True):
    """Sketch ``[A B]`` in one pass and factor it: returns a :class:`SketchedFactor`.

    ``A`` (dense or CSR) and ``B`` (``(n, k)``, ``A``'s dtype) are checked arrays on ``backend``;
    ``vectors=False`` skips the singular vectors of ``R``.
    """
    xp = backend.xp
    d = A.shape[1]
    S = make_sketch(kind, m, A.shape[0], random_state=random_state)
    stacked = apply_sketch(backend, S, A, B)
    with serial_blas(backend):
        Rb = _qr_r(backend, stacked)
        if Rb.shape[0] < Rb.shape[1]:  # fewer sketch rows than d + k: the missing rows of the factor are zero
            Rb = xp.concat([Rb, backend.zeros((Rb.shape[1] - Rb.shape[0], Rb.shape[1]), Rb.dtype)], axis=0)
        if vectors:
            W, s, Zt = xp.linalg.svd(Rb[:d, :d], full_matrices=False)
        else:
            W, s, Zt = None, xp.linalg.svdvals(Rb[:d, :d]), None
    s_host = backend.to_host(s)
    tol = max(m, d) * np.finfo(s_host.dtype).eps * s_host[0]
    rank = int(np.count_nonzero(s_host > tol))
    cond = float(s_host[0] / s_host[-1]) if s_host[-1] > 0 else float("inf")
    return SketchedFactor(Rb, W, s, Zt, rank, cond, d)


def design_matrix(X, fit_intercept):
    """``[X 1]`` (or ``X``) for an estimator's checked ``X``: CSR when ``X`` is sparse."""
    if not fit_intercept:
        return X.tocsr() if scipy.sparse.issparse(X) else X
    ones = np.ones((X.shape[0], 1), dtype=X.dtype)
    if scipy.sparse.issparse(X):
        return scipy.sparse.hstack([X, ones], format="csr")
    return np.hstack([X, ones])


def residual_norm(backend, A, x, b):
    """:math:`\\|A x - b\\|_2` (Frobenius for ``k`` right-hand sides), with serial BLAS: a threaded GEMV would leave
    workers spinning (see serial_blas)."""
    with serial_blas(backend):
        return float(backend.xp.linalg.vector_norm(A @ x - b))
