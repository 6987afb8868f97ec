"""The input funnel: every public function validates its arguments here, once.

Messages follow one pattern, ``"<name> must be <expected>, got <received>; <fix>"``, and the
exceptions subclass ``ValueError`` / ``TypeError`` (see :mod:`linalgkit.exceptions`).
"""

import numbers

import numpy as np

from ._backend import check_random_state
from ._validation_sparse import check_sparse_structure
from .exceptions import ArgumentTypeError, DTypeError, NonFiniteError, NotSPDError, ShapeError, ValidationError

__all__ = [
    "check_array",
    "check_axis",
    "check_consistent_length",
    "check_matrix",
    "check_option",
    "check_positive",
    "check_out",
    "check_random_state",
    "check_scalar",
    "check_spd",
    "check_spd_scaled",
    "definiteness_floor",
    "check_vector",
]

_FLOAT_KINDS = ("real floating", "complex floating")
# Floating dtypes no kernel takes, and the dtype to convert them to.
_UNSUPPORTED_FLOATS = {"float16": "float32", "float96": "float64", "float128": "float64",
                       "complex192": "complex128", "complex256": "complex128"}


def _dtype_name(xp, dtype):
    return getattr(dtype, "name", str(dtype).replace(f"{xp.__name__}.", ""))


def _check_dtype(x, name, backend, numeric, allow_complex):
    xp = backend.xp
    kinds = _FLOAT_KINDS if allow_complex else _FLOAT_KINDS[:1]
    received = _dtype_name(xp, x.dtype)
    if xp.isdtype(x.dtype, kinds) and received not in _UNSUPPORTED_FLOATS:
        return x
    wanted = "a floating dtype (float32 or float64" + (", complex64 or complex128)" if allow_complex else ")")
    if numeric == "cast" and xp.isdtype(x.dtype, ("bool", "integral")):
        return xp.astype(x, xp.float64)
    if not allow_complex and xp.isdtype(x.dtype, "complex floating"):
        raise DTypeError(f"{name} must have {wanted}, got {received}; pass the real part or split real and imaginary")
    cast_to = _UNSUPPORTED_FLOATS.get(received, "float64")
    raise DTypeError(f"{name} must have {wanted}, got {received}; convert it with {name}.astype({cast_to})")


def check_finite(x, name, backend):
    """Raise :class:`NonFiniteError` when ``x`` holds NaN or infinity.

    A sum is finite when every term is (one streaming pass, no boolean temporary); only when it
    is not, which may also be an overflow of finite terms, are the values checked one by one.
    """
    xp = backend.xp
    with np.errstate(over="ignore", invalid="ignore"):
        total = xp.sum(x)
    if bool(xp.isfinite(total)):
        return
    if not bool(xp.all(xp.isfinite(x))):
        n_bad = int(xp.sum(xp.astype(~xp.isfinite(x), xp.int64)))
        raise NonFiniteError(
            f"{name} must be finite, got {n_bad} NaN or infinite value(s); remove or impute them "
            f"(e.g. numpy.nan_to_num) before the call"
        )


def check_array(x, name, *, backend, ndim=None, min_ndim=1, numeric="float", allow_complex=True,
                finite=True, allow_empty=False):
    """Validate a dense array argument and return it as an array of ``backend``.

    Parameters
    ----------
    x : array_like
        The argument.  Array-likes (lists) become NumPy arrays; other libraries' arrays must
        already match ``backend`` (see :func:`~linalgkit._backend.get_backend`).
    name : str
        Argument name used in error messages.
    backend : Backend
        Backend resolved for the call.
    ndim : int, optional
        Exact number of dimensions required.
    min_ndim : int, default=1
        Least number of dimensions required when ``ndim`` is None.
    numeric : {"float", "cast"}, default="float"
        ``"float"`` rejects integer and boolean arrays with a :class:`DTypeError`; ``"cast"``
        converts them to float64 (what scikit-learn estimators do).
    allow_complex : bool, default=True
        Whether complex dtypes are accepted.
    finite : bool, default=True
        Whether to reject NaN and infinity (costs one pass over ``x``).
    allow_empty : bool, default=False
        Whether arrays with a zero-length axis are accepted.

    Returns
    -------
    array
    """
    if backend.kind == "numpy":
        try:
            x = np.asarray(x)
        except ValueError as error:  # a ragged nested list
            raise ShapeError(f"{name} must be a rectangular array, got a ragged sequence ({error}); give every "
                             f"row the same length") from error
        if x.dtype == object:
            raise DTypeError(f"{name} must be a numeric array, got dtype object; build it with a numeric dtype")
    if ndim is not None and x.ndim != ndim:
        fix = "reshape with x.reshape(-1, 1)" if (ndim == 2 and x.ndim == 1) else f"pass a {ndim}-D array"
        raise ShapeError(f"{name} must be {ndim}-D, got shape {tuple(x.shape)}; {fix}")
    if ndim is None and x.ndim < min_ndim:
        raise ShapeError(f"{name} must have at least {min_ndim} dimension(s), got shape {tuple(x.shape)}; "
                         f"wrap a scalar as an array of shape (1,)")
    if not allow_empty and any(s == 0 for s in x.shape):
        raise ShapeError(f"{name} must not be empty, got shape {tuple(x.shape)}; pass at least one element")
    x = _check_dtype(x, name, backend, numeric, allow_complex)
    if finite:
        check_finite(x, name, backend)
    return x


