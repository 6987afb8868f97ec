"""asv benchmarks and peer comparisons of linalgkit.sketch and linalgkit.regression."""

import functools
import math

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from linalgkit.datasets._regression import make_lstsq_problem
from linalgkit.regression import lstsq_precondition, lstsq_sketched
from linalgkit.sketch import make_sketch

from .compare import Case, Comparison

SKETCHES = ["gaussian", "srht", "srtt", "pooled", "sparse_sign", "countsketch"]


@functools.lru_cache(maxsize=4)
def _dense_problem(n, d, cond=1e3, residual_norm=1.0):
    return make_lstsq_problem(n, d, cond=cond, residual_norm=residual_norm, random_state=0)


def _tall_problem_dense():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2**17, 200)), rng.standard_normal(2**17)


@functools.lru_cache(maxsize=1)
def _sparse_problem(n, d, seed=0):
    """Tall sparse A = B M, 8 nonzeros per row: B has 4 random nonzeros per row and M = I - 0.999 shift.

    Neighbouring columns of A are nearly equal, so A is ill-conditioned (about 1e3) in a way that
    column scaling does not remove; b = A x + noise.
    """
    rng = np.random.default_rng(seed)
    cols = np.sort(rng.choice(d, size=(n, 4)), axis=1)
    B = scipy.sparse.csr_matrix((rng.standard_normal(4 * n) * rng.uniform(0.5, 2, size=d)[cols].ravel(),
                                 cols.ravel(), np.arange(0, 4 * n + 1, 4)), shape=(n, d))
    M = scipy.sparse.eye(d) - 0.999 * scipy.sparse.eye(d, k=1)
    A = (B @ M).tocsr()
    x = rng.standard_normal(d)
    return A, A @ x + 0.1 * rng.standard_normal(n)


class TimeSketch:
    """Sketch [A b] of a dense n x d matrix with m = 4d."""

    params = [SKETCHES, [2**15, 2**17], [100, 300]]
    param_names = ["kind", "n", "d"]
    timeout = 300

    def setup(self, kind, n, d):
        rng = np.random.default_rng(0)
        self.A, self.b = rng.standard_normal((n, d)), rng.standard_normal(n)
        self.S = make_sketch(kind, 4 * d, n, random_state=0)
        make_sketch(kind, 8, 16, random_state=0) @ np.ones((16, 2))  # compile kernels

    def time_sketch(self, kind, n, d):
        self.S.apply_pair(self.A, self.b)


class TimeLargeSketch:
    """The fast transforms at the size sketch-and-solve asks for (eps = 0.5, d = 200: m = 23,043 of 2^17 rows)."""

    params = [["srht", "srtt"]]
    param_names = ["kind"]
    timeout = 300

    def setup(self, kind):
        rng = np.random.default_rng(0)
        self.A, self.b = rng.standard_normal((2**17, 200)), rng.standard_normal(2**17)
        self.S = make_sketch(kind, 23_043, 2**17, random_state=0)
        self.S.apply_stacked(self.A, self.b)  # compile the kernels

    def time_sketch(self, kind):
        self.S.apply_stacked(self.A, self.b)


class TimeLstsq:
    """Sketch-and-solve, sketch-and-precondition and LAPACK gelsd on a dense 2^17 x 200 problem."""

    timeout = 300

    def setup(self):
        self.problem = _dense_problem(2**17, 200)
        lstsq_precondition(self.problem.A[:2000], self.problem.b[:2000], random_state=0)

    def time_lstsq_sketched(self):
        lstsq_sketched(self.problem.A, self.problem.b, eps=0.5, random_state=0)

    def time_lstsq_precondition(self):
        lstsq_precondition(self.problem.A, self.problem.b, random_state=0)

    def time_sap_vs_gelsd(self):
        scipy.linalg.lstsq(self.problem.A, self.problem.b)


