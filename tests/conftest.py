"""Shared fixtures: the ``xp`` fixture runs a test on every array backend that answers here."""

import numpy as np
import pytest
from hypothesis import settings

from linalgkit._backend import cupy_module, gpu_available

# Property tests draw the same examples on every run (derived from each test's source), so that a
# clean-clone CI run cannot meet an example no earlier run met; widen exploration locally with
# --hypothesis-seed=N.
settings.register_profile("linalgkit", derandomize=True)
settings.load_profile("linalgkit")


def _namespaces():
    import array_api_strict

    yield pytest.param(np, id="numpy")
    yield pytest.param(array_api_strict, id="array_api_strict")
    yield pytest.param("cupy", id="cupy", marks=pytest.mark.gpu)


@pytest.fixture(params=list(_namespaces()))
def xp(request):
    """Array namespace under test: NumPy, array-api-strict, and CuPy when a GPU answers."""
    if request.param == "cupy":
        if not gpu_available():
            pytest.skip("no CUDA device answers (CuPy missing, disabled, or no GPU)")
        return cupy_module()
    return request.param


def to_numpy(array):
    """Host copy of an array of any tested namespace (tests only)."""
    if hasattr(array, "get"):
        return array.get()
    return np.asarray(array) if isinstance(array, np.ndarray) else np.from_dlpack(array)


@pytest.fixture
def rng():
    """A seeded NumPy Generator, fresh for each test."""
    return np.random.default_rng(20261122)


@pytest.fixture
def spy(monkeypatch):
    """``spy(module, name)`` wraps ``module.name`` for the test and returns the list of argument tuples it receives."""

    def install(module, name):
        calls, original = [], getattr(module, name)

        def recording(*args):
            calls.append(args)
            return original(*args)

        monkeypatch.setattr(module, name, recording)
        return calls

    return install