def check_matrix(A, name, *, backend, square=False, sparse_ok=True, **kwargs):
    """Validate a 2-D matrix argument (dense, or sparse of ``backend.sparse`` when ``sparse_ok``).

    Sparse matrices keep their format (CSR, CSC, COO) and index dtype (int32 and int64; other
    integer dtypes are cast to int64); BSR, DIA, LIL and DOK become CSR.  Their index arrays are
    checked once (:func:`~linalgkit._validation_sparse.check_sparse_structure`: no corrupted index
    reaches a kernel) and their stored values like a dense array.  Other keyword arguments go to
    :func:`check_array`.
    """
    if backend.issparse(A):
        if not sparse_ok:
            raise DTypeError(f"{name} must be a dense array, got a sparse {A.format} matrix; pass {name}.toarray()")
        if A.ndim != 2:
            raise ShapeError(f"{name} must be 2-D, got shape {A.shape}")
        if not kwargs.get("allow_empty", False) and 0 in A.shape:
            raise ShapeError(f"{name} must not be empty, got shape {tuple(A.shape)}; pass at least one row and column")
        A = check_sparse_structure(A, name, backend=backend)
        if A.format not in ("csr", "csc", "coo"):
            A = A.tocsr()
        values = check_array(A.data, name, backend=backend, ndim=1, **{**kwargs, "allow_empty": True})
        if values is not A.data:
            A = A.astype(values.dtype)
    else:
        A = check_array(A, name, backend=backend, ndim=2, **kwargs)
    if square and A.shape[0] != A.shape[1]:
        raise ShapeError(f"{name} must be square, got shape {tuple(A.shape)}; pass an n x n matrix")
    return A


def check_vector(b, name, *, backend, length=None, **kwargs):
    """Validate a 1-D vector argument, optionally of a required ``length``."""
    b = check_array(b, name, backend=backend, ndim=1, **kwargs)
    if length is not None and b.shape[0] != length:
        raise ShapeError(f"{name} must have length {length}, got length {b.shape[0]}")
    return b


def check_consistent_length(*named):
    """Check that ``(name, array)`` pairs agree on their number of rows (first axis)."""
    (first_name, first), *rest = named
    for name, array in rest:
        if array.shape[0] != first.shape[0]:
            raise ShapeError(
                f"{name} must have as many rows as {first_name} ({first.shape[0]}), got {array.shape[0]}"
            )


def check_axis(axis, ndim, name="axis"):
    """Normalize an axis index for an array with ``ndim`` dimensions."""
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise ArgumentTypeError(f"{name} must be an int, got {type(axis).__name__}; pass an integer axis")
    if not -ndim <= axis < ndim:
        raise ValidationError(f"{name} must be in [{-ndim}, {ndim - 1}] for an array with {ndim} dimension(s), "
                              f"got {axis}")
    return int(axis) % ndim


