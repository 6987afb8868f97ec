"""Ablations behind the numbers the docs and kernel docstrings quote: each design choice timed against
the alternative it replaced, on the same data, in one process (best of several calls after a warm-up).

Run ``python -m benchmarks.ablations [name ...]`` from the repository root; names: qr, srht, blas_spin,
karcher, lockstep, lanes, arnoldi, ritz_period, gram, and those the family modules define
(``FAMILY_ABLATIONS``): gram_threads, csr_sketch, lsqr_pass, hash_draw, sparse_sketch, dense_sketch_sizes,
hash_parallel, working_set_start, lane_width (all by default).
Numbers depend on the machine; the docs quote a 2-core run.
"""

import dataclasses
import importlib
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
from linalgkit.spd import _dispatch as dispatch
from linalgkit.spd import _numba as spd_kernels
from linalgkit.spd import mean, means, metrics
from linalgkit.spd._dispatch import CUTOVERS
from linalgkit.spd._geometry import AffineInvariant


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


def karcher():
    """AI Karcher mean of 1000 matrices of 22 x 22 to rtol 1e-8: fixed step 1 against the secant step."""
    X = make_spd_matrices(1000, 22, random_state=0)
    with mock.patch.object(means, "_secant_step", lambda *args: 1.0):
        fixed = mean(X, rtol=1e-8, return_info=True).iterations
        fixed_time = _best(lambda: mean(X, rtol=1e-8))
    secant = mean(X, rtol=1e-8, return_info=True).iterations
    _report("karcher", fixed_time, _best(lambda: mean(X, rtol=1e-8)), ("step 1", "secant step"))
    print(f"karcher: iterations {fixed} with step 1, {secant} with the secant step")


