"""Hostile input, table-driven (issue 11): every case is a value within a tolerance of an independent
reference (pyRiemann, mpmath, a closed form) or an error class plus the argument its message names.

Classes: 1 batch size, 2 scales, 3 definiteness, 4 kernel metrics, 5 means, 6 cancellation, 7 errors,
8 scikit-learn checks (the ``check_estimator`` run is in test_estimators.py).
"""

import warnings
from dataclasses import dataclass

import mpmath
import numpy as np
import pytest
import scipy.sparse as sps
from pyriemann.geometry import distance as pyr_distance
from pyriemann.geometry import geodesic as pyr_geodesic
from pyriemann.geometry import mean as pyr_mean

from linalgkit import spd
from linalgkit.datasets import make_spd_matrices
from linalgkit.exceptions import (ConvergenceWarning, DTypeError, LinalgkitError, NotSPDError, NotSupportedError,
                                  ShapeError, ValidationError)


def _spd(n, cond, seed, count=None):
    """SPD matrices with eigenvalues log-spaced exactly on ``[1, cond]`` (so the condition number is ``cond``)."""
    rng = np.random.default_rng(seed)
    shape = (n, n) if count is None else (count, n, n)
    Q = np.linalg.qr(rng.standard_normal(shape))[0]
    X = (Q * np.logspace(0, np.log10(cond), n)[..., None, :]) @ np.swapaxes(Q, -1, -2)
    return (X + np.swapaxes(X, -1, -2)) / 2


def _mp_ai_squared(A, B):
    """Affine-invariant squared distance in 50-digit arithmetic."""
    with mpmath.workdps(50):
        L_inv = mpmath.inverse(mpmath.cholesky(mpmath.matrix(B.tolist())))
        values = mpmath.eigsy(L_inv * mpmath.matrix(A.tolist()) * L_inv.T, eigvals_only=True)
        return float(mpmath.fsum(mpmath.log(v) ** 2 for v in values))


def _mp_karcher_gradient(M, X):
    r""":math:`\|\frac1N\sum_i \log(L^{-1} X_i L^{-T})\|_F` at ``M = L L^T``, in 50-digit arithmetic (0 at the mean)."""
    with mpmath.workdps(50):
        L_inv = mpmath.inverse(mpmath.cholesky(mpmath.matrix(M.tolist())))
        total = mpmath.zeros(M.shape[0])
        for Xi in X:
            values, vectors = mpmath.eigsy(L_inv * mpmath.matrix(Xi.tolist()) * L_inv.T)
            total += vectors * mpmath.diag([mpmath.log(v) for v in values]) * vectors.T
        return float(mpmath.mnorm(total / len(X), "f"))


def _mp_bw_gradient(M, X):
    r""":math:`\|\bar T - I\|_M / \sqrt{\operatorname{tr} M}` at ``M`` in 50-digit arithmetic (0 at the mean).

    :math:`\bar T = \frac1N \sum_i M^{-1/2}(M^{1/2} X_i M^{1/2})^{1/2} M^{-1/2}`, and the Bures-Wasserstein
    gradient norm is :math:`\|G\|_M^2 = \operatorname{tr}((\bar T - I) M (\bar T - I))`.
    """
    with mpmath.workdps(50):
        Mm = mpmath.matrix(M.tolist())
        d, Q = mpmath.eigsy(Mm)
        R = Q * mpmath.diag([mpmath.sqrt(v) for v in d]) * Q.T
        R_inv = Q * mpmath.diag([1 / mpmath.sqrt(v) for v in d]) * Q.T
        T = mpmath.zeros(M.shape[0])
        for Xi in X:
            e, P = mpmath.eigsy(R * mpmath.matrix(Xi.tolist()) * R)
            T += R_inv * P * mpmath.diag([mpmath.sqrt(v) for v in e]) * P.T * R_inv
        D = T / len(X) - mpmath.eye(M.shape[0])
        DMD = D * Mm * D
        return float(mpmath.sqrt(mpmath.fsum(DMD[i, i] for i in range(M.shape[0])) / mpmath.fsum(d)))


