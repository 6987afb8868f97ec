"""Tour row of the spd family: affine-invariant distances on a batch."""

import numpy as np
import scipy.linalg

from .._timing import TourRow, best_time

__all__ = ["tour_row"]


def tour_row():
    """AI distances between 2,000 pairs of 22 x 22 SPD matrices.

    Accuracy is against the dense eigh-based reference :math:`\\|\\log(B^{-1/2} A B^{-1/2})\\|_F`
    in float64; the baseline is the loop a NumPy user writes, ``scipy.linalg.eigvalsh(a, b)`` per pair.
    """
    from ..datasets._spd import make_spd_matrices
    from .metrics import distance

    A = make_spd_matrices(2000, 22, cond=100, random_state=0)
    B = make_spd_matrices(2000, 22, cond=100, random_state=1)
    d, Q = np.linalg.eigh(B)
    inv_sqrt = (Q / np.sqrt(d)[:, None, :]) @ np.swapaxes(Q, -1, -2)
    reference = np.sqrt(np.sum(np.log(np.linalg.eigvalsh(inv_sqrt @ A @ inv_sqrt)) ** 2, axis=-1))
    error = np.max(np.abs(distance(A, B) - reference) / reference)

    def loop():
        return [np.sqrt(np.sum(np.log(scipy.linalg.eigvalsh(a, b)) ** 2)) for a, b in zip(A, B)]

    ours = best_time(lambda: distance(A, B), repeats=5)
    baseline = best_time(loop, repeats=2)
    return TourRow("spd", "affine-invariant distances", "2000 pairs of 22 x 22", f"max rel. err {error:.1e}",
                   ours, "loop of scipy.linalg.eigvalsh(a, b)", baseline / ours, "numpy (Numba)")
