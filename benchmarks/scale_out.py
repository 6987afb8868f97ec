"""asv benchmarks of linalgkit.dask, and a script measuring throughput on a LocalCluster.

The asv rows run on the synchronous scheduler (the layer's overhead over the in-memory functions
on one process).  The script::

    python -m benchmarks.scale_out [--rows N] [--cols D] [--chunk ROWS] [--memory-limit 1GB] [--workers 1 2]

builds a tall ``A`` chunk by chunk from seeds on the workers, and reports, for each cluster size,
GB/s of ``A`` per pass for the two kinds of pass (the sketch of ``[A b]`` and a product ``A @ v``)
and the wall time of :func:`linalgkit.dask.lstsq_precondition`, next to the in-memory function on
the same matrix when it fits in memory (``--rows`` times ``--cols`` times 8 bytes).  With
``--no-persist`` ``A`` is regenerated at every pass instead of held by the workers, the mode for an
``A`` larger than the workers' combined ``--memory-limit`` (``LARGE`` is the 4 GB case of issue 15).
"""

import argparse
import time

import dask
import dask.array as da
import numpy as np

import linalgkit.dask as ld
from linalgkit.regression import lstsq_precondition

LARGE = {"rows": 10_000_000, "cols": 50, "chunk": 250_000, "memory_limit": "1GB", "persist": False}
"""The issue's size: 4 GB of float64 made from seeds, workers limited to 1 GB each (not run by default)."""


def tall_problem(rows, cols, chunk):
    """A lazy ``rows x cols`` Gaussian ``A`` with a planted solution, every chunk generated from its seed."""
    A = da.random.default_rng(0).standard_normal((rows, cols), chunks=(chunk, cols))
    b = A @ np.linspace(-1, 1, cols) + 0.01 * da.random.default_rng(1).standard_normal(rows, chunks=chunk)
    return A, b


class TimeDaskSketch:
    """One sketch pass over a chunked 2^17 x 50 matrix (synchronous scheduler) and the in-memory operator."""

    params = [["sparse_sign", "gaussian", "srht"]]
    param_names = ["kind"]

    def setup(self, kind):
        self.local = np.random.default_rng(0).standard_normal((2**17, 50))
        self.A = da.from_array(self.local, chunks=(2**15, 50))
        with dask.config.set(scheduler="synchronous"):
            ld.sketch(self.A[:2**10], 200, kind=kind, random_state=0).compute()  # compile kernels

    def time_dask_sketch(self, kind):
        with dask.config.set(scheduler="synchronous"):
            ld.sketch(self.A, 200, kind=kind, random_state=0).compute()


class TimeDaskPrecondition:
    """lstsq_precondition on a chunked 2^17 x 50 problem, synchronous scheduler, against the in-memory function."""

    params = [["cholqr", "lsqr"]]
    param_names = ["method"]

    def setup(self, method):
        rng = np.random.default_rng(0)
        self.A_local = rng.standard_normal((2**17, 50))
        self.b_local = self.A_local @ np.ones(50) + rng.standard_normal(2**17)
        self.A, self.b = da.from_array(self.A_local, chunks=(2**15, 50)), da.from_array(self.b_local, chunks=2**15)

    def time_dask(self, method):
        with dask.config.set(scheduler="synchronous"):
            ld.lstsq_precondition(self.A, self.b, method=method, random_state=0)

    def time_in_memory(self, method):
        lstsq_precondition(self.A_local, self.b_local, method=method, random_state=0)


def _best(run, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(rows, cols, chunk, workers, memory_limit, persist, repeat=3):
    """One row of the scaling table: GB/s per pass and the solve's wall time on ``workers`` processes."""
    from distributed import Client, LocalCluster

    gigabytes = rows * cols * 8 / 1e9
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                      dashboard_address=":0", silence_logs=40) as cluster, Client(cluster):
        A, b = tall_problem(rows, cols, chunk)
        if persist:
            A, b = A.persist(), b.persist()
        v = np.ones(cols)
        ld.sketch(A, 4 * cols, random_state=0).compute()  # warm the workers (kernels)
        sketch_s = _best(lambda: ld.sketch(A, 4 * cols, random_state=0).compute(), repeat)
        product_s = _best(lambda: (A @ v).compute(), repeat)
        start = time.perf_counter()
        result = ld.lstsq_precondition(A, b, random_state=0, persist=persist)
        solve_s = time.perf_counter() - start
    return {"workers": workers, "GB": gigabytes, "sketch GB/s": gigabytes / sketch_s,
            "A@v GB/s": gigabytes / product_s, "solve s": solve_s, "iterations": result.iterations,
            "converged": result.converged}


def measure_in_memory(rows, cols, chunk, repeat=3):
    """The in-memory function on the same matrix (when it fits): GB/s of its sketch and of ``A @ v``."""
    from linalgkit.sketch import make_sketch

    with dask.config.set(scheduler="threads"):
        A, b = (np.asarray(x) for x in dask.compute(*tall_problem(rows, cols, chunk)))
    gigabytes = A.nbytes / 1e9
    S = make_sketch("sparse_sign", 4 * cols, rows, random_state=0)
    sketch_s = _best(lambda: S.apply_pair(A, b), repeat)
    product_s = _best(lambda: A @ np.ones(cols), repeat)
    start = time.perf_counter()
    result = lstsq_precondition(A, b, random_state=0)
    return {"workers": "in memory", "GB": gigabytes, "sketch GB/s": gigabytes / sketch_s,
            "A@v GB/s": gigabytes / product_s, "solve s": time.perf_counter() - start,
            "iterations": result.iterations, "converged": result.converged}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2**19)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=2**16)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-persist", action="store_true")
    parser.add_argument("--no-in-memory", action="store_true")
    options = parser.parse_args(argv)
    rows = [] if options.no_in_memory else [measure_in_memory(options.rows, options.cols, options.chunk)]
    rows += [measure(options.rows, options.cols, options.chunk, w, options.memory_limit, not options.no_persist)
             for w in options.workers]
    print("| workers | GB of A | sketch pass GB/s | A @ v pass GB/s | lstsq_precondition s | iterations |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['workers']} | {row['GB']:.2f} | {row['sketch GB/s']:.2f} | {row['A@v GB/s']:.2f} | "
              f"{row['solve s']:.2f} | {row['iterations']} ({'converged' if row['converged'] else 'NOT converged'}) |")


if __name__ == "__main__":
    main()
