"""``python -m linalgkit tour``: one short demonstration per algorithm family.

Each family contributes a function returning a :class:`TourRow`; it solves a small problem on
embedded (seeded, generated) data, checks the answer against an exact reference and times
linalgkit against the baseline a user would otherwise write.
"""

import time
from dataclasses import dataclass

import numpy as np
import scipy.linalg

__all__ = ["TourRow", "best_time", "run_tour"]


@dataclass(frozen=True)
class TourRow:
    """One line of the tour table."""

    family: str
    problem: str
    size: str
    accuracy: str
    seconds: float
    baseline: str
    speedup: float
    backend: str


def best_time(func, repeats=20):
    """Smallest wall time of ``repeats`` calls of ``func`` after one warm-up call (compiles kernels)."""
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def _fwht_row():
    from .transforms import fwht

    rng = np.random.default_rng(0)
    n, batch = 4096, 256
    x = rng.standard_normal((batch, n))
    hadamard = scipy.linalg.hadamard(n).astype(np.float64)
    reference = x @ hadamard
    y = fwht(x)
    error = np.linalg.norm(y - reference) / np.linalg.norm(reference)
    ours = best_time(lambda: fwht(x))
    dense = best_time(lambda: x @ hadamard, repeats=3)
    return TourRow("transforms", "Walsh-Hadamard transform", f"{batch} x {n}", f"rel. err {error:.1e}",
                   ours, "dense Hadamard GEMM", dense / ours, "numpy (Numba)")


def _sparse_wht_row():
    from .transforms._sparse_tour import tour_row

    return tour_row()


def _regression_row():
    from .regression._tour import tour_row

    return tour_row()


def _spd_row():
    from .spd._tour import tour_row

    return tour_row()


ROWS = [_fwht_row, _sparse_wht_row, _regression_row, _spd_row]


def run_tour(file=None):
    """Run every family's demonstration and print the table."""
    header = ("family", "problem", "size", "accuracy vs exact", "time", "baseline", "speedup", "backend")
    lines = []
    for make_row in ROWS:
        row = make_row()
        lines.append((row.family, row.problem, row.size, row.accuracy, f"{row.seconds * 1e3:.2f} ms",
                      row.baseline, f"{row.speedup:.1f}x", row.backend))
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
    for cells in [header, tuple("-" * w for w in widths), *lines]:
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip(), file=file)
