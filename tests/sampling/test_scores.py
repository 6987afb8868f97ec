"""Leverage scores against LAPACK's thin QR: dense, sparse, sketched, array API."""

import numpy as np
import pytest
import scipy.sparse

from linalgkit.sampling import leverage_scores

from ..conftest import to_numpy
from ._data import heavy_rows, qr_leverage


def test_exact_matches_scipy_qr():
    A = heavy_rows()
    np.testing.assert_allclose(leverage_scores(A), qr_leverage(A), rtol=1e-10, atol=1e-14)


def test_exact_sparse_matches_dense_qr(rng):
    A = scipy.sparse.random(5000, 12, density=0.3, random_state=1, format="csr") + scipy.sparse.eye(5000, 12)
    np.testing.assert_allclose(leverage_scores(A.tocsr(), random_state=0), qr_leverage(A.toarray()),
                               rtol=1e-9, atol=1e-14)


def test_sketched_within_20_percent_per_row():
    A = heavy_rows(20_000, 10)
    tau = qr_leverage(A)
    estimate = leverage_scores(A, method="sketched", random_state=0)
    assert np.max(np.abs(estimate / tau - 1)) <= 0.2


def test_sketched_with_jl_step_is_unbiased_on_average():
    A = heavy_rows(4000, 40)
    tau = qr_leverage(A)
    estimate = leverage_scores(A, method="sketched", jl_dim=8, random_state=0)
    assert estimate.shape == tau.shape
    assert abs(estimate.sum() / tau.sum() - 1) <= 0.1  # sum of 4000 independent chi^2_8 / 8 ratios


@pytest.mark.parametrize("method", ["exact", "sketched"])
def test_array_api_path(xp, method):
    A = np.asarray(heavy_rows(1500, 5))
    tau = leverage_scores(xp.asarray(A), method=method, random_state=0)
    assert type(tau).__module__.split(".")[0] == xp.__name__.split(".")[0]
    tolerance = 1e-10 if method == "exact" else 0.2
    np.testing.assert_allclose(to_numpy(tau), qr_leverage(A), rtol=tolerance, atol=1e-14)
