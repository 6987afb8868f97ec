"""The sampling family's row of ``python -m linalgkit tour``."""

import time

import numpy as np

from .._timing import TourRow, best_time
from ..datasets._sampling import make_l1_regression_problem
from ._estimators import LpRegression

__all__ = ["tour_row"]


def tour_row():
    """l_1 regression by Lewis-weight sampling against ``QuantileRegressor(quantile=0.5, alpha=0, solver="highs")``."""
    from sklearn.linear_model import QuantileRegressor

    n, d = 5000, 10
    problem = make_l1_regression_problem(n, d, random_state=0)
    X, y = problem.A, problem.b
    start = time.perf_counter()
    peer = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    peer_seconds = time.perf_counter() - start
    model = LpRegression(random_state=0)
    ours = best_time(lambda: model.fit(X, y), repeats=3)
    optimum = np.sum(np.abs(peer.predict(X) - y))
    ratio = np.sum(np.abs(model.predict(X) - y)) / optimum
    return TourRow("sampling", "l_1 regression, 2% outliers (Lewis coreset)", f"{n} x {d}",
                   f"objective {ratio:.4f} x OPT, m = {model.result_.m}", ours,
                   "QuantileRegressor (HiGHS)", peer_seconds / ours, "numpy (HiGHS)")
