"""The least-squares test-problem generator: its stated properties, checked against LAPACK."""

import numpy as np
import pytest
import scipy.linalg

from linalgkit.datasets._regression import make_lstsq_problem
from linalgkit.exceptions import ValidationError


@pytest.mark.parametrize("coherent", [False, True])
def test_problem_has_the_stated_solution(coherent):
    p = make_lstsq_problem(500, 12, cond=1e4, residual_norm=0.3, coherent=coherent, random_state=0)
    np.testing.assert_allclose(np.linalg.cond(p.A), 1e4, rtol=1e-8)
    np.testing.assert_allclose(np.linalg.norm(np.linalg.pinv(p.A), 2), p.pinv_norm, rtol=1e-8)
    np.testing.assert_allclose(np.linalg.norm(p.residual), 0.3, rtol=1e-12)
    assert np.abs(p.A.T @ p.residual).max() <= 1e-13
    np.testing.assert_allclose(p.b - p.A @ p.x, p.residual, atol=1e-14)
    np.testing.assert_allclose(scipy.linalg.lstsq(p.A, p.b)[0], p.x, rtol=1e-9)


def test_coherent_range_sits_on_the_first_rows():
    p = make_lstsq_problem(300, 5, coherent=True, random_state=1)
    leverage = np.sum(np.linalg.qr(p.A)[0] ** 2, axis=1)
    np.testing.assert_allclose(leverage[:5], 1, rtol=1e-10)
    assert np.abs(p.A[5:]).max() == 0


def test_same_seed_same_problem():
    first, again = (make_lstsq_problem(100, 4, random_state=7) for _ in range(2))
    np.testing.assert_array_equal(first.A, again.A)
    np.testing.assert_array_equal(first.b, again.b)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=5, d=5), r"d must be in \[1, 4\]"),
    (dict(n=10, d=3, cond=0.5), r"cond must be in \[1.0, 1.79[0-9.e+]*\]"),
    (dict(n=10, d=3, residual_norm=-1.0), "residual_norm must be in"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        make_lstsq_problem(**kwargs)
