"""asv benchmarks and peer comparisons of linalgkit.krylov (Krylov recycling for sequences of systems).

``python -m benchmarks.krylov [darcy|shifted|family]`` prints the four arms of the issue --
GMRES(40), GMRES-DR(40, 20), recycled unsorted, recycled sorted -- with SciPy ``gmres(restart=40)``
and ``gcrotmk(m=20, k=20)`` (its ``CU`` list passed across calls), in products with ``A`` and
seconds: the numbers of docs/krylov.rst.
"""

import functools
import sys
import time
import warnings

import numpy as np
import scipy.sparse.linalg as sla

from linalgkit.datasets._krylov import make_darcy_family, make_darcy_sequence, make_shifted_laplacian
from linalgkit.krylov import gcrodr, gmres, solve_sequence

from .compare import Case, Comparison

RTOL = 1e-8
ARMS = ["gmres", "gmres_dr", "recycled_unsorted", "recycled_sorted"]


@functools.lru_cache(maxsize=4)
def darcy(n=64, n_systems=30):
    """Independent GRF permeabilities (a neural-operator training set), shuffled by construction."""
    return make_darcy_sequence(n, n_systems, random_state=0)


@functools.lru_cache(maxsize=4)
def shifted(n=96, n_systems=20):
    """Helmholtz operators -Delta - k^2 with k^2 = 0 .. 50 (indefinite above 2 pi^2), in shuffled order."""
    shifts = np.random.default_rng(0).permutation(np.linspace(0.0, 50.0, n_systems))
    return make_shifted_laplacian(n, -shifts)


@functools.lru_cache(maxsize=4)
def family(n=32, n_systems=50):
    thetas = 2 * np.pi * np.arange(n_systems) / n_systems
    return make_darcy_family(n, thetas[np.random.default_rng(0).permutation(n_systems)], random_state=0)


def run_arm(arm, systems, maxiter=None):
    """Total products with A of one arm over the sequence, and the largest relative residual."""
    if arm == "gmres":
        results = [gmres(A, b, rtol=RTOL, restart=40, maxiter=maxiter) for A, b in systems]
    elif arm == "gmres_dr":
        results = [gcrodr(A, b, rtol=RTOL, maxiter=maxiter) for A, b in systems]
    else:
        order = "sorted" if arm == "recycled_sorted" else "given"
        out = solve_sequence(systems, order=order, rtol=RTOL, maxiter=maxiter)
        return out.total_matvecs, float(max(out.residual_norms[i] / np.linalg.norm(b)
                                            for i, (_, b) in enumerate(systems)))
    worst = max(r.residual_norm / np.linalg.norm(b) for r, (_, b) in zip(results, systems))
    return sum(r.matvecs for r in results), float(worst)


class _Counting(sla.LinearOperator):
    def __init__(self, A):
        super().__init__(A.dtype, A.shape)
        self.A, self.count = A, 0

    def _matvec(self, v):
        self.count += 1
        return self.A @ v


def scipy_gmres(systems, maxiter=10**5):
    """SciPy gmres(restart=40) on each system; products with A."""
    total = 0
    for A, b in systems:
        op = _Counting(A)
        sla.gmres(op, b, rtol=RTOL, restart=40, maxiter=maxiter)
        total += op.count
    return total


def scipy_gcrotmk(systems, order):
    """SciPy gcrotmk(m=20, k=20) in ``order`` with its CU list carried (discard_C: the operator changes)."""
    CU, total = [], 0
    for i in order:
        A, b = systems[i]
        op = _Counting(A)
        sla.gcrotmk(op, b, rtol=RTOL, m=20, k=20, CU=CU, discard_C=True, maxiter=10**4)
        total += op.count
    return total


# ---------------------------------------------------------------- asv


class TimeSequence:
    """The four arms on 30 Darcy 64^2 systems (rtol 1e-8)."""

    params = [ARMS]
    param_names = ["arm"]
    timeout = 600

    def setup(self, arm):
        self.systems = darcy()

    def time_arm(self, arm):
        run_arm(arm, self.systems)

    def track_matvecs(self, arm):
        return run_arm(arm, self.systems)[0]

    track_matvecs.unit = "products with A"


class TimeSingleSolve:
    """One Darcy 64^2 system: our GMRES(40) and GCRO-DR(40, 20) (the per-iteration cost of the engine)."""

    timeout = 300

    def setup(self):
        self.A, self.b = darcy()[0]

    def time_gmres(self):
        gmres(self.A, self.b, rtol=RTOL, restart=40)

    def time_gcrodr(self):
        gcrodr(self.A, self.b, rtol=RTOL)