def check_scalar(value, name, *, kind=numbers.Real, low=None, high=None, closed="both"):
    """Validate a scalar hyper-parameter: its type (``numbers.Real`` or ``numbers.Integral``) and range.

    ``closed`` is one of ``"both"``, ``"left"``, ``"right"``, ``"neither"`` and says which of
    ``low`` and ``high`` belong to the allowed interval.
    """
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be {'an int' if kind is numbers.Integral else 'a real number'}, "
                                f"got {type(value).__name__} {value!r}")
    low_ok = low is None or (value >= low if closed in ("both", "left") else value > low)
    high_ok = high is None or (value <= high if closed in ("both", "right") else value < high)
    if not (low_ok and high_ok) or value != value:
        left = "[" if closed in ("both", "left") else "("
        right = "]" if closed in ("both", "right") else ")"
        interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValidationError(f"{name} must be in {interval}, got {value!r}")
    return value


def check_option(value, name, options):
    """Validate a string option against the allowed ``options``."""
    if value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValidationError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_out(out, name, *, like, backend):
    """Validate an ``out=`` array: same library, shape and dtype as ``like``, and writeable."""
    if backend.kind == "numpy" and not isinstance(out, np.ndarray):
        raise ArgumentTypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}; "
                                f"allocate it with numpy.empty_like(x)")
    if tuple(out.shape) != tuple(like.shape):
        raise ShapeError(f"{name} must have shape {tuple(like.shape)}, got {tuple(out.shape)}; "
                         f"allocate it with numpy.empty_like(x)")
    if out.dtype != like.dtype:
        raise DTypeError(f"{name} must have dtype {_dtype_name(backend.xp, like.dtype)}, got "
                         f"{_dtype_name(backend.xp, out.dtype)}; allocate it with numpy.empty_like(x)")
    if backend.kind == "numpy" and not out.flags.writeable:
        raise ValidationError(f"{name} must be writeable, got a read-only array; pass a writeable copy")
    return out


def check_spd(X, name, *, backend, rtol=1e-10, definite=True, regularize=None):
    r"""Validate a batch ``(..., n, n)`` of symmetric positive definite matrices.

    Symmetry is checked to ``rtol`` relative to each matrix's largest entry; definiteness follows the
    one rule of :func:`definiteness_floor`, and the error for a matrix that breaks it names its batch
    index and smallest eigenvalue.  Integer and boolean arrays are cast to float64; empty batches
    ``(0, n, n)`` pass; sparse matrices are refused.

    Parameters
    ----------
    definite : bool, default=True
        Check positive definiteness here with one ``eigvalsh``.  Functions that factor their
        input anyway pass False and apply the rule (:func:`check_positive`) to the matrices
        their factorization flags, so the check costs nothing on the others.
    regularize : float in [0, 1], optional
        Shrinkage :math:`(1 - \alpha) X + \alpha\,\frac{\operatorname{tr} X}{n} I` applied before
        the definiteness check (opt-in fix for rank-deficient covariances).
    """
    return check_spd_scaled(X, name, backend=backend, rtol=rtol, definite=definite, regularize=regularize)[0]


def _symmetry_defects(X, backend):
    """Per-matrix ``max |X - X^T|`` and ``max |X|`` of a batch ``(..., n, n)``."""
    if backend.kind == "numpy" and backend.use_numba and X.size:
        from ._validation_numba import symmetry_defects

        n = X.shape[-1]
        asym, scale = symmetry_defects(np.ascontiguousarray(X).reshape(-1, n, n))
        return asym.reshape(X.shape[:-2]), scale.reshape(X.shape[:-2])
    xp = backend.xp
    if not X.size:
        return xp.zeros(X.shape[:-2], dtype=X.dtype), xp.zeros(X.shape[:-2], dtype=X.dtype)
    scale = xp.maximum(xp.max(X, axis=(-2, -1)), -xp.min(X, axis=(-2, -1)))  # max |X_ij| without a temporary
    asym = xp.max(X - xp.matrix_transpose(X), axis=(-2, -1))  # antisymmetric: its largest entry is its largest |.|
    return asym, scale