class TrackAccuracy:
    """Coordinate-wise statistic R of sketch-and-solve and forward error of sketch-and-precondition."""

    params = [["gaussian", "srht", "srtt", "pooled"]]
    param_names = ["kind"]

    def setup(self, kind):
        self.problem = _dense_problem(2**13, 32)

    def track_linf_statistic(self, kind):
        p, d = self.problem, 32
        x = lstsq_sketched(p.A, p.b, sketch=kind, m=16 * d, random_state=0).x
        return math.sqrt(d) * np.abs(x - p.x).max() / (np.linalg.norm(p.residual) * p.pinv_norm) / math.sqrt(1 / 16)

    track_linf_statistic.unit = "R / sqrt(d/m)"

    def track_precondition_forward_error(self, kind):
        p = self.problem
        x = lstsq_precondition(p.A, p.b, sketch=kind, random_state=0).x
        return float(np.linalg.norm(x - p.x) / np.linalg.norm(p.x))

    track_precondition_forward_error.unit = "relative error"


# ---------------------------------------------------------------- side-by-side comparisons


def _sketch_case(peer_factory):
    p = _dense_problem(2**17, 200)
    m = 800
    S = make_sketch("srht", m, p.A.shape[0], random_state=0)
    return Case(lambda: S.apply_pair(p.A, p.b), peer_factory(p.A, p.b, m), lambda ours, peer: "speed only")


def _gaussian_gemm(A, b, m):
    G = np.random.default_rng(0).standard_normal((m, A.shape[0])) / math.sqrt(m)
    Ab = np.column_stack([A, b])
    return lambda: G @ Ab


def _scipy_srtt(A, b, m):
    rng = np.random.default_rng(0)
    signs = rng.choice([-1.0, 1.0], size=A.shape[0])
    rows = np.sort(rng.choice(A.shape[0], size=m, replace=False))
    scale = math.sqrt(A.shape[0] / m)

    def srtt():
        mixed = scipy.fft.dct(np.column_stack([A, b]) * signs[:, None], type=2, norm="ortho", axis=0,
                              overwrite_x=True, workers=-1)
        return mixed[rows] * scale

    return srtt


def _scipy_cwt(A, b, m):
    Ab = np.column_stack([A, b])
    return lambda: scipy.linalg.clarkson_woodruff_transform(Ab, m, rng=0)


def _lstsq_sketched_case():
    p = _dense_problem(2**17, 200)
    d = p.A.shape[1]

    def accuracy(ours, peer):
        R = math.sqrt(d) * np.abs(ours.x - p.x).max() / (np.linalg.norm(p.residual) * p.pinv_norm)
        return f"R = {R:.3f} (eps = 0.5, m = {ours.m}); gelsd rel. err {_relative(peer[0], p.x):.1e}"

    return Case(lambda: lstsq_sketched(p.A, p.b, eps=0.5, random_state=0), lambda: scipy.linalg.lstsq(p.A, p.b),
                accuracy)


def _relative(x, reference):
    return np.linalg.norm(x - reference) / np.linalg.norm(reference)


def _precondition_case(n, d, method="auto"):
    def setup():
        p = _dense_problem(n, d)

        def accuracy(ours, peer):
            return (f"fwd. err {_relative(ours.x, p.x):.1e} vs gelsd {_relative(peer[0], p.x):.1e}; "
                    f"{ours.method}, {ours.iterations} iterations, m = {ours.m}")

        return Case(lambda: lstsq_precondition(p.A, p.b, method=method, random_state=0),
                    lambda: scipy.linalg.lstsq(p.A, p.b), accuracy)

    return setup


def _normal_backward_error(A, x, b):
    """||A^T r|| / (||A||_F ||r||): 0 exactly at the least-squares solution (solver-independent)."""
    r = b - A @ x
    return np.linalg.norm(A.T @ r) / (scipy.sparse.linalg.norm(A) * np.linalg.norm(r))


def _sparse_case():
    A, b = _sparse_problem(2**20, 500)
    scale = 1 / scipy.sparse.linalg.norm(A, axis=0)
    A_scaled = (A @ scipy.sparse.diags(scale)).tocsr()

    def peer():
        return scale * scipy.sparse.linalg.lsqr(A_scaled, b, atol=1e-14, btol=1e-14, iter_lim=100000)[0]

    def accuracy(ours, peer_x):
        return (f"normal-eq. backward error {_normal_backward_error(A, ours.x, b):.1e} vs "
                f"{_normal_backward_error(A, peer_x, b):.1e} (lsqr); rel. diff {_relative(ours.x, peer_x):.1e}; "
                f"{ours.iterations} iterations")

    return Case(lambda: lstsq_precondition(A, b, sketch="sparse_sign", rtol=1e-14, random_state=0), peer, accuracy)


