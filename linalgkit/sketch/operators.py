r"""Sketching operators: random ``m x n`` matrices :math:`S` with :math:`E[S^T S] = I`, applied fast.

Every operator is built by :func:`make_sketch`, draws its randomness on the host at construction
(so one seed gives the same :math:`S` on CPU and GPU) and applies :math:`S` or :math:`S^T` without
forming :math:`S` (except the Gaussian and Rademacher sketches, whose entries are generated block by
block from per-block seeds and multiplied with BLAS-3).

The public entries (``S @ X``, ``S.T @ Y``, :meth:`SketchOperator.apply_pair`,
:meth:`SketchOperator.apply_stacked`) resolve the backend and validate once; other families call
:func:`apply_sketch` with checked arrays instead, which validates nothing.  The Numba, CuPy or
array-API body of the SRHT and hashing sketches is chosen in :mod:`linalgkit.sketch._dispatch`.
"""

import copy
import functools
import math
import numbers

import numpy as np

from .._backend import capabilities, check_random_state, get_backend, map_on_threads, rademacher, standard_normal
from .._validation import check_array, check_matrix, check_option, check_scalar
from ..exceptions import ArgumentTypeError, BackendError, NotSupportedError, ShapeError, ValidationError
from ..transforms.walsh_hadamard import _fwht
from ._cutovers import DENSE_ENTRIES, GAUSSIAN_BLOCK_ENTRIES, GAUSSIAN_CACHE_ENTRIES
from ._dispatch import hash_apply, srht_apply

__all__ = [
    "CountSketch",
    "GaussianSketch",
    "PooledHadamardSketch",
    "RademacherSketch",
    "SKETCH_KINDS",
    "SRHTSketch",
    "SRTTSketch",
    "SketchOperator",
    "SparseSignSketch",
    "make_sketch",
]


def _next_power_of_two(n):
    return 1 << max(n - 1, 0).bit_length()


