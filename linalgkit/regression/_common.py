"""Shared steps of the sketched solvers: input funnel, one-pass sketch of [A b], QR and SVD of the sketch."""

from dataclasses import dataclass

import numpy as np

from .._backend import get_backend
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


def _qr_r(backend, X):
    """Triangular factor of the QR factorization of a dense ``X`` (``Q`` is never formed)."""
    if backend.kind == "numpy":
        return np.linalg.qr(X, mode="r")
    if backend.kind == "cupy":
        import cupy

        return cupy.linalg.qr(X, mode="r")
    return backend.xp.linalg.qr(X).R


def sketch_and_factor(backend, A, b, kind, m, random_state):
    """Sketch ``[A b]`` in one pass and factor it: returns a :class:`SketchedFactor`."""
    xp = backend.xp
    d = A.shape[1]
    S = make_sketch(kind, m, A.shape[0], random_state=random_state)
    SA, Sb = S.apply_pair(A, b)
    Rb = _qr_r(backend, xp.concat([SA, Sb[:, None]], axis=1))
    R, c = Rb[:d, :d], Rb[:d, d]
    W, s, Zt = xp.linalg.svd(R, full_matrices=False)
    s_host = backend.to_host(s)
    tol = max(m, d) * np.finfo(s_host.dtype).eps * s_host[0]
    rank = int(np.count_nonzero(s_host > tol))
    cond = float(s_host[0] / s_host[-1]) if s_host[-1] > 0 else float("inf")
    return SketchedFactor(R, c, W, s, Zt, rank, cond)


def residual_norm(backend, A, x, b):
    """:math:`\\|A x - b\\|_2`."""
    return float(backend.xp.linalg.vector_norm(A @ x - b))