def check_positive(smallest, name, *, backend, largest=None, n=1):
    """Raise :class:`NotSPDError` naming the first batch index that breaks the definiteness rule.

    The rule (:func:`definiteness_floor`): ``smallest > n * eps * largest`` for the smallest and largest
    eigenvalues of each matrix (``largest=None``: ``smallest > 0``).
    """
    xp = backend.xp
    bound = 0 if largest is None else definiteness_floor(smallest.dtype, n) * largest
    not_pd = ~(smallest > bound)
    if bool(xp.any(not_pd)):
        index = _first_true(backend.to_host(not_pd))
        value = float(backend.to_host(smallest)[index])
        relative = "" if largest is None or value < 0 else (
            f", at most n * eps = {definiteness_floor(smallest.dtype, n):.2g} times the largest (singular to "
            f"working precision)")
        raise NotSPDError(f"{name}{_label(index)} must be positive definite, got smallest eigenvalue "
                          f"{value:.3g}{relative}; regularize it: shrinkage "
                          f"(sklearn.covariance.ledoit_wolf / oas), adding a multiple of the identity, "
                          f"or the regularize= option")


def _first_true(mask):
    """Index tuple of the first True entry of a boolean host array (``()`` for 0-D)."""
    return tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()


def _label(index):
    return "[" + ", ".join(map(str, index)) + "]" if index else ""


def definiteness_floor(dtype, n):
    r"""The one definiteness rule of the SPD functions: the relative floor :math:`\delta = n\,\epsilon`.

    A symmetric ``n x n`` matrix counts as positive definite when its smallest eigenvalue exceeds
    :math:`\delta\,\lambda_{\max}` with :math:`\epsilon` the machine epsilon of ``dtype``: below that,
    the smallest eigenvalue is within the rounding error of an eigen-solver (backward error about
    :math:`n \epsilon \|X\|_2`), so the matrix is singular to working precision and no metric that
    needs definiteness can tell it from an indefinite one.  Documented in ``docs/spd.rst``
    ("Definiteness").
    """
    return max(int(n), 1) * float(np.finfo(np.float32 if "32" in str(dtype) else np.float64).eps)


def check_spd_scaled(X, name, *, backend, rtol=1e-10, definite=True, regularize=None):
    """:func:`check_spd` that also returns the per-matrix scale ``max |X_ij|`` (shape ``X.shape[:-2]``).

    The scale comes from the symmetry check at no extra pass; callers use it to rescale inputs of
    homogeneous metrics away from overflow and underflow.
    """
    xp = backend.xp
    if backend.issparse(X) or hasattr(X, "tocsr") or hasattr(X, "todense"):
        raise DTypeError(f"{name} must be a dense array; sparse input is not supported by the SPD functions, got "
                         f"{type(X).__name__}; pass {name}.toarray()")
    if backend.kind == "numpy":
        X = np.asarray(X)
        if np.issubdtype(X.dtype, np.complexfloating):  # a ValueError with scikit-learn's wording
            raise ValidationError(f"Complex data not supported: {name} must hold real symmetric matrices, got "
                                  f"{X.dtype}; pass the real part (Hermitian matrices are not supported)")
    X = check_array(X, name, backend=backend, min_ndim=2, allow_complex=False, numeric="cast", allow_empty=True)
    if X.shape[-1] == 0:
        raise ShapeError(f"{name} has 0 feature(s) (shape={tuple(X.shape)}) while a minimum of 1 is required: it "
                         f"must hold n x n matrices with n >= 1")
    if X.shape[-1] != X.shape[-2]:
        table = f", a 2-D table (n_samples={X.shape[0]}, n_features={X.shape[1]})" if X.ndim == 2 else ""
        raise ShapeError(f"{name} must hold square matrices (..., n, n), got shape {tuple(X.shape)}{table}")
    asym, scale = _symmetry_defects(X, backend)
    bad = asym > rtol * scale
    if bool(xp.any(bad)):
        index = _first_true(backend.to_host(bad))
        raise NotSPDError(f"{name}{_label(index)} must be symmetric, but differs from its transpose by "
                          f"{float(backend.to_host(asym)[index]):.3g}; symmetrize with (X + X^T) / 2")
    if regularize is not None:
        check_scalar(regularize, "regularize", low=0, high=1)
        n = X.shape[-1]
        trace = xp.sum(xp.linalg.diagonal(X), axis=-1)[..., None, None] / n
        eye = xp.eye(n, dtype=X.dtype, device=backend.device)
        X = (1 - regularize) * X + regularize * trace * eye
        scale = _symmetry_defects(X, backend)[1]
    if definite and X.size:
        w = xp.linalg.eigvalsh(X)
        check_positive(w[..., 0], name, backend=backend, largest=w[..., -1], n=X.shape[-1])
    return X, scale
