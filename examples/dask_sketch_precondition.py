"""
Sketch-and-precondition least squares on a chunked tall matrix with Dask
========================================================================

A tall ``A`` (``ROWS x COLUMNS``) is generated chunk by chunk from seeds on the workers of a
``LocalCluster`` (it never exists on the client), persisted there with a progress display
(``distributed.progress``), and solved to full accuracy by
:func:`linalgkit.dask.lstsq_precondition`: one sparse-sign sketch pass over ``[A b]``, the
factorization of the small sketch on the client, then the Cholesky-QR solve and its refinement,
each one pass over the chunks.  The answer is compared with the planted solution, and the script
saves ``dask_sketch_precondition.png``: the distance of each LSQR iterate (``method="lsqr"`` on the
same chunks, two passes per iteration) to the Cholesky-QR answer.

``ROWS = 400_000`` runs in well under a minute on a laptop; ``FULL_ROWS = 10**7`` is the size of
the issue (4 GB of float64 at 50 columns), for four workers of 2 GB each, or pass
``persist=False`` to regenerate the chunks at every pass when the workers hold less than ``A``.
"""

import pathlib

import matplotlib

matplotlib.use("Agg")
import dask.array as da  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from distributed import Client, LocalCluster, progress  # noqa: E402

import linalgkit.dask as ld  # noqa: E402

ROWS, COLUMNS, CHUNK_ROWS = 400_000, 50, 50_000
FULL_ROWS = 10**7  # the 10^7 x 50 matrix: set ROWS = FULL_ROWS on a machine with the memory


def tall_problem(rows, columns, chunk_rows):
    """``A`` with condition number about 1e4 and ``b = A x + noise``, every chunk drawn from its own seed."""
    scales = np.logspace(0, 4, columns)
    A = da.random.default_rng(0).standard_normal((rows, columns), chunks=(chunk_rows, columns)) * scales
    x = np.linspace(-1, 1, columns) / scales
    b = A @ x + 1e-3 * da.random.default_rng(1).standard_normal(rows, chunks=chunk_rows)
    return A, b, x


def main():
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GB", dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        A, b, x = tall_problem(ROWS, COLUMNS, CHUNK_ROWS)
        A, b = client.persist([A, b])
        progress(A, b)  # a text bar in a terminal, a widget in a notebook
        print()
        result = ld.lstsq_precondition(A, b, random_state=0)
        print(f"{ROWS} x {COLUMNS}: method={result.method}, m={result.m}, iterations={result.iterations}, "
              f"converged={result.converged}, cond(SA)={result.cond:.3g}")
        print(f"relative distance to the planted solution: {np.linalg.norm(result.x - x) / np.linalg.norm(x):.2e} "
              f"(noise of sd 1e-3 in b)")
        errors = []  # LSQR on the same chunks, its iterates measured against the Cholesky-QR answer
        ld.lstsq_precondition(A, b, method="lsqr", random_state=0, callback=lambda xk: errors.append(
            np.linalg.norm(xk - result.x) / np.linalg.norm(result.x)))
    figure, axes = plt.subplots(figsize=(5, 3.5))
    axes.semilogy(range(1, len(errors) + 1), errors, "o-")
    axes.set_xlabel("LSQR iteration (two passes over the chunks each)")
    axes.set_ylabel(r"$\|x_k - x_{\mathrm{cholqr}}\| / \|x_{\mathrm{cholqr}}\|$")
    axes.set_title(f"linalgkit.dask.lstsq_precondition, {ROWS} x {COLUMNS}")
    figure.tight_layout()
    figure.savefig(pathlib.Path(__file__).with_suffix(".png") if "__file__" in globals() else
                   "dask_sketch_precondition.png")


if __name__ == "__main__":
    main()
