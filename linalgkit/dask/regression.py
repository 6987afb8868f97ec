r"""Sketched least squares on row-chunked Dask arrays: one sketch pass, a small in-memory factorization, then passes.

The sketch :math:`S[A\ b]` is one tree reduction (:mod:`linalgkit.dask.sketch`); its QR and SVD
(``(d + 1) x (d + 1)``) run on the client.  :func:`lstsq_precondition` then persists ``A`` on the
workers and runs the regression family's own iterations (LSQR, iterative sketching, FOSSILS, the
Cholesky-QR refinement) with a :class:`~linalgkit.dask._core.RowOperator`: each product
``A @ v`` or ``A.T @ u`` is one pass over the chunks, so each iteration is one pass of ``A`` and
one of :math:`A^T`, with the same stopping rules, results and warnings as the in-memory functions.
"""

import warnings

import numpy as np
import scipy.linalg

from .._backend import check_random_state, get_backend, serial_blas
from .._solver import IterationMonitor, check_callback, progress_bar, warn_not_converged
from .._validation import check_option, check_vector
from ..exceptions import RankDeficiencyWarning, ShapeError, ValidationError
from ..regression._cholqr import (CholeskyBreakdown, _cholesky_upper, _times_upper, _triangular_inverse, refine,
                                  solve_upper)
from ..regression._common import SketchedFactor, _qr_r, check_sketch_size, residual_norm
from ..regression.precondition import (METHODS, PreconditionedLstsqResult, _default_size, _iterate,
                                       _Preconditioned, default_tolerances, resolve_method)
from ..regression.sketched import SketchedLstsqResult, sketch_size
from ._core import RowOperator, check_chunking, check_rows, check_split_every, chunk_backend, da, meta
from .sketch import DASK_SKETCH_KINDS, _sketch_pass, make_dask_sketch

__all__ = ["lstsq_precondition", "lstsq_sketched"]


def check_problem(A, b):
    """Validate a tall row-chunked problem: ``(backend, A, b)``, ``b`` a dask vector with ``A``'s row chunks and dtype."""
    A = check_rows(A, "A")
    backend = chunk_backend(A)
    n, d = A.shape
    if n <= d:
        raise ShapeError(f"A must be tall (more rows than columns) for sketched least squares, got shape {(n, d)}; "
                         f"solve small or wide problems in memory with scipy.linalg.lstsq(A.compute(), b)")
    if isinstance(b, da.Array):
        b = check_chunking("b", check_rows(b, "b", ndim=1), "A", A)
    else:
        b = check_vector(b, "b", backend=backend, length=n, allow_complex=False)
        b = da.from_array(b, chunks=(A.chunks[0],), asarray=False, meta=meta(A, 1))
    return backend, A, b.astype(A.dtype)


def _factor(backend, stacked, m, vectors=True):
    """QR of the in-memory sketch ``S[A b]`` and SVD of its ``R``, as :func:`~linalgkit.regression._common.sketch_and_factor`."""
    xp = backend.xp
    d = stacked.shape[1] - 1
    with serial_blas(backend):
        Rb = _qr_r(backend, stacked)
        W, s, Zt = xp.linalg.svd(Rb[:d, :d], full_matrices=False) if vectors else (None, xp.linalg.svdvals(
            Rb[:d, :d]), None)
    s_host = backend.to_host(s)
    rank = int(np.count_nonzero(s_host > max(m, d) * np.finfo(s_host.dtype).eps * s_host[0]))
    cond = float(s_host[0] / s_host[-1]) if s_host[-1] > 0 else float("inf")
    return SketchedFactor(Rb, W, s, Zt, rank, cond)


