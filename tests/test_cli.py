"""``python -m linalgkit info`` and ``tour``."""

import subprocess
import sys

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


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "linalgkit", "--help"], capture_output=True, text=True, check=True)
    assert "tour" in result.stdout and "info" in result.stdout