def _commuting(n, cond, seed):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    a, b = np.logspace(0, np.log10(cond), n), rng.permutation(np.logspace(0, np.log10(cond), n))
    return (Q * a) @ Q.T, (Q * b) @ Q.T, a, b


def _below_floor(n=4):
    """Symmetric matrix with smallest eigenvalue half the definiteness floor ``n eps lambda_max`` (positive)."""
    Q = np.linalg.qr(np.random.default_rng(7).standard_normal((n, n)))[0]
    d = np.ones(n)
    d[0] = 0.5 * n * np.finfo(float).eps
    return (Q * d) @ Q.T


@dataclass(frozen=True)
class Value:
    """Expect ``call()`` within ``rtol`` of ``reference()`` (relative to the largest reference entry)."""

    call: object
    reference: object
    rtol: float
    atol: float = 0.0


@dataclass(frozen=True)
class Raises:
    """Expect ``call()`` to raise ``error`` with a message matching ``names`` (the argument it blames)."""

    call: object
    error: type
    names: str


A4, B4 = _spd(4, 1e4, 1), _spd(4, 1e4, 2)
A7, B7 = _spd(4, 1e7, 3), _spd(4, 1e7, 4)
A10, B10 = _spd(4, 1e10, 5), _spd(4, 1e10, 6)
C1, D1, c1, d1 = _commuting(5, 1e7, 8)
C4, D4, c4, d4 = _commuting(4, 1e7, 12)
U, V = _spd(4, 10, 9), _spd(4, 10, 10)
BATCH = make_spd_matrices(200, 4, cond=10, random_state=11)
SINGULAR = _below_floor()
HARD = make_spd_matrices(10, 6, cond=1e14, random_state=0)  # pyRiemann's mean_riemann meets a NaN log here
C10, D10, c10, d10 = _commuting(4, 10, 13)
BW12 = make_spd_matrices(10, 4, cond=1e12, random_state=0)
BW_FLOOR = 4 * np.sqrt(4) * np.finfo(float).eps * np.sqrt(1e12)
"""The rounding floor of the BW mean's stopping rule over sqrt(tr M) for inputs of condition 1e12."""
SCALES = (1e-200, 1e-300, 1e200, 1e300)
TANGENT = 0.3 * (U - V)  # a tangent vector at U whose Exp stays in the cone for every metric below
EQUIVARIANT = {"AI": "affine_invariant", "LE": "log_euclidean", "E": "euclidean", "BW": "bures_wasserstein",
               "Cholesky": "cholesky", "log-Cholesky": "log_cholesky", "power-E(0.5)": spd.power_euclidean(0.5),
               "power-affine(0.5)": spd.power_affine(0.5)}
"""Metrics whose dilation X -> cX maps geodesics to geodesics: Exp, Log, geodesics and transports scale by c."""
INNER_DEGREE = {"AI": 0, "LE": 0, "E": 2, "BW": 1, "Cholesky": 1, "power-E(0.5)": 1, "power-affine(0.5)": 0}
"""k with g_{cS}(cU, cV) = c^k g_S(U, V), derived in docs/spd.rst (log-Cholesky has none)."""
MATRIX_OPS = {"Exp": lambda c, m: spd.exp(c * U, c * TANGENT, metric=m),
              "Log": lambda c, m: spd.log(c * U, c * V, metric=m),
              "geodesic": lambda c, m: spd.geodesic(c * U, c * V, 0.3, metric=m),
              "transport": lambda c, m: spd.parallel_transport(c * U, c * V, c * TANGENT, metric=m)}
TRANSPORTS = {"BW transport, commuting": lambda c: spd.parallel_transport(c * C10, c * D10, c * TANGENT,
                                                                        metric="bures_wasserstein"),
              "BW pole ladder": lambda c: spd.pole_ladder_transport(c * U, c * V, c * TANGENT)}
