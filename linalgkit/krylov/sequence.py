r"""Sorting Krylov recycling (SKR, Wang et al. 2024): order a sequence of systems, then solve it with recycling."""

import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from .._backend import capabilities
from .._solver import check_callback, progress_bar
from .._validation import check_array, check_option, check_scalar
from ..exceptions import ArgumentTypeError, ConvergenceWarning, ShapeError, ValidationError
from ._common import check_system
from ._cutovers import GROUP_SIZE
from ._recycling import RecyclingSolver

__all__ = ["SequenceResult", "nearest_neighbour_order", "solve_sequence"]


@dataclass(frozen=True)
class SequenceResult:
    """Result of :func:`solve_sequence`; per-system arrays are in the caller's order.

    Attributes
    ----------
    x : list of arrays
        ``x[i]`` solves ``systems[i]``.
    order : ndarray of int
        The order the systems were solved in (``order[0]`` first).
    iterations, matvecs : ndarray of int
        Inner iterations and products with ``A`` of each system (``matvecs`` includes the ``k``
        products that rebuild the recycled image ``C`` for each new operator).
    converged : ndarray of bool
    residual_norms : ndarray of float
        :math:`\\|b_i - A_i x_i\\|` of each returned solution.
    recycled : ndarray of bool
        Whether the system's solve started from a recycle space.
    """

    x: list
    order: np.ndarray
    iterations: np.ndarray
    matvecs: np.ndarray
    converged: np.ndarray
    residual_norms: np.ndarray
    recycled: np.ndarray

    @property
    def total_matvecs(self):
        """Products with ``A`` over the whole sequence."""
        return int(self.matvecs.sum())

    @property
    def total_iterations(self):
        """Inner iterations over the whole sequence."""
        return int(self.iterations.sum())


def _squared_distances(F):
    norms = np.einsum("ij,ij->i", F, F)
    return np.maximum(norms[:, None] + norms[None, :] - 2.0 * (F @ F.T), 0.0)


def _greedy(F, start):
    """Greedy nearest-neighbour path through the rows of ``F`` from row ``start`` (one GEMM for the distances)."""
    D = _squared_distances(F)
    n = len(F)
    visited = np.zeros(n, dtype=bool)
    path = [start]
    visited[start] = True
    for _ in range(n - 1):
        row = np.where(visited, np.inf, D[path[-1]])
        nxt = int(np.argmin(row))
        path.append(nxt)
        visited[nxt] = True
    return np.asarray(path)


def _principal_axis(F, iterations=20):
    centred = F - F.mean(axis=0)
    v = np.random.default_rng(0).standard_normal(F.shape[1])
    for _ in range(iterations):
        v = centred.T @ (centred @ v)
        v /= np.linalg.norm(v) or 1.0
    return centred @ v


def _order(F, group_size):
    n = len(F)
    if n <= group_size:
        return _greedy(F, 0)
    coordinate = _principal_axis(F)
    ranked = np.argsort(coordinate, kind="stable")
    path = []
    for lo in range(0, n, group_size):
        group = ranked[lo:lo + group_size]
        G = F[group]
        start = 0 if not path else int(np.argmin(((G - F[path[-1]]) ** 2).sum(axis=1)))
        path.extend(group[_greedy(G, start)])
    return np.asarray(path)


@capabilities("linalgkit.krylov.nearest_neighbour_order", numpy="NumPy GEMM for the distances, greedy path",
              cupy=None, generic=None)