COMPARISONS = [
    Comparison("regression", "SRHT sketch of [A b], m = 4d", "2^17 x 200 float64", "Gaussian sketch as one GEMM",
               lambda: _sketch_case(_gaussian_gemm), goal=1 / 4),
    Comparison("regression", "SRHT sketch of [A b], m = 4d", "2^17 x 200 float64", "SRTT on scipy.fft.dct",
               lambda: _sketch_case(_scipy_srtt), goal=1 / 3),
    Comparison("regression", "SRHT sketch of [A b], m = 4d", "2^17 x 200 float64",
               "scipy.linalg.clarkson_woodruff_transform", lambda: _sketch_case(_scipy_cwt)),
    Comparison("regression", "lstsq_sketched (srht, eps = 0.5)", "2^17 x 200 float64",
               "scipy.linalg.lstsq (gelsd)", _lstsq_sketched_case, goal=1 / 3),
    Comparison("regression", "lstsq_precondition default (sparse sign + Cholesky QR)", "2^17 x 200 float64",
               "scipy.linalg.lstsq (gelsd)", _precondition_case(2**17, 200), goal=0.3),
    Comparison("regression", "lstsq_precondition (sparse sign + LSQR)", "2^17 x 200 float64",
               "scipy.linalg.lstsq (gelsd)", _precondition_case(2**17, 200, "lsqr"), goal=1.0),
    Comparison("regression", "lstsq_precondition (sparse sign + FOSSILS)", "2^17 x 200 float64",
               "scipy.linalg.lstsq (gelsd)", _precondition_case(2**17, 200, "fossils")),
    Comparison("regression", "lstsq_precondition default (sparse sign + Cholesky QR)", "2^15 x 1000 float64",
               "scipy.linalg.lstsq (gelsd)", _precondition_case(2**15, 1000)),
    Comparison("regression", "lstsq_precondition default (sparse sign + Cholesky QR)", "2^20 x 50 float64",
               "scipy.linalg.lstsq (gelsd)", _precondition_case(2**20, 50)),
    Comparison("regression", "lstsq_precondition, sparse (sparse sign + LSQR)", "2^20 x 500, 8 nnz/row",
               "scipy lsqr with column scaling", _sparse_case, goal=0.1),
]


# ---------------------------------------------------------------- ablations (run by benchmarks/ablations.py)


def _gram_one_blas_stream(A, B, W, rows=1024):
    """The Gram matrix as before: row blocks through SciPy's BLAS wrappers (which hold the GIL), BLAS threaded."""
    n, d = A.shape
    W = np.asfortranarray(W)
    trmm, syrk = scipy.linalg.get_blas_funcs(("trmm", "syrk"), (W,))
    G = np.zeros(W.shape, order="F")
    buffer = np.empty((rows, W.shape[0]))
    for start in range(0, n, rows):
        Z = buffer[: min(rows, n - start)]
        Z[:, :d], Z[:, d:] = A[start:start + rows], B[start:start + rows]
        Y = trmm(1.0, W, Z.T, side=0, lower=0, trans_a=1, overwrite_b=1)
        G = syrk(1.0, Y, beta=1.0, c=G, trans=0, lower=0, overwrite_c=1)
    return np.triu(G) + np.triu(G, 1).T


def ablation_gram_threads():
    """Cholesky-QR Gram of 2^17 x 201: row blocks on one thread per core (BLAS serial, ``GRAM_BLOCK_ROWS``
    = 128 .. 2048) against one stream of blocks through a two-threaded BLAS (the previous kernel, 1024 rows)."""
    from unittest import mock

    from linalgkit._backend import get_backend
    from linalgkit.regression import _cholqr

    from .ablations import _best, _report

    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((2**17, 200)), rng.standard_normal((2**17, 1))
    W = np.triu(rng.standard_normal((201, 201))) + 10 * np.eye(201)
    be = get_backend(A)
    for rows in (128, 256, 512, 1024, 2048):
        with mock.patch.object(_cholqr, "GRAM_BLOCK_ROWS", rows):
            _report(f"gram_threads rows={rows}", _best(lambda: _cholqr._gram_times_upper(be, A, B, W)),
                    _best(lambda: _gram_one_blas_stream(A, B, W)),
                    (f"threads x serial BLAS, {rows} rows", "threaded BLAS, 1024 rows"))


