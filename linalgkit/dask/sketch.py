r"""Sketches of row-chunked Dask arrays as reductions: :math:`SA = \sum_i S_i A_i`.

``A`` is split in row chunks :math:`A_i` (rows :math:`[r_i, r_{i+1})`); :math:`S_i` is the column
block of :math:`S` for those rows, regenerated on the worker from the sketch's seed
(:meth:`linalgkit.sketch.SketchOperator.columns`), and the ``m x d`` products are summed in a tree
reduction.  For the Gaussian, Rademacher, CountSketch and sparse sign sketches the result is the
in-memory ``make_sketch(kind, m, n, random_state=seed) @ A`` up to rounding, for any chunking.

The SRHT mixes all rows, so a distributed Hadamard transform would move all of ``A``; the
**block SRHT** (Balabanov, Beaupère, Grigori & Lacoste, ICML 2023) transforms each chunk on its
own and shares the row sample:

.. math:: S = \frac{1}{\sqrt m}\,\bigl[\tilde D_1 P H_N D_1 J_1\ \cdots\ \tilde D_p P H_N D_p J_p\bigr],

with :math:`J_i` padding chunk :math:`i` to :math:`N = 2^{\lceil\log_2 \max_i n_i\rceil}` rows,
:math:`D_i, \tilde D_i` independent random signs per chunk and :math:`P` one sample of ``m`` of the
``N`` rows.  Then :math:`E[S^TS] = I` (the cross terms vanish through :math:`\tilde D_i`), and it is
an oblivious subspace embedding with a sketch size of the SRHT's order, :math:`m = O(d\log d)`
(ibid.).  It is a *different* random matrix from the in-memory SRHT, and it depends on the
chunking: results agree with the in-memory SRHT only statistically.
"""

import math
import numbers

import numpy as np

from .._backend import capabilities, check_random_state, get_backend
from .._validation import check_option, check_scalar
from ..exceptions import NonFiniteError, ValidationError
from ..sketch import make_sketch
from ..sketch._dispatch import srht_apply
from ..sketch.operators import apply_sketch
from ._core import check_rows, check_split_every, da, meta

__all__ = ["BlockSRHT", "DASK_SKETCH_KINDS", "sketch"]

EXACT_KINDS = ("gaussian", "rademacher", "countsketch", "sparse_sign")
DASK_SKETCH_KINDS = EXACT_KINDS + ("srht",)
"""Sketch kinds of the Dask layer: the first four equal the in-memory sketches, ``"srht"`` is the block SRHT."""


class BlockSRHT:
    r"""The block SRHT of a given row chunking (see the module docstring); built by :func:`make_dask_sketch`.

    Parameters
    ----------
    m : int
        Sketch rows.
    chunks : tuple of int
        Row chunk sizes of the matrices it applies to.
    rng : numpy.random.Generator
        Source of the seed and of the shared row sample.
    """

    kind = "srht"

    def __init__(self, m, chunks, rng):
        self.padded_rows = 1 << max(max(chunks) - 1, 0).bit_length()
        if m > self.padded_rows:
            raise ValidationError(f"m must be at most {self.padded_rows} (the largest row chunk padded to a power of "
                                  f"two) for the block SRHT, got {m}; use larger chunks, lower m or "
                                  f"sketch='sparse_sign'")
        self.shape, self.chunks = (m, sum(chunks)), tuple(chunks)
        self.seed = int(rng.integers(2**63))
        self.rows = np.sort(rng.choice(self.padded_rows, size=m, replace=False))

    def apply_chunk(self, backend, index, X, B):
        r""":math:`\tilde D_i P H_N D_i J_i [X\ B] / \sqrt m` for chunk ``index``.

        Parameters
        ----------
        backend : Backend
            Backend of the chunk.
        index : int
            Position of the chunk among the row chunks (seeds its signs).
        X, B : array of shape (n_i, d) and (n_i, q)
            The chunk's rows of ``A`` and of the stacked right-hand sides.

        Returns
        -------
        array of shape (m, d + q)
        """
        signs = np.random.default_rng([self.seed, index])
        inner = 1.0 - 2.0 * signs.integers(0, 2, size=X.shape[0], dtype=np.int8)
        outer = (1.0 - 2.0 * signs.integers(0, 2, size=self.shape[0], dtype=np.int8)) / math.sqrt(self.shape[0])
        inner, outer = (backend.asarray(backend.from_host(s), dtype=X.dtype) for s in (inner, outer))
        return srht_apply(backend, X, B, inner, backend.from_host(self.rows), self.padded_rows) * outer[:, None]


