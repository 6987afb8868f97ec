r"""SPD geometry over row-chunked ``(N, n, n)`` Dask stacks: distances, tangent maps and Fréchet means.

Maps (:func:`distance`, :func:`pairwise_distances`, :func:`tangent_space`, :func:`untangent_space`)
run the SPD family's private implementations chunk by chunk and return lazy Dask arrays; each
chunk is validated where it is computed (an error names the argument and the chunk's first
matrix).  :func:`mean` returns an in-memory matrix: flat metrics (log-Euclidean, Euclidean,
power-Euclidean, (log-)Cholesky) in one tree reduction of the chart images, the affine-invariant
(Karcher) and Bures-Wasserstein means by the family's own gradient descent, whose weighted mean of
logarithms :math:`\sum_i w_i \operatorname{Log}_M X_i` is one tree reduction per iteration over the
persisted stack: same steps, same stopping rule, same result as :func:`linalgkit.spd.mean` up to
rounding.
"""

from dataclasses import replace

import numpy as np

from .._backend import capabilities, get_backend
from .._solver import check_callback, progress_bar, warn_not_converged
from ..exceptions import NotSupportedError, ShapeError, ValidationError
from ..spd import _geometry as g
from ..spd.means import MeanResult, _descent, _tolerances, _weights
from ..spd.metrics import (_callable_distances, _check_same_n, _pairwise_squared, _rescaling, _run, _scaled_squared,
                           _spd, _spd_scaled, get_metric)
from ..spd._kernel import KernelMetric
from ..spd.tangent import _reference
from ._core import check_chunking, check_rows, check_split_every, check_stack, chunk_backend, da, meta

__all__ = ["distance", "mean", "pairwise_distances", "tangent_space", "untangent_space"]


def _located(name, block_info, work):
    """``work()``; a validation error is re-raised with the first matrix of the chunk of ``name`` it came from."""
    try:
        return work()
    except ValidationError as error:
        if block_info is None:  # a blockwise product: the error names the matrix within its chunk
            raise
        start = block_info[0]["array-location"][0][0]
        raise type(error)(f"{error} (in the chunk of {name} that starts at matrix {start})") from error


def _checked(X, name, block_info, regularize=None):
    """``(backend, X)``: one chunk of ``name`` validated as SPD."""
    be = get_backend(X=X)
    return be, _located(name, block_info, lambda: _spd(be, X, name, regularize))


def _as_stack(Y, name, reference_name, reference):
    """A chunked stack with ``reference``'s row chunks, from a Dask or in-memory ``(N, n, n)`` ``Y``."""
    if not isinstance(Y, da.Array):
        Y = da.from_array(Y, chunks=(reference.chunks[0], -1, -1), asarray=False)
    return check_chunking(name, check_stack(Y, name), reference_name, reference)


def _metric(metric, allow_callable=True):
    if allow_callable and callable(metric) and not hasattr(metric, "squared_distance"):
        return metric
    return get_metric(metric)


def _distance_block(A, *B, m, single, squared, block_info=None):
    be = get_backend(X=A)
    A, scale_a = _located("A", block_info, lambda: _spd_scaled(be, A, "A"))
    B, scale_b = _located("B", block_info if B else None, lambda: _spd_scaled(be, B[0] if B else single, "B"))
    _check_same_n(A=A, B=B)
    if not hasattr(m, "squared_distance"):
        return _callable_distances(be, m, A, B, squared)
    return _located("A", block_info, lambda: _run(be, lambda: _scaled_squared(
        be, m, lambda A, B: m.squared_distance(be, A, B), (scale_a, scale_b), (A, B), squared), A=A, B=B))


@capabilities("linalgkit.dask.distance", numpy="NumPy chunks: the spd family's lane kernels per chunk",
              cupy="CuPy chunks (not run: no GPU lent so far)", generic=None)
def distance(A, B, *, metric="affine_invariant", squared=False):
    """Distances of matched matrices of a chunked stack: :func:`linalgkit.spd.distance` chunk by chunk.

    Parameters
    ----------
    A : dask.array.Array, shape (N, n, n)
        SPD matrices chunked along the first axis only.
    B : dask.array.Array or array, shape (N, n, n) or (n, n)
        Matched stack (rechunked to ``A``'s chunks) or one in-memory matrix for all of ``A``.
    metric, squared
        As in :func:`linalgkit.spd.distance`.

    Returns
    -------
    dask.array.Array, shape (N,)
        Lazy distances.
    """
    A = check_stack(A, "A")
    m = _metric(metric)
    single = None
    if isinstance(B, da.Array) or np.ndim(B) == 3:
        operands = (A, _as_stack(B, "B", "A", A))
    else:
        single, operands = B, (A,)
    return da.map_blocks(_distance_block, *operands, m=m, single=single, squared=squared, drop_axis=[1, 2],
                         meta=meta(A, 1))


