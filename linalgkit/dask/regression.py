r"""Sketched least squares on row-chunked Dask arrays: one sketch pass, a small in-memory factorization, then passes.

The sketch :math:`S[A\ b]` is one tree reduction (:mod:`linalgkit.dask.sketch`); its QR and SVD
(``(d + 1) x (d + 1)``) run on the client.  :func:`lstsq_precondition` then persists ``A`` on the
workers and runs the regression family's own iterations (LSQR, iterative sketching, FOSSILS, the
Cholesky-QR refinement) with a :class:`~linalgkit.dask._core.RowOperator`: LSQR's step and every
residual with its gradient (:math:`Av + cu` and :math:`A^T` of it) are one pass over the chunks,
so each LSQR iteration is one pass of ``A``, with the same stopping rules, results and warnings as
the in-memory functions.
"""

import warnings

import numpy as np
import scipy.linalg

from .._backend import capabilities, check_random_state, get_backend, serial_blas
from .._solver import IterationMonitor, check_callback, progress_bar, warn_not_converged
from .._validation import check_option, check_vector
from ..exceptions import RankDeficiencyWarning, ShapeError, ValidationError
from ..regression._cholqr import (CholeskyBreakdown, _cholesky_upper, _times_upper, _triangular_inverse, refine,
                                  solve_upper)
from ..regression._common import SketchedFactor, _qr_r, check_sketch_size, residual_norm
from ..regression.precondition import (METHODS, PreconditionedLstsqResult, _iterate, _Preconditioned, _squeezed,
                                       default_tolerances, plan, resolve_method)
from ..regression.sketched import SketchedLstsqResult, sketch_size
from ._core import RowOperator, check_chunking, check_rows, check_split_every, chunk_backend, da, meta
from .sketch import DASK_SKETCH_KINDS, _sketch_pass, make_dask_sketch

__all__ = ["lstsq_precondition", "lstsq_sketched"]


def check_problem(A, b, *, columns=False):
    """Validate a tall row-chunked problem: ``(backend, A, b)``, ``b`` a Dask array with ``A``'s row chunks and dtype.

    ``b`` is a vector of length ``n``, or with ``columns`` also an ``(n, k)`` array.
    """
    A = check_rows(A, "A")
    backend = chunk_backend(A)
    n, d = A.shape
    if n <= d:
        raise ShapeError(f"A must be tall (more rows than columns) for sketched least squares, got shape {(n, d)}; "
                         f"solve small or wide problems in memory with scipy.linalg.lstsq(A.compute(), b)")
    ndim = b.ndim if columns and getattr(b, "ndim", 1) == 2 else 1
    if isinstance(b, da.Array):
        b = check_chunking("b", check_rows(b, "b", ndim=ndim), "A", A)
    else:
        b = check_vector(b, "b", backend=backend, length=n, allow_complex=False) if ndim == 1 else b
        b = da.from_array(b, chunks=(A.chunks[0],) + b.shape[1:], asarray=False, meta=meta(A, ndim))
        b = check_rows(b, "b", ndim=ndim)
    return backend, A, b.astype(A.dtype)


def _factor(backend, stacked, m, d, vectors=True):
    """QR of the in-memory sketch ``S[A B]`` and SVD of its ``R``, as ``regression._common.sketch_and_factor`` does."""
    xp = backend.xp
    with serial_blas(backend):
        Rb = _qr_r(backend, stacked)
        if Rb.shape[0] < Rb.shape[1]:  # fewer sketch rows than d + k: the missing rows of the factor are zero
            Rb = xp.concat([Rb, backend.zeros((Rb.shape[1] - Rb.shape[0], Rb.shape[1]), Rb.dtype)], axis=0)
        W, s, Zt = xp.linalg.svd(Rb[:d, :d], full_matrices=False) if vectors else (None, xp.linalg.svdvals(
            Rb[:d, :d]), None)
    s_host = backend.to_host(s)
    rank = int(np.count_nonzero(s_host > max(m, d) * np.finfo(s_host.dtype).eps * s_host[0]))
    cond = float(s_host[0] / s_host[-1]) if s_host[-1] > 0 else float("inf")
    return SketchedFactor(Rb, W, s, Zt, rank, cond, d)


def _sketch_and_factor(backend, A, B, kind, m, random_state, split_every, vectors=True):
    """Sketch ``[A B]`` (``B`` of shape ``(n, k)``) in one pass and factor it: a ``SketchedFactor``."""
    S = make_dask_sketch(kind, m, A, random_state)
    return _factor(backend, _sketch_pass(S, A, B, split_every=split_every).compute(), m, A.shape[1], vectors)


