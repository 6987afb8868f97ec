"""Shared steps of the sketched solvers: input funnel, one-pass sketch of [A b], QR and SVD of the sketch."""

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .._backend import get_backend, serial_blas
from .._validation import check_consistent_length, check_matrix, check_vector
from ..exceptions import ShapeError, ValidationError
from ..sketch import make_sketch


def check_problem(A, b):
    """Validate a tall least-squares problem; returns ``(backend, A, b)`` with ``b`` in ``A``'s dtype."""
    backend = get_backend(A=A, b=b)
    A = check_matrix(A, "A", backend=backend, allow_complex=False)
    b = check_vector(b, "b", backend=backend, allow_complex=False)
    check_consistent_length(("A", A), ("b", b))
    n, d = A.shape
    if n <= d:
        raise ShapeError(f"A must be tall (more rows than columns) for sketched least squares, got shape {(n, d)}; "
                         f"solve small or wide problems with scipy.linalg.lstsq")
    if backend.issparse(A):
        A = A.tocsr()
    return backend, A, backend.xp.astype(b, A.dtype)


def check_sketch_size(m, n, d):
    """Validate a sketch size ``m``: more rows than ``d`` (the sketch must keep rank) and fewer than ``n``."""
    if not d < m <= n:
        raise ValidationError(f"m must be in [{d + 1}, {n}] (more than d = {d} columns, at most n = {n} rows), got "
                              f"{m}; leave m=None for the default rule")
    return m


@dataclass(frozen=True)
class SketchedFactor:
    r"""QR of the sketch :math:`S[A\ b] = Q [R\ c;\ 0\ \rho]` and the SVD :math:`R = W \Sigma Z^T`.

    ``rank`` counts singular values above ``max(m, d) * eps * sigma_max`` (the LAPACK ``gelsd``
    default); ``cond`` is :math:`\sigma_{\max}/\sigma_{\min}` of :math:`SA` (that of :math:`R`).
    """

    R: object
    c: object
    W: object
    singular_values: object
    Zt: object
    rank: int
    cond: float

    def solve(self, backend):
        r"""Minimum-norm solution of the sketched problem, truncated to ``rank``: :math:`Z \Sigma^+ W^T c`."""
        k = self.rank
        return backend.xp.matrix_transpose(self.Zt[:k, :]) @ ((backend.xp.matrix_transpose(self.W[:, :k]) @ self.c)
                                                                / self.singular_values[:k])


# Block size of LAPACK ``geqrt``: its recursive panels (``geqrt3``) are BLAS-3, unlike ``geqrf``'s.
_QR_BLOCK = 32


def _qr_r(backend, X):
    """Triangular factor of the QR factorization of a dense tall ``X`` (``Q`` is never formed).

    On NumPy this calls LAPACK ``geqrt``, whose recursive panel factorization runs about 2x faster than
    ``geqrf`` (what ``numpy.linalg.qr`` calls) on the tall-skinny sketches solved here.
    """
    if backend.kind == "numpy":
        geqrt, = scipy.linalg.get_lapack_funcs(("geqrt",), (X,))
        factored = geqrt(min(_QR_BLOCK, X.shape[1]), X, overwrite_a=True)[0]
        return np.triu(factored[: X.shape[1]])
    if backend.kind == "cupy":
        import cupy

        return cupy.linalg.qr(X, mode="r")
    return backend.xp.linalg.qr(X).R


def sketch_and_factor(backend, A, b, kind, m, random_state):
    """Sketch ``[A b]`` in one pass and factor it: returns a :class:`SketchedFactor`."""
    xp = backend.xp
    d = A.shape[1]
    S = make_sketch(kind, m, A.shape[0], random_state=random_state)
    stacked = S.apply_stacked(A, b)
    with serial_blas(backend):
        Rb = _qr_r(backend, stacked)
        R, c = Rb[:d, :d], Rb[:d, d]
        W, s, Zt = xp.linalg.svd(R, full_matrices=False)
    s_host = backend.to_host(s)
    tol = max(m, d) * np.finfo(s_host.dtype).eps * s_host[0]
    rank = int(np.count_nonzero(s_host > tol))
    cond = float(s_host[0] / s_host[-1]) if s_host[-1] > 0 else float("inf")
    return SketchedFactor(R, c, W, s, Zt, rank, cond)


def residual_norm(backend, A, x, b):
    """:math:`\\|A x - b\\|_2`, with serial BLAS: a threaded GEMV would leave workers spinning (see serial_blas)."""
    with serial_blas(backend):
        return float(backend.xp.linalg.vector_norm(A @ x - b))
