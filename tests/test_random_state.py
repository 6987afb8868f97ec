"""``random_state`` everywhere: one rule for every public function and estimator that takes it.

The callables are discovered by ``inspect.signature`` over the public API (the ``__all__`` of
each public subpackage), so a new one cannot be forgotten: it fails here until ``CALLS`` (functions)
or ``ESTIMATORS`` gives it a small valid input.  Each accepts None, an int, a Generator, a
SeedSequence and a legacy RandomState; an int, the Generator it seeds and its SeedSequence give
bitwise the same answer, and so does the same int twice.  A string or a float is refused:
``ArgumentTypeError`` from a function, scikit-learn's ``InvalidParameterError`` from ``fit``.
"""

import dataclasses
import importlib
import inspect
import numbers
import pkgutil

import dask.array as da
import numpy as np
import pytest
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import InvalidParameterError

import linalgkit
import linalgkit.dask as ldask
from linalgkit import datasets, regression, sampling, sketch, spd, transforms
from linalgkit.exceptions import ArgumentTypeError

RNG = np.random.default_rng(5)
A, B = RNG.standard_normal((400, 4)), RNG.standard_normal(400)
TALL_A, TALL_B = RNG.standard_normal((3000, 5)), RNG.standard_normal(3000)
X = datasets.make_spd_matrices(6, 3, cond=10, random_state=1)
Y = datasets.make_spd_matrices(5, 3, cond=10, random_state=2)
DISTRIBUTIONS = datasets.make_spd_matrices(12, 3, cond=10, random_state=3).reshape(3, 4, 3, 3)
SUPPORT, VALUES = np.array([3, 100], dtype=np.uint64), np.array([1.0, -0.5])
DASK_A, DASK_B = da.from_array(TALL_A, chunks=(1000, -1)), da.from_array(TALL_B, chunks=1000)

CALLS = {
    "linalgkit.dask.lstsq_precondition": lambda rs: ldask.lstsq_precondition(DASK_A, DASK_B, random_state=rs),
    "linalgkit.dask.lstsq_sketched": lambda rs: ldask.lstsq_sketched(DASK_A, DASK_B, random_state=rs),
    "linalgkit.dask.sketch": lambda rs: ldask.sketch(DASK_A, 20, random_state=rs).compute(),
    "linalgkit.datasets.gaussian_random_field": lambda rs: datasets.gaussian_random_field(8, random_state=rs),
    "linalgkit.datasets.make_convection_diffusion":
        lambda rs: datasets.make_convection_diffusion(8, [10.0], random_state=rs),
    "linalgkit.datasets.make_darcy": lambda rs: datasets.make_darcy(8, random_state=rs),
    "linalgkit.datasets.make_darcy_family": lambda rs: datasets.make_darcy_family(8, [0.0, 0.1], random_state=rs),
    "linalgkit.datasets.make_darcy_sequence": lambda rs: datasets.make_darcy_sequence(8, 2, random_state=rs),
    "linalgkit.datasets.make_heavy_tailed_design":
        lambda rs: datasets.make_heavy_tailed_design(50, 3, random_state=rs),
    "linalgkit.datasets.make_l1_regression_problem":
        lambda rs: datasets.make_l1_regression_problem(50, 3, random_state=rs),
    "linalgkit.datasets.make_lstsq_problem": lambda rs: datasets.make_lstsq_problem(64, 3, random_state=rs),
    "linalgkit.datasets.make_spd_classification":
        lambda rs: datasets.make_spd_classification(20, 3, n_times=32, random_state=rs),
    "linalgkit.datasets.make_spd_matrices": lambda rs: datasets.make_spd_matrices(5, 3, random_state=rs),
    "linalgkit.regression.lstsq_precondition": lambda rs: regression.lstsq_precondition(A, B, random_state=rs),
    "linalgkit.regression.lstsq_sketched": lambda rs: regression.lstsq_sketched(TALL_A, TALL_B, random_state=rs),
    "linalgkit.sampling.leverage_scores": lambda rs: sampling.leverage_scores(A, method="sketched", random_state=rs),
    "linalgkit.sampling.lewis_weights": lambda rs: sampling.lewis_weights(A, 1, method="sketched", random_state=rs),
    "linalgkit.sampling.lp_regression": lambda rs: sampling.lp_regression(A, B, 1, random_state=rs),
    "linalgkit.sampling.lp_sensitivities":
        lambda rs: sampling.lp_sensitivities(A, 1, method="lewis_bound", random_state=rs),
    "linalgkit.sampling.sampling_scores": lambda rs: sampling.sampling_scores(A, 1, random_state=rs),
    "linalgkit.sampling.sensitivity_sample": lambda rs: sampling.sensitivity_sample(A, 1, 50, b=B, random_state=rs),
    "linalgkit.sampling.total_sensitivity":
        lambda rs: sampling.total_sensitivity(A, 1, method="approximate", m=50, random_state=rs),
    "linalgkit.sketch.make_sketch": lambda rs: sketch.make_sketch("gaussian", 8, 400, random_state=rs).todense(),
    "linalgkit.spd.draw_directions": lambda rs: spd.draw_directions(3, 5, random_state=rs),
    "linalgkit.spd.sliced_projections": lambda rs: spd.sliced_projections(X, n_projections=5, random_state=rs),
    "linalgkit.spd.sliced_wasserstein": lambda rs: spd.sliced_wasserstein(X, Y, n_projections=5, random_state=rs),
    "linalgkit.spd.sliced_wasserstein_kernel":
        lambda rs: spd.sliced_wasserstein_kernel(DISTRIBUTIONS, n_projections=5, random_state=rs),
    "linalgkit.transforms.sparse_wht":
        lambda rs: transforms.sparse_wht(lambda m: transforms.evaluate_walsh(SUPPORT, VALUES, m), 10, 2,
                                         design="noiseless", random_state=rs),
}

