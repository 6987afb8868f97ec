"""The backend shim: resolving the namespace, refusing mixes, RNG helpers, opt-out switches."""

import array_api_strict
import numpy as np
import pytest
import scipy.sparse
import threadpoolctl

from linalgkit._backend import (
    CAPABILITIES,
    check_random_state,
    cupy_module,
    get_backend,
    gpu_available,
    rademacher,
    serial_blas,
    standard_normal,
    uniform_integers,
)
from linalgkit.exceptions import ArgumentTypeError, BackendError, ValidationError


def test_numpy_inputs_scalars_none_and_lists_resolve_to_numpy():
    for args in [(np.ones(3),), ([1.0, 2.0], None, 3.5, np.float32(2)), ()]:
        backend = get_backend(*args)
        assert backend.kind == "numpy"
        assert backend.sparse is scipy.sparse
        assert backend.use_numba


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_scipy_sparse_with_either_index_dtype_is_numpy(index_dtype, fmt):
    A = scipy.sparse.random(20, 5, density=0.3, format=fmt, random_state=0)
    if fmt == "coo":
        A.row, A.col = A.row.astype(index_dtype), A.col.astype(index_dtype)
    else:
        A.indices, A.indptr = A.indices.astype(index_dtype), A.indptr.astype(index_dtype)
    backend = get_backend(A=A, b=np.ones(20))
    assert backend.kind == "numpy" and backend.issparse(A) and not backend.issparse(np.ones(2))
    assert get_backend(scipy.sparse.csr_array(A)).kind == "numpy"


def test_generic_array_api_library_and_its_device():
    x = array_api_strict.ones(3)
    backend = get_backend(x=x)
    assert backend.kind == "generic" and backend.sparse is None and not backend.use_numba
    assert backend.device == array_api_strict.Device("CPU_DEVICE")
    created = backend.zeros((2,), dtype=backend.xp.float32)
    assert isinstance(created, type(x)) and created.device == backend.device
    np.testing.assert_array_equal(backend.to_host(backend.from_host(np.arange(3.0))), np.arange(3.0))


def test_generic_device_mismatch_is_refused():
    x = array_api_strict.ones(3)
    y = array_api_strict.ones(3, device=array_api_strict.Device("device1"))
    with pytest.raises(BackendError, match="x is on device .* but y is on device"):
        get_backend(x=x, y=y)


def test_mixed_libraries_are_refused_with_both_names():
    with pytest.raises(BackendError, match="A is a numpy array but b is a array_api_strict array; .*convert"):
        get_backend(A=np.ones((2, 2)), b=array_api_strict.ones(2))
    with pytest.raises(TypeError, match="argument 0 is a numpy array but argument 1"):
        get_backend(scipy.sparse.eye(2), array_api_strict.ones(2))


def test_dask_arrays_point_to_the_dask_layer():
    da = pytest.importorskip("dask.array")
    with pytest.raises(BackendError, match="X is a Dask array.*X.compute\\(\\).*linalgkit.dask"):
        get_backend(X=da.ones(4))


def test_disable_numba_switch(monkeypatch):
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "1")
    assert not get_backend(np.ones(2)).use_numba
    monkeypatch.setenv("LINALGKIT_DISABLE_NUMBA", "0")
    assert get_backend(np.ones(2)).use_numba


def test_disable_gpu_switch(monkeypatch):
    monkeypatch.setenv("LINALGKIT_DISABLE_GPU", "1")
    assert cupy_module() is None
    assert not gpu_available()


def test_numpy_backend_helpers():
    backend = get_backend(np.ones(2))
    assert backend.empty((2, 3), dtype=np.float32).dtype == np.float32
    assert backend.asarray([1, 2], dtype=backend.xp.float64).dtype == np.float64
    host = np.arange(4.0)
    assert backend.to_host(host) is host and backend.from_host(host) is host


def test_serial_blas_runs_numpy_blas_on_one_thread_and_restores_it():
    def blas_threads():
        return {info["filepath"]: info["num_threads"] for info in threadpoolctl.threadpool_info()
                if info["user_api"] == "blas"}

    before = blas_threads()
    with serial_blas(get_backend(np.zeros(3))):
        assert set(blas_threads().values()) == {1}
    assert blas_threads() == before
    with serial_blas(get_backend(array_api_strict.zeros(3))):
        assert blas_threads() == before


@pytest.mark.parametrize("seed", [0, 7, np.int64(3), np.random.SeedSequence(5)])
def test_check_random_state_seeds_are_reproducible(seed):
    a = check_random_state(seed).standard_normal(4)
    b = check_random_state(seed).standard_normal(4)
    np.testing.assert_array_equal(a, b)


def test_check_random_state_generator_is_passed_through_and_none_is_fresh():
    rng = np.random.default_rng(1)
    assert check_random_state(rng) is rng
    assert isinstance(check_random_state(None), np.random.Generator)


@pytest.mark.parametrize("bad, error, message", [
    (-1, ValidationError, "non-negative"),
    (True, ArgumentTypeError, "got bool"),
    (1.5, ArgumentTypeError, "got float"),
    ("0", ArgumentTypeError, "got str"),
])
def test_check_random_state_rejects(bad, error, message):
    with pytest.raises(error, match=message):
        check_random_state(bad, name="random_state")


def test_check_random_state_seeds_from_a_legacy_random_state_and_advances_it():
    """A RandomState (what sklearn.utils.check_random_state returns) seeds a Generator with one draw of its stream."""
    legacy = np.random.RandomState(0)
    first, second = check_random_state(legacy).random(3), check_random_state(legacy).random(3)
    assert not np.array_equal(first, second)
    seed = np.random.RandomState(0).randint(0, 2**63 - 1, dtype=np.int64)
    np.testing.assert_array_equal(first, np.random.default_rng(int(seed)).random(3))
    np.testing.assert_array_equal(check_random_state(np.random.SeedSequence(4)).random(3),
                                  np.random.default_rng(4).random(3))


def test_random_draws_are_identical_on_every_backend():
    numpy_backend = get_backend(np.ones(1))
    strict_backend = get_backend(array_api_strict.ones(1))
    for draw in (standard_normal, rademacher):
        on_numpy = draw(check_random_state(3), (5, 4), dtype=numpy_backend.xp.float64, backend=numpy_backend)
        on_strict = draw(check_random_state(3), (5, 4), dtype=strict_backend.xp.float64, backend=strict_backend)
        np.testing.assert_array_equal(on_numpy, strict_backend.to_host(on_strict))
    signs = rademacher(check_random_state(0), (1000,), dtype=np.float64, backend=numpy_backend)
    assert set(np.unique(signs)) == {-1.0, 1.0}
    ints = uniform_integers(check_random_state(0), 2, 5, (1000,), backend=numpy_backend)
    assert ints.dtype == np.int64 and ints.min() == 2 and ints.max() == 4


def test_capability_table_lists_the_transforms():
    assert CAPABILITIES["linalgkit.transforms.fwht"]["numpy"].startswith("Numba")
    assert set(CAPABILITIES["linalgkit.transforms.ifwht"]) == {"numpy", "cupy", "generic"}


def test_map_on_threads_keeps_order_and_runs_every_item():
    from linalgkit._backend import map_on_threads

    assert map_on_threads(lambda x: x * x, range(7)) == [x * x for x in range(7)]
    assert map_on_threads(lambda x: x + 1, [4]) == [5]
    assert map_on_threads(lambda x: x, []) == []