def _pairwise_block(X, Y, m):
    """Squared distances of one chunk pair, rescaled by the pair's largest entry (in memory: the whole matrix's)."""
    be = get_backend(X=X)
    (X, scale_x), (Y, scale_y) = _spd_scaled(be, X, "X"), _spd_scaled(be, Y, "Y")
    if not hasattr(m, "squared_distance"):
        return _callable_distances(be, m, X[:, None, ...], Y[None, ...], True)
    top = be.xp.max(be.xp.concat([scale_x, scale_y]))[None]
    return _run(be, lambda: _scaled_squared(be, m, lambda X, Y: _pairwise_squared(be, m, X, Y, False), (top,), (X, Y),
                                            True, names=("X", "Y")), X=X, Y=Y)


@capabilities("linalgkit.dask.pairwise_distances", numpy="NumPy chunks: one block per pair of chunks",
              cupy="CuPy chunks (not run: no GPU lent so far)", generic=None)
def pairwise_distances(X, Y=None, *, metric="affine_invariant", squared=False):
    """Distance matrix of a chunked stack against a chunked or in-memory one: :func:`linalgkit.spd.pairwise_distances`.

    Parameters
    ----------
    X : dask.array.Array, shape (N, n, n)
        SPD matrices chunked along the first axis only.
    Y : dask.array.Array or array, shape (M, n, n), optional
        Defaults to ``X``; the result is then exactly symmetric with a zero diagonal.
    metric, squared
        As in :func:`linalgkit.spd.distance`.

    Returns
    -------
    dask.array.Array, shape (N, M)
        Lazy, chunked like ``X`` along rows and like ``Y`` along columns.
    """
    X = check_stack(X, "X")
    Yv = X if Y is None else Y
    if not isinstance(Yv, da.Array):
        Yv = da.from_array(Yv, chunks=-1, asarray=False)
    Yv = check_stack(Yv, "Y")
    if Yv.shape[-1] != X.shape[-1]:
        raise ShapeError(f"matrices must all be n x n with the same n, got {X.shape[-1]} (X) and {Yv.shape[-1]} (Y); "
                         f"pass matrices of one size")
    m = _metric(metric)
    d2 = da.blockwise(_pairwise_block, "ij", X, "iab", Yv, "jab", m=m, concatenate=True, meta=meta(X, 2))
    if Y is None:  # as in memory: exactly symmetric, exact zeros on the diagonal
        d2 = (d2 + d2.T) / 2 * (1 - da.eye(X.shape[0], chunks=X.chunks[0][0], dtype=X.dtype))
    return d2 if squared else da.sqrt(d2)


def _tangent_block(X, C, m, block_info=None):
    be, X = _checked(X, "X", block_info)
    return _located("X", block_info, lambda: _run(be, lambda: m.log_coordinates(be, C, X), X=X, reference=C))


def _untangent_block(T, C, m):
    be = get_backend(T=T)
    return _run(be, lambda: m.exp_coordinates(be, C, T), reference=C)


def _checked_reference(X, reference):
    C = _reference(chunk_backend(X), reference)
    if C.shape[-1] != X.shape[-1]:
        raise ShapeError(f"X holds {X.shape[-1]} x {X.shape[-1]} matrices but reference is {tuple(C.shape)}")
    return C


@capabilities("linalgkit.dask.tangent_space", numpy="NumPy chunks: map_blocks of the in-memory map",
              cupy="CuPy chunks (not run: no GPU lent so far)", generic=None)
