"""Every cut-over table names an ablation that exists: ``python -m benchmarks.ablations NAME`` reruns it."""

import importlib
import re

import pytest

from benchmarks.ablations import ABLATIONS, FAMILY_ABLATIONS
from linalgkit.spd._dispatch import CUTOVERS

TABLES = ["linalgkit.krylov._cutovers", "linalgkit.regression._cutovers", "linalgkit.sketch._cutovers"]


def _ablation_column(doc):
    """The text of the last column of the module's reST table (the ablation column), row by row."""
    lines = doc.splitlines()
    border = next(line for line in lines if line.startswith("===") and " " in line)
    start = border.rstrip().rfind(" ") + 1
    rows = lines[lines.index(border) + 3:]
    rows = rows[:rows.index(border)]
    return " ".join(line[start:] for line in rows)


def _named_ablations(column):
    """The names in double backticks (``name`` or ``python -m benchmarks.ablations name``)."""
    return [token.split()[-1] for token in re.findall(r"``([^`]+)``", column)]


@pytest.mark.parametrize("module", TABLES)
def test_every_ablation_a_table_names_exists(module):
    names = _named_ablations(_ablation_column(importlib.import_module(module).__doc__))
    assert names, f"{module}: no ablation named"
    assert set(names) <= set(ABLATIONS), sorted(set(names) - set(ABLATIONS))


def test_spd_cutovers_and_family_ablations_exist():
    assert {cutover.ablation for cutover in CUTOVERS.values()} <= set(ABLATIONS)
    for name, module in FAMILY_ABLATIONS.items():
        assert callable(getattr(importlib.import_module(module), f"ablation_{name}"))
