"""Timing for the tour and ``benchmarks/compare.py``: one row record and one best-of-n timer.

A family's tour module (``linalgkit/<family>/_tour.py``) imports :class:`TourRow` and
:func:`best_time` from here; ``linalgkit._tour`` discovers those modules, so nothing imports
back up the package.
"""

import time
from dataclasses import dataclass

__all__ = ["TourRow", "best_time"]


@dataclass(frozen=True)
class TourRow:
    """One line of the ``python -m linalgkit tour`` table.

    Parameters
    ----------
    family : str
        Family name, first column.
    problem, size : str
        What was solved, and how large.
    accuracy : str
        Error against an exact reference, e.g. ``"rel. err 3e-16"``.
    seconds : float
        Best time of linalgkit's call.
    baseline : str
        What a user would otherwise write.
    speedup : float
        Baseline time over ``seconds``.
    backend : str
        Where it ran, e.g. ``"numpy (Numba)"``.
    """

    family: str
    problem: str
    size: str
    accuracy: str
    seconds: float
    baseline: str
    speedup: float
    backend: str


def best_time(func, repeats=20, *, budget=None, warmup=True):
    """Smallest wall time of up to ``repeats`` calls of ``func``.

    Parameters
    ----------
    func : callable
        Called without arguments.
    repeats : int, default=20
        Most timed calls.
    budget : float, optional
        Stop after the call that takes the total timed wall time past ``budget`` seconds
        (at least one call is timed).
    warmup : bool, default=True
        Make one untimed call first (it compiles Numba kernels and fills caches); pass False
        when the caller has just made that call itself, e.g. to keep its output.

    Returns
    -------
    float
        Seconds of the fastest call.
    """
    if warmup:
        func()
    times = []
    deadline = None if budget is None else time.perf_counter() + budget
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
        if deadline is not None and time.perf_counter() > deadline:
            break
    return min(times)