def tangent_space(X, reference, *, metric="affine_invariant"):
    """Tangent coordinates of a chunked stack at an in-memory reference: :func:`linalgkit.spd.tangent_space`.

    Parameters
    ----------
    X : dask.array.Array, shape (N, n, n)
        SPD matrices chunked along the first axis only.
    reference : array, shape (n, n)
        In-memory SPD reference point, of the chunks' array type.
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    dask.array.Array, shape (N, n (n + 1) / 2)
        Lazy, chunked like ``X``.
    """
    X = check_stack(X, "X")
    C = _checked_reference(X, reference)
    n = X.shape[-1]
    return da.map_blocks(_tangent_block, X, C=C, m=get_metric(metric), drop_axis=2,
                         chunks=(X.chunks[0], (n * (n + 1) // 2,)), meta=meta(X, 2))


@capabilities("linalgkit.dask.untangent_space", numpy="NumPy chunks: map_blocks of the in-memory map",
              cupy="CuPy chunks (not run: no GPU lent so far)", generic=None)
def untangent_space(T, reference, *, metric="affine_invariant"):
    """Inverse of :func:`tangent_space` for chunked coordinates ``T`` of shape ``(N, n (n + 1) / 2)``.

    Parameters
    ----------
    T : dask.array.Array, shape (N, n (n + 1) / 2)
    reference : array, shape (n, n)
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    dask.array.Array, shape (N, n, n)
    """
    T = check_rows(T, "T")
    C = _reference(chunk_backend(T), reference)
    n = C.shape[-1]
    if T.shape[-1] != n * (n + 1) // 2:
        raise ShapeError(f"T must have n(n+1)/2 = {n * (n + 1) // 2} columns for {n} x {n} matrices, "
                         f"got {T.shape[-1]}")
    return da.blockwise(_untangent_block, "ijk", T, "ij", C=C, m=get_metric(metric), adjust_chunks={"j": n},
                        new_axes={"k": n}, concatenate=True, meta=meta(T, 3))


def _checked_block(X, regularize, block_info=None):
    return _checked(X, "X", block_info, regularize)[1]


def _reduce_block(X, w, op, block_info=None):
    be = get_backend(X=X)
    return _located("X", block_info, lambda: _run(be, lambda: op(be, X, w[:, 0, 0]), X=X))[None, ...]


class _Stack:
    """A validated, persisted chunked stack with its weights: ``sum_i op(X_i, w_i)`` as one tree reduction."""

    def __init__(self, X, w, split_every):
        self.X, self.split_every = X, split_every
        self.w = da.from_array(w[:, None, None], chunks=(X.chunks[0], 1, 1), asarray=False)

    def reduce(self, op):
        n = self.X.shape[-1]
        parts = da.map_blocks(_reduce_block, self.X, self.w, op=op, chunks=((1,) * len(self.X.chunks[0]), (n,), (n,)),
                              meta=meta(self.X, 3))
        return parts.sum(axis=0, split_every=self.split_every).compute()


class _Reduced:
    """Mixin of :func:`_reduced`: ``mean_log`` is the tree reduction over ``self.stack`` (its ``X``, ``w`` unused)."""

    def mean_log(self, be, M, X=None, w=None):
        metric = self.metric
        return self.stack.reduce(lambda be, Xi, wi: metric.mean_log(be, M, Xi, wi))


def _reduced(metric, stack):
    """``metric`` whose weighted mean of logarithms runs over a :class:`_Stack`: an instance of the metric's own class
    (so the family's ``isinstance`` rules, such as the Bures-Wasserstein threshold, see the same metric)."""
    cls = type(f"Reduced{type(metric).__name__}", (_Reduced, type(metric)), {})
    reduced = object.__new__(cls)
    reduced.__dict__.update(metric.__dict__, metric=metric, stack=stack)
    return reduced


def _condition_block(X):
    """``(1,)``: the largest condition number of one chunk's matrices (ascending eigenvalues, as in memory)."""
    be = get_backend(X=X)
    w = be.to_host(be.xp.linalg.eigvalsh(X))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.max(np.where(w[..., 0] > 0, w[..., -1] / w[..., 0], np.inf), keepdims=True)


class _StackView:
    """What the family's descent reads of its ``X`` argument, for a chunked stack: the shape, and, when it asks for
    the inputs' eigenvalues (the Bures-Wasserstein rounding floor), a one-matrix stand-in with the stack's largest
    condition number, computed by one pass over the chunks when asked for."""

    def __init__(self, X):
        self.X, self.shape, self.dtype = X, X.shape, X.dtype

    def __array__(self, dtype=None, copy=None):
        worst = float(da.map_blocks(_condition_block, self.X, drop_axis=[1, 2], chunks=((1,) * len(self.X.chunks[0]),),
                                    meta=np.empty((0,))).max().compute())
        return np.diag(np.linspace(1.0, worst, self.shape[-1]))[None].astype(dtype or self.dtype)


def _start(be, m, reduced):
    """The starting point of :func:`linalgkit.spd.means._start`: log-Euclidean mean for AI, arithmetic otherwise."""
    if isinstance(m, g.AffineInvariant):
        identity = be.xp.eye(reduced.stack.X.shape[-1], dtype=reduced.stack.X.dtype, device=be.device)
        return m.exp(be, identity, reduced.mean_log(be, identity))
    return reduced.stack.reduce(lambda be, Xi, wi: g.weighted_sum(be, wi, Xi))


@capabilities("linalgkit.dask.mean", numpy="NumPy chunks: one tree reduction per iteration",
              cupy="CuPy chunks (not run: no GPU lent so far)", generic=None)
def mean(X, *, metric="affine_invariant", weights=None, init=None, rtol=None, atol=0.0, maxiter=100, callback=None,
         progress=False, return_info=False, regularize=None, split_every=None):
    r"""Weighted Fréchet mean of a chunked ``(N, n, n)`` stack: :func:`linalgkit.spd.mean` over Dask.

    Flat metrics: one tree reduction of the chart images.  Affine-invariant (Karcher) and
    Bures-Wasserstein: the family's gradient descent with one tree reduction per iteration over the
    stack persisted on the workers; the stopping rule is that of :func:`linalgkit.spd.mean`
    (:math:`\|\sum_i w_i \operatorname{Log}_{M_k} X_i\|_{M_k} \le \max(\mathrm{rtol}, \mathrm{atol})`).
    Non-flat pullbacks (power-affine) and kernel metrics are not distributed yet.  Like the
    in-memory function, the iterative means rescale a stack whose entries leave the safe range
    by a power of two (one more reduction, over the persisted stack); the flat means do not
    rescale: keep entries within about ``1e-77 .. 1e77`` (float64) for them.

    Parameters
    ----------
    X : dask.array.Array, shape (N, n, n)
        SPD matrices chunked along the first axis only.
    metric, weights, init, rtol, atol, maxiter, callback, progress, return_info
        As in :func:`linalgkit.spd.mean` (``weights`` in memory or a Dask vector).
    regularize : float in [0, 1], optional
        Shrinkage applied to each matrix on validation (see :func:`linalgkit._validation.check_spd`).
    split_every : int, optional
        Fan-in of the tree reductions.

    Returns
    -------
    array, shape (n, n), or MeanResult
        In memory, of the chunks' array type.
    """
    X = check_stack(X, "X")
    be = chunk_backend(X)
    tolerances = _tolerances(rtol, atol, maxiter, None, X.dtype)
    callback = check_callback(callback)
    if isinstance(weights, da.Array):
        weights = weights.compute()
    w = _weights(be, weights, X)
    init = None if init is None else _spd(be, init, "init")
    m = get_metric(metric)
    flat = isinstance(m, g.Pullback) and isinstance(m.base, g.Flat)
    if isinstance(m, g.Pullback) and not flat or isinstance(m, KernelMetric):
        raise NotSupportedError(f"linalgkit.dask.mean supports flat metrics and the affine-invariant and "
                                f"Bures-Wasserstein means, got {m.name!r}; compute it in memory with "
                                f"linalgkit.spd.mean(X.compute(), metric=...)")
    checked = X.map_blocks(_checked_block, regularize, meta=meta(X, 3))
    if flat:  # one pass, one compute: nothing to persist (and no rescaling, see the docstring)
        stack = _Stack(checked, w, check_split_every(split_every))
        M = m.chart.inverse(be, stack.reduce(lambda be, Xi, wi: g.weighted_sum(be, wi, m.chart.forward(be, Xi)[0])))
        result = MeanResult(mean=M, converged=True, iterations=0, residual_norm=0.0)
    else:
        checked = checked.persist()
        c = _rescaling(be, X.dtype, be.asarray(da.abs(checked).max().compute())[None])
        if c is not None:  # as in memory: solve for X / c (a power of two, exact), scale back
            checked, init = checked / c[0], None if init is None else init / c[0]
            seen = callback
            callback = None if seen is None else (lambda M: seen(M * c[0]))
        reduced = _reduced(m, _Stack(checked, w, check_split_every(split_every)))
        with progress_bar(progress, tolerances.maxiter, f"{m.name} mean (dask)") as bar:
            start = _start(be, m, reduced) if init is None else init
            result = _run(be, lambda: _descent(be, reduced, _StackView(checked), None, tolerances, start, callback,
                                               bar),
                          view=lambda r: r.mean)
        if c is not None:
            result = replace(result, mean=result.mean * c[0])
        if not result.converged:
            warn_not_converged(f"the {m.name} mean", tolerances, result.residual_norm, stacklevel=2)
    return result if return_info else result.mean