def nearest_neighbour_order(features, *, group_size=None):
    r"""Greedy nearest-neighbour order of systems by their features (SKR's sort, Wang et al. 2024, Alg. 1).

    Start at system 0 and repeatedly visit the closest unvisited system in the Euclidean
    distance of the feature rows (:math:`O(N^2 p)`, one GEMM).  Above ``group_size`` systems, the
    systems are first cut into groups of ``group_size`` along the first principal axis of the
    features, each group is sorted greedily from the system nearest the previous group's end,
    and the paths are concatenated.

    Parameters
    ----------
    features : array_like of shape (N, p)
        One row per system (PDE parameters, a coarse field, matrix entries).
    group_size : int, optional
        Default ``linalgkit.krylov._cutovers.GROUP_SIZE`` (2000).

    Returns
    -------
    ndarray of shape (N,)
        A permutation of ``0 .. N - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> nearest_neighbour_order(np.array([[0.0], [3.0], [1.0], [2.0]])).tolist()
    [0, 2, 3, 1]
    """
    from .._backend import get_backend

    be = get_backend(features=features)
    if be.kind != "numpy":
        from ..exceptions import BackendError

        raise BackendError("features must be a NumPy array (the sort runs on the host); pass features.get() or "
                           "numpy.asarray(features)")
    F = check_array(features, "features", backend=be, numeric="cast", allow_complex=False, min_ndim=1)
    F = F.reshape(len(F), -1) if F.ndim != 2 else F
    group_size = GROUP_SIZE if group_size is None else check_scalar(group_size, "group_size",
                                                                    kind=numbers.Integral, low=2)
    return _order(np.asarray(F, dtype=np.float64), int(group_size))


def _matrix_features(systems):
    """Entries of each ``A_i`` as a feature row (sparse: the stored values, when all share one pattern)."""
    first = systems[0][0]
    if hasattr(first, "tocsr") and hasattr(first, "nnz"):
        mats = [A.tocsr() for A, _ in systems]
        same = all(A.nnz == first.nnz and np.array_equal(A.indptr, mats[0].indptr)
                   and np.array_equal(A.indices, mats[0].indices) for A in mats)
        if same:
            return np.stack([np.asarray(A.data, dtype=np.float64) for A in mats])
        return np.stack([A.toarray().ravel() for A in mats])
    if isinstance(first, np.ndarray):
        return np.stack([np.asarray(A, dtype=np.float64).ravel() for A, _ in systems])
    raise ValidationError("features must be given for systems whose A is not a NumPy or SciPy sparse matrix "
                          f"(got {type(first).__name__}); pass features= (one row of PDE parameters per system) "
                          "or order='given'")


def _check_systems(systems):
    if hasattr(systems, "systems"):
        systems = systems.systems
    try:
        systems = list(systems)
    except TypeError as error:
        raise ArgumentTypeError(f"systems must be a sequence of (A, b) pairs, got {type(systems).__name__}") from error
    if not systems:
        raise ValidationError("systems must hold at least one (A, b) pair, got none")
    for i, pair in enumerate(systems):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ArgumentTypeError(f"systems[{i}] must be an (A, b) pair, got {type(pair).__name__}")
    return systems


def _check_order(order, features, systems):
    n = len(systems)
    if isinstance(order, str):
        check_option(order, "order", ("sorted", "given"))
        if order == "given":
            return np.arange(n)
        F = _matrix_features(systems) if features is None else features
        F = np.asarray(F)
        if len(F) != n:
            raise ShapeError(f"features must have one row per system ({n}), got {len(F)} rows")
        return nearest_neighbour_order(F)
    perm = np.asarray(order)
    if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
        raise ValidationError(f"order must be 'sorted', 'given' or a permutation of 0..{n - 1}, got {order!r}")
    return perm.astype(int)


@capabilities("linalgkit.krylov.solve_sequence", numpy="RecyclingSolver on each system (NumPy/SciPy kernels)",
              cupy="RecyclingSolver on CuPy / cupyx sparse systems (sort on host features)",
              generic="RecyclingSolver on array-API systems (sort on host features)")
