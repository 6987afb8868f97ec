"""The Krylov family's row of ``python -m linalgkit tour``."""

import numpy as np
import scipy.sparse.linalg as sla

from .._timing import TourRow, best_time
from ..datasets._krylov import make_shifted_laplacian
from .sequence import solve_sequence


def tour_row():
    """Ten shuffled Helmholtz operators on 32^2 cells: sorted recycling against SciPy gmres(restart=40)."""
    shifts = np.random.default_rng(0).permutation(np.linspace(0.0, 50.0, 10))
    sequence = make_shifted_laplacian(32, -shifts)
    result = solve_sequence(sequence, rtol=1e-8)
    error = max(np.linalg.norm(x - sla.spsolve(A.tocsc(), b)) / np.linalg.norm(sla.spsolve(A.tocsc(), b))
                for x, (A, b) in zip(result.x, sequence))

    def scipy_gmres():
        for A, b in sequence:
            sla.gmres(A, b, rtol=1e-8, restart=40, maxiter=10**4)

    ours = best_time(lambda: solve_sequence(sequence, rtol=1e-8), repeats=3)
    peer = best_time(scipy_gmres, repeats=2)
    return TourRow("krylov", "10 Helmholtz systems, sorted GCRO-DR recycling", "32^2 cells",
                   f"max rel. err {error:.1e} vs spsolve", ours, "scipy gmres(restart=40)", peer / ours, "numpy")
