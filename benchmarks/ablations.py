"""Ablations behind the numbers the docs and kernel docstrings quote: each design choice timed against
the alternative it replaced, on the same data, in one process (best of several calls after a warm-up).

Run ``python -m benchmarks.ablations [name ...]`` from the repository root; names: qr, srht, blas_spin,
eigensolver, ql_lanes, karcher, lockstep, lanes (all by default).  Numbers depend on the machine; the docs
quote a 2-core run.
"""

import sys
import time
from unittest import mock

import numba
import numpy as np

from linalgkit._backend import get_backend, serial_blas
from linalgkit._simd import WIDTH
from linalgkit.datasets import make_spd_matrices
from linalgkit.sketch import _numba as sketch_kernels
from linalgkit.sketch import make_sketch
from linalgkit.spd import _lockstep, mean, means, metrics
from linalgkit.spd import _numba as spd_kernels
from linalgkit.spd._geometry import BuresWasserstein


def _best(call, repeat=5, before=None):
    """Best wall time in ms of ``call()`` over ``repeat`` runs (``before()`` runs untimed ahead of each)."""
    call()
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def _report(name, first, second, labels):
    print(f"{name}: {labels[0]} {first:.1f} ms, {labels[1]} {second:.1f} ms, ratio {second / first:.2f}")


def _tall_problem():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2**17, 200)), rng.standard_normal(2**17)


def qr():
    """QR of the 23,043 x 201 sketch of sketch-and-solve (eps = 0.5, d = 200): geqrf (numpy) against geqrt."""
    from linalgkit.regression._common import _qr_r

    A, b = _tall_problem()
    X = make_sketch("srht", 23_043, A.shape[0], random_state=0).apply_stacked(A, b)
    backend = get_backend(X)
    _report("qr", _best(lambda: np.linalg.qr(X.copy(order="F"), mode="r")),
            _best(lambda: _qr_r(backend, X.copy(order="F"))), ("numpy.linalg.qr (geqrf)", "geqrt"))


def srht():
    """SRHT of 2^17 x 201: the one-pass kernel against the two-pass kernel, at m = 4d, near the threshold, at 23,043."""
    A, b = _tall_problem()
    B = b[:, None]
    signs = 1.0 - 2.0 * np.random.default_rng(1).integers(0, 2, size=A.shape[0])
    size = sketch_kernels._cache_rows(A.shape[0], 201)
    for m in (800, 6_000, 23_043):
        rows = np.sort(np.random.default_rng(2).choice(A.shape[0], size=m, replace=False))
        _report(f"srht m={m}", _best(lambda: sketch_kernels._srht_one_pass(A, B, signs, rows, A.shape[0])),
                _best(lambda: sketch_kernels._srht_two_pass(A, B, signs, rows, A.shape[0], size)),
                ("one-pass", "two-pass"))


def blas_spin():
    """The SRHT sketch at m = 23,043 when the cores are idle, and right after a multi-threaded BLAS call."""
    A, b = _tall_problem()
    S = make_sketch("srht", 23_043, A.shape[0], random_state=0)
    other = np.asfortranarray(np.random.default_rng(3).standard_normal((20_000, 201)))
    idle = _best(lambda: S.apply_stacked(A, b), before=lambda: time.sleep(0.3))
    after_blas = _best(lambda: S.apply_stacked(A, b), before=lambda: np.linalg.qr(other))

    def serial_qr():
        with serial_blas(get_backend(other)):
            np.linalg.qr(other)

    after_serial = _best(lambda: S.apply_stacked(A, b), before=serial_qr)
    _report("blas_spin", idle, after_blas, ("idle", "after a threaded QR"))
    print(f"blas_spin: after the same QR on one BLAS thread {after_serial:.1f} ms")


@numba.njit(parallel=True)
def _lapack_eigvalsh(S, d):
    for k in numba.prange(S.shape[0]):
        d[k] = np.linalg.eigvalsh(S[k])


@numba.njit(parallel=True)
def _lapack_eigh(S, d, P):
    for k in numba.prange(S.shape[0]):
        d[k], P[k] = np.linalg.eigh(S[k])


