"""``python -m linalgkit tour``: one short demonstration per algorithm family.

Each family package may hold a ``_tour.py`` defining ``tour_rows()`` (a list of
:class:`~linalgkit._timing.TourRow`) or ``tour_row()`` (one row); :func:`run_tour` discovers
them over linalgkit's subpackages, so adding a family touches nothing outside its folder.  A row
solves a small problem on embedded (seeded, generated) data, checks the answer against an
exact reference and times linalgkit against the baseline a user would otherwise write.
"""

import importlib
import importlib.util
import pkgutil

from ._timing import TourRow, best_time

__all__ = ["TourRow", "best_time", "run_tour", "tour_modules"]


def tour_modules():
    """The ``_tour`` modules of linalgkit's public subpackages, in package order."""
    import linalgkit

    modules = []
    for info in pkgutil.iter_modules(linalgkit.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        name = f"linalgkit.{info.name}._tour"
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return modules


def _rows(module):
    if hasattr(module, "tour_rows"):
        return list(module.tour_rows())
    return [module.tour_row()]


def run_tour(file=None):
    """Run every family's demonstration and print the table."""
    header = ("family", "problem", "size", "accuracy vs exact", "time", "baseline", "speedup", "backend")
    lines = []
    for module in tour_modules():
        for row in _rows(module):
            lines.append((row.family, row.problem, row.size, row.accuracy, f"{row.seconds * 1e3:.2f} ms",
                          row.baseline, f"{row.speedup:.1f}x", row.backend))
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
    for cells in [header, tuple("-" * w for w in widths), *lines]:
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip(), file=file)