# At cond 1e14 rounding the inputs to float64 alone moves them by up to eps * cond = 2e-2 in the affine-invariant
# metric; the 50-digit gradient at the computed mean is 2.6e-6 (pyRiemann's mean_riemann gives NaN on HARD).


def _in_batch(A, B, **kwargs):
    """The pair ``(A, B)`` at position 57 of a batch of 200 (the lane kernels)."""
    X, Y = BATCH.copy(), BATCH[::-1].copy()
    X[57], Y[57] = A, B
    return spd.distance(X, Y, **kwargs)[57]


def _euclid_cancel(metric):
    X = np.stack([U, U + 1e-7 * V, U - 3e-8 * V])
    return spd.pairwise_distances(X, metric=metric)


def _pairs_by_difference(metric_fn):
    X = np.stack([U, U + 1e-7 * V, U - 3e-8 * V])
    return np.array([[metric_fn(a, b) for b in X] for a in X])


def _mdm_fitted():
    X = make_spd_matrices(12, 3, random_state=0)
    return spd.MDM().fit(X, np.arange(12) % 2), X


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def _scaled_inner(c, k, metric):
    """:math:`c^k g_U(T, V)` from the call at scale 1, the factor in mpmath (0 where it underflows float64)."""
    return float(mpmath.mpf(c) ** k * float(spd.inner(U, TANGENT, V, metric=metric)))


def _log_cholesky_inner(c):
    r""":math:`c\,a + b`: the log-Cholesky inner product has degree 1 on the strictly lower part of the chart's
    differential and 0 on its diagonal (no homogeneity); ``a``, ``b`` from the calls at scales 1 and 4."""
    at_1, at_4 = (float(spd.inner(s * U, s * TANGENT, s * V, metric="log_cholesky")) for s in (1.0, 4.0))
    a = (at_4 - at_1) / 3
    return float(mpmath.mpf(c) * a + (at_1 - a))


def _hard_and_easy_means():
    X = np.stack([HARD, make_spd_matrices(10, 6, random_state=21)])
    return spd.mean(X)


