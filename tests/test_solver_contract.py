"""The solver contract (linalgkit/_solver.py) on every iterative function: a table of cases x solvers.

Modelled on SciPy's ``scipy/sparse/linalg/_isolve/tests``: each solver is run on a small problem
it solves, and each test checks one clause of the contract on all of them.  A callback sees every
iterate (as many calls as ``result.iterations``); ``maxiter=1`` with a tight ``rtol`` returns the
best iterate with ``converged=False`` and exactly one ConvergenceWarning; a met rule gives
``converged=True`` without a warning (pyproject turns ConvergenceWarning into an error); a huge
``atol`` is met at once; bad tolerances and callbacks raise; ``progress=True`` changes nothing but
the display.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest

from linalgkit import krylov, sampling, spd
from linalgkit._solver import SolverResult
from linalgkit.datasets import make_lstsq_problem, make_spd_matrices
from linalgkit.datasets._krylov import make_poisson
from linalgkit.exceptions import ArgumentTypeError, ConvergenceWarning, ValidationError
from linalgkit.regression import lstsq_precondition
from linalgkit.transforms import evaluate_walsh, sparse_wht

PROBLEM = make_lstsq_problem(2000, 20, cond=1e6, residual_norm=1e-3, random_state=0)
MATRICES = make_spd_matrices(20, 4, cond=100, random_state=0)
POISSON_A, POISSON_B = make_poisson(16)
TALL = np.random.default_rng(5).standard_normal((400, 4))
TALL_B = np.random.default_rng(6).standard_normal(400)
SPARSE_SUPPORT = np.sort(np.random.default_rng(3).choice(1 << 20, size=50, replace=False)).astype(np.uint64)
SPARSE_VALUES = np.random.default_rng(4).choice([-1.0, 1.0], size=50)


@dataclass(frozen=True)
class Solver:
    """One iterative function under the contract.

    ``run(**contract)`` calls it with the contract's keywords and returns its SolverResult;
    ``tight`` holds the keywords that cannot be met in one iteration, or is None for a method
    whose first iteration is a direct solve documented to meet the rule (Cholesky QR);
    ``rule(result)`` restates its documented stopping rule at the default tolerances where the
    test can evaluate it from the outside.
    """

    name: str
    run: object
    tight: dict | None = field(default_factory=lambda: {"rtol": 1e-15})
    progress: bool = True
    tolerances: bool = True
    rule: object = None


def _lstsq(method):
    def run(**contract):
        return lstsq_precondition(PROBLEM.A, PROBLEM.b, method=method, random_state=0, **contract)

    # "cholqr": the Cholesky-QR solve counts as the first iteration and refines only when the rule asks
    return Solver(f"lstsq_precondition[{method}]", run, tight=None if method == "cholqr" else {"rtol": 1e-15})


def _mean(metric):
    def run(**contract):
        return spd.mean(MATRICES, metric=metric, return_info=True, **contract)

    label = metric if isinstance(metric, str) else "power_affine(0.5)"
    # the gradient norm against rtol r_ref (rtol = 1e-10 in float64): r_ref = 1, and sqrt(tr M) = d_BW(0, M) for
    # Bures-Wasserstein, whose gradient has the units of M^(1/2) (linalgkit.spd.means)
    if metric == "bures_wasserstein":
        return Solver(f"spd.mean[{label}]", run,
                      rule=lambda r: r.residual_norm <= 1e-10 * np.sqrt(np.trace(r.mean)))
    return Solver(f"spd.mean[{label}]", run, rule=lambda r: r.residual_norm <= 1e-10)


def _krylov(solve):
    def run(**contract):
        return solve(POISSON_A, POISSON_B, **contract)

    def rule(result):  # ||b - Ax|| <= max(rtol ||b||, atol) with SciPy's default rtol = 1e-5, recomputed here
        return np.linalg.norm(POISSON_B - POISSON_A @ result.x) <= 1e-5 * np.linalg.norm(POISSON_B)

    return Solver(f"krylov.{solve.__name__}", run, rule=rule)


def _sparse_wht(**contract):
    if "maxiter" in contract:
        contract["max_peeling"] = contract.pop("maxiter")
    return sparse_wht(lambda m: evaluate_walsh(SPARSE_SUPPORT, SPARSE_VALUES, m), 20, 50, design="noiseless",
                      random_state=3, **contract)


SOLVERS = [
    *(_lstsq(method) for method in ("cholqr", "lsqr", "ihs", "fossils")),
    *(_mean(metric) for metric in ("affine_invariant", "bures_wasserstein", spd.power_affine(0.5))),
    *(_krylov(solve) for solve in (krylov.gmres, krylov.gcrodr, krylov.rcg, krylov.rminres)),
    *(Solver(f"sampling.lewis_weights[p={p}]", lambda p=p, **contract: sampling.lewis_weights(TALL, p, **contract))
      for p in (1, 3)),
    *(Solver(f"sampling.lp_regression[{method}]",
             lambda method=method, **contract: sampling.lp_regression(TALL, TALL_B, 1.5, method=method, random_state=0,
                                                                      **contract))
      for method in ("exact", "sampled")),
    Solver("sparse_wht", _sparse_wht, tight={}, progress=False, tolerances=False),
]
IDS = [solver.name for solver in SOLVERS]


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_result_extends_the_base_result(solver):
    result = solver.run()
    assert isinstance(result, SolverResult)
    assert isinstance(result.converged, bool) and isinstance(result.iterations, int) and result.iterations >= 0
    assert np.isfinite(result.residual_norm) and result.residual_norm >= 0
    if result.history is not None:  # per iteration, or per outer step of a nested method
        assert 1 <= len(result.history) <= result.iterations + 1


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_a_met_rule_converges_without_warning(solver):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = solver.run()
    assert result.converged
    if solver.rule is not None:
        assert solver.rule(result)


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_the_callback_sees_each_iterate(solver):
    seen = []
    result = solver.run(callback=lambda *iterate: seen.append(iterate))
    assert len(seen) == result.iterations >= 1
    reference = solver.run()
    assert result.iterations == reference.iterations and result.residual_norm == reference.residual_norm


ITERATIVE = [s for s in SOLVERS if s.tight is not None]
DIRECT_FIRST = [s for s in SOLVERS if s.tight is None]


@pytest.mark.parametrize("solver", ITERATIVE, ids=[s.name for s in ITERATIVE])
def test_maxiter_reached_returns_the_best_iterate_with_one_warning(solver):
    with pytest.warns(ConvergenceWarning, match="did not meet its stopping rule") as record:
        result = solver.run(maxiter=1, **solver.tight)
    assert len([w for w in record if issubclass(w.category, ConvergenceWarning)]) == 1
    assert record[0].filename == __file__ or "linalgkit" not in record[0].filename  # points at the caller
    assert not result.converged and result.iterations <= 1
    assert np.isfinite(result.residual_norm)


@pytest.mark.parametrize("solver", DIRECT_FIRST, ids=[s.name for s in DIRECT_FIRST])
def test_a_direct_first_iteration_meets_the_tightest_rule_in_one_iteration(solver):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = solver.run(maxiter=1, rtol=0.0)
    assert result.converged and result.iterations <= 1


@pytest.mark.parametrize("solver", [s for s in SOLVERS if s.tolerances], ids=[s.name for s in SOLVERS if s.tolerances])
def test_a_huge_atol_is_met_at_once(solver):
    result = solver.run(atol=1e12)
    assert result.converged and result.iterations <= 1


@pytest.mark.parametrize("solver", [s for s in SOLVERS if s.tolerances], ids=[s.name for s in SOLVERS if s.tolerances])
@pytest.mark.parametrize(("contract", "error", "match"), [
    (dict(rtol=1.5), ValidationError, "rtol must be in"),
    (dict(atol=-1.0), ValidationError, "atol must be in"),
    (dict(maxiter=0), ValidationError, "maxiter must be in"),
    (dict(rtol="tight"), ArgumentTypeError, "rtol must be a real number"),
])
def test_bad_tolerances_raise_naming_the_argument(solver, contract, error, match):
    with pytest.raises(error, match=match):
        solver.run(**contract)


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_a_bad_callback_raises(solver):
    with pytest.raises(ArgumentTypeError, match="callback must be None or a callable"):
        solver.run(callback="print")


@pytest.mark.parametrize("solver", [s for s in SOLVERS if s.progress], ids=[s.name for s in SOLVERS if s.progress])
def test_progress_changes_only_the_display(solver):
    shown, hidden = solver.run(progress=True), solver.run(progress=False)
    assert shown.iterations == hidden.iterations and shown.residual_norm == hidden.residual_norm


def test_mean_tol_keeps_working_for_one_release_with_a_future_warning():
    with pytest.warns(FutureWarning, match="tol is deprecated"):
        old = spd.mean(MATRICES, tol=1e-9, return_info=True)
    new = spd.mean(MATRICES, rtol=1e-9, return_info=True)
    np.testing.assert_array_equal(old.mean, new.mean)
    with pytest.raises(ArgumentTypeError, match="both passed"):
        spd.mean(MATRICES, tol=1e-9, rtol=1e-9)


# The kernel-metric shooting (Log of metrics without closed-form geodesics) takes its tolerances on
# the metric object and returns the tangent vector itself, so it is checked here rather than in the table.
KERNEL_METRICS = {"bkm": spd.bkm,
                  "mixed_power_euclidean(0.5, 0.25)": lambda **o: spd.mixed_power_euclidean(0.5, 0.25, **o)}
PAIR = make_spd_matrices(2, 3, cond=5, random_state=0)


@pytest.mark.parametrize("name", sorted(KERNEL_METRICS))
def test_kernel_metric_shooting_meets_its_rule_silently(name):
    metric = KERNEL_METRICS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        tangent = spd.log(PAIR[0], PAIR[1], metric=metric)
    np.testing.assert_allclose(spd.exp(PAIR[0], tangent, metric=metric), PAIR[1], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(KERNEL_METRICS))
def test_kernel_metric_shooting_at_maxiter_returns_its_best_iterate_with_one_warning(name):
    with pytest.warns(ConvergenceWarning, match="Log by shooting did not meet its stopping rule") as record:
        tangent = spd.log(PAIR[0], PAIR[1], metric=KERNEL_METRICS[name](maxiter=1, rtol=1e-15))
    assert len([w for w in record if issubclass(w.category, ConvergenceWarning)]) == 1
    assert np.all(np.isfinite(tangent))


@pytest.mark.parametrize("name", sorted(KERNEL_METRICS))
def test_kernel_metric_tolerances_are_checked_when_the_metric_is_made(name):
    with pytest.raises(ValidationError, match="rtol must be in"):
        KERNEL_METRICS[name](rtol=2.0)
    with pytest.raises(ValidationError, match="maxiter must be in"):
        KERNEL_METRICS[name](maxiter=0)