class SketchOperator:
    """Base class: an ``m x n`` random linear map applied with ``S @ X``.

    Subclasses implement ``_apply(backend, X, B)``, returning ``S @ [X B]`` as one dense
    ``m x (k + q)`` array computed in one pass over ``X`` (dense or sparse, ``n x k``) and ``B``
    (dense, ``n x q``), and ``_adjoint(backend, Y)``, returning ``S^T @ Y`` for a dense ``Y``.

    Parameters
    ----------
    m, n : int
        Shape of :math:`S`: ``m`` sketch rows for inputs with ``n`` rows.
    """

    kind = None
    backends = ("numpy", "cupy")
    __array_ufunc__ = None  # ``X @ S`` with a NumPy ``X`` calls ``S.__rmatmul__`` instead of failing inside NumPy

    def __init__(self, m, n):
        self.shape = (m, n)
        self._cache = {}

    @property
    def T(self):
        """The adjoint :math:`S^T` as an operator (``S.T @ Y``)."""
        return _Adjoint(self)

    def __repr__(self):
        return f"{type(self).__name__}(m={self.shape[0]}, n={self.shape[1]})"

    def __matmul__(self, X):
        backend = get_backend(X=X)
        X, vector = self._check_operand(backend, X, "X", self.shape[1], sparse_ok=True)
        out = self._apply(backend, X, backend.zeros((X.shape[0], 0), X.dtype))
        return out[:, 0] if vector else out

    def __rmatmul__(self, X):
        return _right_product(self, X, "S")

    def apply_pair(self, A, b):
        """Sketch ``[A b]`` in one pass over ``A`` and return ``(S @ A, S @ b)``.

        Parameters
        ----------
        A : array or sparse matrix of shape (n, d)
            Dense or sparse (CSR is fastest) real floating matrix.
        b : array of shape (n,) or (n, k)
            Dense right-hand side(s), cast to the dtype of ``A``.

        Returns
        -------
        SA : array of shape (m, d)
            Always dense, on the device of ``A``.
        Sb : array of shape (m,) or (m, k)
            The sketched right-hand side(s).
        """
        stacked, vector = self._apply_stacked(A, b)
        d = A.shape[1]
        return stacked[:, :d], (stacked[:, d] if vector else stacked[:, d:])

    def apply_stacked(self, A, b):
        r"""Sketch ``[A b]`` in one pass over ``A`` and return it as one dense ``m x (d + k)`` array.

        What a solver that factors :math:`S[A\ b]` needs: no split and re-join of the two parts.

        Parameters
        ----------
        A : array or sparse matrix of shape (n, d)
            Dense or sparse (CSR is fastest) real floating matrix.
        b : array of shape (n,) or (n, k)
            Dense right-hand side(s), cast to the dtype of ``A``.

        Returns
        -------
        array of shape (m, d + k)
            :math:`S[A\ b]` (``k = 1`` for a vector ``b``), on the device of ``A``.
        """
        return self._apply_stacked(A, b)[0]

    def _apply_stacked(self, A, b):
        backend = get_backend(A=A, b=b)
        A, _ = self._check_operand(backend, A, "A", self.shape[1], sparse_ok=True, vector_ok=False)
        b = check_array(b, "b", backend=backend, allow_complex=False, finite=False, numeric="cast")
        if b.ndim > 2 or b.shape[0] != self.shape[1]:
            raise ShapeError(f"b must have shape ({self.shape[1]},) or ({self.shape[1]}, k) to match the sketch, "
                             f"got {tuple(b.shape)}")
        B = backend.xp.astype(b if b.ndim == 2 else b[:, None], A.dtype)
        return self._apply(backend, A, B), b.ndim == 1

    def todense(self):
        """The matrix :math:`S` as a float64 NumPy array (for small sizes: tests and teaching)."""
        m, n = self.shape
        if m * n > DENSE_ENTRIES:
            raise ValidationError(f"todense() must be called on a small sketch (m * n <= {DENSE_ENTRIES}), got "
                                  f"m * n = {m * n}; apply the operator with S @ X instead")
        return self @ np.eye(n)

    def check_backend(self, backend, name):
        """Raise :class:`~linalgkit.exceptions.BackendError` when this kind does not run on ``backend``.

        Parameters
        ----------
        backend : Backend
            The backend of the operand.
        name : str
            The operand's argument name, for the message.
        """
        if backend.kind not in self.backends:
            raise BackendError(f"{name} is a {backend.kind} array but the {self.kind!r} sketch runs on "
                               f"{' and '.join(self.backends)} only; pass a NumPy or CuPy array, or choose "
                               f"sketch='gaussian', 'rademacher' or 'srht'")

    def columns(self, start, stop):
        r"""The ``m x (stop - start)`` operator ``S[:, start:stop]``, regenerated from the seed without forming ``S``.

        So that :math:`SA = \sum_i S_{[r_i, r_{i+1})} A_i` can be computed chunk by chunk (what
        :mod:`linalgkit.dask` does).  The Gaussian, Rademacher, CountSketch and sparse sign sketches
        draw each block of consecutive columns from its own seed and support it; the transforms
        (SRHT, SRTT, pooled) mix all rows and raise :class:`~linalgkit.exceptions.NotSupportedError`.

        Parameters
        ----------
        start, stop : int
            Column range, ``0 <= start < stop <= n``.

        Returns
        -------
        SketchOperator
            An operator of the same kind with ``shape == (m, stop - start)``.
        """
        raise NotSupportedError(f"columns() needs a sketch drawn column block by column block, but the {self.kind!r} "
                                f"sketch mixes all {self.shape[1]} rows; use sketch='gaussian', 'rademacher', "
                                f"'countsketch' or 'sparse_sign' (or linalgkit.dask's block SRHT, sketch='srht')")

    def _column_range(self, start, stop):
        n = self.shape[1]
        for name, value in (("start", start), ("stop", stop)):
            check_scalar(value, name, kind=numbers.Integral)
        if not 0 <= start < stop <= n:
            raise ValidationError(f"start and stop must satisfy 0 <= start < stop <= n = {n}, got start={start}, "
                                  f"stop={stop}")
        return int(start), int(stop)

    def _check_operand(self, backend, X, name, rows, *, sparse_ok, vector_ok=True):
        """Validate an operand on the already resolved ``backend``; returns ``(X as 2-D, was_vector)``."""
        self.check_backend(backend, name)
        if backend.issparse(X):  # its index arrays are checked before any conversion touches them
            X = check_matrix(X, name, backend=backend, allow_complex=False, finite=False, numeric="cast")
            X = X.tocsr() if sparse_ok else X.toarray()
        else:
            X = check_array(X, name, backend=backend, allow_complex=False, finite=False, numeric="cast")
        if X.ndim > 2 or (X.ndim == 1 and not vector_ok) or X.shape[0] != rows:
            wanted = f"({rows},) or ({rows}, k)" if vector_ok else f"({rows}, k)"
            raise ShapeError(f"{name} must have shape {wanted} to match the {self.shape[0]} x {self.shape[1]} "
                             f"sketch, got {tuple(X.shape)}; build the sketch with n = {name}.shape[0]")
        vector = X.ndim == 1
        return (X[:, None] if vector else X), vector

    def _device(self, backend, name, dtype, build):
        """Random part ``name`` built by ``build(backend, dtype)`` once per backend and dtype, then cached."""
        key = (backend.kind, str(backend.device), name, str(dtype))
        if key not in self._cache:
            self._cache[key] = build(backend, dtype)
        return self._cache[key]