CASES = {
    # 1. one numerically sound path for every batch size
    "1 AI pair alone, cond 1e7, vs mpmath": Value(lambda: spd.distance(A7, B7, squared=True),
                                                 lambda: _mp_ai_squared(A7, B7), 1e-9),
    "1 AI pair in a batch, cond 1e7, vs mpmath": Value(lambda: _in_batch(A7, B7, squared=True),
                                                      lambda: _mp_ai_squared(A7, B7), 1e-9),
    "1 AI pair alone, cond 1e10, float64, vs mpmath": Value(lambda: spd.distance(A10, B10, squared=True),
                                                           lambda: _mp_ai_squared(A10, B10), 1e-6),
    "1 AI pair in a batch, cond 1e10, vs mpmath": Value(lambda: _in_batch(A10, B10, squared=True),
                                                       lambda: _mp_ai_squared(A10, B10), 1e-6),
    "1 AI pair alone = in a batch, cond 1e4": Value(lambda: spd.distance(A4, B4), lambda: _in_batch(A4, B4), 1e-12),
    "1 AI commuting pair alone, closed form": Value(lambda: spd.distance(C1, D1, squared=True),
                                                    lambda: np.sum(np.log(c1 / d1) ** 2), 1e-10),
    "1 AI commuting pair in a batch, closed form": Value(lambda: _in_batch(C4, D4, squared=True),
                                                         lambda: np.sum(np.log(c4 / d4) ** 2), 1e-10),
    "1 AI pairwise of 3 = the same pairs among 200": Value(
        lambda: spd.pairwise_distances(np.stack([A7, B7, A4]))[0, 1],
        lambda: spd.pairwise_distances(np.concatenate([BATCH[:100], np.stack([A7, B7]), BATCH[100:]]))[100, 101],
        1e-10),
    "1 BW pair alone = in a batch, cond 1e4": Value(lambda: spd.distance(A4, B4, metric="bures_wasserstein"),
                                                   lambda: _in_batch(A4, B4, metric="bures_wasserstein"), 1e-10),
    "1 LE pair alone = pyRiemann, cond 1e7": Value(lambda: spd.distance(A7, B7, metric="log_euclidean"),
                                                  lambda: pyr_distance.distance_logeuclid(A7, B7), 1e-10),
    # 2. extreme scales
    "2 BW at 1e-200 = sqrt(c) BW at 1": Value(
        lambda: spd.distance(1e-200 * U, 1e-200 * V, metric="bures_wasserstein") * 1e100,
        lambda: pyr_distance.distance_wasserstein(U, V), 1e-12),
    "2 Euclidean at 1e-200 = c ||A - B||": Value(lambda: spd.distance(1e-200 * U, 1e-200 * V, metric="euclidean")
                                                * 1e200, lambda: np.linalg.norm(U - V), 1e-14),
    "2 Cholesky at 1e-200 = sqrt(c) d": Value(lambda: spd.distance(1e-200 * U, 1e-200 * V, metric="cholesky") * 1e100,
                                             lambda: pyr_distance.distance_chol(U, V), 1e-12),
    "2 AI at 1e300 = AI at 1": Value(lambda: spd.distance(1e300 * U, 1e300 * V),
                                    lambda: pyr_distance.distance_riemann(U, V), 1e-12),
    "2 LE at 1e-250 = LE at 1": Value(lambda: spd.distance(1e-250 * U, 1e-250 * V, metric="log_euclidean"),
                                     lambda: pyr_distance.distance_logeuclid(U, V), 1e-11),
    "2 AI pairwise at 1e250": Value(lambda: spd.pairwise_distances(1e250 * BATCH[:20])[3, 7],
                                   lambda: pyr_distance.distance_riemann(BATCH[3], BATCH[7]), 1e-12),
    "2 BW mean at 1e-300": Value(lambda: spd.mean(1e-300 * BATCH[:10], metric="bures_wasserstein") * 1e300,
                                lambda: pyr_mean.mean_wasserstein(BATCH[:10], tol=1e-12), 1e-9),
    "2 AI mean at 1e280": Value(lambda: spd.mean(1e280 * BATCH[:10]) / 1e280,
                               lambda: pyr_mean.mean_riemann(BATCH[:10], tol=1e-12), 1e-9),
    "2 Euclidean squared at 1e300 overflows": Raises(
        lambda: spd.distance(1e300 * U, 1e300 * V, metric="euclidean", squared=True), ValidationError, "^overflow"),
    "2 power-Euclidean(2) at 1e200 overflows": Raises(
        lambda: spd.distance(1e200 * U, 1e200 * V, metric=spd.power_euclidean(2)), ValidationError, "^overflow.*A"),
    **{f"2 {op} {label} at {c:g} = c {op} at 1": Value(lambda op=op, m=m, c=c: MATRIX_OPS[op](c, m),
                                                      lambda op=op, m=m, c=c: c * MATRIX_OPS[op](1.0, m), 1e-12)
       for op in MATRIX_OPS for label, m in EQUIVARIANT.items() for c in SCALES
       if not (op == "transport" and label == "BW")},
    **{f"2 {label} at {c:g} = c {label} at 1": Value(lambda f=f, c=c: f(c), lambda f=f, c=c: c * f(1.0), 1e-12)
       for label, f in TRANSPORTS.items() for c in SCALES},
    **{f"2 inner {label} at {c:g} = c^{k} inner at 1": Value(
        lambda m=EQUIVARIANT[label], c=c: spd.inner(c * U, c * TANGENT, c * V, metric=m),
        lambda m=EQUIVARIANT[label], c=c, k=k: _scaled_inner(c, k, m), 1e-12)
       for label, k in INNER_DEGREE.items() for c in (*SCALES, 1e-150, 1e150) if not (label == "E" and c > 1e150)},
    **{f"2 inner E at {c:g} overflows (c^2 out of range)": Raises(
        lambda c=c: spd.inner(c * U, c * TANGENT, c * V, metric="euclidean"), ValidationError,
        "^overflow: the euclidean inner product") for c in (1e200, 1e300)},
    **{f"2 inner log-Cholesky at {c:g} = c a + b (not homogeneous)": Value(
        lambda c=c: spd.inner(c * U, c * TANGENT, c * V, metric="log_cholesky"),
        lambda c=c: _log_cholesky_inner(c), 1e-12) for c in SCALES},
    **{f"2 {metric} Exp at 1e308 overflows": Raises(
        lambda metric=metric: spd.exp(1e308 * np.eye(3), 1e308 * np.eye(3), metric=metric), ValidationError,
        f"^overflow: the {metric} Exp") for metric in ("euclidean", "affine_invariant")},
    # 3. one definiteness rule (smallest eigenvalue at most n eps times the largest)
    **{f"3 {metric} refuses a matrix below the floor": Raises(
        lambda metric=metric: spd.distance(SINGULAR, U, metric=metric), NotSPDError, "^A must be positive definite")
       for metric in ("affine_invariant", "log_euclidean", "bures_wasserstein", "cholesky", "log_cholesky")},
    "3 power_affine refuses it": Raises(lambda: spd.distance(U, SINGULAR, metric=spd.power_affine(0.5)), NotSPDError,
                                        "^B must be positive definite"),
    "3 AI pairwise refuses it": Raises(lambda: spd.pairwise_distances(np.stack([U, SINGULAR, V])), NotSPDError,
                                       r"^X\[1\] must be positive definite"),
    "3 lanes refuse it too": Raises(lambda: _in_batch(SINGULAR, U), NotSPDError, r"^A\[57\] must be positive"),
    "3 BW geodesic refuses it": Raises(lambda: spd.geodesic(SINGULAR, U, metric="bures_wasserstein"), NotSPDError,
                                       "^A must be positive definite"),
    "3 BW log refuses it": Raises(lambda: spd.log(U, SINGULAR, metric="bures_wasserstein"), NotSPDError,
                                  "^P must be positive definite"),
    "3 AI exp refuses a base point below the floor": Raises(lambda: spd.exp(SINGULAR, U), NotSPDError,
                                                            "^S must be positive definite"),
    "3 AI mean refuses a member": Raises(lambda: spd.mean(np.stack([U, V, SINGULAR])), NotSPDError, r"^X\[2\]"),
    "3 BW mean refuses a member": Raises(lambda: spd.mean(np.stack([U, V, SINGULAR]), metric="bures_wasserstein"),
                                         NotSPDError, r"^X\[2\]"),
    "3 BW geodesic at cond 1e10 = pyRiemann": Value(
        lambda: spd.geodesic(A10, B10, 0.3, metric="bures_wasserstein"),
        lambda: pyr_geodesic.geodesic_wasserstein(A10, B10, 0.3), 1e-7),
    # 4. kernel metrics converge on easy input
    "4 MPE(1, 1) = Euclidean": Value(lambda: spd.distance(U, V, metric=spd.mixed_power_euclidean(1, 1)),
                                     lambda: np.linalg.norm(U - V), 1e-8),
    **{f"4 MPE{theta} commuting = power-Euclidean closed form": Value(
        lambda theta=theta: spd.distance(C10, D10, metric=spd.mixed_power_euclidean(*theta)),
        lambda theta=theta: np.linalg.norm((c10 ** (sum(theta) / 2) - d10 ** (sum(theta) / 2)) / (sum(theta) / 2)),
        1e-8)
       for theta in ((2, 1), (1, 2), (0.5, 1), (1, 0.5))},
    **{f"4 MPE{theta} Exp(Log) round trip, cond 10": Value(
        lambda theta=theta: spd.exp(U, spd.log(U, V, metric=spd.mixed_power_euclidean(*theta)),
                                    metric=spd.mixed_power_euclidean(*theta)), lambda: V, 1e-8)
       for theta in ((2, 1), (1, 2), (0.5, 1), (1, 0.5))},
    "4 BKM Exp(Log) of a batch, cond 10": Value(
        lambda: spd.exp(BATCH[:3], spd.log(BATCH[:3], BATCH[3:6], metric="bkm"), metric="bkm"),
        lambda: BATCH[3:6], 1e-8),
    # 5. means under stress
    "5 Karcher mean at cond 1e14: gradient 0 in 50 digits": Value(
        lambda: _mp_karcher_gradient(spd.mean(HARD), HARD), lambda: 0.0, 0, 1e-5),  # see KARCHER_FLOOR
    "5 a hard problem does not stop an easy one": Value(
        lambda: _hard_and_easy_means()[1],
        lambda: pyr_mean.mean_riemann(make_spd_matrices(10, 6, random_state=21), tol=1e-12), 1e-9),
    "5 BW mean, scales spread over 1e12 = pyRiemann": Value(
        lambda: spd.mean(BATCH[:10] * np.logspace(0, 12, 10)[:, None, None], metric="bures_wasserstein"),
        lambda: _quiet(lambda: pyr_mean.mean_wasserstein(BATCH[:10] * np.logspace(0, 12, 10)[:, None, None],
                                                         maxiter=500, tol=1e-14)), 1e-9),
    "5 BW mean, inputs of condition 1e12: gradient below the rounding floor in 50 digits": Value(
        lambda: _mp_bw_gradient(spd.mean(BW12, metric="bures_wasserstein"), BW12), lambda: 0.0, 0, BW_FLOOR),
    "5 BW mean, inputs of condition 1e12 = pyRiemann": Value(
        lambda: spd.mean(BW12, metric="bures_wasserstein"),
        lambda: _quiet(lambda: pyr_mean.mean_wasserstein(BW12, maxiter=500, tol=1e-13)), 1e-8),
    # 6. cancellation in flat pairwise distances
    "6 Euclidean pairwise 1e-7 apart": Value(lambda: _euclid_cancel("euclidean"),
                                             lambda: _pairs_by_difference(pyr_distance.distance_euclid), 1e-8),
    "6 LE pairwise 1e-7 apart": Value(lambda: _euclid_cancel("log_euclidean"),
                                      lambda: _pairs_by_difference(pyr_distance.distance_logeuclid), 1e-7),
    "6 Cholesky pairwise 1e-7 apart": Value(lambda: _euclid_cancel("cholesky"),
                                            lambda: _pairs_by_difference(pyr_distance.distance_chol), 1e-7),
    # 7. errors that name the argument, inputs that should work
    "7 batches of different lengths": Raises(lambda: spd.distance(BATCH[:4], BATCH[:5]), ShapeError, "A and B"),
    "7 inner, mismatched n": Raises(lambda: spd.inner(np.eye(3), np.eye(4), np.eye(4)), ShapeError, "S and U and V"),
    "7 exp, mismatched n": Raises(lambda: spd.exp(np.eye(3), np.eye(4)), ShapeError, "S and V"),
    "7 mean(init=), mismatched n": Raises(lambda: spd.mean(BATCH[:3], init=np.eye(3)), ShapeError, "init"),
    "7 pairwise, mismatched n": Raises(lambda: spd.pairwise_distances(BATCH[:3], np.eye(3)[None]), ShapeError,
                                       "X and Y"),
    "7 tangent_space, mismatched reference": Raises(lambda: spd.tangent_space(BATCH[:3], np.eye(3)), ShapeError,
                                                    "reference"),
    "7 make_spd_matrices(cond=inf)": Raises(lambda: make_spd_matrices(3, 4, cond=np.inf), ValidationError, "^cond"),
    "7 MDM sample_weight of the wrong length": Raises(
        lambda: spd.MDM().fit(BATCH[:6], np.arange(6) % 2, sample_weight=np.ones(5)), ShapeError, "sample_weight"),
    "7 transport a kernel metric lacks": Raises(lambda: spd.parallel_transport(U, V, U, metric="bkm"),
                                                NotSupportedError, "pole_ladder_transport"),
    "7 BW transport of non-commuting pair": Raises(
        lambda: spd.parallel_transport(U, V, U, metric="bures_wasserstein"), NotSupportedError, "pole_ladder"),
    "7 sparse input": Raises(lambda: spd.distance(sps.csr_matrix(np.eye(3)), np.eye(3)), DTypeError,
                             "^A .*sparse input is not supported"),
    "7 sliced_embedding(p=0.5)": Raises(lambda: spd.sliced_embedding(np.zeros((2, 3, 4)), p=0.5), ValidationError,
                                        "^p must"),
    "7 draw_directions(0, 10)": Raises(lambda: spd.draw_directions(0, 10), ValidationError, "^n must"),
    "7 mean of no matrix": Raises(lambda: spd.mean(np.zeros((0, 3, 3))), ShapeError, "^X must"),
    "7 integer arrays are cast": Value(lambda: spd.distance(np.diag([1, 4, 9]), np.eye(3, dtype=int)),
                                       lambda: pyr_distance.distance_riemann(np.diag([1.0, 4, 9]), np.eye(3)), 1e-14),
    "7 empty batch: distance": Value(lambda: spd.distance(np.zeros((0, 3, 3)), np.eye(3)), lambda: np.zeros(0), 0),
    "7 empty batch: pairwise": Value(lambda: spd.pairwise_distances(np.zeros((0, 3, 3)), BATCH[:2, :3, :3]),
                                     lambda: np.zeros((0, 2)), 0),
    "7 empty batch: log": Value(lambda: spd.log(np.eye(3), np.zeros((0, 3, 3))), lambda: np.zeros((0, 3, 3)), 0),
    "7 empty batch: tangent_space": Value(lambda: spd.tangent_space(np.zeros((0, 3, 3)), np.eye(3)),
                                          lambda: np.zeros((0, 6)), 0),
    "7 empty leading batch: mean": Value(lambda: spd.mean(np.zeros((0, 5, 3, 3))), lambda: np.zeros((0, 3, 3)), 0),
    # 8. scikit-learn's target checks and n_features_in_
    "8 MDM refuses a continuous target": Raises(lambda: spd.MDM().fit(BATCH[:6], np.linspace(0, 1, 6)),
                                                ValidationError, "^y must hold class labels.*continuous"),
    "8 MDM refuses a single class": Raises(lambda: spd.MDM().fit(BATCH[:6], np.ones(6)), ValidationError,
                                           "1 class"),
    "8 n_features_in_ is n": Value(lambda: _mdm_fitted()[0].n_features_in_, lambda: 3, 0),
    "8 predict checks n_features_in_": Raises(lambda: _mdm_fitted()[0].predict(BATCH[:2]), ShapeError,
                                              "^X has 4 features, but MDM is expecting 3 features as input"),
    "8 empty fit": Raises(lambda: spd.FrechetMean().fit(np.zeros((0, 3, 3))), ShapeError, "0 samples"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_hostile_case(case):
    expectation = CASES[case]
    if isinstance(expectation, Raises):
        with pytest.raises(expectation.error, match=expectation.names):
            expectation.call()
        return
    value, reference = np.asarray(expectation.call()), np.asarray(expectation.reference(), dtype=float)
    assert value.shape == reference.shape
    scale = np.max(np.abs(reference)) if reference.size else 0.0
    assert np.all(np.abs(value - reference) <= expectation.rtol * scale + expectation.atol), (value, reference)


def test_every_class_has_cases():
    assert {name.split()[0] for name in CASES} == {str(k) for k in range(1, 9)}


def test_shooting_failure_says_so():
    with pytest.warns(ConvergenceWarning, match="shooting failed.*n_steps"):
        spd.distance(U, V, metric=spd.mixed_power_euclidean(2, 1, maxiter=1))


def test_means_never_report_a_nan_gradient():
    result = spd.mean(HARD, return_info=True)
    assert result.converged and np.all(np.isfinite(result.history))


def test_errors_are_linalgkit_errors():
    for name, expectation in CASES.items():
        if isinstance(expectation, Raises):
            assert issubclass(expectation.error, LinalgkitError), name
