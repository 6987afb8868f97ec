"""Shared pieces of the Dask layer: the input checks, the chunk backend and the row-chunked operator.

Only this layer imports Dask; the families below it never do.  Inputs are ``dask.array`` arrays
whose chunks are NumPy or CuPy arrays: the backend of the chunks is read from the array's
``_meta``, and every graph built here passes an explicit ``meta`` of that type, so the same code
runs CuPy chunks on GPU workers (not tested here: no GPU on the development machine).
"""

import numbers

import numpy as np

from .._backend import get_backend
from ..exceptions import ArgumentTypeError, DTypeError, ShapeError, ValidationError

try:
    import dask.array as da
except ImportError as error:  # pragma: no cover (the test extra installs dask)
    from ..exceptions import LinalgkitError

    class DaskNotInstalledError(LinalgkitError, ImportError):
        """linalgkit.dask was imported without the ``dask`` extra."""

    raise DaskNotInstalledError("linalgkit.dask needs Dask: install the extra with `pip install linalgkit[dask]` "
                                "(dask[array] and distributed)") from error

__all__ = ["RowOperator", "check_chunking", "check_rows", "check_split_every", "check_stack", "chunk_backend", "da",
           "meta"]


def _check_dask(X, name, ndim):
    if not isinstance(X, da.Array):
        raise ArgumentTypeError(f"{name} must be a dask.array.Array, got {type(X).__name__}; wrap it with "
                                f"dask.array.from_array({name}, chunks=(rows, -1)) or call linalgkit's in-memory "
                                f"function instead")
    if X.ndim != ndim:
        raise ShapeError(f"{name} must be {ndim}-D, got shape {X.shape}")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValidationError(f"{name} has unknown chunk sizes (after boolean indexing or reading a file of unknown "
                              f"length); call {name} = {name}.compute_chunk_sizes() first")
    if not np.issubdtype(X.dtype, np.floating):
        raise DTypeError(f"{name} must have a real floating dtype (float32 or float64), got {X.dtype}; "
                         f"convert with {name}.astype('float64')")


def check_rows(X, name, *, ndim=2):
    """A row-chunked dask array: known chunk sizes along axis 0, one chunk along every other axis, real floats."""
    _check_dask(X, name, ndim)
    split = [axis for axis in range(1, ndim) if len(X.chunks[axis]) > 1]
    if split:
        fix = ", ".join(f"{axis}: -1" for axis in range(1, ndim))
        raise ValidationError(f"{name} must be chunked along rows only, got {len(X.chunks[split[0]])} chunks along "
                              f"axis {split[0]}; rechunk with {name} = {name}.rechunk({{{fix}}})")
    return X


def check_stack(X, name):
    """A row-chunked ``(N, n, n)`` stack of matrices."""
    X = check_rows(X, name, ndim=3)
    if X.shape[1] != X.shape[2]:
        raise ShapeError(f"{name} must be a stack of square matrices (N, n, n), got shape {X.shape}")
    return X


def check_chunking(name, X, reference_name, reference):
    """Rechunk ``X`` to the row chunks of ``reference`` (a cheap re-split when they differ)."""
    if X.shape[0] != reference.shape[0]:
        raise ShapeError(f"{name} must have {reference.shape[0]} rows like {reference_name}, got {X.shape[0]}")
    if X.chunks[0] != reference.chunks[0]:
        X = X.rechunk({0: reference.chunks[0]})
    return X


def chunk_backend(X):
    """The Backend record of the chunks of a dask array (NumPy or CuPy), from its ``_meta``."""
    return get_backend(X=X._meta)


def meta(X, ndim, dtype=None):
    """An empty array of ``X``'s chunk type with ``ndim`` dimensions: the ``meta`` of a graph built from ``X``."""
    return da.utils.meta_from_array(X._meta, ndim=ndim, dtype=X.dtype if dtype is None else dtype)


def check_split_every(split_every):
    """``split_every`` of the tree reductions: an int >= 2 or None (Dask's default)."""
    if split_every is not None and not (isinstance(split_every, numbers.Integral) and split_every >= 2):
        raise ValidationError(f"split_every must be an int >= 2 or None, got {split_every!r}")
    return split_every


