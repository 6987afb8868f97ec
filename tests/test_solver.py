"""The solver contract of the ground layer (linalgkit/_solver.py): tolerances, callback, progress, renames, warning."""

import dataclasses
import warnings

import numpy as np
import pytest

from linalgkit._solver import (SolverResult, Tolerances, check_callback, check_tolerances, progress_bar,
                               renamed_argument, warn_not_converged)
from linalgkit.exceptions import ArgumentTypeError, ConvergenceWarning, ValidationError

EPS64, EPS32 = np.finfo(np.float64).eps, np.finfo(np.float32).eps


# ---------------------------------------------------------------------------------- stopping rule


@pytest.mark.parametrize(("rtol", "atol", "reference", "expected"),
                         [(1e-6, 0.0, 10.0, 1e-5), (1e-6, 1e-3, 10.0, 1e-3), (0.0, 2.0, 1e9, 2.0),
                          (0.5, 0.0, 0.0, 0.0)])
def test_threshold_is_the_larger_of_rtol_times_the_reference_and_atol(rtol, atol, reference, expected):
    assert Tolerances(rtol, atol, 10).threshold(reference) == pytest.approx(expected, rel=1e-15)


def test_threshold_accepts_numpy_scalars_and_describe_names_both_tolerances():
    tolerances = Tolerances(1e-8, 0.0, 5)
    assert tolerances.threshold(np.float32(4.0)) == pytest.approx(4e-8, rel=1e-7)
    assert tolerances.describe() == "rtol=1e-08, atol=0"


# ---------------------------------------------------------------------------------- tolerances


def test_check_tolerances_takes_the_default_and_checks_types():
    tolerances = check_tolerances(None, 0.0, 50, dtype=np.float64, default_rtol=1e-6)
    assert tolerances == Tolerances(1e-6, 0.0, 50)
    assert isinstance(tolerances.maxiter, int) and isinstance(tolerances.rtol, float)
    assert check_tolerances(None, 1, np.int64(3), dtype=np.float64, default_rtol=lambda eps: 10 * eps) == \
        Tolerances(10 * EPS64, 1.0, 3)


def test_check_tolerances_raises_rtol_below_the_dtype_floor_to_machine_epsilon():
    assert check_tolerances(1e-12, 0.0, 10, dtype=np.float32, default_rtol=1e-3).rtol == EPS32
    assert check_tolerances(1e-12, 0.0, 10, dtype=np.float64, default_rtol=1e-3).rtol == 1e-12
    assert check_tolerances(0.0, 0.0, 10, dtype=np.float64, default_rtol=1e-3).rtol == EPS64
    assert check_tolerances(None, 0.0, 10, dtype="float32", default_rtol=lambda eps: eps**0.5).rtol == \
        pytest.approx(EPS32**0.5)


def test_check_tolerances_reads_dtypes_of_other_array_libraries():
    import array_api_strict

    assert check_tolerances(1e-20, 0.0, 1, dtype=array_api_strict.float32, default_rtol=0.1).rtol == EPS32


@pytest.mark.parametrize(("rtol", "atol", "maxiter", "error", "match"), [
    (1.0, 0.0, 10, ValidationError, r"rtol must be in \[0.0, 1.0\)"),
    (-1e-3, 0.0, 10, ValidationError, "rtol must be in"),
    (1e-6, -1.0, 10, ValidationError, "atol must be in"),
    (1e-6, 0.0, 0, ValidationError, "maxiter must be in"),
    ("tight", 0.0, 10, ArgumentTypeError, "rtol must be a real number, got str"),
    (1e-6, None, 10, ArgumentTypeError, "atol must be a real number, got NoneType"),
    (1e-6, 0.0, 2.5, ArgumentTypeError, "maxiter must be an int, got float"),
    (1e-6, 0.0, True, ArgumentTypeError, "maxiter must be an int, got bool"),
    (float("nan"), 0.0, 10, ValidationError, "rtol must be in"),
])
def test_check_tolerances_rejects_bad_values_naming_the_argument(rtol, atol, maxiter, error, match):
    with pytest.raises(error, match=match):
        check_tolerances(rtol, atol, maxiter, dtype=np.float64, default_rtol=1e-6)


