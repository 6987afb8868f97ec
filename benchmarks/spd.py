"""asv benchmarks, peer comparisons (against pyRiemann 0.12 and POT) and ablations of linalgkit.spd."""

import os
import subprocess
import sys

import numpy as np

from linalgkit import spd
from linalgkit.datasets._spd import make_spd_matrices

from .compare import Case, Comparison


def _pair(n_pairs, n, seed=0):
    return make_spd_matrices(n_pairs, n, random_state=seed), make_spd_matrices(n_pairs, n, random_state=seed + 1)


class TimeDistance:
    """Batched distances between pairs of n x n SPD matrices."""

    params = [["affine_invariant", "log_euclidean", "bures_wasserstein"], [3, 22, 64]]
    param_names = ["metric", "n"]

    def setup(self, metric, n):
        self.A, self.B = _pair(10_000 if n < 64 else 2_000, n)
        spd.distance(self.A[:2], self.B[:2], metric=metric)

    def time_distance(self, metric, n):
        spd.distance(self.A, self.B, metric=metric)


class TimePairwise:
    params = [["affine_invariant", "log_euclidean"]]
    param_names = ["metric"]

    def setup(self, metric):
        self.X = make_spd_matrices(500, 22, random_state=0)
        spd.pairwise_distances(self.X[:3], metric=metric)

    def time_pairwise(self, metric):
        spd.pairwise_distances(self.X, metric=metric)


class TimeMean:
    params = [["affine_invariant", "log_euclidean", "bures_wasserstein"]]
    param_names = ["metric"]

    def setup(self, metric):
        self.X = make_spd_matrices(1000, 22, random_state=0)

    def time_mean(self, metric):
        spd.mean(self.X, metric=metric, rtol=1e-8)


class TimeSliced:
    params = [[1_000, 10_000]]
    param_names = ["n_samples"]

    def setup(self, n_samples):
        self.X, self.Y = _pair(n_samples, 22)

    def time_spdsw(self, n_samples):
        spd.sliced_wasserstein(self.X, self.Y, n_projections=200, random_state=0)


class TrackAccuracy:
    """AI distance against the eigh-based reference ||log(B^-1/2 A B^-1/2)||_F (float64, n = 22)."""

    def setup(self):
        self.A, self.B = _pair(200, 22)

    def track_ai_relative_error(self):
        d, Q = np.linalg.eigh(self.B)
        inv_sqrt = (Q / np.sqrt(d)[:, None, :]) @ np.swapaxes(Q, -1, -2)
        reference = np.sqrt(np.sum(np.log(np.linalg.eigvalsh(inv_sqrt @ self.A @ inv_sqrt)) ** 2, axis=-1))
        return float(np.max(np.abs(spd.distance(self.A, self.B) - reference) / reference))

    track_ai_relative_error.unit = "relative error"


def _rel(ours, peer):
    ours, peer = np.asarray(ours, dtype=float).ravel(), np.asarray(peer, dtype=float).ravel()
    return f"max diff / max {np.max(np.abs(ours - peer)) / np.max(np.abs(peer)):.1e}"


def _matrix_rel(ours, peer):
    return f"rel. diff {np.linalg.norm(np.asarray(ours) - peer) / np.linalg.norm(peer):.1e}"


def _distance_case(metric, peer_name, n):
    def setup():
        import pyriemann.geometry.distance as prd

        A, B = _pair(10_000 if n == 22 else 2_000, n)
        peer = getattr(prd, peer_name)
        return Case(lambda: spd.distance(A, B, metric=metric), lambda: peer(A, B), _rel)

    return setup


def _pairwise_case():
    import pyriemann.geometry.distance as prd

    X = make_spd_matrices(500, 22, random_state=0)
    return Case(lambda: spd.pairwise_distances(X), lambda: prd.pairwise_distance(X, metric="riemann"), _rel)


