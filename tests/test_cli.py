"""``python -m linalgkit info`` and ``tour``."""

import subprocess
import sys

import pytest

from linalgkit import _tour
from linalgkit.__main__ import main


def test_info_reports_versions_threads_gpu_and_capabilities(capsys):
    main(["info"])
    text = capsys.readouterr().out
    for expected in ("numpy", "numba       enabled", "gpu ", "dask ", "linalgkit.transforms.fwht"):
        assert expected in text


def test_tour_prints_one_row_per_family_with_accuracy(capsys):
    main(["tour"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["family", "problem"]
    row = next(line for line in lines if line.startswith("transforms"))
    error = float(row.split("rel. err")[1].split()[0])
    assert error < 1e-13


def test_tour_discovers_every_family_tour_module():
    names = [module.__name__ for module in _tour.tour_modules()]
    assert {"linalgkit.transforms._tour", "linalgkit.regression._tour", "linalgkit.spd._tour"} <= set(names)
    for module in _tour.tour_modules():
        assert callable(getattr(module, "tour_rows", None)) or callable(getattr(module, "tour_row", None)), module


def test_tour_prints_the_rows_a_discovered_module_returns(monkeypatch, capsys):
    class Family:
        __name__ = "linalgkit.example._tour"

        @staticmethod
        def tour_rows():
            return [_tour.TourRow("example", f"problem {i}", "1 x 1", "exact", 1e-3, "none", 2.0, "numpy")
                    for i in range(2)]

    monkeypatch.setattr(_tour, "tour_modules", lambda: [Family])
    _tour.run_tour()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines[2:]] == [["example", "problem", "0"], ["example", "problem", "1"]]
    assert "1.00 ms" in lines[2] and "2.0x" in lines[2]


@pytest.mark.parametrize("budget, expected_calls", [(None, 1 + 5), (0.0, 1 + 1)])
def test_best_time_warms_up_then_stops_at_repeats_or_budget(budget, expected_calls):
    calls = []
    seconds = _tour.best_time(lambda: calls.append(1), repeats=5, budget=budget)
    assert len(calls) == expected_calls and seconds >= 0


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "linalgkit", "--help"], capture_output=True, text=True, check=True)
    assert "tour" in result.stdout and "info" in result.stdout
