"""Every exception class of linalgkit.exceptions: its place in the hierarchy, and a public call that raises it.

The table is over the module's ``__all__``, so a new class without a row fails here.
"""

import inspect

import array_api_strict
import numpy as np
import pytest

import linalgkit
from linalgkit import exceptions, spd
from linalgkit.regression import lstsq_sketched
from linalgkit.sketch import make_sketch
from linalgkit.transforms import fwht

RNG = np.random.default_rng(0)
A, B = RNG.standard_normal((3000, 5)), RNG.standard_normal(3000)
INDEFINITE = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and -1

# class -> (the built-in it promises, a public call raising it, what the message must say)
ERRORS = {
    exceptions.LinalgkitError: (Exception, None, None),
    exceptions.ValidationError: (ValueError, lambda: lstsq_sketched(A, B, eps=2.0), "eps must be in"),
    exceptions.ShapeError: (ValueError, lambda: lstsq_sketched(A[:, 0], B), r"A must be 2-D, got shape \(3000,\)"),
    exceptions.NonFiniteError: (ValueError, lambda: lstsq_sketched(A, np.where(B > 1, np.nan, B)),
                                "b must be finite"),
    exceptions.NotSPDError: (ValueError, lambda: spd.distance(INDEFINITE, np.eye(2)), "positive definite"),
    exceptions.ArgumentTypeError: (TypeError, lambda: make_sketch("gaussian", 4, 10, random_state="seed"),
                                   "random_state must be"),
    exceptions.DTypeError: (TypeError, lambda: fwht(np.ones(8, dtype=np.float16)), "x must have a floating dtype"),
    exceptions.NotSupportedError: (NotImplementedError,
                                   lambda: spd.parallel_transport(np.eye(2), np.diag([1.0, 2.0]), np.eye(2),
                                                                  metric="bkm"),
                                   "pole_ladder_transport"),
    exceptions.BackendError: (TypeError, lambda: fwht(np.ones(8), out=array_api_strict.ones(8)),
                              "never moves data between libraries"),
}
WARNINGS = {
    exceptions.ConvergenceWarning: lambda: spd.mean(spd_batch(), maxiter=1, rtol=1e-14),
    exceptions.RankDeficiencyWarning: lambda: lstsq_sketched(np.column_stack([A, A[:, 0]]), B, random_state=0),
}


def spd_batch():
    from linalgkit.datasets import make_spd_matrices

    return make_spd_matrices(10, 4, cond=100, random_state=0)


def _public_classes():
    return [getattr(exceptions, name) for name in exceptions.__all__ if inspect.isclass(getattr(exceptions, name))]


def test_every_class_has_a_row():
    classes = set(_public_classes())
    assert classes == set(ERRORS) | set(WARNINGS), sorted(c.__name__ for c in classes ^ (set(ERRORS) | set(WARNINGS)))


@pytest.mark.parametrize("error", list(ERRORS), ids=lambda c: c.__name__)
def test_each_error_subclasses_linalgkit_error_and_its_builtin(error):
    builtin, _, _ = ERRORS[error]
    assert issubclass(error, exceptions.LinalgkitError) and issubclass(error, builtin)


@pytest.mark.parametrize("error", [e for e in ERRORS if ERRORS[e][1] is not None], ids=lambda c: c.__name__)
def test_a_public_call_raises_each_error(error):
    builtin, call, match = ERRORS[error]
    with pytest.raises(error, match=match) as info:
        call()
    assert type(info.value) is error  # the most specific class, not a parent
    with pytest.raises(linalgkit.LinalgkitError):
        call()
    with pytest.raises(builtin):
        call()


@pytest.mark.parametrize("warning", list(WARNINGS), ids=lambda c: c.__name__)
def test_warnings_are_user_warnings_emitted_by_a_public_call(warning):
    assert issubclass(warning, UserWarning) and not issubclass(warning, exceptions.LinalgkitError)
    with pytest.warns(warning):
        WARNINGS[warning]()


def test_the_package_exports_the_base_class_and_the_warnings():
    assert linalgkit.LinalgkitError is exceptions.LinalgkitError
    assert linalgkit.ConvergenceWarning is exceptions.ConvergenceWarning
    assert linalgkit.RankDeficiencyWarning is exceptions.RankDeficiencyWarning
