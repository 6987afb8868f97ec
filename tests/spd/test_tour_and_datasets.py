"""The spd tour row and the simulated covariance generator."""

import numpy as np
import pytest

from linalgkit._tour import TourRow
from linalgkit.datasets._spd import make_spd_classification, make_spd_matrices
from linalgkit.exceptions import ValidationError
from linalgkit.spd._tour import tour_row


def test_tour_row_is_accurate():
    row = tour_row()
    assert isinstance(row, TourRow) and row.family == "spd" and row.seconds > 0 and row.speedup > 0
    assert float(row.accuracy.split()[-1]) < 1e-12


def test_generators_give_spd_matrices_with_the_requested_condition():
    X = make_spd_matrices(50, 5, cond=30, random_state=0)
    w = np.linalg.eigvalsh(X)
    assert np.all(w[:, 0] >= 1 - 1e-12) and np.all(w[:, -1] <= 30 + 1e-10)
    C, y = make_spd_classification(40, 6, random_state=0)
    assert C.shape == (40, 6, 6) and np.all(np.linalg.eigvalsh(C)[:, 0] > 0) and np.bincount(y).tolist() == [20, 20]
    np.testing.assert_array_equal(C, make_spd_classification(40, 6, random_state=0)[0])


def test_session_shift_is_a_congruence_of_the_same_trials():
    X, _ = make_spd_classification(30, 4, random_state=3)
    S, _ = make_spd_classification(30, 4, session_shift=0.5, random_state=3)
    ratio = np.linalg.det(S) / np.linalg.det(X)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)  # det(G X G^T) / det(X) = det(G)^2 for every trial
    assert not np.allclose(ratio[0], 1.0)
    from linalgkit import spd

    np.testing.assert_allclose(spd.pairwise_distances(S), spd.pairwise_distances(X), rtol=1e-9, atol=1e-12)


def test_generator_bad_arguments():
    with pytest.raises(ValidationError, match="n_times"):
        make_spd_classification(10, 8, n_times=4)
    with pytest.raises(ValidationError, match="cond"):
        make_spd_matrices(3, 2, cond=0.5)