class RowOperator:
    r"""A persisted row-chunked ``A`` seen by the in-memory solvers as a matrix: ``A @ v``, ``A.T @ u`` and both.

    Each product is one pass over the chunks: ``A @ v`` is a blockwise product whose ``n``-vector is
    gathered to the client, ``A.T @ u`` splits ``u`` by the row chunks and sums the ``d``-vectors
    :math:`A_i^T u_i` in a tree reduction, and :meth:`product_pair` (LSQR's step, a residual with
    its gradient) does both in one pass.  The regression family's iterations (LSQR, iterative
    sketching, FOSSILS, the Cholesky-QR refinement) run on the client unchanged with this operator:
    the ``d``-vectors and the ``n``-vectors live there, ``A`` stays on the workers.

    Parameters
    ----------
    A : dask.array.Array of shape (n, d)
        Row-chunked, best persisted.
    split_every : int, optional
        Fan-in of the tree reduction of ``A.T @ u`` (Dask's default when None).
    """

    def __init__(self, A, split_every=None):
        self.A, self.shape, self.dtype, self.split_every = A, A.shape, A.dtype, split_every

    @property
    def T(self):
        """The adjoint: ``A.T @ u`` for an in-memory ``u`` of length ``n``."""
        return _Adjoint(self)

    def _check_operand(self, x, name, length):
        """``x`` (1-D, or 2-D for a block of vectors) has ``length`` rows; else a ShapeError naming it."""
        if x.ndim not in (1, 2) or x.shape[0] != length:
            raise ShapeError(f"{name} must have shape ({length},) or ({length}, k) for A of shape {self.shape}, "
                             f"got {tuple(x.shape)}")

    def __matmul__(self, v):
        self._check_operand(v, "v", self.shape[1])
        return (self.A @ v).compute()

    def rmatvec(self, u):
        self._check_operand(u, "u", self.shape[0])
        parts = da.from_array(u, chunks=(self.A.chunks[0],) + ((u.shape[1],) if u.ndim == 2 else ()),
                              asarray=False, meta=meta(self.A, u.ndim))
        contraction = "ij,i->j" if u.ndim == 1 else "ij,ik->jk"
        return da.einsum(contraction, self.A, parts, split_every=self.split_every).compute()

    def product_pair(self, v, u=None, coef=0.0, *, gather=True):
        r"""``(w, A^T w, ||w||)`` for :math:`w = Av + \mathrm{coef}\,u` (``u`` None: :math:`w = Av`) in one pass.

        Each chunk :math:`A_i` forms its rows :math:`w_i` and its term :math:`A_i^T w_i` together (by
        the in-memory fused pass where the chunk allows it), so an LSQR step or a residual and its
        gradient read ``A`` once and take one round trip; ``w`` is gathered to the client (None
        with ``gather=False``, which sends back only the ``d``-vector terms) and the terms are
        summed there.

        Parameters
        ----------
        v : array of shape (d,)
            In memory.
        u : array of shape (n,), optional
            In memory; not read when ``coef`` is 0.
        coef : float, default=0.0
        gather : bool, default=True
            Return ``w``; False sends back only the ``d``-vector terms and returns None for it.

        Returns
        -------
        (array of shape (n,) or None, array of shape (d,), float)
        """
        import dask

        for x, name, length in ((v, "v", self.shape[1]), (u, "u", self.shape[0])):
            if x is not None and (x.ndim != 1 or x.shape[0] != length):
                raise ShapeError(f"product_pair needs {name} of shape ({length},) for A of shape {self.shape}, "
                                 f"got {tuple(x.shape)}")
        bounds = np.cumsum((0,) + self.A.chunks[0])
        pieces = [dask.delayed(_chunk_product_pair, nout=3)(block, v, None if u is None else u[start:stop], coef,
                                                            gather)
                  for block, start, stop in zip(self.A.to_delayed()[:, 0], bounds[:-1], bounds[1:])]
        parts, gradients, squares = dask.compute(*zip(*pieces))
        w = chunk_backend(self.A).xp.concat(parts) if gather else None
        return w, sum(gradients[1:], gradients[0]), float(np.sqrt(sum(squares)))


def _chunk_product_pair(block, v, u, coef, gather):
    """One chunk's ``(w_i or None, A_i^T w_i, ||w_i||^2)`` for :meth:`RowOperator.product_pair`."""
    from ..regression.precondition import _product_pair

    w, gradient, size = _product_pair(get_backend(X=block), block, v, u, coef)
    return (w if gather else None), gradient, size**2


class _Adjoint:
    def __init__(self, operator):
        self._operator = operator
        self.shape = operator.shape[::-1]

    def __matmul__(self, u):
        return self._operator.rmatvec(u)
