"""asv benchmarks and peer comparisons of linalgkit.transforms."""

import numpy as np
import scipy.fft
import scipy.linalg

from linalgkit.transforms import fwht

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