def _right_product(op, X, label):
    r"""``X @ op`` as :math:`(\mathrm{op}^T X^T)^T`, for ``X`` of shape ``(p, rows of op)`` or ``(rows of op,)``."""
    backend = get_backend(X=X)
    check = check_matrix if backend.issparse(X) else check_array
    X = check(X, "X", backend=backend, allow_complex=False, finite=False, numeric="cast")
    rows = op.shape[0]
    if X.ndim > 2 or X.shape[-1] != rows:
        raise ShapeError(f"{label} is {rows} x {op.shape[1]}, so X @ {label} needs X of shape (p, {rows}) or "
                         f"({rows},), got {tuple(X.shape)}; for {label} applied to the rows of X, write {label} @ X")
    out = op.T @ (X.T if X.ndim == 2 else X)
    return out.T if X.ndim == 2 else out


class _Adjoint:
    """The transpose :math:`S^T` of a sketch, an ``n x m`` operator."""

    __array_ufunc__ = None

    def __init__(self, sketch):
        self._sketch = sketch
        self.shape = sketch.shape[::-1]

    @property
    def T(self):
        """The sketch itself."""
        return self._sketch

    def __repr__(self):
        return f"{self._sketch!r}.T"

    def __matmul__(self, Y):
        backend = get_backend(Y=Y)
        Y, vector = self._sketch._check_operand(backend, Y, "Y", self.shape[1], sparse_ok=False)
        out = self._sketch._adjoint(backend, Y)
        return out[:, 0] if vector else out

    def __rmatmul__(self, X):
        return _right_product(self, X, "S.T")

    def todense(self):
        """The matrix :math:`S^T` as a float64 NumPy array."""
        return self._sketch.todense().T