def solve_sequence(systems, *, order="sorted", features=None, solver="gcrodr", k=20, m=None, recycle=True,
                   rtol=None, atol=0.0, maxiter=None, warm_start=False, callback=None, progress=False):
    r"""Solve many related systems :math:`A_i x_i = b_i` by sorting them, then recycling Krylov subspaces (SKR).

    The systems are ordered so that neighbours are close (:func:`nearest_neighbour_order` on
    ``features``, or on the matrix entries when no features are given), then solved one after
    the other by a :class:`RecyclingSolver` that hands each system the recycle space of the
    previous one.  Every system is solved to the stopping rule of :mod:`linalgkit._solver`
    (:math:`\|b_i - A_ix_i\| \le \max(\mathrm{rtol}\|b_i\|, \mathrm{atol})`); systems that miss
    it keep their best iterate and one :class:`~linalgkit.ConvergenceWarning` names how many.

    Parameters
    ----------
    systems : sequence of (A, b) pairs, or a SystemSequence
        ``A``: dense, SciPy/cupyx sparse or LinearOperator; a ``SystemSequence`` (from
        ``linalgkit.datasets``) also supplies its ``features``.
    order : {"sorted", "given"} or array of int, default="sorted"
        ``"given"`` solves in the order passed; an array is an explicit order.
    features : array_like of shape (N, p), optional
        Sorting features (PDE parameters per system).  Default: the systems' own features, or
        the entries of the ``A_i``.
    solver : {"gcrodr", "rcg", "rminres", "auto"} or RecyclingSolver, default="gcrodr"
        The method (with ``k``, ``m``, ``recycle``, tolerances), or a configured solver, used as is.
    k, m, recycle, rtol, atol, maxiter
        Passed to :class:`RecyclingSolver` when ``solver`` is a name.
    warm_start : bool, default=False
        Start each system from the solution of the one solved before it (``x0``); pays when
        sorted neighbours have close solutions (SKR itself starts from zero).
    callback : callable, optional
        ``callback(i, result)`` after each system, with its index in ``systems``.
    progress : bool, default=False
        A tqdm bar over the systems (postfix: iterations of the last one).

    Returns
    -------
    SequenceResult

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.datasets._krylov import make_darcy_family
    >>> family = make_darcy_family(16, np.linspace(0, 0.2, 5)[::-1], random_state=0)
    >>> result = solve_sequence(family, rtol=1e-8)
    >>> bool(result.converged.all()), result.order.tolist()
    (True, [0, 1, 2, 3, 4])
    """
    if features is None and hasattr(systems, "features"):
        features = systems.features
    systems = _check_systems(systems)
    if isinstance(solver, RecyclingSolver):
        engine = solver
    elif isinstance(solver, str):
        engine = RecyclingSolver(solver, k=k, m=m, recycle=recycle, rtol=rtol, atol=atol, maxiter=maxiter)
    else:
        raise ArgumentTypeError(f"solver must be 'gcrodr', 'rcg', 'rminres', 'auto' or a RecyclingSolver, got "
                                f"{type(solver).__name__}")
    if not isinstance(warm_start, bool):
        raise ArgumentTypeError(f"warm_start must be True or False, got {type(warm_start).__name__}")
    callback = check_callback(callback)
    return _solve_sequence(systems, _check_order(order, features, systems), engine, callback, progress, warm_start)


def _solve_sequence(systems, perm, engine, callback, progress, warm_start=False):
    n = len(systems)
    x = [None] * n
    iterations, matvecs = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    converged, recycled = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    residuals = np.zeros(n)
    previous = None
    with progress_bar(progress, n, "solve_sequence") as bar:
        for i in perm:
            A, b = systems[i]
            x0 = previous if warm_start and previous is not None and previous.shape == b.shape else None
            result = engine._solve(check_system(A, b, x0, None))
            previous = result.x
            x[i], iterations[i], matvecs[i] = result.x, result.iterations, result.matvecs
            converged[i], residuals[i] = result.converged, result.residual_norm
            recycled[i] = result.projection_ratio is not None
            if callback is not None:
                callback(int(i), result)
            bar.update(1)
            bar.set_postfix_str(f"{result.iterations} its")
    if not converged.all():
        warnings.warn(f"solve_sequence: {int((~converged).sum())} of {n} systems did not meet the stopping rule "
                      f"within maxiter; their best iterates are returned (converged=False for them): raise "
                      f"maxiter or loosen rtol", ConvergenceWarning, stacklevel=3)
    return SequenceResult(x, np.asarray(perm), iterations, matvecs, converged, residuals, recycled)
