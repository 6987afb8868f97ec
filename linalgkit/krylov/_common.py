"""Shared pieces of the Krylov family: the checked system, the recycle space and the result record."""

import math
from dataclasses import dataclass, field

import numpy as np

from .._backend import get_backend
from .._solver import SolverResult
from .._validation import check_matrix, check_vector
from ..exceptions import ArgumentTypeError, ShapeError, ValidationError

__all__ = ["KrylovResult", "RecycleSpace", "check_system"]


@dataclass(frozen=True, eq=False)
class RecycleSpace:
    r"""A recycle space carried from one solve to the next.

    Attributes
    ----------
    U : array of shape (n, k)
        Basis of the recycled subspace, in the preconditioned variables :math:`y` (:math:`x = My`).
    C : array of shape (n, k) or None
        :math:`C = A M U` with orthonormal columns, valid for ``operator`` and ``preconditioner``
        only (for :func:`~linalgkit.krylov.rcg`: :math:`C = AU`, not orthonormal).  A solve with
        another operator recomputes it (``k`` matrix-vector products).
    ritz_values : ndarray of shape (k,) or None
        The (harmonic) Ritz values whose vectors span ``U`` (complex pairs appear once each).
    operator, preconditioner : object
        The ``A`` and ``M`` objects ``C`` was computed with (compared by identity: after changing
        ``A`` in place, pass ``RecycleSpace(space.U)``).
    """

    U: object
    C: object = None
    ritz_values: np.ndarray | None = None
    operator: object = field(default=None, repr=False)
    preconditioner: object = field(default=None, repr=False)

    @property
    def k(self):
        """Dimension of the space."""
        return int(self.U.shape[1])

    def valid_for(self, A, M):
        """Whether ``C`` belongs to the operator ``A`` with preconditioner ``M``.

        Parameters
        ----------
        A, M : object
            The operator and preconditioner of the next solve (compared by identity).

        Returns
        -------
        bool
        """
        return self.C is not None and self.operator is A and self.preconditioner is M


@dataclass(frozen=True)
class KrylovResult(SolverResult):
    r"""Result of :func:`~linalgkit.krylov.gmres`, :func:`~linalgkit.krylov.gcrodr` and :func:`~linalgkit.krylov.rcg`.

    Attributes
    ----------
    x : array of shape (n,)
        The solution (the best iterate when ``converged`` is False).
    matvecs : int
        Products with ``A`` (each column of a block product counts), including the true residual
        of each cycle and the ``k`` products that rebuild ``C`` for a new operator.
    cycles : int
        Restart cycles (GMRES, GCRO-DR) or residual replacements plus one (CG).
    recycle : RecycleSpace or None
        The space to pass to the next solve (None for :func:`~linalgkit.krylov.gmres`).
    projection_ratio : float or None
        :math:`\|(I - CC^T) r_0\| / \|r_0\|` for an incoming space: how much of the first residual
        the recycled space removed (near 1: the space says little about this system).
    converged : bool
        Whether :math:`\|b - Ax\| \le \max(\mathrm{rtol}\,\|b\|, \mathrm{atol})` holds for ``x``.
    iterations : int
        Inner iterations (Arnoldi or CG steps), one product with ``A`` each.
    residual_norm : float
        :math:`\|b - Ax\|_2` of the returned ``x``, computed.
    history : tuple of float
        :math:`\|b - Ax\|_2` of the start and after every cycle.
    """

    x: object
    matvecs: int
    cycles: int
    recycle: RecycleSpace | None
    projection_ratio: float | None = None


def _is_operator(obj):
    """A LinearOperator-like object: ``matvec`` and a 2-D ``shape``, not an array or sparse matrix."""
    return callable(getattr(obj, "matvec", None)) and len(getattr(obj, "shape", ())) == 2


class System:
    """A checked system ``A x = b`` with preconditioner ``M``: products by rows, counted.

    Vectors are 1-D arrays; blocks of vectors are rows of a 2-D array ``(k, n)``, so that the
    Krylov bases are C-contiguous and every projection is one GEMV / GEMM.
    """

    def __init__(self, be, A, b, x0, M, dtype):
        self.be, self.A, self.b, self.x0, self.M, self.dtype = be, A, b, x0, M, dtype
        self.n = b.shape[0]
        self.matvecs = 0
        self._a_op, self._m_op = _is_operator(A), _is_operator(M)

    @property
    def matrix_free(self):
        """Whether ``A`` is a LinearOperator (its products' cost unknown), not an array or sparse matrix."""
        return self._a_op

    def apply_A(self, v):
        """:math:`Av` for a vector, or the rows of :math:`A V^T` for a block of rows."""
        self.matvecs += 1 if v.ndim == 1 else v.shape[0]
        return _apply(self.A, v, self._a_op)

    def apply_M(self, v):
        """:math:`Mv` (the identity when ``M`` is None)."""
        return v if self.M is None else _apply(self.M, v, self._m_op)

    def op(self, v):
        """The right-preconditioned operator :math:`AMv`."""
        return self.apply_A(self.apply_M(v))

    def residual(self, x):
        """:math:`b - Ax`."""
        return self.b - self.apply_A(x)