@numba.njit(parallel=True)
def _gram_by_lanes_type(M, W, n):
    for group in numba.prange(M.shape[0]):
        spd_kernels._lower_gram(M[group], W[group], n)


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
    """The lower Gram matrix M M^T of 512 groups of WIDTH 22 x 22 triangular matrices in lane layout: loops
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
    """The lane kernels against their LAPACK fallback, on 2 threads: each public call timed with every lane
    limit of ``spd._dispatch.CUTOVERS`` at 0 (LAPACK) and lifted (lanes at every size and batch): the batch
    cut-over (eigen-decompositions of stacks of a few lane groups), the eigenvalue-only kernels (AI and BW
    pairs) and those with eigenvectors (eigh, LE pairs, the Karcher gradient) at growing n, the AI pairwise
    distances of 500 matrices of 22 x 22; then the accuracy of AI distances at condition 1e8 against 50-digit
    arithmetic: lanes, LAPACK's generalized ``eigvalsh`` (top-down ``dsytrd``) and pyRiemann."""
    be = get_backend(np.zeros(1))

    def limits(value, batch):
        table = {name: dataclasses.replace(CUTOVERS[name], value=value) for name in ("eigenvalues_n", "vectors_n")}
        return {**table, "batch": dataclasses.replace(CUTOVERS["batch"], value=batch)}

    def with_limits(table, call):
        def run():
            with mock.patch.dict(CUTOVERS, table):
                call()
        return run

    def lapack(call):
        return with_limits(limits(0, CUTOVERS["batch"].value), call)

    def lanes(call):
        return with_limits(limits(10**6, 1), call)

    with serial_blas(be):
        for count in (16, 32, 64, 128, 256):
            S = make_spd_matrices(count, 22, random_state=0)
            call = lambda: dispatch.eigh(be, S)  # noqa: E731
            _report(f"lockstep batch: eigh of {count} matrices 22 x 22", _best(lapack(call), 20),
                    _best(lanes(call), 20), ("LAPACK", "lanes"))
        for n, count in ((3, 20_000), (22, 10_000), (64, 2000), (128, 300), (160, 200), (200, 100)):
            A, B = make_spd_matrices(count, n, random_state=0), make_spd_matrices(count, n, random_state=1)
            for metric in ("affine_invariant", "bures_wasserstein"):
                call = lambda: metrics.distance(A, B, metric=metric)  # noqa: E731
                _report(f"lockstep {metric} n={n}, {count} pairs", _best(lapack(call), 3), _best(lanes(call), 3),
                        ("LAPACK", "lanes"))
        for n in (22, 48, 64, 80, 96, 112):
            count = min(10_000, 2000 * 64**3 // n**3)
            A, B = make_spd_matrices(count, n, random_state=0), make_spd_matrices(count, n, random_state=1)
            call = lambda: metrics.distance(A, B, metric="log_euclidean")  # noqa: E731
            _report(f"lockstep log-Euclidean n={n}, {count} pairs", _best(lapack(call), 3), _best(lanes(call), 3),
                    ("LAPACK", "lanes"))
            call = lambda: dispatch.eigh(be, A)  # noqa: E731
            _report(f"lockstep eigh n={n}, {count} matrices", _best(lapack(call), 3), _best(lanes(call), 3),
                    ("LAPACK", "lanes"))
            X, S = A[: count // 2], B[0]
            w = np.full(X.shape[0], 1 / X.shape[0])
            call = lambda: AffineInvariant().mean_log(be, S, X, w)  # noqa: E731
            _report(f"lockstep Karcher gradient n={n}, {X.shape[0]} matrices", _best(lapack(call), 3),
                    _best(lanes(call), 3), ("LAPACK", "lanes"))
        X = make_spd_matrices(500, 22, random_state=0)
        call = lambda: metrics.pairwise_distances(X)  # noqa: E731
        _report("lockstep pairwise 500 x 500, 22 x 22", _best(lapack(call), 3), _best(lanes(call), 3),
                ("LAPACK", "lanes"))
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
        lanes, failed = np.empty(64), np.zeros(64, dtype=bool)
        spd_kernels.ai_squared_distances(X[1:], np.repeat(X[:1], 64, axis=0), lanes, failed)
        lapack_pairs = AffineInvariant()._squared_distance(be, X[1:], X[:1])
        generalized = [np.sum(np.log(scipy.linalg.eigvalsh(y, X[0])) ** 2) for y in X[1:]]
        pyriemann = prd.distance_riemann(X[1:], X[:1], squared=True)
        errors = [np.max(np.abs(np.asarray(v).ravel() - exact) / exact)
                  for v in (lanes, metrics.pairwise_distances(X[:1], X[1:], squared=True)[0], lapack_pairs,
                            generalized, pyriemann)]
        print("lockstep: largest relative error of d^2 at condition 1e8, seed {}: {} lanes (pairs) {:.1e}, {} lanes "
              "(pairwise) {:.1e}, Cholesky + LAPACK eigvalsh {:.1e}, LAPACK generalized {:.1e}, "
              "pyRiemann {:.1e}".format(seed, WIDTH, errors[0], WIDTH, *errors[1:]))


def arnoldi():
    """GCRO-DR(40, 20) on one Darcy 64^2 system (rtol 1e-8): the whole cycle in one Numba call, against the
    cycle step by step (Python loop over SciPy's product and the Numba MGS step) and CGS2 on two GEMVs a pass."""
    from linalgkit.datasets._krylov import make_darcy_sequence
    from linalgkit.krylov import _engine, gcrodr

    A, b = make_darcy_sequence(64, 1, random_state=0)[0]

    def cgs2(be, W, count, w, buffer):
        return _engine._cgs2(be, W, count, w)

    solve = lambda: gcrodr(A, b, rtol=1e-8)  # noqa: E731
    fused = _best(solve, repeat=3)
    with mock.patch.object(_engine, "_compiled_csr", lambda *args: None):
        stepwise = _best(solve, repeat=3)
        with mock.patch.object(_engine, "_orthogonalize", cgs2):
            cgs = _best(solve, repeat=3)
    _report("arnoldi", fused, stepwise, ("one Numba call a cycle", "step by step, Numba MGS"))
    _report("arnoldi", stepwise, cgs, ("step by step, Numba MGS", "step by step, CGS2 (DGKS) on BLAS GEMVs"))


def ritz_period():
    """Sorted recycling (GCRO-DR(40, 20), rtol 1e-8) on 30 Darcy 64^2 systems and on 20 Helmholtz 48^2 systems
    started from their neighbour's solution, with the harmonic Ritz update every 1, 2 or 3 cycles, and always
    (or not) in the first RITZ_EVERY_CYCLE cycles of each solve: seconds and products with A."""
    from benchmarks.krylov import darcy, shifted
    from linalgkit.krylov import _engine, solve_sequence

    cases = (("Darcy 64^2", darcy(), False), ("Helmholtz 48^2, warm start", shifted(48), True))
    for name, systems, warm in cases:
        for period, fresh in ((1, 0), (2, 0), (3, 0), (3, _engine.RITZ_EVERY_CYCLE)):
            with (mock.patch.object(_engine, "ritz_period", lambda *args, period=period: period),
                  mock.patch.object(_engine, "RITZ_EVERY_CYCLE", fresh)):
                seconds = _best(lambda: solve_sequence(systems, rtol=1e-8, warm_start=warm), repeat=2) / 1e3
                products = solve_sequence(systems, rtol=1e-8, warm_start=warm).total_matvecs
            print(f"ritz_period: {name}, every {period} cycles after the first {fresh}: {seconds:.2f} s, "
                  f"{products} products")


def gram():
    """The Cholesky-QR Gram matrix ([A b] W)^T ([A b] W) of 2^17 x 200: by row blocks (trmm + syrk in cache)
    against the whole product (copy, trmm) and a GEMM."""
    from linalgkit.regression import _cholqr

    A, b = _tall_problem()
    be = get_backend(A)
    W = np.triu(np.random.default_rng(1).standard_normal((201, 201))) + 10 * np.eye(201)
    blocks = _best(lambda: _cholqr._gram_times_upper(be, A, b[:, None], W))

    def whole():
        Y = _cholqr._times_upper(be, A, b[:, None], W)
        return Y.T @ Y

    _report("gram", blocks, _best(whole), ("row blocks of GRAM_BLOCK_ROWS", "whole product + GEMM"))


def _family_ablation(module, name):
    """The ablation ``ablation_<name>`` that a family's benchmark module defines, imported when it runs."""
    return lambda: getattr(importlib.import_module(module), f"ablation_{name}")()


# Ablations written next to their family's benchmarks (benchmarks/<family>.py: ablation_<name>).
FAMILY_ABLATIONS = {"gram_threads": "benchmarks.regression", "csr_sketch": "benchmarks.regression",
                    "lsqr_pass": "benchmarks.regression", "hash_draw": "benchmarks.regression",
                    "sparse_sketch": "benchmarks.regression", "dense_sketch_sizes": "benchmarks.regression",
                    "hash_parallel": "benchmarks.regression",
                    "working_set_start": "benchmarks.sampling", "lane_width": "benchmarks.spd"}

ABLATIONS = {f.__name__: f for f in (qr, srht, blas_spin, karcher, lockstep, lanes, arnoldi, ritz_period, gram)}
ABLATIONS.update({name: _family_ablation(module, name) for name, module in FAMILY_ABLATIONS.items()})

if __name__ == "__main__":
    for name in sys.argv[1:] or ABLATIONS:
        ABLATIONS[name]()
