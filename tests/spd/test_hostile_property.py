"""Property test of hostile input (issue 11): a right answer or a LinalgkitError, never a crash, and the same
answer for a pair alone as in a batch, over sizes, batch shapes, conditions, scales, dtypes and memory layouts.

"Right" is the reference distance (pyRiemann; mpmath for affine-invariant and Bures-Wasserstein) of the
unscaled float64 pair times the metric's homogeneity factor, within a tolerance set by the dtype and the
condition number.
"""

import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyriemann.geometry import distance as pyr

from linalgkit import spd
from linalgkit.exceptions import LinalgkitError
from tests.spd.test_hostile import _mp_ai_squared

def _mp_bw(A, B):
    r"""Bures-Wasserstein distance in 50-digit arithmetic: :math:`d^2 = \operatorname{tr}A + \operatorname{tr}B
    - 2\operatorname{tr}(A^{1/2}BA^{1/2})^{1/2}` (pyRiemann's float64 square roots give NaN at condition 1e10)."""
    with mpmath.workdps(50):
        values, vectors = mpmath.eigsy(mpmath.matrix(A.tolist()))
        root = vectors * mpmath.diag([mpmath.sqrt(v) for v in values]) * vectors.T
        inner = mpmath.eigsy(root * mpmath.matrix(B.tolist()) * root, eigvals_only=True)
        squared = mpmath.fsum(A.diagonal().tolist() + B.diagonal().tolist()) - 2 * mpmath.fsum(
            mpmath.sqrt(max(v, 0)) for v in inner)
        return float(mpmath.sqrt(max(squared, 0)))


METRICS = {  # name: (reference, homogeneity k of d^2(cA, cB) = c^k d^2(A, B)); AI and BW by mpmath (pyRiemann's
    # float64 eigenvalues and square roots lose the digits this test asks for at condition 1e10)
    "affine_invariant": (lambda A, B: np.sqrt(_mp_ai_squared(A, B)), 0),
    "log_euclidean": (pyr.distance_logeuclid, 0),
    "bures_wasserstein": (_mp_bw, 1),
    "euclidean": (pyr.distance_euclid, 2),
    "cholesky": (pyr.distance_chol, 1),
}


def _spd(rng, count, n, cond):
    Q = np.linalg.qr(rng.standard_normal((count, n, n)))[0]
    d = np.exp(rng.uniform(0, np.log(cond), (count, n)))
    d[:, 0], d[:, -1] = 1.0, cond  # condition number exactly cond (n > 1)
    X = (Q * d[:, None, :]) @ np.swapaxes(Q, -1, -2)
    return (X + np.swapaxes(X, -1, -2)) / 2


def _layout(X, kind):
    """The same values in another memory layout: Fortran order, or a strided view into a larger array."""
    if kind == "fortran":
        return np.asfortranarray(X)
    if kind == "strided":
        big = np.zeros((*X.shape[:-2], 2 * X.shape[-2], 2 * X.shape[-1]), dtype=X.dtype)
        big[..., ::2, ::2] = X
        return big[..., ::2, ::2]
    return X


@st.composite
def problems(draw):
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    n = draw(st.integers(1, 6))
    shape = draw(st.sampled_from([(), (1,), (3,), (2, 2), (130,)]))
    log_cond = draw(st.floats(0, 10 if dtype is np.float64 else 3))
    limit = 250 if dtype is np.float64 else 15
    log_scale = draw(st.floats(-limit, limit))
    return dict(dtype=dtype, n=n, shape=shape, cond=10.0**log_cond if n > 1 else 1.0, scale=10.0**log_scale,
                metric=draw(st.sampled_from(sorted(METRICS))), layout=draw(st.sampled_from(["c", "fortran", "strided"])),
                seed=draw(st.integers(0, 2**31)))


def _tolerance(dtype, cond):
    eps = float(np.finfo(dtype).eps)
    return min(1e-1, 1e3 * eps * cond)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_right_answer_or_linalgkit_error_and_alone_equals_batch(p):
    rng = np.random.default_rng(p["seed"])
    count = int(np.prod(p["shape"], dtype=int))
    A64, B64 = _spd(rng, count, p["n"], p["cond"]), _spd(rng, count, p["n"], p["cond"])
    A = _layout((p["scale"] * A64).astype(p["dtype"]).reshape(*p["shape"], p["n"], p["n"]), p["layout"])
    B = _layout((p["scale"] * B64).astype(p["dtype"]).reshape(*p["shape"], p["n"], p["n"]), p["layout"])
    reference, degree = METRICS[p["metric"]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            batch = spd.distance(A, B, metric=p["metric"])
    except LinalgkitError:
        return  # a clear error is an allowed outcome; a crash (any other exception) fails the test
    batch = np.asarray(batch, dtype=float).reshape(-1)
    assert batch.shape == (count,) and np.all(np.isfinite(batch))
    factor = p["scale"] ** (degree / 2)
    # the reference sees the rounded inputs, unscaled, in float64
    A_in = np.asarray(A, dtype=float).reshape(-1, p["n"], p["n"]) / p["scale"]
    B_in = np.asarray(B, dtype=float).reshape(-1, p["n"], p["n"]) / p["scale"]
    rtol = _tolerance(p["dtype"], p["cond"])
    for k in sorted({0, count // 2, count - 1}):
        expected = reference(A_in[k], B_in[k]) * factor
        # Bures-Wasserstein: d^2 = tr A + tr B - 2 tr (A^1/2 B A^1/2)^1/2 carries an absolute error
        # eps (tr A + tr B), so d near 0 is known to sqrt(eps (tr A + tr B)) only (pyRiemann's and POT's too)
        # and every distance of (nearly) equal matrices is known to about n eps cond in the metric's units
        eps = float(np.finfo(p["dtype"]).eps)
        floor = 10 * p["n"] * eps * p["cond"] * factor * np.linalg.norm(A_in[k]) ** (degree / 2)
        if p["metric"] == "bures_wasserstein":
            floor += 10 * factor * np.sqrt(eps * (np.trace(A_in[k]) + np.trace(B_in[k])))
        tolerance = rtol * abs(expected) + floor
        assert abs(batch[k] - expected) <= tolerance, (k, batch[k], expected)
        alone = float(spd.distance(A.reshape(-1, p["n"], p["n"])[k], B.reshape(-1, p["n"], p["n"])[k],
                                   metric=p["metric"]))
        assert abs(alone - batch[k]) <= tolerance, (k, alone, batch[k])


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_pairwise_alone_equals_in_a_larger_set(metric):
    rng = np.random.default_rng(3)
    X = _spd(rng, 140, 4, 1e6)
    small = spd.pairwise_distances(X[:3], metric=metric)
    large = spd.pairwise_distances(X, metric=metric)[:3, :3]
    np.testing.assert_allclose(small, large, rtol=1e-9, atol=0)