@capabilities("linalgkit.dask.lstsq_sketched", numpy="NumPy chunks: one sketch pass, LAPACK on the sketch",
              cupy="CuPy chunks: one sketch pass, cuSOLVER on the sketch (not run: no GPU lent so far)", generic=None)
def lstsq_sketched(A, b, *, eps=0.5, delta=0.01, sketch="srht", m=None, random_state=None, split_every=None):
    r"""Sketch-and-solve least squares of a row-chunked Dask array: :func:`linalgkit.regression.lstsq_sketched`.

    One sketch pass over ``[A b]``, the QR and SVD of the ``m x (d + 1)`` sketch in memory, one more
    pass for the residual norm.  Same guarantee, result and warning as the in-memory function; with
    ``sketch`` in ``"gaussian"``, ``"rademacher"``, ``"countsketch"``, ``"sparse_sign"`` the answer
    equals the in-memory one for the same ``random_state`` up to rounding, for ``"srht"`` (the
    default) the block SRHT of :mod:`linalgkit.dask.sketch` stands in for the SRHT.

    Parameters
    ----------
    A : dask.array.Array of shape (n, d)
        Tall real matrix chunked along rows only.
    b : dask.array.Array or array of shape (n,) or (n, k)
        Right-hand side(s) (rechunked to ``A``'s rows).
    eps, delta, m, random_state
        As in :func:`linalgkit.regression.lstsq_sketched`.
    sketch : {"srht", "gaussian", "rademacher", "countsketch", "sparse_sign"}, default="srht"
    split_every : int, optional
        Fan-in of the tree reductions.

    Returns
    -------
    SketchedLstsqResult
        With ``x`` an in-memory array.
    """
    backend, A, b = check_problem(A, b, columns=True)
    n, d = A.shape
    sketch = check_option(sketch, "sketch", DASK_SKETCH_KINDS)
    if m is None:
        m = sketch_size(d, eps=eps, delta=delta)
        if m > n:
            raise ValidationError(f"eps must be larger for n = {n}: eps={eps}, delta={delta} need m = {m} sketch rows, "
                                  f"more than A has; raise eps or solve with dask.array.linalg.lstsq")
    m = check_sketch_size(m, n, d)
    return _lstsq_sketched(backend, A, b, sketch=sketch, m=m, random_state=check_random_state(random_state),
                           split_every=check_split_every(split_every))


def _lstsq_sketched(backend, A, b, *, sketch, m, random_state, split_every=None):
    """:func:`lstsq_sketched` on checked inputs (the entry of the Dask estimator)."""
    d = A.shape[1]
    factor = _sketch_and_factor(backend, A, b if b.ndim == 2 else b[:, None], sketch, m, random_state, split_every)
    if factor.rank < d:
        warnings.warn(f"the sketch S A is rank-deficient (numerical rank {factor.rank} < d = {d}, condition number "
                      f"{factor.cond:.2g}): A is rank-deficient or the {sketch!r} sketch lost rank; returning the "
                      f"truncated minimum-norm sketched solution, which carries no guarantee. Use sketch='srht' or "
                      f"'gaussian', or a larger m", RankDeficiencyWarning, stacklevel=3)
    x = factor.solve(backend)
    x = x if b.ndim == 2 else x[:, 0]
    rnorm = float(da.linalg.norm(A @ x - b).compute())
    return SketchedLstsqResult(x, m, sketch, factor.cond, factor.rank, converged=True, iterations=0,
                               residual_norm=rnorm)


@capabilities("linalgkit.dask.lstsq_precondition",
              numpy="NumPy chunks: one sketch pass, then A and A^T once each per step",
              cupy="CuPy chunks: the same passes on the GPU (not run: no GPU lent so far)", generic=None)
