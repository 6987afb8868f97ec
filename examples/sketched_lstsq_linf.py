"""
Coordinate-wise error of sketched least squares versus sketch size
===================================================================

Sketch-and-solve replaces :math:`\\min \\|Ax - b\\|` by :math:`\\min \\|S(Ax - b)\\|` with an
``m x n`` sketch ``S``.  Its coordinate-wise (l_inf) guarantee reads

.. math:: R = \\sqrt{d}\\,\\|x' - x^*\\|_\\infty / (\\|r\\|\\,\\|A^+\\|) \\le \\varepsilon,

and theory and experiment say :math:`R \\approx \\sqrt{d/m}`.  This script measures the median R over
seeds for every sketch kind on a problem with a known solution, at m = 2d ... 32d, and draws it
against :math:`\\sqrt{d/m}` and the rigorous Gaussian bound of
:func:`linalgkit.regression.sketch_size` (delta = 0.01).  It saves ``sketched_lstsq_linf.png``
next to itself.
"""

import math
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from linalgkit.datasets._regression import make_lstsq_problem  # noqa: E402
from linalgkit.regression import lstsq_sketched  # noqa: E402

N, D, SEEDS, DELTA = 2**12, 32, 4, 0.01
KINDS = ["gaussian", "rademacher", "srht", "srtt", "pooled", "sparse_sign", "countsketch"]
FACTORS = [2, 4, 8, 16, 32]


def statistic(problem, x):
    return math.sqrt(D) * np.abs(x - problem.x).max() / (np.linalg.norm(problem.residual) * problem.pinv_norm)


def gaussian_bound(m):
    smallest = 1 - math.sqrt(D / m) - math.sqrt(2 * math.log(2 / DELTA) / m)
    return math.sqrt(2 * D * math.log(4 * D / DELTA) / m) / smallest if smallest > 0 else math.nan


def main():
    problems = [make_lstsq_problem(N, D, cond=1e3, random_state=s) for s in range(SEEDS)]
    sizes = [f * D for f in FACTORS]
    figure, axis = plt.subplots(figsize=(6.5, 4.5))
    for kind in KINDS:
        medians = [np.median([statistic(p, lstsq_sketched(p.A, p.b, sketch=kind, m=m, random_state=s).x)
                              for s, p in enumerate(problems)]) for m in sizes]
        axis.loglog(sizes, medians, "o-", label=kind)
        print(f"{kind:12s}" + "".join(f"  m={m}: R={r:.3f}" for m, r in zip(sizes, medians)))
    axis.loglog(sizes, [math.sqrt(D / m) for m in sizes], "k--", label=r"$\sqrt{d/m}$")
    axis.loglog(sizes, [gaussian_bound(m) for m in sizes], "k:", label=r"Gaussian bound ($\delta = 0.01$)")
    axis.set_xlabel("sketch size m")
    axis.set_ylabel(r"median $R = \sqrt{d}\,\|x'-x^*\|_\infty / (\|r\|\,\|A^+\|)$")
    axis.set_title(f"Sketch-and-solve, n = {N}, d = {D}, cond 1e3, {SEEDS} seeds")
    axis.legend(fontsize=8)
    figure.tight_layout()
    path = pathlib.Path(__file__).with_suffix(".png") if "__file__" in globals() else pathlib.Path("sketched_lstsq_linf.png")
    figure.savefig(path, dpi=120)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
