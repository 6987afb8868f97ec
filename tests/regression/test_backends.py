"""The solvers on every array namespace of the ``xp`` fixture (CuPy runs only where a GPU answers)."""

import numpy as np
import pytest
import scipy.linalg

from linalgkit.exceptions import RankDeficiencyWarning
from linalgkit.regression import lstsq_precondition, lstsq_sketched
from linalgkit.sketch import SKETCH_KINDS
from tests.conftest import to_numpy

GENERIC = ("gaussian", "rademacher", "srht")


def _kinds(xp):
    return [k for k in SKETCH_KINDS if xp.__name__ != "array_api_strict" or k in GENERIC]


def test_sketch_and_solve_matches_numpy(xp, rng):
    A, b = rng.standard_normal((700, 6)), rng.standard_normal(700)
    for kind in _kinds(xp):
        ours = lstsq_sketched(xp.asarray(A), xp.asarray(b), sketch=kind, m=120, random_state=0)
        reference = lstsq_sketched(A, b, sketch=kind, m=120, random_state=0)
        np.testing.assert_allclose(to_numpy(ours.x), reference.x, rtol=1e-10, err_msg=kind)
        assert ours.rank == 6 and ours.cond == pytest.approx(reference.cond, rel=1e-10)


def test_sketch_and_precondition_matches_lapack(xp, rng):
    A, b = rng.standard_normal((900, 7)) @ np.diag(np.logspace(0, 3, 7)), rng.standard_normal(900)
    reference = scipy.linalg.lstsq(A, b)[0]
    for kind in _kinds(xp):
        for method in ("cholqr", "lsqr", "ihs", "fossils"):
            result = lstsq_precondition(xp.asarray(A), xp.asarray(b), sketch=kind, method=method, random_state=0)
            assert result.converged
            np.testing.assert_allclose(to_numpy(result.x), reference, rtol=1e-9, err_msg=f"{kind} {method}")


def test_rank_deficient_fallback(xp, rng):
    A = rng.standard_normal((300, 5))
    A[:, 4] = A[:, 0]
    b = rng.standard_normal(300)
    with pytest.warns(RankDeficiencyWarning, match="solving without the sketch"):
        result = lstsq_precondition(xp.asarray(A), xp.asarray(b), sketch="srht", random_state=0)
    assert result.fallback
    np.testing.assert_allclose(to_numpy(result.x), scipy.linalg.lstsq(A, b)[0], rtol=1e-8, atol=1e-10)