def make_dask_sketch(kind, m, A, random_state):
    """The operator of ``kind`` for the row chunks of ``A``: a lazily drawn sketch, or a :class:`BlockSRHT`."""
    if kind == "srht":
        return BlockSRHT(m, A.chunks[0], random_state)
    return make_sketch(kind, m, A.shape[0], random_state=random_state)


def _sketch_block(X, *B, S, argument, block_info=None):
    """``(1, m, k + q)`` block: the sketch of one row chunk ``[X B]`` (``B`` = ``(B,)`` or ``()``)."""
    backend = get_backend(X=X)
    xp = backend.xp
    B = xp.astype(B[0], X.dtype) if B else backend.zeros((X.shape[0], 0), X.dtype)
    index, (start, stop) = block_info[0]["chunk-location"][0], block_info[0]["array-location"][0]
    if not (bool(xp.all(xp.isfinite(X))) and bool(xp.all(xp.isfinite(B)))):
        raise NonFiniteError(f"{argument} must be finite, got NaN or inf in rows {start} to {stop - 1}; clean the "
                             f"data (e.g. {argument}[da.isfinite({argument}).all(axis=1)])")
    if isinstance(S, BlockSRHT):
        out = S.apply_chunk(backend, index, X, B)
    else:
        out = apply_sketch(backend, S.columns(start, stop), X, B)
    return out[None, ...]


def _sketch_pass(S, A, B=None, *, name="A", split_every=None):
    r"""Lazy :math:`S[A\ B]` (``m x (d + q)``) of checked row-chunked ``A`` and ``B`` with the same row chunks."""
    m, width = S.shape[0], A.shape[1] + (0 if B is None else B.shape[1])
    operands = (A,) if B is None else (A, B)
    parts = da.map_blocks(_sketch_block, *operands, S=S, argument=name, new_axis=1,
                          chunks=((1,) * len(A.chunks[0]), (m,), (width,)), meta=meta(A, 3),
                          name=f"linalgkit-sketch-{name}-" + da.core.tokenize(S.__dict__.get("seed"), m, *operands))
    return parts.sum(axis=0, split_every=split_every)


@capabilities("linalgkit.dask.sketch", numpy="NumPy chunks: Numba kernels per chunk, a tree reduction",
              cupy="CuPy chunks: the CuPy kernels per chunk (not run: no GPU lent so far)", generic=None)
def sketch(A, m, *, kind="sparse_sign", random_state=None, split_every=None):
    r"""The sketch :math:`SA` of a row-chunked Dask array, as one tree reduction over the chunks.

    Parameters
    ----------
    A : dask.array.Array of shape (n, d)
        Real floating, chunked along rows only (NumPy or CuPy chunks).
    m : int
        Sketch size.
    kind : {"gaussian", "rademacher", "countsketch", "sparse_sign", "srht"}, default="sparse_sign"
        The first four give ``make_sketch(kind, m, n, random_state=random_state) @ A`` up to rounding, for
        any chunking; ``"srht"`` is the block SRHT of the module docstring (statistically equivalent).
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the sketch, as in :func:`linalgkit.sketch.make_sketch`.
    split_every : int, optional
        Fan-in of the tree reduction (Dask's default when None).

    Returns
    -------
    dask.array.Array of shape (m, d)
        Lazy; ``.compute()`` gives an in-memory array of the chunk type.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from linalgkit.dask import sketch
    >>> from linalgkit.sketch import make_sketch
    >>> A = np.random.default_rng(0).standard_normal((1000, 3))
    >>> SA = sketch(da.from_array(A, chunks=(300, 3)), 20, kind="gaussian", random_state=1).compute()
    >>> bool(np.allclose(SA, make_sketch("gaussian", 20, 1000, random_state=1) @ A, rtol=1e-12, atol=0))
    True
    """
    A = check_rows(A, "A")
    kind = check_option(kind, "kind", DASK_SKETCH_KINDS)
    check_scalar(m, "m", kind=numbers.Integral, low=1)
    S = make_dask_sketch(kind, int(m), A, check_random_state(random_state))
    return _sketch_pass(S, A, split_every=check_split_every(split_every))