# estimator -> (constructor keyword arguments besides random_state, fit arguments)
ESTIMATORS = {
    "linalgkit.dask.SketchedLinearRegression": ({}, (DASK_A, DASK_B)),
    "linalgkit.regression.SketchedLinearRegression": ({}, (TALL_A, TALL_B)),
    "linalgkit.sampling.LpRegression": ({}, (A, B)),
    "linalgkit.sampling.SensitivitySampler": ({"m": 50}, (A,)),
    "linalgkit.spd.SPDSlicedWassersteinKernel": ({"n_projections": 5}, (DISTRIBUTIONS,)),
}

SEEDS = {
    "None": lambda: None,
    "int": lambda: 7,
    "Generator": lambda: np.random.default_rng(7),
    "SeedSequence": lambda: np.random.SeedSequence(7),
    "RandomState": lambda: np.random.RandomState(7),
}
BAD = ["seven", 7.0]


def _discover():
    """``{qualified name: object}`` of the public functions and classes whose signature has ``random_state``."""
    found = {}
    for info in pkgutil.iter_modules(linalgkit.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        package = importlib.import_module(f"linalgkit.{info.name}")
        for name in getattr(package, "__all__", ()):
            obj = getattr(package, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and \
                    "random_state" in inspect.signature(obj).parameters:
                found[f"linalgkit.{info.name}.{name}"] = obj
    return found


DISCOVERED = _discover()


def _resolve(name):
    return DISCOVERED[name]


def _estimator(name, random_state):
    options, _ = ESTIMATORS[name]
    return _resolve(name)(**options, random_state=random_state)


def _fit(name, random_state):
    _, data = ESTIMATORS[name]
    return _estimator(name, random_state).fit(*data)


def _numbers(out, depth=0):
    """The numeric content of a result (arrays, dataclass fields, fitted attributes), as a flat list."""
    if isinstance(out, BaseEstimator):
        return [v for k, v in sorted(vars(out).items()) if k.endswith("_") and not k.startswith("_")
                for v in _numbers(v, depth + 1)]
    if dataclasses.is_dataclass(out):
        return [v for f in dataclasses.fields(out) for v in _numbers(getattr(out, f.name), depth + 1)]
    if isinstance(out, (tuple, list)) and depth < 3:
        return [v for item in out for v in _numbers(item, depth + 1)]
    if scipy.sparse.issparse(out):
        return [out.toarray()]
    if isinstance(out, (np.ndarray, numbers.Number)):
        return [np.asarray(out)]
    return []


def _assert_same(first, second):
    first, second = _numbers(first), _numbers(second)
    assert first and len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_every_discovered_callable_has_a_table_entry():
    functions = {name for name, obj in DISCOVERED.items() if not inspect.isclass(obj)}
    classes = set(DISCOVERED) - functions
    assert functions == set(CALLS), f"missing from CALLS: {sorted(functions - set(CALLS))}, " \
                                    f"not public (stale): {sorted(set(CALLS) - functions)}"
    assert classes == set(ESTIMATORS), f"missing from ESTIMATORS: {sorted(classes - set(ESTIMATORS))}, " \
                                       f"not public (stale): {sorted(set(ESTIMATORS) - classes)}"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_functions_accept_every_seed_type_and_repeat_with_the_same_seed(name):
    call = CALLS[name]
    for make_seed in SEEDS.values():
        assert _numbers(call(make_seed()))
    _assert_same(call(7), call(7))
    _assert_same(call(7), call(np.random.default_rng(7)))
    _assert_same(call(7), call(np.random.SeedSequence(7)))


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_functions_refuse_bad_random_state_types(name, bad):
    with pytest.raises(ArgumentTypeError, match="random_state must be"):
        CALLS[name](bad)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimators_accept_every_seed_type_and_repeat_with_the_same_seed(name):
    for make_seed in SEEDS.values():
        assert _numbers(_fit(name, make_seed()))
    _assert_same(_fit(name, 7), _fit(name, 7))
    _assert_same(_fit(name, 7), _fit(name, np.random.default_rng(7)))


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimators_keep_a_generator_unconsumed_in_get_params(name):
    generator = np.random.default_rng(7)
    estimator = _estimator(name, generator)
    assert estimator.get_params()["random_state"] is generator


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimators_refuse_bad_random_state_types_at_fit(name, bad):
    estimator = _estimator(name, bad)  # __init__ stores parameters only
    with pytest.raises(InvalidParameterError, match="random_state"):
        estimator.fit(*ESTIMATORS[name][1])