def ablation_csr_sketch():
    """Sparse sign sketch (zeta = 8) of a CSR [A b], 8 nonzeros per row: the column-wise kernel (CSC transpose,
    one output column in cache at a time, row ranges of ``CSR_COLUMN_CHUNK_ROWS``) against the row scatter into
    one m x (d + 1) copy per thread, at m = 8d (``CSR_COLUMNWISE_ENTRIES``), and the chunk size at 2^20 x 500."""
    from unittest import mock

    from linalgkit.sketch import _numba as kernels

    from .ablations import _best, _report

    for n, d in ((2**18, 25), (2**18, 50), (2**18, 100), (2**19, 200), (2**20, 500)):
        A, b = _sparse_problem(n, d)
        S = make_sketch("sparse_sign", 8 * d, n, random_state=0)
        source, B, rows, weights = (A.indptr, A.indices, A.data), b[:, None], S.rows, S.weights

        def sketch(threshold, chunk=kernels.CSR_COLUMN_CHUNK_ROWS):
            with mock.patch.multiple(kernels, CSR_COLUMNWISE_ENTRIES=threshold, CSR_COLUMN_CHUNK_ROWS=chunk):
                return _best(lambda: kernels.scatter_rows(source, B, rows, weights, 8 * d, layout="csr", columns=d),
                             repeat=3)

        _report(f"csr_sketch {n} x {d}, m x (d + 1) = {8 * d * (d + 1)}", sketch(0), sketch(1 << 62),
                ("by columns", "row scatter"))
    for chunk in (1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 19):
        _report(f"csr_sketch 2^20 x 500, chunk {chunk} rows", sketch(0, chunk), sketch(0, 1 << 16),
                (f"{chunk} rows", "65536 rows"))


def ablation_lsqr_pass():
    """LSQR's step with one fused read of A (``csr_product_pair``, ``dense_product_pair``: A v + c u and A^T of it)
    against two products (SciPy's sparse ones, two GEMVs): one step on dense 2^17 x 200, one step and the whole
    preconditioned solve on CSR 2^20 x 500 with 8 nonzeros per row."""
    from unittest import mock

    from linalgkit.regression import precondition
    from linalgkit.regression._numba import csr_product_pair, dense_product_pair

    from .ablations import _best, _report

    D, c = _tall_problem_dense()
    z, w = np.random.default_rng(0).standard_normal(200), np.empty_like(c)
    _report("lsqr_pass dense step", _best(lambda: dense_product_pair(D, z, c, -0.5, w)),
            _best(lambda: D.T @ (D @ z - 0.5 * c)), ("fused pass", "two GEMVs"))

    A, b = _sparse_problem(2**20, 500)
    v, u, out = np.random.default_rng(0).standard_normal(500), b.copy(), np.empty_like(b)
    _report("lsqr_pass one step", _best(lambda: csr_product_pair(A.indptr, A.indices, A.data, v, u, -0.5, out)),
            _best(lambda: A.T @ (A @ v - 0.5 * u)), ("fused pass", "two SciPy products"))

    def solve():
        return lstsq_precondition(A, b, sketch="sparse_sign", rtol=1e-14, random_state=0)

    fused = _best(solve, repeat=3)
    with mock.patch.object(precondition, "_fused", lambda backend, A: None):
        _report("lsqr_pass whole solve", fused, _best(solve, repeat=3), ("fused pass", "two SciPy products"))


