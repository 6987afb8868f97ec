"""The Dask layer on a LocalCluster of two worker processes: same answers, and a killed worker changes nothing.

One cluster per module (started and closed by the ``client`` fixture); every test is bounded in time.
"""

import os
import signal

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
pytest.importorskip("distributed")

import linalgkit.dask as ld  # noqa: E402
from linalgkit import spd  # noqa: E402
from linalgkit.datasets import make_spd_matrices  # noqa: E402
from linalgkit.regression import lstsq_precondition  # noqa: E402
from linalgkit.sketch import make_sketch  # noqa: E402

pytestmark = pytest.mark.timeout(240)


def _problem():
    """A tall problem generated chunk by chunk on the workers (recomputable after a worker dies)."""
    A = da.random.default_rng(1).standard_normal((40_000, 10), chunks=(5000, 10))
    b = A @ np.arange(1.0, 11.0) + da.random.default_rng(2).standard_normal(40_000, chunks=5000)
    return A, b


@pytest.mark.slow
def test_cluster_equals_local(client):
    # sketch, lstsq_precondition and the Karcher mean on worker processes (slow: each worker JIT-loads the kernels)
    A, b = _problem()
    A_local, b_local = (np.asarray(v) for v in client.compute([A, b], sync=True))
    SA = ld.sketch(A, 40, kind="sparse_sign", random_state=4).compute()
    reference = make_sketch("sparse_sign", 40, A.shape[0], random_state=4) @ A_local
    np.testing.assert_allclose(SA, reference, rtol=0, atol=1e-12 * np.abs(reference).max())
    result = ld.lstsq_precondition(A, b, random_state=0)
    local = lstsq_precondition(A_local, b_local, random_state=0)
    np.testing.assert_allclose(result.x, local.x, rtol=1e-12)
    X = make_spd_matrices(90, 4, random_state=0)
    reference = spd.mean(X)
    np.testing.assert_allclose(ld.mean(da.from_array(X, chunks=(30, 4, 4))), reference, rtol=1e-12,
                               atol=1e-12 * np.abs(reference).max())


def test_a_killed_worker_is_recomputed(client):
    # the callback kills one worker process (SIGKILL) after the third LSQR iteration: its chunks of the
    # persisted A and b are lost, the nanny starts a new worker and the scheduler recomputes them
    A, b = _problem()
    A_local, b_local = (np.asarray(v) for v in client.compute([A, b], sync=True))
    pids = client.run(os.getpid)
    steps = []

    def kill_one(xk):
        steps.append(xk)
        if len(steps) == 3:
            os.kill(next(iter(pids.values())), signal.SIGKILL)

    result = ld.lstsq_precondition(A, b, method="lsqr", random_state=0, callback=kill_one)
    local = lstsq_precondition(A_local, b_local, method="lsqr", random_state=0)
    assert set(client.run(os.getpid).values()) != set(pids.values())  # a worker did die
    assert result.converged and result.iterations == local.iterations
    np.testing.assert_allclose(result.x, local.x, rtol=1e-12)