# ---------------------------------------------------------------------------------- callback, result


def test_check_callback_accepts_none_and_callables_only():
    assert check_callback(None) is None
    assert check_callback(print) is print
    with pytest.raises(ArgumentTypeError, match="callback must be None or a callable callback\\(xk\\), got list"):
        check_callback([])


def test_solver_result_is_frozen_with_keyword_only_fields_that_subclasses_extend():
    @dataclasses.dataclass(frozen=True)
    class Result(SolverResult):
        x: float

    result = Result(2.0, converged=True, iterations=3, residual_norm=1e-9)
    assert (result.x, result.converged, result.iterations, result.residual_norm, result.history) == \
        (2.0, True, 3, 1e-9, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.converged = False
    with pytest.raises(TypeError):
        SolverResult(True, 3, 1e-9)


# ---------------------------------------------------------------------------------- renamed arguments


def _solve(*, rtol=None, tol=None):
    return renamed_argument("tol", tol, "rtol", rtol)


def test_renamed_argument_passes_the_new_name_through_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _solve(rtol=1e-4) == 1e-4
        assert _solve() is None


def test_renamed_argument_maps_the_old_name_with_a_future_warning_at_the_callers_line():
    with pytest.warns(FutureWarning, match="tol is deprecated .* pass rtol instead") as record:
        assert _solve(tol=1e-4) == 1e-4
    assert len(record) == 1 and record[0].filename == __file__
    with pytest.warns(FutureWarning):
        assert renamed_argument("tol", 4.0, "rtol", None, convert=lambda v: v / 2) == 2.0


def test_renamed_argument_refuses_both_names():
    with pytest.raises(ArgumentTypeError, match="tol and rtol were both passed; tol is the old name of rtol"):
        _solve(rtol=1e-4, tol=1e-4)


# ---------------------------------------------------------------------------------- progress


def test_progress_bar_off_is_a_silent_no_op(capsys):
    with progress_bar(False, 5, "solve") as bar:
        for _ in range(5):
            bar.update()
        bar.set_postfix_str("r=1e-3")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_on_is_a_tqdm_bar_counting_updates():
    from tqdm.auto import tqdm

    with progress_bar(True, 5, "solve") as bar:
        assert isinstance(bar, tqdm) and bar.total == 5 and bar.desc.startswith("solve")
        for _ in range(3):
            bar.update()
        assert bar.n == 3


@pytest.mark.parametrize("progress", [1, "yes", None])
def test_progress_must_be_a_bool(progress):
    with pytest.raises(ArgumentTypeError, match="progress must be True or False"):
        progress_bar(progress, 5, "solve")


# ---------------------------------------------------------------------------------- non-convergence


def _iterate(tolerances):
    warn_not_converged("demo_solver", tolerances, 3.5e-4)


def test_warn_not_converged_emits_one_convergence_warning_naming_the_rule_and_the_callers_line():
    with pytest.warns(ConvergenceWarning) as record:
        _iterate(Tolerances(1e-8, 0.0, 7))
    assert len(record) == 1 and record[0].filename == __file__
    message = str(record[0].message)
    for part in ("demo_solver", "rtol=1e-08, atol=0", "maxiter=7", "reached 0.00035", "converged=False",
                 "raise maxiter or loosen rtol"):
        assert part in message


@pytest.mark.parametrize("reached", [None, float("nan")])
def test_warn_not_converged_reports_an_unknown_residual_as_nan(reached):
    with pytest.warns(ConvergenceWarning, match="reached nan"):
        warn_not_converged("demo_solver", Tolerances(1e-8, 0.0, 7), reached, advice="check the input")