def _apply(A, v, is_operator):
    if v.ndim == 1:
        out = A.matvec(v) if is_operator else A @ v
        return out.reshape(-1) if is_operator else out
    if is_operator:
        return A.matmat(v.T).T
    return (A @ v.T).T


def _check_linear_map(A, name, be, n=None):
    if _is_operator(A):
        shape = tuple(int(s) for s in A.shape)
        if shape[0] != shape[1]:
            raise ShapeError(f"{name} must be square, got shape {shape}; pass an n x n operator")
        return A
    if not (hasattr(A, "shape") or isinstance(A, (list, tuple))):
        raise ArgumentTypeError(f"{name} must be an array, a sparse matrix or a LinearOperator, got "
                                f"{type(A).__name__}; wrap a function with scipy.sparse.linalg.LinearOperator")
    return check_matrix(A, name, backend=be, square=True, numeric="cast", allow_complex=False)


def _dtype(be, *items):
    xp = be.xp
    dtypes = [getattr(a, "dtype", None) for a in items if a is not None]
    dtypes = [d for d in dtypes if d is not None]
    if be.kind == "numpy":
        dtype = np.result_type(*dtypes)
        return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return xp.result_type(*dtypes)


def check_system(A, b, x0, M):
    """Validate ``A``, ``b``, ``x0`` and ``M`` once; return the :class:`System` (backend from ``A`` and ``b``)."""
    be = get_backend(A=None if _is_operator(A) else A, b=b, x0=x0, M=None if _is_operator(M) else M)
    A = _check_linear_map(A, "A", be)
    n = int(A.shape[0])
    b = check_vector(b, "b", backend=be, numeric="cast", allow_complex=False)
    if b.shape[0] != n:
        raise ShapeError(f"b must have length {n} (A is {n} x {n}), got length {b.shape[0]}; pass one value per row")
    if M is not None:
        if not (_is_operator(M) or hasattr(M, "shape")):
            raise ArgumentTypeError(f"M must be None, a matrix or a LinearOperator applying the preconditioner "
                                    f"(an approximate inverse of A, as in SciPy), got {type(M).__name__}; e.g. "
                                    f"scipy.sparse.diags(1 / A.diagonal()) for Jacobi")
        M = _check_linear_map(M, "M", be)
        if int(M.shape[0]) != n:
            raise ShapeError(f"M must have shape ({n}, {n}) like A, got {tuple(M.shape)}; pass the preconditioner "
                             f"of this system")
    if x0 is not None:
        x0 = check_vector(x0, "x0", backend=be, numeric="cast", allow_complex=False)
        if x0.shape[0] != n:
            raise ShapeError(f"x0 must have length {n} like b, got length {x0.shape[0]}; "
                             f"pass one starting value per unknown")
    dtype = _dtype(be, A, b, M, x0)
    b = be.xp.astype(b, dtype) if b.dtype != dtype else b
    if x0 is not None and x0.dtype != dtype:
        x0 = be.xp.astype(x0, dtype)
    for name, value in (("A", None if _is_operator(A) else A), ("b", b), ("x0", x0)):
        _check_scale(be, value, name, dtype)
    return System(be, A, b, x0, M, dtype)


def _check_scale(be, value, name, dtype):
    r"""Refuse entries whose magnitude would over- or underflow the solvers' inner products.

    The solvers form products such as :math:`p^TAp` (magnitude :math:`|b|^2|A|`, and down to
    :math:`\epsilon^2` times that near convergence), so each of ``A``, ``b``, ``x0`` must have its
    largest magnitude in :math:`[(t/\epsilon^2)^{1/3}, h^{1/3}]` for the dtype's smallest normal
    :math:`t`, largest :math:`h` and rounding unit :math:`\epsilon` (about 7.7e-93..5.6e102 in
    float64); a zero vector is fine.  Outside, norms become 0 or inf (a solve "converged" at x = 0)
    or iterates lose digits to subnormal numbers.
    """
    if value is None or value.shape[0] == 0:
        return
    entries = value.data if be.issparse(value) else value
    largest = max(float(be.xp.max(entries)), -float(be.xp.min(entries))) if entries.shape[0] else 0.0  # no |.| copy
    info = be.xp.finfo(dtype)
    low = (float(info.smallest_normal) / float(info.eps) ** 2) ** (1 / 3)
    high = float(info.max) ** (1 / 3)
    if largest != 0.0 and not low <= largest <= high:
        fix = ("A * 2.0**-j and b * 2.0**-j leave x unchanged" if name == "A"
               else f"{name} * 2.0**-j gives x * 2.0**-j")
        raise ValidationError(f"{name} has entries of magnitude {largest:.3g}, outside [{low:.3g}, {high:.3g}] where "
                              f"the solvers' inner products stay finite in {dtype}; rescale the system "
                              f"by a power of two before the call ({fix})")


def norm(be, v):
    """Euclidean norm of a vector as a Python float (one dot product: a tenth of ``vector_norm``'s overhead)."""
    return math.sqrt(float(v @ v))


def to_device(be, array, dtype):
    """A small host array uploaded in the working dtype."""
    return be.xp.astype(be.from_host(np.ascontiguousarray(array)), dtype)
