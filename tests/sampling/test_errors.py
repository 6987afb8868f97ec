"""Bad inputs: each raises a LinalgkitError subclass whose message names the argument and the fix."""

import array_api_strict
import numpy as np
import pytest

from linalgkit.exceptions import ArgumentTypeError, BackendError, LinalgkitError, NonFiniteError, ValidationError
from linalgkit.sampling import (leverage_scores, lewis_weights, lp_regression, lp_sensitivities, sampling_scores,
                                sensitivity_sample, total_sensitivity)

A = np.random.default_rng(0).standard_normal((50, 3))
B = np.random.default_rng(1).standard_normal(50)
RANK_DEFICIENT = np.column_stack([A, A[:, 0] + A[:, 1]])
WITH_NAN = A.copy()
WITH_NAN[3, 1] = np.nan

CALLS = {
    "leverage_scores": lambda M: leverage_scores(M),
    "lewis_weights": lambda M: lewis_weights(M, 1),
    "lp_sensitivities": lambda M: lp_sensitivities(M, 1, method="lewis_bound"),
    "sensitivity_sample": lambda M: sensitivity_sample(M, 1, 10),
    "lp_regression": lambda M: lp_regression(M, B, 1),
}


@pytest.mark.parametrize("name", CALLS)
def test_rank_deficient_a_says_so(name):
    with pytest.raises(ValidationError, match=r"A must have full column rank.*rank-deficient.*drop dependent"):
        CALLS[name](RANK_DEFICIENT)


@pytest.mark.parametrize("name", CALLS)
def test_nan_is_rejected(name):
    with pytest.raises(NonFiniteError, match=r"A must be finite.*remove or impute"):
        CALLS[name](WITH_NAN)


@pytest.mark.parametrize("call", [lambda p: lewis_weights(A, p), lambda p: sensitivity_sample(A, p, 10),
                                  lambda p: lp_sensitivities(A, p, method="lewis_bound"),
                                  lambda p: sampling_scores(A, p)])
@pytest.mark.parametrize("p", [0, -1.5, np.inf])
def test_p_must_be_positive(call, p):
    with pytest.raises(ValidationError, match=r"p must be finite with p > 0.*pass e.g. p=1"):
        call(p)


@pytest.mark.parametrize("call", [lambda: lp_regression(A, B, 0.5), lambda: lp_sensitivities(A, 0.5),
                                  lambda: total_sensitivity(A, 0.5)])
def test_regression_methods_need_p_at_least_one(call):
    with pytest.raises(ValidationError, match=r"p must be finite with p >= 1 .*not convex"):
        call()


def test_p_must_be_a_number():
    with pytest.raises(ArgumentTypeError, match="p must be a real number, got str"):
        lewis_weights(A, "1")


@pytest.mark.parametrize("call", [lambda: sensitivity_sample(A, 1, 51), lambda: lp_regression(A, B, 1, m=51),
                                  lambda: lp_sensitivities(A, 1, method="approximate", m=51)])
def test_m_larger_than_n(call):
    with pytest.raises(ValidationError, match=r"m must be at most the number of rows n = 50, got 51; pass m <= 50"):
        call()


@pytest.mark.parametrize("call, argument", [(lambda: leverage_scores(A, method="qr"), "method"),
                                            (lambda: lewis_weights(A, 1, method="fast"), "method"),
                                            (lambda: sensitivity_sample(A, 1, 10, scores="lev"), "scores"),
                                            (lambda: lp_regression(A, B, 1, method="lp"), "method"),
                                            (lambda: lp_sensitivities(A, 1, method="bound"), "method")])
def test_bad_options(call, argument):
    with pytest.raises(ValidationError, match=rf"{argument} must be one of"):
        call()


def test_sketched_lewis_needs_p_below_4():
    with pytest.raises(ValidationError, match=r"method must be 'exact' for p >= 4.*pass method='exact'"):
        lewis_weights(A, 4, method="sketched")


def test_non_positive_start_and_scores():
    with pytest.raises(ValidationError, match=r"x0 must hold positive starting weights.*x0=None"):
        lewis_weights(A, 1, x0=np.zeros(50))
    with pytest.raises(ValidationError, match=r"scores must be non-negative.*scores='lewis'"):
        sensitivity_sample(A, 1, 10, scores=-np.ones(50))


def test_wide_matrix_and_mismatched_b():
    with pytest.raises(LinalgkitError, match=r"A must have at least as many rows as columns.*transpose"):
        leverage_scores(A.T)
    with pytest.raises(LinalgkitError, match=r"b must have as many rows as A"):
        lp_regression(A, B[:-1], 1)


def test_lp_regression_refuses_device_arrays():
    with pytest.raises(BackendError, match=r"A is a generic array.*pass NumPy arrays"):
        lp_regression(array_api_strict.asarray(A), array_api_strict.asarray(B), 1)
