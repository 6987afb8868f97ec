"""asv benchmarks, peer comparisons and cut-over ablations of linalgkit.transforms.

``python -m benchmarks.transforms`` reruns the ablations behind the family's cut-over table
(``linalgkit/transforms/_cutovers.py``): for each cut-over, the two strategies timed on either side.
"""

import sys
from unittest import mock

import numpy as np
import scipy.fft
import scipy.linalg

from linalgkit._timing import best_time
from linalgkit.transforms import _fwht_numba, _spright_numba, fwht

from .compare import Case, Comparison


class TimeFWHT:
    """One vector of length N = 2^k."""

    params = [10, 12, 14, 16, 18, 20, 22, 24]
    param_names = ["log2_n"]

    def setup(self, log2_n):
        self.x = np.random.default_rng(0).standard_normal(2**log2_n)
        self.out = np.empty_like(self.x)
        fwht(self.x, out=self.out)  # compiles the kernels outside the timed calls

    def time_fwht(self, log2_n):
        fwht(self.x, out=self.out)

    def time_rfft(self, log2_n):
        scipy.fft.rfft(self.x)


class TimeFWHTBatch:
    """A batch of vectors, transformed along the last axis (rows) or the first (columns)."""

    params = [[(4096, 1024), (1024, 4096), (64, 65536)], ["float64", "float32", "complex128"]]
    param_names = ["shape", "dtype"]

    def setup(self, shape, dtype):
        self.x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
        fwht(self.x)  # compiles the kernels outside the timed calls
        fwht(self.x[:, :1024], axis=0)

    def time_fwht_rows(self, shape, dtype):
        fwht(self.x)

    def time_fwht_columns(self, shape, dtype):
        fwht(self.x[:, :1024], axis=0)

    def peakmem_fwht_rows(self, shape, dtype):
        fwht(self.x)


class TrackFWHTAccuracy:
    """Relative error against the dense Hadamard product in float64 (n = 2^12)."""

    def setup(self):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((16, 4096))
        self.reference = self.x @ scipy.linalg.hadamard(4096).T.astype(np.float64)

    def track_relative_error(self):
        return float(np.linalg.norm(fwht(self.x) - self.reference) / np.linalg.norm(self.reference))

    track_relative_error.unit = "relative error"


def _relative_error(reference):
    def accuracy(ours, _):
        return f"rel. err {np.linalg.norm(ours - reference) / np.linalg.norm(reference):.1e} vs H @ x"

    return accuracy


def _not_comparable(ours, peer):
    return "different transform (speed only)"


def _vector_vs_rfft():
    x = np.random.default_rng(0).standard_normal(2**20)
    return Case(lambda: fwht(x), lambda: scipy.fft.rfft(x), _not_comparable)


def _batch_vs_copy():
    x = np.random.default_rng(0).standard_normal((4096, 1024))
    return Case(lambda: fwht(x), lambda: x.copy(), _not_comparable)


def _batch_vs_rfft():
    x = np.random.default_rng(0).standard_normal((4096, 1024))
    return Case(lambda: fwht(x), lambda: scipy.fft.rfft(x), _not_comparable)


def _batch_vs_dense():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4096))
    hadamard = scipy.linalg.hadamard(4096).astype(np.float64)
    return Case(lambda: fwht(x), lambda: x @ hadamard, _relative_error(x @ hadamard))


COMPARISONS = [
    Comparison("transforms", "FWHT of one vector", "2^20 float64", "scipy.fft.rfft", _vector_vs_rfft, goal=1 / 3),
    Comparison("transforms", "FWHT of a batch (rows)", "4096 x 1024 float64", "X.copy() (memory floor)",
               _batch_vs_copy, goal=1.5),
    Comparison("transforms", "FWHT of a batch (rows)", "4096 x 1024 float64", "scipy.fft.rfft", _batch_vs_rfft,
               goal=0.5),
    Comparison("transforms", "FWHT of a batch (rows)", "256 x 4096 float64", "dense Hadamard GEMM (x @ H)",
               _batch_vs_dense),
]


# ----------------------------------------------------------------------------- cut-over ablations


def _ratio_line(name, size, first, second, labels):
    print(f"{name:<24} {size:<14} {labels[0]} {first * 1e6:9.1f} us   {labels[1]} {second * 1e6:9.1f} us   "
          f"ratio {first / second:.2f}")


def ablate_parallel_min_elements():
    """FWHT rows: serial against threaded kernel around PARALLEL_MIN_ELEMENTS (elements per call)."""
    rng = np.random.default_rng(0)
    for log2_size in (12, 14, 15, 16, 18):
        x = rng.standard_normal((2 ** (log2_size - 8), 256))
        out, scale = np.empty_like(x), np.float64(1)
        serial = best_time(lambda: _fwht_numba._rows_serial(x, out, scale), repeats=50)
        parallel = best_time(lambda: _fwht_numba._rows_parallel(x, out, scale), repeats=50)
        _ratio_line("PARALLEL_MIN_ELEMENTS", f"2^{log2_size}", parallel, serial, ("threads", "serial"))


def ablate_parallel_min_pairs():
    """evaluate_walsh: serial against threaded expansion around PARALLEL_MIN_PAIRS (points x support)."""
    rng = np.random.default_rng(0)
    support = rng.integers(0, 2**40, size=64, dtype=np.int64).astype(np.uint64)
    coefficients = rng.standard_normal(64)
    for log2_pairs in (12, 14, 16, 18, 20):
        points = rng.integers(0, 2**40, size=2 ** (log2_pairs - 6), dtype=np.int64).astype(np.uint64)
        out = np.empty(points.size)
        serial = best_time(lambda: _spright_numba._expand_serial(points, support, coefficients, out), repeats=50)
        parallel = best_time(lambda: _spright_numba._expand_parallel(points, support, coefficients, out), repeats=50)
        _ratio_line("PARALLEL_MIN_PAIRS", f"2^{log2_pairs}", parallel, serial, ("threads", "serial"))


def _ablate_constant(name, values, call):
    """Time ``call`` with the kernel module's constant ``name`` set to each of ``values`` (the table's first)."""
    chosen = getattr(_fwht_numba, name)
    baseline = best_time(call, repeats=10)
    for value in values:
        with mock.patch.object(_fwht_numba, name, value):
            seconds = best_time(call, repeats=10)
        _ratio_line(name, f"{value} B", seconds, baseline, ("this", f"table ({chosen} B)"))


def ablate_block_sizes():
    """ROW_BLOCK_BYTES on one long vector and TILE_BYTES on a column transform, halved and doubled."""
    rng = np.random.default_rng(0)
    vector, columns = rng.standard_normal(2**22), rng.standard_normal((4096, 1024))
    rows = _fwht_numba.ROW_BLOCK_BYTES
    _ablate_constant("ROW_BLOCK_BYTES", (rows // 4, rows // 2, rows * 2, rows * 4), lambda: fwht(vector))
    tile = _fwht_numba.TILE_BYTES
    _ablate_constant("TILE_BYTES", (tile // 2, tile * 2, tile * 4), lambda: fwht(columns, axis=0))


ABLATIONS = {"parallel_elements": ablate_parallel_min_elements, "parallel_pairs": ablate_parallel_min_pairs,
             "blocks": ablate_block_sizes}


def main(argv=None):
    """Run the named ablations (all by default)."""
    names = (sys.argv[1:] if argv is None else argv) or list(ABLATIONS)
    for name in names:
        ABLATIONS[name]()


if __name__ == "__main__":
    main()