def ablation_hash_draw():
    """Draw of a sparse sign sketch, 4000 x 2^20, zeta = 8 (16 blocks of 2^16 columns): the blocks on one Python
    thread per core (NumPy's generators release the GIL; the same values) against one thread."""
    import numba

    from .ablations import _best, _report

    def draw():
        return make_sketch("sparse_sign", 4000, 2**20, random_state=0).rows

    threads = numba.get_num_threads()
    threaded = _best(draw)
    numba.set_num_threads(1)
    try:
        one = _best(draw)
    finally:
        numba.set_num_threads(threads)
    _report(f"hash_draw ({threads} threads)", threaded, one, ("threads", "one thread"))


def ablation_sparse_sketch():
    """Default sketch size of LSQR on sparse A (``SPARSE_SKETCH``): the CSR 2^20 x 500 solve (8 nonzeros per row,
    rtol 1e-14) at m = 4d .. 16d, with its iterations; m trades the QR of SA (2 m d^2) against iterations."""
    from .ablations import _best

    A, b = _sparse_problem(2**20, 500)
    for multiple in (4, 6, 8, 12, 16):
        m = multiple * 500
        result = lstsq_precondition(A, b, sketch="sparse_sign", m=m, rtol=1e-14, random_state=0)
        seconds = _best(lambda: lstsq_precondition(A, b, sketch="sparse_sign", m=m, rtol=1e-14, random_state=0),
                        repeat=3)
        print(f"sparse_sketch m = {multiple}d: {seconds:.1f} ms, {result.iterations} iterations")


def ablation_dense_sketch_sizes():
    """Default sketch sizes on dense A (``CHOLQR_SKETCH``, ``PRECONDITION_SKETCH``), 2^17 x 200 float64: time and
    forward error (against gelsd's) of ``"cholqr"`` at m = 2d .. 12d (cond 1e12, residual 1e-6) and of ``"lsqr"``
    at m = 4d .. 20d (cond 1e3)."""
    from .ablations import _best

    def forward(problem, x):
        return np.linalg.norm(x - problem.x) / np.linalg.norm(problem.x)

    hard = _dense_problem(2**17, 200, cond=1e12, residual_norm=1e-6)
    reference = forward(hard, scipy.linalg.lstsq(hard.A, hard.b, check_finite=False)[0])
    for multiple in (2, 3, 4, 6, 8, 12):
        def solve(m=multiple * 200):
            return lstsq_precondition(hard.A, hard.b, method="cholqr", m=m, random_state=0)

        result = solve()
        print(f"dense_sketch_sizes cholqr m = {multiple}d: {_best(solve, repeat=3):.1f} ms, {result.iterations} "
              f"iterations, forward error {forward(hard, result.x) / reference:.2f} x gelsd's")
    plain = _dense_problem(2**17, 200)
    for multiple in (4, 8, 12, 20):
        def solve(m=multiple * 200):
            return lstsq_precondition(plain.A, plain.b, method="lsqr", m=m, random_state=0)

        print(f"dense_sketch_sizes lsqr m = {multiple}d: {_best(solve, repeat=3):.1f} ms, {solve().iterations} "
              f"iterations")


def ablation_hash_parallel():
    """Hash-sketch scatter of a dense [A b] (sparse sign, zeta = 8, m = 4d, d = 20): one thread against one output
    copy per Numba thread, for 2^6 .. 2^14 rows, i.e. stored values x hashes around ``PARALLEL_MIN_VALUES``."""
    from unittest import mock

    from linalgkit.sketch import _numba as kernels

    from .ablations import _best

    rng = np.random.default_rng(0)
    for n in (2**6, 2**8, 2**9, 2**10, 2**12, 2**14):
        A, B = rng.standard_normal((n, 20)), rng.standard_normal((n, 1))
        S = make_sketch("sparse_sign", 80, n, random_state=0)

        def scatter(threshold):
            with mock.patch.object(kernels, "PARALLEL_MIN_VALUES", threshold):
                return _best(lambda: kernels.scatter_rows(A, B, S.rows, S.weights, 80), repeat=50)

        one, threads = scatter(1 << 62), scatter(0)
        print(f"hash_parallel {n} x 20, values x hashes = {n * 20 * 8}: one thread {1e3 * one:.1f} us, threads "
              f"{1e3 * threads:.1f} us, ratio {threads / one:.2f}")
