"""Dask SPD geometry against the in-memory spd family (and pyRiemann for the Karcher mean)."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import linalgkit.dask as ld  # noqa: E402
from linalgkit import spd  # noqa: E402
from linalgkit.datasets import make_spd_matrices  # noqa: E402
from linalgkit.exceptions import (ConvergenceWarning, NotSPDError, NotSupportedError, ShapeError,  # noqa: E402
                                  ValidationError)

METRICS = ["affine_invariant", "log_euclidean", "bures_wasserstein"]


@pytest.fixture(scope="module")
def stacks():
    X = make_spd_matrices(120, 4, cond=20.0, random_state=0)
    Y = make_spd_matrices(120, 4, cond=20.0, random_state=1)
    return X, Y


def _chunked(X, rows):
    return da.from_array(X, chunks=(rows, -1, -1))


@pytest.mark.parametrize("metric", METRICS)
def test_maps_equal_in_memory(stacks, metric):
    X, Y = stacks
    C = spd.mean(X, metric=metric)
    for rows in (120, 25):
        Xd, Yd = _chunked(X, rows), _chunked(Y, 40)
        np.testing.assert_allclose(ld.distance(Xd, Yd, metric=metric).compute(), spd.distance(X, Y, metric=metric),
                                   rtol=1e-12)
        np.testing.assert_allclose(ld.distance(Xd, C, metric=metric, squared=True).compute(),
                                   spd.distance(X, C, metric=metric, squared=True), rtol=1e-12)
        np.testing.assert_allclose(ld.pairwise_distances(Xd, Yd[:30], metric=metric, squared=True).compute(),
                                   spd.pairwise_distances(X, Y[:30], metric=metric, squared=True), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(ld.pairwise_distances(Xd, Y[:30], metric=metric).compute(),
                                   spd.pairwise_distances(X, Y[:30], metric=metric), rtol=1e-10)
        T = ld.tangent_space(Xd, C, metric=metric)
        assert T.chunks[0] == Xd.chunks[0]
        np.testing.assert_allclose(T.compute(), spd.tangent_space(X, C, metric=metric), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ld.untangent_space(T, C, metric=metric).compute(), X, rtol=1e-10, atol=1e-12)


def test_pairwise_of_one_stack_is_exactly_symmetric(stacks):
    X, _ = stacks
    D = ld.pairwise_distances(_chunked(X[:50], 15)).compute()
    np.testing.assert_array_equal(D, D.T)
    np.testing.assert_array_equal(np.diag(D), 0.0)
    np.testing.assert_allclose(D, spd.pairwise_distances(X[:50]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("metric", METRICS + ["euclidean", "log_cholesky"])
def test_mean_equals_in_memory(stacks, metric):
    X, _ = stacks
    weights = np.linspace(1, 2, X.shape[0])
    local = spd.mean(X, metric=metric, weights=weights, return_info=True)
    for rows in (120, 33):
        result = ld.mean(_chunked(X, rows), metric=metric, weights=weights, return_info=True)
        np.testing.assert_allclose(result.mean, local.mean, rtol=1e-12, atol=1e-13)
        assert (result.converged, result.iterations) == (True, local.iterations)


def test_karcher_mean_matches_pyriemann(stacks):
    pyriemann_mean = pytest.importorskip("pyriemann.utils.mean")
    X, _ = stacks
    result = ld.mean(_chunked(X, 30), rtol=1e-12)
    reference = pyriemann_mean.mean_riemann(X, tol=1e-12, maxiter=200)
    np.testing.assert_allclose(result, reference, rtol=1e-9)


def test_karcher_not_converged_warns(stacks):
    X, _ = stacks
    with pytest.warns(ConvergenceWarning, match="mean"):
        result = ld.mean(_chunked(X, 30), maxiter=1, rtol=1e-15, return_info=True)
    assert (result.converged, result.iterations) == (False, 1)


def test_callback_sees_every_step(stacks):
    X, _ = stacks
    seen = []
    result = ld.mean(_chunked(X, 30), callback=seen.append, return_info=True)
    assert len(seen) == result.iterations > 0


def test_errors_name_the_argument_and_the_fix(stacks):
    X, _ = stacks
    with pytest.raises(ValidationError, match=r"X.rechunk\(\{1: -1, 2: -1\}\)"):
        ld.tangent_space(da.from_array(X, chunks=(30, 2, 4)), np.eye(4))
    with pytest.raises(ShapeError, match="square"):
        ld.mean(da.from_array(X[:, :3, :], chunks=(30, -1, -1)))
    with pytest.raises(NotSupportedError, match="in memory"):
        ld.mean(_chunked(X, 30), metric=spd.power_affine(0.5))
    bad = X.copy()
    bad[70] = -bad[70]
    with pytest.raises(NotSPDError, match="starts at matrix 60"):
        ld.mean(_chunked(bad, 30), metric="log_euclidean")


def test_estimators_equal_in_memory(stacks):
    X, Y = stacks
    Z = np.concatenate([X, Y])
    y = np.repeat([0, 1], X.shape[0])
    Zd = _chunked(Z, 50)
    for metric in ("log_euclidean", "affine_invariant"):
        local = spd.TangentSpace(metric=metric).fit(Z)
        model = ld.TangentSpace(metric=metric).fit(Zd)
        assert isinstance(model.reference_, np.ndarray)
        np.testing.assert_allclose(model.reference_, local.reference_, rtol=1e-12)
        np.testing.assert_allclose(model.transform(Zd).compute(), local.transform(Z), rtol=1e-11, atol=1e-12)
        local = spd.MDM(metric=metric).fit(Z, y)
        model = ld.MDM(metric=metric).fit(Zd, y)
        np.testing.assert_allclose(model.covmeans_, local.covmeans_, rtol=1e-12)
        np.testing.assert_array_equal(model.predict(Zd).compute(), local.predict(Z))
        np.testing.assert_allclose(model.predict_proba(Zd).compute(), local.predict_proba(Z), rtol=1e-10)
