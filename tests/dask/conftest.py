"""Fixtures of the Dask layer's tests: the synchronous scheduler by default, a LocalCluster for the tests that ask."""

import importlib.util

import pytest

if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
    collect_ignore_glob = ["test_*.py"]  # the dask extra is not installed: nothing here can run
else:
    import dask

    @pytest.fixture(autouse=True)
    def synchronous_scheduler(request):
        """Every test runs on the synchronous scheduler unless it takes the ``client`` fixture."""
        if "client" in request.fixturenames:
            yield
            return
        with dask.config.set(scheduler="synchronous"):
            yield

    @pytest.fixture(scope="module")
    def client():
        """A LocalCluster of two single-threaded worker processes, closed by the fixture."""
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=40) as cluster, Client(cluster) as client:
            yield client
