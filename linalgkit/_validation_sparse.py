"""Structure check of sparse matrix arguments: no corrupted index array reaches a kernel.

A SciPy or CuPy sparse matrix whose index arrays were edited after construction (an index or an
``indptr`` entry out of range, a decreasing ``indptr``, arrays of the wrong length) makes compiled
kernels read and write outside their arrays.  :func:`check_sparse_structure` is the one place that
rules this out, called by :func:`linalgkit._validation.check_matrix`; it costs one vectorized pass
over the index arrays (a few milliseconds for :math:`10^7` stored entries), nothing over the values.
"""

import numpy as np

from .exceptions import DTypeError, ValidationError

__all__ = ["check_sparse_structure"]

_INDEX_DTYPES = ("int32", "int64")


def check_sparse_structure(A, name, *, backend):
    """Validate the index arrays of a sparse ``A`` and return it with int32 or int64 indices.

    CSR, CSC, BSR: ``indptr`` has one entry per row (column, block row) plus one, starts at 0, never
    decreases and ends within the index array; the stored indices lie in ``[0, columns)``.  COO: the
    row and column arrays have one entry per value and lie within the shape.  Index arrays of another
    integer dtype (``int16``, ``uint64``) are cast to int64 (int32 on CuPy, the only index dtype of
    ``cupyx.scipy.sparse``).

    Parameters
    ----------
    A : sparse matrix or array
        A SciPy or CuPy sparse matrix, already known to be 2-D.
    name : str
        Argument name used in error messages.
    backend : Backend
        Backend of ``A``.

    Returns
    -------
    sparse matrix or array
        ``A``, or a copy with int64 index arrays.

    Raises
    ------
    DTypeError
        An index array is not of an integer dtype.
    ValidationError
        An index array has the wrong length or holds an entry out of range.
    """
    if A.format in ("csr", "csc", "bsr"):
        return _check_compressed(A, name, backend)
    if A.format == "coo":
        return _check_coo(A, name, backend)
    return A


def _fail(A, name, what):
    raise ValidationError(f"{name} must be a valid sparse {A.format.upper()} matrix, but {what}; rebuild it "
                          f"with its constructor (e.g. scipy.sparse.{A.format}_array((data, ...), shape=...)) "
                          f"or check it with {name}.check_format(full_check=True)")


def _index_array(A, name, array, label):
    dtype = str(array.dtype)
    if not np.issubdtype(np.dtype(dtype), np.integer):
        raise DTypeError(f"{name}.{label} must have an integer dtype (int32 or int64), got {dtype}; rebuild "
                         f"{name} with integer index arrays")
    if array.ndim != 1:
        _fail(A, name, f"its {label} array has shape {tuple(array.shape)}, not 1-D")
    return dtype in _INDEX_DTYPES


def _check_range(A, name, xp, array, high, label):
    """``0 <= array < high`` in one min and one max."""
    if array.shape[0] == 0:
        return
    low_seen, high_seen = int(xp.min(array)), int(xp.max(array))
    if low_seen < 0 or high_seen >= high:
        _fail(A, name, f"its {label} lie in [{low_seen}, {high_seen}], outside [0, {high})")


def _check_compressed(A, name, backend):
    xp = backend.xp
    blocks = A.blocksize if A.format == "bsr" else (1, 1)
    major, minor = (A.shape[1], A.shape[0]) if A.format == "csc" else (A.shape[0], A.shape[1])
    major, minor = major // blocks[0], minor // blocks[1]
    indptr, indices = A.indptr, A.indices
    native = _index_array(A, name, indptr, "indptr") & _index_array(A, name, indices, "indices")
    if indptr.shape[0] != major + 1:
        _fail(A, name, f"its indptr has length {indptr.shape[0]}, not {major + 1} (one more than its "
                       f"{'columns' if A.format == 'csc' else 'rows'})")
    stored = int(indptr[-1])
    if int(indptr[0]) != 0 or not 0 <= stored <= min(indices.shape[0], A.data.shape[0]):
        _fail(A, name, f"its indptr runs from {int(indptr[0])} to {stored}, not from 0 to at most the "
                       f"{min(indices.shape[0], A.data.shape[0])} stored entries")
    if major and not bool(xp.all(indptr[1:] >= indptr[:-1])):
        _fail(A, name, "its indptr decreases somewhere")
    _check_range(A, name, xp, indices[:stored], minor, "indices")
    if native:
        return A
    target = _cast_dtype(backend)
    return type(A)((A.data, indices.astype(target), indptr.astype(target)), shape=A.shape)


def _cast_dtype(backend):
    return np.int32 if backend.kind == "cupy" else np.int64


def _coordinates(A):
    coords = getattr(A, "coords", None)
    return tuple(coords) if coords is not None else (A.row, A.col)


def _check_coo(A, name, backend):
    xp = backend.xp
    coords = _coordinates(A)
    native = True
    for axis, (label, array) in enumerate(zip(("row", "col"), coords)):
        native &= _index_array(A, name, array, label)
        if array.shape[0] != A.data.shape[0]:
            _fail(A, name, f"its {label} array has {array.shape[0]} entries for {A.data.shape[0]} values")
        _check_range(A, name, xp, array, A.shape[axis], f"{label} indices")
    if native:
        return A
    rows, cols = (array.astype(_cast_dtype(backend)) for array in coords)
    return type(A)((A.data, (rows, cols)), shape=A.shape)
