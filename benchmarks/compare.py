"""Side-by-side runs of linalgkit against the peer a user would otherwise pick.

Every family's benchmark module (``benchmarks/<family>.py``) defines ``COMPARISONS``, a list of
:class:`Comparison`.  This script runs them in one process on the same data, alternating
linalgkit and the peer, and writes ``docs/benchmarks.md``::

    python benchmarks/compare.py [--only SUBSTRING] [--output docs/benchmarks.md]
"""

import argparse
import datetime
import importlib
import os
import pathlib
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from linalgkit._timing import best_time  # noqa: E402  (the repository's linalgkit, when run as a script)


@dataclass(frozen=True)
class Case:
    """A prepared problem: the two callables to time and how to compare their outputs."""

    ours: Callable[[], object]
    peer: Callable[[], object]
    accuracy: Callable[[object, object], str]


@dataclass(frozen=True)
class Comparison:
    """One row of docs/benchmarks.md.

    ``setup`` builds the data and returns a :class:`Case`; ``goal`` is the largest acceptable
    ratio ``time(linalgkit) / time(peer)`` (None when the row is informational).
    """

    family: str
    problem: str
    size: str
    peer: str
    setup: Callable[[], Case]
    goal: float | None = None


def measure(func, budget=2.0, calls=50):
    """Output of a first call of ``func`` and the best time over it and up to ``calls - 1`` more within ``budget`` s.

    A first call longer than ``budget`` is timed and not repeated: that spares a second run of a peer
    that takes minutes (its first call compiles nothing); for linalgkit it counts any compilation
    against it.  Calls of a few milliseconds are repeated up to ``calls`` times, so that their best
    time is not at the mercy of one slow memory pass on a shared machine.
    """
    start = time.perf_counter()
    result = func()
    first = time.perf_counter() - start
    if first > budget:
        return first, result
    return min(first, best_time(func, repeats=calls - 1, budget=budget, warmup=False)), result


def run(comparison):
    """Time linalgkit and the peer on the same data, alternating, and return a table row."""
    case = comparison.setup()
    ours, ours_out = measure(case.ours)
    peer, peer_out = measure(case.peer)
    ours = min(ours, measure(case.ours)[0])
    ratio = ours / peer
    met = "" if comparison.goal is None else ("yes" if ratio <= comparison.goal else "**no**")
    goal = "" if comparison.goal is None else f"<= {comparison.goal:.3g}"
    return [comparison.family, comparison.problem, comparison.size, comparison.peer, _ms(ours), _ms(peer),
            f"{ratio:.3g}", goal, met, case.accuracy(ours_out, peer_out)]


def _ms(seconds):
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def collect(only=None):
    """All ``COMPARISONS`` of the benchmark modules, optionally filtered by a substring."""
    found = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem.startswith("_") or path.stem == "compare":
            continue
        module = importlib.import_module(f"benchmarks.{path.stem}")
        found.extend(getattr(module, "COMPARISONS", []))
    if only:
        found = [c for c in found if only.lower() in f"{c.family} {c.problem} {c.size} {c.peer}".lower()]
    return found


def to_markdown(rows):
    """The benchmark page: machine description and one table row per comparison."""
    import numba
    import numpy
    import scipy

    header = ["family", "problem", "size", "peer", "linalgkit", "peer time", "ratio", "goal", "met", "accuracy"]
    lines = [
        "# Benchmarks: linalgkit side by side with its peers",
        "",
        "Written by `make compare` (`python benchmarks/compare.py`). Each row times linalgkit, the peer and",
        "linalgkit again in one process on the same data. A call shorter than 2 s is repeated up to 49 more",
        "times within 2 s, a longer one is timed once; the row reports each side's best time, so linalgkit's",
        "first call (which compiles or loads its kernels) counts only where it was its fastest.",
        "`ratio` is linalgkit time / peer time, so below 1 means linalgkit is faster.",
        "",
        f"Run on {datetime.date.today().isoformat()}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} logical CPUs, Python {platform.python_version()}, NumPy {numpy.__version__}, "
        f"SciPy {scipy.__version__}, Numba {numba.__version__} ({numba.get_num_threads()} threads).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run the comparisons and write the markdown page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only comparisons whose description contains this text")
    parser.add_argument("--output", default=str(HERE.parent / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    rows = []
    for comparison in collect(args.only):
        row = run(comparison)
        print(" | ".join(row), flush=True)
        rows.append(row)
    pathlib.Path(args.output).write_text(to_markdown(rows))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
