"""The regression family's row of ``python -m linalgkit tour``."""

import numpy as np
import scipy.linalg

from .._timing import TourRow, best_time
from ..datasets._regression import make_lstsq_problem
from .precondition import lstsq_precondition


def tour_row():
    """Sketch-preconditioned least squares (the default: Cholesky QR on dense A) against LAPACK ``gelsd`` on a tall, ill-conditioned problem."""
    n, d = 2**15, 100
    problem = make_lstsq_problem(n, d, cond=1e6, residual_norm=1e-3, random_state=0)
    result = lstsq_precondition(problem.A, problem.b, random_state=0)
    error = np.linalg.norm(result.x - problem.x) / np.linalg.norm(problem.x)
    ours = best_time(lambda: lstsq_precondition(problem.A, problem.b, random_state=0), repeats=3)
    lapack = best_time(lambda: scipy.linalg.lstsq(problem.A, problem.b), repeats=3)
    return TourRow("regression", "least squares, cond 1e6 (sketch + Cholesky QR)", f"{n} x {d}",
                   f"rel. err {error:.1e} vs x*", ours, "scipy.linalg.lstsq (gelsd)", lapack / ours, "numpy (Numba)")
