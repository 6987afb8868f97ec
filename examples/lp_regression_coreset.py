"""
Robust regression on a coreset: sample size versus objective error per scoring method
=====================================================================================

Least absolute deviations (:math:`\\ell_1`) regression resists outliers, but its exact solution is
a linear program over all ``n`` rows.  :func:`linalgkit.sampling.lp_regression` solves it on a
weighted sample of ``m`` rows of :math:`[A\\ b]` instead.  How large must ``m`` be?  It depends
on the scores the rows are sampled by.  This script builds a large synthetic problem with 2%
gross outliers on a heavy-tailed design (a column carried by 5 huge rows, a Cauchy column), solves
it exactly with the HiGHS dual LP, then on samples of expected size ``m`` = 50 ... 3200 drawn by
Lewis weights, leverage scores, root leverage scores and uniformly, and draws the objective
error :math:`f(\\hat x)/\\mathrm{OPT} - 1` (median and worst of 5 seeds) against ``m``.  It saves
``lp_regression_coreset.png`` next to itself.
"""

import pathlib
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from linalgkit.datasets._sampling import make_l1_regression_problem  # noqa: E402
from linalgkit.sampling import lp_regression, sampling_scores, sensitivity_sample  # noqa: E402

N, D, SEEDS = 100_000, 10, 5
SIZES = [50, 100, 200, 400, 800, 1600, 3200]
SCORES = ["lewis", "leverage", "root_leverage", "uniform"]


def coreset_error(A, b, u, m, seed, optimum):
    """Solve on a sample of expected size m drawn by scores u; relative excess objective on all rows."""
    sample = sensitivity_sample(A, 1, m, scores=u, b=b, random_state=seed)
    x = lp_regression(sample.A, sample.b, 1, method="exact").x
    return np.sum(np.abs(A @ x - b)) / optimum - 1


def main():
    problem = make_l1_regression_problem(N, D, random_state=0)
    A, b = problem.A, problem.b
    start = time.perf_counter()
    exact = lp_regression(A, b, 1, method="exact")
    print(f"exact dual LP on {N} x {D}: {time.perf_counter() - start:.2f} s, OPT = {exact.objective:.6g}")
    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    Ab = np.column_stack([A, b])
    for scores in SCORES:
        u = sampling_scores(Ab, 1, scores=scores, random_state=0)  # scores of [A b], computed once
        errors = np.array([[coreset_error(A, b, u, m, seed, exact.objective) for seed in range(SEEDS)]
                           for m in SIZES])
        line, = axis.loglog(SIZES, np.median(errors, axis=1), marker="o", label=scores)
        axis.loglog(SIZES, errors.max(axis=1), linestyle=":", color=line.get_color())
        print(f"{scores:>14}: median error " + "  ".join(f"{e:.1e}" for e in np.median(errors, axis=1)))
    start = time.perf_counter()
    sampled = lp_regression(A, b, 1, random_state=0)
    print(f"default sample (m = {sampled.m}): {time.perf_counter() - start:.2f} s, "
          f"objective {sampled.objective / exact.objective:.4f} x OPT, certified <= "
          f"{sampled.objective / sampled.lower_bound:.3f} x OPT")
    axis.axhline(0.01, color="grey", linewidth=0.8)
    axis.set_xlabel("expected sample size m")
    axis.set_ylabel("objective / OPT - 1 (solid: median, dotted: worst of 5)")
    axis.set_title(f"l_1 regression, {N} x {D}, 2% outliers")
    axis.legend()
    figure.tight_layout()
    here = globals().get("__file__")  # not defined when sphinx-gallery runs the script
    out = pathlib.Path(here).with_suffix(".png") if here else pathlib.Path("lp_regression_coreset.png")
    figure.savefig(out, dpi=110)
    print(f"saved {out}")


main()
