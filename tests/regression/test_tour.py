"""The tour row runs and reports an accurate answer."""

import pytest

from linalgkit._tour import TourRow
from linalgkit.regression._tour import tour_row


@pytest.mark.slow
def test_tour_row():
    row = tour_row()
    assert isinstance(row, TourRow) and row.family == "regression"
    assert float(row.accuracy.split()[2]) <= 1e-6
    assert row.seconds > 0 and row.speedup > 0