def _sketch_and_factor(backend, A, b, kind, m, random_state, split_every, vectors=True):
    S = make_dask_sketch(kind, m, A, random_state)
    stacked = _sketch_pass(S, A, b[:, None], split_every=split_every).compute()
    return _factor(backend, stacked, m, vectors)


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
    b : dask.array.Array or array of shape (n,)
        Right-hand side (rechunked to ``A``'s rows).
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
    backend, A, b = check_problem(A, b)
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
    factor = _sketch_and_factor(backend, A, b, sketch, m, random_state, split_every)
    if factor.rank < d:
        warnings.warn(f"the sketch S A is rank-deficient (numerical rank {factor.rank} < d = {d}, condition number "
                      f"{factor.cond:.2g}): A is rank-deficient or the {sketch!r} sketch lost rank; returning the "
                      f"truncated minimum-norm sketched solution, which carries no guarantee. Use sketch='srht' or "
                      f"'gaussian', or a larger m", RankDeficiencyWarning, stacklevel=3)
    x = factor.solve(backend)
    rnorm = float(da.linalg.norm(A @ x - b).compute())
    return SketchedLstsqResult(x, m, sketch, factor.cond, factor.rank, converged=True, iterations=0,
                               residual_norm=rnorm)


def lstsq_precondition(A, b, *, sketch="sparse_sign", m=None, method="auto", x0=None, rtol=None, atol=0.0,
                       maxiter=100, callback=None, progress=False, random_state=None, split_every=None):
    r"""Sketch-and-precondition least squares of a row-chunked Dask array: :func:`linalgkit.regression.lstsq_precondition`.

    One sketch pass, the factorization of the sketch in memory, then the method's iterations over
    ``A`` persisted on the workers, each iteration one pass of ``A`` and one of :math:`A^T`
    (blockwise products and a tree reduction); ``"cholqr"`` adds one pass for the Gram matrix of
    :math:`[A\ b]R_s^{-1}` (a tree reduction of the chunks' ``(d+1) x (d+1)`` Grams).  Methods,
    defaults, stopping rules (:mod:`linalgkit._solver`), result and warnings are those of the
    in-memory function; the fallback without the sketch is a TSQR of ``[A b]`` followed by LAPACK
    ``gelsd`` on its ``R`` (``method="tsqr"``).  The ``n``-vectors of the iterations (residuals,
    LSQR's ``u``) live on the client: :math:`8n` bytes each, moved once per product.

    Parameters
    ----------
    A : dask.array.Array of shape (n, d)
        Tall real matrix chunked along rows only (NumPy or CuPy chunks).
    b : dask.array.Array or array of shape (n,)
        Right-hand side.
    sketch : {"sparse_sign", "gaussian", "rademacher", "countsketch", "srht"}, default="sparse_sign"
        The first four equal the in-memory sketch for the same ``random_state``; ``"srht"`` is the
        block SRHT.
    m, method, x0, rtol, atol, maxiter, callback, progress, random_state
        As in :func:`linalgkit.regression.lstsq_precondition`.
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
    tolerances = default_tolerances(method, A.dtype, rtol, atol, maxiter)
    callback = check_callback(callback)
    if x0 is not None:
        x0 = backend.xp.astype(check_vector(x0, "x0", backend=backend, length=d, allow_complex=False), A.dtype)
    m = _default_size(method, n, d, False) if m is None else check_sketch_size(m, n, d)
    return _lstsq_precondition(backend, A, b, sketch=sketch, m=m, method=method, x0=x0, tolerances=tolerances,
                               callback=callback, progress=progress, random_state=check_random_state(random_state),
                               split_every=check_split_every(split_every))


def _lstsq_precondition(backend, A, b, *, sketch, m, method, tolerances, random_state, x0=None, callback=None,
                        progress=False, split_every=None):
    """:func:`lstsq_precondition` on checked inputs (the entry of the Dask estimators)."""
    d = A.shape[1]
    A, b = A.persist(), b.persist()
    operator = RowOperator(A, split_every)
    with progress_bar(progress, tolerances.maxiter, f"lstsq_precondition ({method}, dask)") as bar:
        monitor = IterationMonitor(callback, bar)
        factor = _sketch_and_factor(backend, A, b, sketch, m, random_state, split_every, vectors=method == "fossils")
        if factor.rank < d:
            return _solve_without_sketch(backend, A, b, sketch, m, factor.cond, split_every)
        fallback, b_local = False, b.compute()
        if method == "cholqr":
            try:
                x, P, singular_values = _cholqr_factor(backend, A, b, factor.stacked, split_every)
                x, converged, iterations, rnorm, history, reached = refine(backend, operator, b_local, x, P,
                                                                            singular_values, tolerances, monitor)
            except CholeskyBreakdown:
                warnings.warn(f"the Cholesky factorization of [A b] R_s^-1 broke down (S A has condition number "
                              f"{factor.cond:.2g}): solving with LSQR preconditioned by the sketch instead "
                              f"(fallback=True); A may be numerically rank-deficient", RankDeficiencyWarning,
                              stacklevel=3)
                method, fallback = "lsqr", True
                tolerances = default_tolerances("lsqr", A.dtype, None, tolerances.atol, tolerances.maxiter)
        if method != "cholqr":
            op = _Preconditioned(backend, operator, factor.R)
            start = op.solve(factor.c) if x0 is None else x0
            x, converged, iterations, history, reached = _iterate(backend, method, op, factor, b_local, start, m,
                                                                  tolerances, monitor)
            rnorm = residual_norm(backend, operator, x, b_local)
    if not converged:
        warn_not_converged(f"lstsq_precondition (method={method!r})", tolerances, reached, stacklevel=4,
                           advice="raise maxiter or m, or loosen rtol")
    return PreconditionedLstsqResult(x, method, sketch, m, factor.cond, fallback, converged=converged,
                                     iterations=iterations, residual_norm=rnorm, history=history)


def _gram_block(X, y, W):
    """``(1, d+1, d+1)``: the Gram of ``[X y] W`` for one row chunk."""
    backend = get_backend(X=X)
    Y = _times_upper(backend, X, y, W)
    return (backend.xp.matrix_transpose(Y) @ Y)[None, ...]


def _cholqr_factor(backend, A, b, stacked, split_every):
    r"""Distributed :func:`~linalgkit.regression._cholqr.cholqr_factor`: the Gram of :math:`[A\ b]R_s^{-1}` by one reduction."""
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
        x = (W[:d, :d] @ solve_upper(backend, C, Rc[:d, d]) - W[:d, d]) / W[d, d]
        P = xp.matrix_transpose(solve_upper(backend, C, xp.matrix_transpose(W[:d, :d]), trans=True))
        inverse_values = backend.to_host(xp.linalg.svdvals(P))
    if not (np.all(np.isfinite(inverse_values)) and inverse_values[-1] > 0):
        raise CholeskyBreakdown
    return x, P, 1 / inverse_values[::-1]


def _solve_without_sketch(backend, A, b, sketch, m, cond, split_every):
    """The rank-deficient fallback: TSQR of ``[A b]``, then LAPACK ``gelsd`` on its ``(d+1) x (d+1)`` ``R``."""
    warnings.warn(f"the sketch S A is numerically rank-deficient (condition number {cond:.2g}), so its R cannot "
                  f"precondition A: solving without the sketch instead (fallback=True, a TSQR of [A b]). A may be "
                  f"rank-deficient; otherwise use sketch='srht' or a larger m", RankDeficiencyWarning, stacklevel=4)
    d = A.shape[1]
    stacked = da.concatenate([A, b[:, None]], axis=1).rechunk({1: -1})
    R = backend.to_host(da.linalg.tsqr(stacked)[1].compute())
    x = backend.from_host(scipy.linalg.lstsq(R[:d, :d], R[:d, d], check_finite=False)[0])
    rnorm = float(np.linalg.norm(R @ np.append(backend.to_host(x), -1.0)))  # = ||A x - b||, as [A b] = Q R
    return PreconditionedLstsqResult(x, "tsqr", sketch, m, cond, True, converged=True, iterations=0,
                                     residual_norm=rnorm, history=(rnorm,))