def _mean_case():
    import pyriemann.geometry.mean as prm

    X = make_spd_matrices(1000, 22, random_state=0)
    return Case(lambda: spd.mean(X, rtol=1e-8), lambda: prm.mean_riemann(X, tol=1e-8), _matrix_rel)


def _spdsw_case():
    import ot

    X, Y = _pair(10_000, 22)

    def pot_on_our_projections():  # what a user writes: pyRiemann logm, weighted vech, POT on our directions
        from pyriemann.utils.base import logm

        rows, cols = np.triu_indices(22)
        weights = np.where(rows == cols, 1.0, np.sqrt(2.0))
        theta, P = spd.draw_directions(22, 200, random_state=0)
        A = (((P * theta[:, None, :]) @ np.swapaxes(P, -1, -2))[:, rows, cols] * weights).T
        fx, fy = (logm(Z)[:, rows, cols] * weights for Z in (X, Y))
        return ot.sliced_wasserstein_distance(fx, fy, projections=A)

    return Case(lambda: spd.sliced_wasserstein(X, Y, n_projections=200, random_state=0), pot_on_our_projections,
                _rel)


COMPARISONS = [
    *[Comparison("spd", f"{label} distance, 10,000 pairs", "22 x 22", f"pyRiemann {peer}",
                 _distance_case(metric, peer, 22), goal=1 / 3)
      for metric, peer, label in (("affine_invariant", "distance_riemann", "AI"),
                                  ("log_euclidean", "distance_logeuclid", "LE"),
                                  ("bures_wasserstein", "distance_wasserstein", "BW"))],
    *[Comparison("spd", f"{label} distance, 2,000 pairs", "64 x 64", f"pyRiemann {peer}",
                 _distance_case(metric, peer, 64), goal=1 / 3)
      for metric, peer, label in (("affine_invariant", "distance_riemann", "AI"),
                                  ("log_euclidean", "distance_logeuclid", "LE"),
                                  ("bures_wasserstein", "distance_wasserstein", "BW"))],
    Comparison("spd", "AI pairwise distances", "500 x 500 of 22 x 22", "pyRiemann pairwise_distance",
               _pairwise_case, goal=1 / 10),
    Comparison("spd", "AI Karcher mean (tol 1e-8)", "1000 of 22 x 22", "pyRiemann mean_riemann", _mean_case,
               goal=1 / 3),
    Comparison("spd", "SPDSW (L = 200, 10k vs 10k)", "22 x 22", "pyRiemann logm + POT sliced_wasserstein_distance",
               _spdsw_case),
]


_PAIRWISE_TIMING = """
from linalgkit import spd
from linalgkit.datasets._spd import make_spd_matrices
from benchmarks.ablations import _best
X = make_spd_matrices(500, 22, random_state=0)
print(_best(lambda: spd.pairwise_distances(X), repeat=3))
"""


def ablation_lane_width():
    """AI pairwise distances, 500 x 500 of 22 x 22, with 16 and with 8 SIMD lanes (``linalgkit._simd.WIDTH``).

    Each width runs twice, alternating, in its own interpreter with ``LINALGKIT_LANE_WIDTH`` set (kernels
    compiled uncached, compile time untimed; best of each); the default is 16 on AVX-512 CPUs and 8 otherwise.
    """
    from linalgkit._simd import WIDTH
    from linalgkit._simd._checks import WIDTH_VARIABLE

    from .ablations import _report

    times = {16: np.inf, 8: np.inf}
    for width in (16, 8, 16, 8):  # alternating, the best of each
        env = dict(os.environ, **{WIDTH_VARIABLE: str(width)})
        run = subprocess.run([sys.executable, "-c", _PAIRWISE_TIMING], env=env, capture_output=True, text=True,
                             check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        times[width] = min(times[width], float(run.stdout.split()[-1]))
    _report(f"lane_width AI pairwise 500 x 500, 22 x 22 (default here: {WIDTH})", times[16], times[8],
            ("16 lanes", "8 lanes"))