def lstsq_precondition(A, b, *, sketch="sparse_sign", m=None, method="auto", x0=None, rtol=None, atol=0.0,
                       maxiter=100, callback=None, progress=False, random_state=None, persist=True, split_every=None):
    r"""Sketch-and-precondition least squares of a row-chunked Dask array, as in ``linalgkit.regression``.

    One sketch pass, the factorization of the sketch in memory, then the method's iterations over
    ``A`` persisted on the workers, each iteration one pass of ``A`` and one of :math:`A^T`
    (blockwise products and a tree reduction); ``"cholqr"`` adds one pass for the Gram matrix of
    :math:`[A\ b]R_s^{-1}` (a tree reduction of the chunks' ``(d+1) x (d+1)`` Grams).  Methods,
    defaults, stopping rules (:mod:`linalgkit._solver`), result and warnings are those of the
    in-memory function.  Where the in-memory function solves directly with LAPACK (no sketch would
    help: ``n <= 4d`` for ``"cholqr"``) or falls back without the sketch (``SA`` rank-deficient),
    this one runs a TSQR of ``[A b]`` (one pass) and LAPACK ``gelsd`` on its ``R``
    (``method="tsqr"``); ``b = 0`` gives ``x = 0`` without a sketch.  The ``n``-vectors of the iterations (residuals,
    LSQR's ``u``) live on the client: :math:`8n` bytes each, moved once per product.

    Parameters
    ----------
    A : dask.array.Array of shape (n, d)
        Tall real matrix chunked along rows only (NumPy or CuPy chunks).
    b : dask.array.Array or array of shape (n,)
        Right-hand side (one: several right-hand sides are not distributed yet).
    sketch : {"sparse_sign", "gaussian", "rademacher", "countsketch", "srht"}, default="sparse_sign"
        The first four equal the in-memory sketch for the same ``random_state``; ``"srht"`` is the
        block SRHT.
    m, method, x0, rtol, atol, maxiter, callback, progress, random_state
        As in :func:`linalgkit.regression.lstsq_precondition`.
    persist : bool, default=True
        Keep ``A`` and ``b`` in the workers' memory for the passes.  False recomputes their graph
        at every pass: for an ``A`` larger than the cluster's memory that is generated or read
        chunk by chunk (cheaper than spilling it to disk).
    split_every : int, optional
        Fan-in of the tree reductions.

    Returns
    -------
    PreconditionedLstsqResult
        With ``x`` an in-memory array.

    Warns
    -----
    ConvergenceWarning, RankDeficiencyWarning
        As in :func:`linalgkit.regression.lstsq_precondition`.
    """
    backend, A, b = check_problem(A, b)
    n, d = A.shape
    sketch = check_option(sketch, "sketch", DASK_SKETCH_KINDS)
    method = resolve_method(check_option(method, "method", METHODS), False)
    callback = check_callback(callback)
    if x0 is not None:
        x0 = backend.xp.astype(check_vector(x0, "x0", backend=backend, length=d, allow_complex=False), A.dtype)
    method, m = plan(method, None if m is None else check_sketch_size(m, n, d), n, d, False)
    tolerances = default_tolerances(method, A.dtype, rtol, atol, maxiter)
    return _lstsq_precondition(backend, A, b, sketch=sketch, m=m, method=method, x0=x0, tolerances=tolerances,
                               callback=callback, progress=progress, random_state=check_random_state(random_state),
                               persist=bool(persist), split_every=check_split_every(split_every))


def _lstsq_precondition(backend, A, b, *, sketch, m, method, tolerances, random_state, x0=None, callback=None,
                        progress=False, persist=True, split_every=None):
    """:func:`lstsq_precondition` on checked inputs (``method`` and ``m`` from ``plan``): the Dask estimators' entry."""
    if persist:
        A, b = A.persist(), b.persist()
    b_local = b.compute()
    with progress_bar(progress, tolerances.maxiter, f"lstsq_precondition ({method}, dask)") as bar:
        monitor = IterationMonitor(None if callback is None else _squeezed(callback), bar)
        if not float(backend.xp.linalg.vector_norm(b_local)) > 0:  # b = 0: x = 0, as in memory
            x = backend.zeros((A.shape[1],), A.dtype)
            return PreconditionedLstsqResult(x, method, sketch, 0, float("nan"), False, converged=True, iterations=0,
                                             residual_norm=0.0, history=(0.0,))
        if m is None:
            return _tsqr(backend, A, b, method="tsqr", sketch=sketch, m=0, cond=float("nan"), fallback=False)
        x, method, fallback, factor, converged, iterations, history, reached, residual = _solve(
            backend, A, b, b_local, sketch, m, method, tolerances, random_state, x0, monitor, split_every)
        if factor is None:
            return x
    if not converged:
        warn_not_converged(f"lstsq_precondition (method={method!r})", tolerances, reached, stacklevel=4,
                           advice="raise maxiter or m, or loosen rtol")
    return PreconditionedLstsqResult(x, method, sketch, m, factor.cond, fallback, converged=converged,
                                     iterations=iterations, history=history,
                                     residual_norm=residual_norm(backend, RowOperator(A, split_every), x, b_local)
                                     if residual is None else residual)


