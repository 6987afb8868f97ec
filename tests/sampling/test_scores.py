"""Leverage scores against LAPACK's thin QR: dense, sparse, sketched, array API."""

import numpy as np
import pytest
import scipy.sparse

from linalgkit.sampling import leverage_scores
from linalgkit.sampling.scores import SKETCH_OVERSAMPLING, SKETCH_ZETA
from linalgkit.sketch import make_sketch

from ..conftest import to_numpy
from ._data import heavy_rows, qr_leverage


def test_exact_matches_scipy_qr():
    A = heavy_rows()
    np.testing.assert_allclose(leverage_scores(A), qr_leverage(A), rtol=1e-10, atol=1e-14)


def test_exact_sparse_matches_dense_qr(rng):
    A = scipy.sparse.random(5000, 12, density=0.3, random_state=1, format="csr") + scipy.sparse.eye(5000, 12)
    np.testing.assert_allclose(leverage_scores(A.tocsr(), random_state=0), qr_leverage(A.toarray()),
                               rtol=1e-9, atol=1e-14)


def _assert_within_distortion_bounds(A, estimate, S):
    """Without the JL step, tau_hat_i / tau_i lies in [(1 + eps)^-2, (1 - eps)^-2] for a sketch S of distortion eps.

    With A = QT: tau_hat_i = ||q_i^T (Q_s^T S Q)^{-1}||^2 and the singular values of Q_s^T S Q are
    those of SQ, in [1 - eps, 1 + eps].
    """
    singular_values = np.linalg.svd(S @ np.linalg.qr(A)[0], compute_uv=False)
    ratio = estimate / qr_leverage(A)
    assert np.all(ratio >= singular_values.max() ** -2 * (1 - 1e-9))
    assert np.all(ratio <= singular_values.min() ** -2 * (1 + 1e-9))
    assert 0.5 < singular_values.min() and singular_values.max() < 1.5  # m = 100 d embeds the column space


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sketched_within_the_bounds_of_the_sketch_distortion(seed):
    """The bound holds for the very sketch the function drew (redrawn here from the same seed)."""
    A = heavy_rows(20_000, 10)
    estimate = leverage_scores(A, method="sketched", random_state=seed)
    S = make_sketch("sparse_sign", SKETCH_OVERSAMPLING * 10, A.shape[0], random_state=seed, zeta=SKETCH_ZETA)
    _assert_within_distortion_bounds(A, estimate, S.todense())


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
    if method == "exact":
        np.testing.assert_allclose(to_numpy(tau), qr_leverage(A), rtol=1e-10, atol=1e-14)
        return
    # NumPy draws a sparse sign sketch, other namespaces a Gaussian one (the capability table)
    kind, options = ("sparse_sign", {"zeta": SKETCH_ZETA}) if xp.__name__ == "numpy" else ("gaussian", {})
    S = make_sketch(kind, SKETCH_OVERSAMPLING * 5, A.shape[0], random_state=0, **options)
    _assert_within_distortion_bounds(A, to_numpy(tau), S.todense())