# ---------------------------------------------------------------- side-by-side comparisons


def _sorted_recycling(systems, m=None):
    return lambda: solve_sequence(systems, rtol=RTOL, m=m)


def _accuracy(systems):
    def accuracy(ours, peer):
        worst = max(ours.residual_norms[i] / np.linalg.norm(b) for i, (_, b) in enumerate(systems))
        return f"max rel. residual {worst:.1e} (rtol 1e-8); {ours.total_matvecs} products with A"

    return accuracy


def _gmres_case(systems):
    def peer():
        for A, b in systems:
            sla.gmres(A, b, rtol=RTOL, restart=40, maxiter=10**5)

    return Case(_sorted_recycling(systems), peer, _accuracy(systems))


def _gcrotmk_case(systems, m=20, k=20, cycle=None):
    """Sorted recycling (GCRO-DR(cycle, 20), default cycle 40) against gcrotmk(m, k) with CU on the same order."""
    order = solve_sequence(systems, rtol=RTOL).order

    def peer():
        CU = []
        for i in order:
            A, b = systems[i]
            sla.gcrotmk(A, b, rtol=RTOL, m=m, k=k, CU=CU, discard_C=True, maxiter=10**4)

    return Case(_sorted_recycling(systems, cycle), peer, _accuracy(systems))


COMPARISONS = [
    Comparison("krylov", "30 Darcy systems, sorted recycling (GCRO-DR 40/20), rtol 1e-8", "64^2 cells",
               "scipy gmres(restart=40)", lambda: _gmres_case(darcy()), goal=0.3),
    Comparison("krylov", "30 Darcy systems, sorted recycling (GCRO-DR 40/20), rtol 1e-8", "64^2 cells",
               "scipy gcrotmk(m=20, k=20), CU recycled, same order", lambda: _gcrotmk_case(darcy()), goal=0.7),
    # Both sides with longer cycles (fewer products for each on this sequence): informational.
    Comparison("krylov", "30 Darcy systems, sorted recycling (GCRO-DR 60/20), rtol 1e-8", "64^2 cells",
               "scipy gcrotmk(m=40, k=40), CU recycled, same order",
               lambda: _gcrotmk_case(darcy(), m=40, k=40, cycle=60)),
    # The size: SciPy gmres takes minutes here, and compare.py times a first call over its
    # budget once.
    Comparison("krylov", "20 Helmholtz -Delta - k^2, k^2 = 0..50, sorted recycling, rtol 1e-8", "96^2 cells",
               "scipy gmres(restart=40)", lambda: _gmres_case(shifted(96)), goal=0.1),
]


def _table(name, systems, scipy_peers=True):
    print(f"\n{name}: {len(systems)} systems of size {systems[0][0].shape[0]}, rtol {RTOL:g}")
    print(f"{'arm':36s} {'products with A':>16s} {'seconds':>9s} {'max rel. res.':>14s}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for arm in ARMS:
            start = time.perf_counter()
            count, worst = run_arm(arm, systems)
            print(f"{arm:36s} {count:16d} {time.perf_counter() - start:9.2f} {worst:14.1e}")
        if scipy_peers:
            start = time.perf_counter()
            count = scipy_gmres(systems)
            print(f"{'scipy gmres(restart=40)':36s} {count:16d} {time.perf_counter() - start:9.2f}")
            order = solve_sequence(systems, rtol=RTOL).order
            start = time.perf_counter()
            count = scipy_gcrotmk(systems, order)
            print(f"{'scipy gcrotmk(20, 20), CU, sorted':36s} {count:16d} {time.perf_counter() - start:9.2f}")


if __name__ == "__main__":
    which = sys.argv[1:] or ["family", "darcy", "shifted"]
    if "family" in which:
        _table("smooth Darcy family K_theta, 50 shuffled angles, 32^2", family())
    if "darcy" in which:
        _table("Darcy, independent GRF permeabilities, 64^2", darcy())
    if "shifted" in which:
        _table("Helmholtz -Delta - k^2, k^2 = 0..50 shuffled, 48^2", shifted(48))
    if "shifted96" in which:
        _table("Helmholtz -Delta - k^2, k^2 = 0..50 shuffled, 96^2", shifted(96))