def _solve(backend, A, b, b_local, sketch, m, method, tolerances, random_state, x0, monitor, split_every):
    r"""The sketch, then ``method``: ``(x, method, fallback, factor, converged, iterations, history, reached, r)``.

    ``r`` is :math:`\|Ax - b\|` where the method computed it for ``x`` (Cholesky QR), else None.

    The rank-deficient fallback returns its result as ``x`` with ``factor = None``.
    """
    d = A.shape[1]
    operator = RowOperator(A, split_every)
    factor = _sketch_and_factor(backend, A, b[:, None], sketch, m, random_state, split_every,
                                vectors=method == "fossils")
    if factor.rank < d:
        warnings.warn(f"the sketch S A is numerically rank-deficient (condition number {factor.cond:.2g}), so its R "
                      f"cannot precondition A: solving without the sketch instead (fallback=True, a TSQR of [A b]). "
                      f"A may be rank-deficient; otherwise use sketch='srht' or a larger m", RankDeficiencyWarning,
                      stacklevel=5)
        return _tsqr(backend, A, b, method="tsqr", sketch=sketch, m=m, cond=factor.cond, fallback=True), \
            None, None, None, None, None, None, None, None
    fallback = False
    if method == "cholqr":
        try:
            X, P, singular_values = _cholqr_factor(backend, A, b, factor.stacked, split_every)
            X, converged, iterations, residual, history, reached = refine(backend, operator, b_local[:, None], X, P,
                                                                          singular_values, tolerances, monitor)
            return X[:, 0], method, False, factor, all(converged), iterations, history, reached, residual
        except CholeskyBreakdown:
            warnings.warn(f"the Cholesky factorization of [A b] R_s^-1 broke down (S A has condition number "
                          f"{factor.cond:.2g}): solving with LSQR preconditioned by the sketch instead "
                          f"(fallback=True); A may be numerically rank-deficient", RankDeficiencyWarning,
                          stacklevel=5)
            method, fallback = "lsqr", True
            tolerances = default_tolerances("lsqr", A.dtype, None, tolerances.atol, tolerances.maxiter)
    op = _Preconditioned(backend, operator, factor.R)
    start = op.solve(factor.c)[:, 0] if x0 is None else x0  # the sketch-and-solve warm start R^-1 c
    x, converged, iterations, history, reached = _iterate(backend, method, op, factor, b_local, start, m, tolerances,
                                                          monitor)
    return x, method, fallback, factor, converged, iterations, history, reached, None


def _gram_block(X, y, W):
    """``(1, d+1, d+1)``: the Gram of ``[X y] W`` for one row chunk."""
    backend = get_backend(X=X)
    Y = _times_upper(backend, X, y[:, None], W)
    return (backend.xp.matrix_transpose(Y) @ Y)[None, ...]


def _cholqr_factor(backend, A, b, stacked, split_every):
    r"""Distributed ``regression._cholqr.cholqr_factor``: the Gram of :math:`[A\ b]R_s^{-1}` by one tree reduction.

    Returns ``(X, P, singular values of A)`` with ``X`` of shape ``(d, 1)``.
    """
    xp = backend.xp
    d = A.shape[1]
    with serial_blas(backend):
        W = _triangular_inverse(backend, stacked)
    grams = da.blockwise(_gram_block, "ikl", A, "ij", b, "i", W=W, adjust_chunks={"i": 1},
                         new_axes={"k": d + 1, "l": d + 1}, concatenate=True, meta=meta(A, 3))
    G = grams.sum(axis=0, split_every=split_every).compute()
    with serial_blas(backend):
        Rc = _cholesky_upper(backend, G)
        C = Rc[:d, :d]
        M = W[:d, :d] @ solve_upper(backend, C, Rc[:d, d:]) - W[:d, d:]
        X = xp.matrix_transpose(solve_upper(backend, W[d:, d:], xp.matrix_transpose(M), trans=True))
        P = xp.matrix_transpose(solve_upper(backend, C, xp.matrix_transpose(W[:d, :d]), trans=True))
        inverse_values = backend.to_host(xp.linalg.svdvals(P))
    if not (np.all(np.isfinite(inverse_values)) and inverse_values[-1] > 0):
        raise CholeskyBreakdown
    return X, P, 1 / inverse_values[::-1]


def _tsqr(backend, A, b, *, method, sketch, m, cond, fallback):
    """The solve without a sketch: TSQR of ``[A b]`` (one pass), then LAPACK ``gelsd`` on its small ``R``."""
    d = A.shape[1]
    stacked = da.concatenate([A, b[:, None]], axis=1).rechunk({1: -1})
    R = backend.to_host(da.linalg.tsqr(stacked)[1].compute())
    x, _, rank, s = scipy.linalg.lstsq(R[:d, :d], R[:d, d], check_finite=False)
    if not fallback and rank < d:
        warnings.warn(f"A is numerically rank-deficient (rank {rank} < d = {d}): returning LAPACK's minimum-norm "
                      f"least-squares solution", RankDeficiencyWarning, stacklevel=4)
    rnorm = float(np.linalg.norm(R @ np.append(x, -1.0)))  # = ||A x - b||, as [A b] = Q R
    return PreconditionedLstsqResult(backend.from_host(x), method, sketch, m,
                                     cond if fallback else float(s[0] / s[-1]) if s[-1] > 0 else float("inf"),
                                     fallback, converged=True, iterations=0, residual_norm=rnorm, history=None)