@numba.njit(parallel=True)
def _lanes_eigen(S, d, Qt):
    lanes = spd_kernels.LANES
    for group in numba.prange(S.shape[0] // lanes):
        rows = slice(group * lanes, (group + 1) * lanes)
        spd_kernels._eigen_lanes(S[rows], d[rows], Qt[rows])


def eigensolver():
    """Stacks of symmetric matrices: LAPACK syevd per matrix against the interleaved QL kernel (2 threads each)."""
    rng = np.random.default_rng(0)
    with serial_blas(get_backend(np.zeros(1))):
        for n in (22, 64, 128, 160, 200):
            count = 4 * max(50, 100_000 // n**2)
            G = rng.standard_normal((count, n, n))
            S = np.ascontiguousarray(G + np.swapaxes(G, 1, 2))
            d, P = np.empty((count, n)), np.empty_like(S)
            _report(f"eigenvalues n={n}", _best(lambda: _lapack_eigvalsh(S, d), 3),
                    _best(lambda: _lanes_eigen(S, d, np.empty((count, n, 0))), 3), ("LAPACK", "lanes"))
            _report(f"eigenvectors n={n}", _best(lambda: _lapack_eigh(S, d, P), 3),
                    _best(lambda: _lanes_eigen(S, d, np.empty_like(S)), 3), ("LAPACK", "lanes"))


@numba.njit(parallel=True)
def _ql_groups(D, E, lanes):
    for group in numba.prange(D.shape[0] // lanes):
        rows = slice(group * lanes, (group + 1) * lanes)
        spd_kernels._ql_lanes(D[rows].copy(), E[rows].copy(), np.empty((lanes, D.shape[1], 0)))


@numba.njit(parallel=True)
def _tridiagonals(S, D, E):
    n = S.shape[1]
    for k in numba.prange(S.shape[0]):
        spd_kernels._tridiagonalize(S[k] / np.max(np.abs(S[k])), D[k], E[k], False)
        E[k, : n - 1] = E[k, 1:].copy()
        E[k, n - 1] = 0.0


def ql_lanes():
    """Eigenvalue-only QL of 4000 tridiagonals of order 22: one problem per task against four interleaved."""
    S = make_spd_matrices(4000, 22, random_state=0)
    D, E = np.empty((4000, 22)), np.empty((4000, 22))
    _tridiagonals(S, D, E)
    _report("ql_lanes", _best(lambda: _ql_groups(D, E, 1)), _best(lambda: _ql_groups(D, E, 4)),
            ("1 lane", "4 lanes"))


def karcher():
    """AI Karcher mean of 1000 matrices of 22 x 22 to tol 1e-8: fixed step 1 against the secant step."""
    X = make_spd_matrices(1000, 22, random_state=0)
    with mock.patch.object(means, "_secant_step", lambda *args: 1.0):
        fixed = mean(X, tol=1e-8, return_info=True).iterations
        fixed_time = _best(lambda: mean(X, tol=1e-8))
    secant = mean(X, tol=1e-8, return_info=True).iterations
    _report("karcher", fixed_time, _best(lambda: mean(X, tol=1e-8)), ("step 1", "secant step"))
    print(f"karcher: iterations {fixed} with step 1, {secant} with the secant step")


@numba.njit(parallel=True)
def _gram_by_lanes_type(M, W, n):
    for group in numba.prange(M.shape[0]):
        _lockstep._lower_gram(M[group], W[group], n)


@numba.njit(parallel=True, fastmath={"reassoc", "contract"})
def _gram_by_lane_loops(M, W, n, lanes):
    for group in numba.prange(M.shape[0]):
        for a in range(n):
            for c in range(a + 1):
                out = W[group, a * n + c]
                for lane in range(lanes):
                    out[lane] = M[group, a * n, lane] * M[group, c * n, lane]
                for b in range(1, c + 1):
                    x, y = M[group, a * n + b], M[group, c * n + b]
                    for lane in range(lanes):
                        out[lane] += x[lane] * y[lane]


@numba.njit(parallel=True, fastmath={"reassoc", "contract"})
def _gram_by_fixed_lane_loops(M, W, n):
    for group in numba.prange(M.shape[0]):
        for a in range(n):
            for c in range(a + 1):
                out = W[group, a * n + c]
                for lane in range(WIDTH):
                    out[lane] = M[group, a * n, lane] * M[group, c * n, lane]
                for b in range(1, c + 1):
                    x, y = M[group, a * n + b], M[group, c * n + b]
                    for lane in range(WIDTH):
                        out[lane] += x[lane] * y[lane]


def lanes():
    """The lower Gram matrix M M^T of 512 groups of sixteen 22 x 22 triangular matrices in lane layout: loops
    over the lanes (a run-time lane count: vectorized behind overlap checks; a constant one: unrolled, scalar)
    against the ``linalgkit._simd`` Lanes type (one vector instruction per step)."""
    n = 22
    M = np.random.default_rng(0).standard_normal((512, n * n, WIDTH))
    W = np.empty_like(M)
    reference = np.empty_like(M)
    _gram_by_lanes_type(M, reference, n)
    for label, call in (("lane loops, run-time count", lambda: _gram_by_lane_loops(M, W, n, WIDTH)),
                        ("lane loops, constant count", lambda: _gram_by_fixed_lane_loops(M, W, n))):
        call()
        rows = [a * n + c for a in range(n) for c in range(a + 1)]
        assert np.allclose(W[:, rows], reference[:, rows])
        _report("lanes", _best(call), _best(lambda: _gram_by_lanes_type(M, reference, n)), (label, "Lanes"))


def lockstep():
    """AI distances of the 124,750 pairs of 500 matrices of 22 x 22: one pair per eigensolver call (four
    interleaved in QL) against sixteen pairs in SIMD lanes; the same for affine-invariant, Bures-Wasserstein
    and log-Euclidean distances of pairs of n x n matrices, for eigen-decompositions and for the Karcher
    gradient; then the accuracy of AI distances at condition 1e8 against 50-digit arithmetic: both kernels,
    LAPACK's generalized ``eigvalsh`` (top-down ``dsytrd``) and pyRiemann."""
    X = make_spd_matrices(500, 22, random_state=0)
    rows, cols = np.triu_indices(500, 1)
    A, B, out = X[rows], X[cols], np.empty(rows.size)
    with serial_blas(get_backend(X)):
        _report("lockstep", _best(lambda: spd_kernels.ai_squared_distances(A, B, out), 3),
                _best(lambda: metrics._ai_pairwise_numba(X, X, True), 3), ("one pair per call", "16 lanes"))
        for n, count in ((3, 20_000), (22, 10_000), (64, 2000), (128, 300), (200, 100)):  # AI distances of pairs
            A, B = make_spd_matrices(count, n, random_state=0), make_spd_matrices(count, n, random_state=1)
            out, failed = np.empty(count), np.zeros(count, dtype=bool)
            _report(f"lockstep affine-invariant n={n}, {count} pairs",
                    _best(lambda: spd_kernels.ai_squared_distances(A, B, out), 3),
                    _best(lambda: _lockstep.ai_squared_distances(A, B, out, failed), 3), ("one pair", "16 lanes"))
        bures_wasserstein = BuresWasserstein()
        for n, count in ((22, 10_000), (64, 2000), (128, 300), (200, 100)):  # BW: batched eigvalsh against lanes
            A, B = make_spd_matrices(count, n, random_state=0), make_spd_matrices(count, n, random_state=1)
            _report(f"lockstep Bures-Wasserstein n={n}, {count} pairs",
                    _best(lambda: bures_wasserstein._squared_distance(np, A, B), 3),
                    _best(lambda: bures_wasserstein.squared_distance(np, A, B), 3), ("batched eigvalsh", "16 lanes"))
        for n in (22, 32, 48, 64, 80):  # log-Euclidean distances of pairs, the same work at every size
            count = min(10_000, 2000 * 64**3 // n**3)
            A, B = make_spd_matrices(count, n, random_state=0), make_spd_matrices(count, n, random_state=1)
            out, failed = np.empty(count), np.zeros(count, dtype=bool)
            _report(f"lockstep log-Euclidean n={n}, {count} pairs",
                    _best(lambda: spd_kernels.le_squared_distances(A, B, out), 3),
                    _best(lambda: _lockstep.le_squared_distances(A, B, out, failed), 3), ("one pair", "16 lanes"))
        for n, count in ((8, 50_000), (22, 20_000), (32, 8000), (48, 4000), (64, 2000)):  # eigen-decompositions
            S, failed = make_spd_matrices(count, n, random_state=0), np.zeros(count, dtype=bool)
            d, P = np.empty((count, n)), np.empty_like(S)
            _report(f"lockstep eigh n={n}, {count} matrices", _best(lambda: spd_kernels.eigh_stack(S, d, P), 3),
                    _best(lambda: _lockstep.eigh_stack(S, d, P, failed), 3), ("interleaved QL", "16 lanes"))
        for n in (22, 48, 64, 80):  # the affine-invariant Karcher gradient: whitening, eigenvectors, weighted sum
            count = min(1000, 500 * 64**3 // n**3)
            X = make_spd_matrices(count, n, random_state=0)
            L_inv = np.linalg.inv(np.linalg.cholesky(make_spd_matrices(1, n, random_state=1)[0]))
            weights, failed = np.full((1, count + WIDTH), 1 / count), np.zeros(count, dtype=bool)
            partial = np.zeros((numba.get_num_threads(), n, n))
            _report(f"lockstep Karcher gradient n={n}, {count} matrices",
                    _best(lambda: spd_kernels.ai_whitened_log_sums(X, L_inv, weights[0, :count], partial), 3),
                    _best(lambda: _lockstep.ai_whitened_log_sums(X, L_inv, weights, partial, failed), 3),
                    ("one pair", "16 lanes"))
    import mpmath
    import pyriemann.geometry.distance as prd
    import scipy.linalg

    mpmath.mp.dps = 50
    for seed in range(3):
        X = make_spd_matrices(65, 6, random_state=seed)
        w, V = np.linalg.eigh(X)
        X = (V * np.geomspace(1e-8, 1, 6)) @ np.swapaxes(V, 1, 2)  # condition 1e8 each
        L_inv = mpmath.cholesky(mpmath.matrix(X[0].tolist())) ** -1
        exact = np.array([float(sum(mpmath.log(v) ** 2 for v in mpmath.eigsy(L_inv * mpmath.matrix(y.tolist())
                                                                            * L_inv.T)[0])) for y in X[1:]])
        pair, lanes = np.empty(64), np.empty(64)
        spd_kernels.ai_squared_distances(X[1:], np.repeat(X[:1], 64, axis=0), pair)
        _lockstep.ai_squared_distances(X[1:], np.repeat(X[:1], 64, axis=0), lanes, np.zeros(64, dtype=bool))
        lapack = [np.sum(np.log(scipy.linalg.eigvalsh(y, X[0])) ** 2) for y in X[1:]]
        pyriemann = prd.distance_riemann(X[1:], X[:1], squared=True)
        errors = [np.max(np.abs(np.asarray(v) - exact) / exact)
                  for v in (pair, lanes, metrics._ai_pairwise_numba(X[:1], X[1:], False)[0], lapack, pyriemann)]
        print("lockstep: largest relative error of d^2 at condition 1e8, seed {}: one pair {:.1e}, 16 lanes (pairs) "
              "{:.1e}, 16 lanes (pairwise) {:.1e}, LAPACK {:.1e}, pyRiemann {:.1e}".format(seed, *errors))


ABLATIONS = {f.__name__: f for f in (qr, srht, blas_spin, eigensolver, ql_lanes, karcher, lockstep, lanes)}

if __name__ == "__main__":
    for name in sys.argv[1:] or ABLATIONS:
        ABLATIONS[name]()