class _DenseIIDSketch(SketchOperator):
    r"""Shared code of the dense i.i.d. sketches :math:`S = G / \sqrt{m}`.

    ``G`` is generated in blocks of consecutive columns, block ``j`` from its own generator seeded
    with ``(seed, j)``, so it is never stored whole (unless small) and never depends on the backend.
    """

    backends = ("numpy", "cupy", "generic")

    def __init__(self, m, n, rng):
        super().__init__(m, n)
        self.seed = int(rng.integers(2**63))
        self.block_columns = max(1, GAUSSIAN_BLOCK_ENTRIES // m)

    def _draw(self, rng, shape, dtype, backend):
        raise NotImplementedError

    def _block(self, backend, dtype, j):
        size = min(self.block_columns, self.shape[1] - j * self.block_columns)
        block = self._draw(np.random.default_rng([self.seed, j]), (self.shape[0], size), dtype, backend)
        return block * (1 / math.sqrt(self.shape[0]))

    def _blocks(self, backend, dtype):
        count = -(-self.shape[1] // self.block_columns)
        if self.shape[0] * self.shape[1] <= GAUSSIAN_CACHE_ENTRIES:
            return self._device(backend, "blocks", dtype,
                                lambda be, dt: [self._block(be, dt, j) for j in range(count)])
        return (self._block(backend, dtype, j) for j in range(count))

    def _apply(self, backend, X, B):
        SX = backend.zeros((self.shape[0], X.shape[1]), X.dtype)
        SB = backend.zeros((self.shape[0], B.shape[1]), X.dtype)
        for j, G in enumerate(self._blocks(backend, X.dtype)):
            rows = slice(j * self.block_columns, j * self.block_columns + G.shape[1])
            SX = SX + G @ X[rows, ...]
            SB = SB + G @ B[rows, :]
        return backend.xp.concat([SX, SB], axis=1)

    def _adjoint(self, backend, Y):
        xp = backend.xp
        return xp.concat([xp.matrix_transpose(G) @ Y for G in self._blocks(backend, Y.dtype)], axis=0)

    def columns(self, start, stop):
        return _DenseColumns(self, *self._column_range(start, stop))


class _DenseColumns(SketchOperator):
    """Columns ``[start, stop)`` of a dense i.i.d. sketch: the parent's overlapping blocks, sliced."""

    def __init__(self, parent, start, stop):
        super().__init__(parent.shape[0], stop - start)
        self.kind, self.backends = parent.kind, parent.backends
        self._parent, self._start = parent, start

    def __getstate__(self):
        return {**self.__dict__, "_cache": {}}

    def columns(self, start, stop):
        start, stop = self._column_range(start, stop)
        return _DenseColumns(self._parent, self._start + start, self._start + stop)

    def _pieces(self, backend, dtype):
        """``(block slice of S[:, start:stop], its local column range)`` for each overlapping block."""
        width = self._parent.block_columns
        stop = self._start + self.shape[1]
        for j in range(self._start // width, (stop - 1) // width + 1):
            low, high = max(self._start, j * width), min(stop, (j + 1) * width)
            block = self._parent._block(backend, dtype, j)
            yield block[:, low - j * width: high - j * width], slice(low - self._start, high - self._start)

    def _apply(self, backend, X, B):
        SX = backend.zeros((self.shape[0], X.shape[1]), X.dtype)
        SB = backend.zeros((self.shape[0], B.shape[1]), X.dtype)
        for G, rows in self._pieces(backend, X.dtype):
            SX = SX + G @ X[rows, ...]
            SB = SB + G @ B[rows, :]
        return backend.xp.concat([SX, SB], axis=1)

    def _adjoint(self, backend, Y):
        xp = backend.xp
        return xp.concat([xp.matrix_transpose(G) @ Y for G, _ in self._pieces(backend, Y.dtype)], axis=0)


class GaussianSketch(_DenseIIDSketch):
    r"""Gaussian sketch :math:`S = G/\sqrt{m}`, :math:`G_{ij} \sim N(0, 1)` i.i.d.

    Costs one GEMM, :math:`O(mnd)`.  The only sketch whose :math:`\ell_\infty` guarantee is proved
    in full for any ``A``: since :math:`U^T r = 0`, :math:`SU` and :math:`Sr` are independent.

    Parameters
    ----------
    m, n : int
        Shape of :math:`S`: ``m`` sketch rows for inputs with ``n`` rows.
    rng : numpy.random.Generator
        Source of the randomness; :func:`make_sketch` builds it from ``random_state``.
    """

    kind = "gaussian"

    def _draw(self, rng, shape, dtype, backend):
        return standard_normal(rng, shape, dtype=dtype, backend=backend)


class RademacherSketch(_DenseIIDSketch):
    r"""Rademacher (random sign) sketch :math:`S = G/\sqrt{m}`, :math:`G_{ij} = \pm 1` i.i.d.

    Parameters
    ----------
    m, n : int
        Shape of :math:`S`: ``m`` sketch rows for inputs with ``n`` rows.
    rng : numpy.random.Generator
        Source of the randomness; :func:`make_sketch` builds it from ``random_state``.
    """

    kind = "rademacher"

    def _draw(self, rng, shape, dtype, backend):
        return rademacher(rng, shape, dtype=dtype, backend=backend)


class SRHTSketch(SketchOperator):
    r"""Subsampled randomized Hadamard transform :math:`S = m^{-1/2} P H_N D J`.

    :math:`J` pads ``n`` rows with zeros to :math:`N = 2^{\lceil \log_2 n \rceil}`, :math:`D` is a
    diagonal of random signs, :math:`H_N` the (unnormalized) Walsh-Hadamard matrix applied by
    :func:`linalgkit.transforms.fwht` in :math:`O(N \log N)` per column, and :math:`P` keeps ``m``
    of the ``N`` rows uniformly without replacement.  Then :math:`E[S^T S] = I`.  :math:`S` is never
    formed: on NumPy a Numba kernel splits :math:`H_N = H_R \otimes H_C` with cache-sized blocks of
    :math:`C` rows.  For small ``m`` it transforms each block and adds only the sampled rows, in one
    pass over ``A`` with no large temporary; once ``m`` exceeds about ten blocks it runs the full
    transform in two passes through an :math:`N \times k` temporary and keeps the sampled rows.
    References:
    Ailon & Chazelle (2009); Tropp (2011); Price, Song & Woodruff (ICALP 2017).

    Parameters
    ----------
    m, n : int
        Shape of :math:`S`: ``m`` sketch rows for inputs with ``n`` rows.
    rng : numpy.random.Generator
        Source of the randomness; :func:`make_sketch` builds it from ``random_state``.
    """

    kind = "srht"
    backends = ("numpy", "cupy", "generic")

    def __init__(self, m, n, rng):
        super().__init__(m, n)
        self.padded_rows = _next_power_of_two(n)
        if m > self.padded_rows:
            raise ValidationError(f"m must be at most {self.padded_rows} (n padded to a power of two) for the "
                                  f"SRHT, got {m}; lower m or use sketch='gaussian'")
        self.signs = 1.0 - 2.0 * rng.integers(0, 2, size=n, dtype=np.int8)
        self.rows = np.sort(rng.choice(self.padded_rows, size=m, replace=False))
        # where each padded row comes from in the adjoint: its sampled position, or m (a zero row)
        self._source = np.full(self.padded_rows, m, dtype=np.int64)
        self._source[self.rows] = np.arange(m)

    def _parts(self, backend, dtype):
        return self._device(backend, "parts", dtype, lambda be, dt: (be.asarray(be.from_host(self.signs), dtype=dt),
                                                            be.from_host(self.rows), be.from_host(self._source)))

    def _apply(self, backend, X, B):
        signs, rows, _ = self._parts(backend, X.dtype)
        out = srht_apply(backend, X, B, signs, rows, self.padded_rows)
        out *= 1 / math.sqrt(self.shape[0])
        return out

    def _adjoint(self, backend, Y):
        xp = backend.xp
        signs, _, source = self._parts(backend, Y.dtype)
        padded = xp.concat([Y * (1 / math.sqrt(self.shape[0])), backend.zeros((1, Y.shape[1]), Y.dtype)], axis=0)
        Z = _fwht(backend, xp.take(padded, source, axis=0), 0, 1.0)
        return Z[: self.shape[1], :] * signs[:, None]


class SRTTSketch(SketchOperator):
    r"""Subsampled randomized trigonometric (DCT-II) transform :math:`S = \sqrt{n/m}\, P C D`.

    :math:`C` is the orthonormal DCT-II (``scipy.fft.dct(type=2, norm="ortho")``, no padding),
    :math:`D` random signs and :math:`P` keeps ``m`` of the ``n`` rows without replacement, so that
    :math:`E[S^T S] = I`.  Reference: Avron, Maymounkov & Toledo, Blendenpik (SISC 2010).

    Parameters
    ----------
    m, n : int
        Shape of :math:`S`: ``m`` sketch rows for inputs with ``n`` rows.
    rng : numpy.random.Generator
        Source of the randomness; :func:`make_sketch` builds it from ``random_state``.
    """

    kind = "srtt"

    def __init__(self, m, n, rng):
        super().__init__(m, n)
        if m > n:
            raise ValidationError(f"m must be at most n = {n} for the SRTT, got {m}; lower m or use "
                                  f"sketch='gaussian'")
        self.signs = 1.0 - 2.0 * rng.integers(0, 2, size=n, dtype=np.int8)
        self.rows = np.sort(rng.choice(n, size=m, replace=False))

    def _parts(self, backend, dtype):
        return self._device(backend, "parts", dtype, lambda be, dt: (be.asarray(be.from_host(self.signs), dtype=dt),
                                                            be.from_host(self.rows)))

    @staticmethod
    def _fft(backend):
        if backend.kind == "cupy":
            import cupyx.scipy.fft

            return cupyx.scipy.fft
        import scipy.fft

        return scipy.fft

    def _apply(self, backend, X, B):
        signs, rows = self._parts(backend, X.dtype)
        k = X.shape[1]
        W = backend.empty((self.shape[1], k + B.shape[1]), X.dtype)
        W[:, :k] = (X.toarray() if backend.issparse(X) else X) * signs[:, None]
        W[:, k:] = B * signs[:, None]
        threads = {"workers": -1} if backend.kind == "numpy" else {}
        W = self._fft(backend).dct(W, type=2, norm="ortho", axis=0, overwrite_x=True, **threads)
        return W[rows, :] * math.sqrt(self.shape[1] / self.shape[0])

    def _adjoint(self, backend, Y):
        signs, rows = self._parts(backend, Y.dtype)
        Z = backend.zeros((self.shape[1], Y.shape[1]), Y.dtype)
        Z[rows] = Y * math.sqrt(self.shape[1] / self.shape[0])
        return self._fft(backend).idct(Z, type=2, norm="ortho", axis=0, overwrite_x=True) * signs[:, None]


class _HashSketch(SketchOperator):
    r"""Shared code of sketches with a few nonzeros per column: ``S[rows[i, j], i] = weights[i, j]``.

    Applied by a Numba scatter kernel on NumPy (one pass, dense or CSR input) and as a sparse
    matrix product on CuPy or when Numba is disabled (:func:`linalgkit.sketch._dispatch.hash_apply`).
    """

    def _matrix(self, backend, dtype):
        def build(be, dt):
            n, z = self.rows.shape
            indptr = np.arange(0, n * z + 1, z)
            matrix = be.sparse.csc_matrix(
                (be.asarray(be.from_host(self.weights.ravel()), dtype=dt), be.from_host(self.rows.ravel()),
                 be.from_host(indptr)), shape=self.shape)
            return matrix.tocsr()

        return self._device(backend, "matrix", dtype, build)

    def _weights(self, backend, dtype):
        """The host weights in ``dtype``, for the Numba kernel."""
        return self._device(backend, "weights", dtype, lambda be, dt: self.weights.astype(dt))

    def _apply(self, backend, X, B):
        return hash_apply(backend, self, X, B)

    def _adjoint(self, backend, Y):
        return self._matrix(backend, Y.dtype).T @ Y


class _BlockSeededHash(_HashSketch):
    """A hash sketch drawn per block of ``block_columns`` consecutive columns, block ``j`` from the seed ``(seed, j)``.

    Any column range is regenerated by drawing only its blocks (:meth:`columns`), and nothing is
    drawn before the first use, so a sketch for ``10^9`` rows costs nothing until applied; a pickle
    carries the seed, never the draws.
    """

    block_columns = 1 << 16

    def __init__(self, m, n, rng):
        super().__init__(m, n)
        self.seed = int(rng.integers(2**63))
        self._start, self._total = 0, n

    def __getstate__(self):
        state = {**self.__dict__, "_cache": {}}
        state.pop("_drawn", None)
        return state

    def _draw_block(self, rng, size):
        """``(rows, weights)`` of one block of ``size`` columns."""
        raise NotImplementedError

    @functools.cached_property
    def _drawn(self):
        """``(rows, weights)`` of columns ``_start`` to ``_start + n``: the blocks drawn on threads (same values)."""
        width, start = self.block_columns, self._start
        stop = start + self.shape[1]

        def draw(j):
            block_rows, block_weights = self._draw_block(np.random.default_rng([self.seed, j]),
                                                         min(width, self._total - j * width))
            keep = slice(max(start - j * width, 0), min(stop - j * width, width))
            return block_rows[keep], block_weights[keep]

        drawn = map_on_threads(draw, range(start // width, (stop - 1) // width + 1))
        return np.concatenate([rows for rows, _ in drawn]), np.concatenate([weights for _, weights in drawn])

    @property
    def rows(self):
        """``n x z`` row indices of the nonzeros of each column."""
        return self._drawn[0]

    @property
    def weights(self):
        """``n x z`` values of the nonzeros of each column."""
        return self._drawn[1]

    def columns(self, start, stop):
        start, stop = self._column_range(start, stop)
        part = copy.copy(self)
        part.__dict__.pop("_drawn", None)
        part.shape, part._cache, part._start = (self.shape[0], stop - start), {}, self._start + start
        return part


class CountSketch(_BlockSeededHash):
    r"""CountSketch (Clarkson-Woodruff): one :math:`\pm 1` per column of :math:`S`, in a uniform row.

    Costs :math:`O(\mathrm{nnz}(A))`.  A subspace embedding only for :math:`m \gtrsim d^2`; it
    loses rank on coherent matrices (two heavy rows hashed together), and it carries no
    :math:`\ell_\infty` guarantee.  Reference: Clarkson & Woodruff (STOC 2013).

    Parameters
    ----------
    m, n : int
        Shape of :math:`S`: ``m`` sketch rows for inputs with ``n`` rows.
    rng : numpy.random.Generator
        Source of the randomness; :func:`make_sketch` builds it from ``random_state``.
    """

    kind = "countsketch"

    def _draw_block(self, rng, size):
        rows = rng.integers(0, self.shape[0], size=(size, 1), dtype=np.int64)
        return rows, 1.0 - 2.0 * rng.integers(0, 2, size=(size, 1), dtype=np.int8)


class SparseSignSketch(_BlockSeededHash):
    r"""Sparse sign sketch (OSNAP/SJLT): ``zeta`` entries :math:`\pm 1/\sqrt{\zeta}` per column, distinct rows.

    Costs :math:`O(\zeta\, \mathrm{nnz}(A))` and embeds with :math:`m = O(d)` for
    :math:`\zeta = O(\log d)` in practice; the recommended sketch for preconditioning (Epperly,
    Meier & Nakatsukasa, arXiv 2406.03468).  Reference: Nelson & Nguyen (FOCS 2013).

    Parameters
    ----------
    m, n : int
        Shape of :math:`S`: ``m`` sketch rows for inputs with ``n`` rows.
    rng : numpy.random.Generator
        Source of the randomness; :func:`make_sketch` builds it from ``random_state``.
    zeta : int, optional
        Nonzeros per column (see :func:`make_sketch`).
    """

    kind = "sparse_sign"

    def __init__(self, m, n, rng, zeta=None):
        super().__init__(m, n, rng)
        zeta = min(8, m) if zeta is None else check_scalar(zeta, "zeta", kind=numbers.Integral, low=1, high=m)
        self.zeta = int(zeta)

    def _draw_block(self, rng, size):
        rows = _distinct_rows(rng, self.shape[0], size, self.zeta)
        return rows, (1.0 - 2.0 * rng.integers(0, 2, size=(size, self.zeta), dtype=np.int8)) / math.sqrt(self.zeta)

    def __repr__(self):
        return f"SparseSignSketch(m={self.shape[0]}, n={self.shape[1]}, zeta={self.zeta})"


def _distinct_rows(rng, m, n, zeta):
    """``n x zeta`` rows in ``[0, m)``, each row drawn uniformly without replacement.

    Column ``b`` is redrawn where it repeats one of the columns before it, until it repeats none:
    given those columns it is then uniform over the values they leave, so each row is a uniform
    draw without replacement.  A repeat costs one entry, not the whole row (redrawing whole rows
    took ``m^zeta / m!`` tries per row at ``zeta = m = 8``).
    """
    rows = rng.integers(0, m, size=(n, zeta), dtype=np.int64)
    for b in range(1, zeta):
        clash = np.flatnonzero(_repeats_earlier(rows, b))
        while clash.size:
            rows[clash, b] = rng.integers(0, m, size=clash.size, dtype=np.int64)
            clash = clash[_repeats_earlier(rows[clash], b)]
    return rows


def _repeats_earlier(rows, b):
    """Which rows have column ``b`` equal to one of the columns ``0 .. b - 1``."""
    repeat = rows[:, 0] == rows[:, b]
    for a in range(1, b):
        repeat |= rows[:, a] == rows[:, b]
    return repeat


class PooledHadamardSketch(_HashSketch):
    r"""Gaussian-pooled Hadamard transform :math:`S = B\, D_\gamma\, \Pi\, F_N D_\sigma J`.

    :math:`J` zero-pads to :math:`N = 2^{\lceil \log_2 n\rceil}`, :math:`D_\sigma` random signs,
    :math:`F_N = H_N/\sqrt{N}` the orthonormal Walsh-Hadamard transform, :math:`\Pi` a uniform
    permutation, :math:`D_\gamma` an i.i.d. :math:`N(0, 1)` diagonal and :math:`B` sums ``m``
    consecutive blocks of (nearly) equal size :math:`N/m`.  Each column of :math:`B` has one 1, so
    :math:`E[S^T S] = I`; given :math:`\Pi, F, D_\sigma` the rows of :math:`S` are independent
    Gaussians, which is what makes the coordinate-wise bound provable (Song & Zhang 2026, "Hadamard
    flattening and Gaussian pooling sketch", not peer reviewed).  The pooling stage :math:`B
    D_\gamma \Pi` is a weighted CountSketch with balanced buckets and reuses its kernel.

    Parameters
    ----------
    m, n : int
        Shape of :math:`S`: ``m`` sketch rows for inputs with ``n`` rows.
    rng : numpy.random.Generator
        Source of the randomness; :func:`make_sketch` builds it from ``random_state``.
    """

    kind = "pooled"

    def __init__(self, m, n, rng):
        super().__init__(m, n)
        self.padded_rows = N = _next_power_of_two(n)
        if m > N:
            raise ValidationError(f"m must be at most {N} (n padded to a power of two) for the pooled "
                                  f"transform, got {m}; lower m or use sketch='gaussian'")
        self.signs = 1.0 - 2.0 * rng.integers(0, 2, size=n, dtype=np.int8)
        permutation = rng.permutation(N)
        gammas = rng.standard_normal(N)
        # position p of the permuted order falls in block p * m // N; row t = permutation[p] goes there.
        self.rows = np.empty((N, 1), dtype=np.int64)
        self.rows[permutation, 0] = np.arange(N, dtype=np.int64) * m // N
        self.weights = np.empty((N, 1))
        self.weights[permutation, 0] = gammas

    def _matrix(self, backend, dtype):
        def build(be, dt):
            return be.sparse.coo_matrix(
                (be.asarray(be.from_host(self.weights[:, 0]), dtype=dt),
                 (be.from_host(self.rows[:, 0]), be.from_host(np.arange(self.padded_rows)))),
                shape=(self.shape[0], self.padded_rows)).tocsr()

        return self._device(backend, "pool", dtype, build)

    def _signs(self, backend, dtype):
        return self._device(backend, "signs", dtype, lambda be, dt: be.asarray(be.from_host(self.signs), dtype=dt))

    def _apply(self, backend, X, B):
        signs = self._signs(backend, X.dtype)
        n, k = X.shape
        Z = backend.zeros((self.padded_rows, k + B.shape[1]), X.dtype)
        Z[:n, :k] = (X.toarray() if backend.issparse(X) else X) * signs[:, None]
        Z[:n, k:] = B * signs[:, None]
        _fwht(backend, Z, 0, 1 / math.sqrt(self.padded_rows), out=Z)
        return hash_apply(backend, self, Z, backend.zeros((self.padded_rows, 0), X.dtype))

    def _adjoint(self, backend, Y):
        signs = self._signs(backend, Y.dtype)
        Z = self._matrix(backend, Y.dtype).T @ Y
        Z = _fwht(backend, backend.xp.asarray(Z), 0, 1 / math.sqrt(self.padded_rows))
        return Z[: self.shape[1], :] * signs[:, None]


SKETCH_KINDS = {
    "gaussian": GaussianSketch,
    "rademacher": RademacherSketch,
    "srht": SRHTSketch,
    "srtt": SRTTSketch,
    "pooled": PooledHadamardSketch,
    "countsketch": CountSketch,
    "sparse_sign": SparseSignSketch,
}


@capabilities("linalgkit.sketch.make_sketch",
              numpy="all kinds; Numba scatter kernels (dense and CSR) and the Numba FWHT",
              cupy="all kinds via cuBLAS, the CUDA FWHT, cupyx.scipy.fft and cuSPARSE products",
              generic="gaussian, rademacher and srht (pure array-API)")
def make_sketch(kind, m, n, *, random_state=None, **options):
    r"""Build an ``m x n`` sketching operator :math:`S` with :math:`E[S^T S] = I`.

    Parameters
    ----------
    kind : {"gaussian", "rademacher", "srht", "srtt", "pooled", "countsketch", "sparse_sign"}
        The distribution of :math:`S` (see Notes).
    m : int
        Sketch size (rows of :math:`S`), at least 1.
    n : int
        Number of rows of the matrices the sketch is applied to.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of every random choice.  Everything is drawn on the host, so a seed gives the same
        :math:`S` on CPU and GPU, and the same seed gives a bitwise-identical operator.
    **options
        ``zeta`` (int, default ``min(8, m)``): nonzeros per column of the ``"sparse_sign"`` sketch.

    Returns
    -------
    SketchOperator
        ``S @ X`` applies :math:`S` to a dense array or sparse matrix (the result is always dense),
        ``S.T @ Y`` applies :math:`S^T`, ``S.apply_pair(A, b)`` sketches ``[A b]`` in one pass over
        ``A``, and ``S.todense()`` returns :math:`S` for small sizes.

    Notes
    -----
    =============  ===========================  ======================================================
    kind           cost of ``S @ A``            guarantee
    =============  ===========================  ======================================================
    gaussian       :math:`O(mnd)` (GEMM)        OSE with :math:`m = O(d)`; proved :math:`\ell_\infty`
    rademacher     :math:`O(mnd)` (GEMM)        OSE with :math:`m = O(d)`
    srht           :math:`O(nd\log n)`          OSE with :math:`m = O(d \log d)`; :math:`\ell_\infty`
                                                (PSW17; claimed with :math:`d\log^3` by SYYZ23)
    srtt           :math:`O(nd\log n)`          as srht, no padding (DCT-II)
    pooled         :math:`O(nd\log n)`          OSE; proved :math:`\ell_\infty` (Song-Zhang 2026)
    sparse_sign    :math:`O(\zeta\,nnz(A))`     OSE with :math:`m = O(d)` in practice; no :math:`\ell_\infty`
    countsketch    :math:`O(nnz(A))`            OSE only for :math:`m = O(d^2)`; no :math:`\ell_\infty`
    =============  ===========================  ======================================================

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sketch import make_sketch
    >>> S = make_sketch("srht", 64, 1000, random_state=0)
    >>> (S @ np.ones((1000, 3))).shape
    (64, 3)
    """
    kind = check_option(kind, "kind", tuple(SKETCH_KINDS))
    check_scalar(m, "m", kind=numbers.Integral, low=1)
    check_scalar(n, "n", kind=numbers.Integral, low=1)
    allowed = ("zeta",) if kind == "sparse_sign" else ()
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ArgumentTypeError(f"make_sketch got unexpected option(s) {unknown} for kind={kind!r}; "
                        f"allowed: {list(allowed) or 'none'}")
    return SKETCH_KINDS[kind](int(m), int(n), check_random_state(random_state), **options)


def apply_sketch(backend, S, A, B):
    r""":math:`S[A\ B]` as one dense ``m x (k + q)`` array, for arrays already checked: no validation.

    The internal entry other families call (``sketch_and_factor`` of the regression family, the
    sampling family): ``A`` a dense 2-D array or a CSR matrix and ``B`` a dense 2-D array of ``A``'s
    dtype (``q`` may be 0), both on ``backend`` with ``n`` rows.  Only the kind's backend support is
    checked (a :class:`~linalgkit.exceptions.BackendError` names ``A``).
    """
    S.check_backend(backend, "A")
    return S._apply(backend, A, B)
