"""Random number helpers: one NumPy Generator per call, the same numbers on every backend.

Random matrices are drawn on the host from a :class:`numpy.random.Generator` and moved to the
backend's device, so that a seed gives bit-identical sketches on CPU and GPU.
"""

import numbers

import numpy as np

from ..exceptions import ArgumentTypeError, ValidationError

__all__ = ["RANDOM_STATE_TYPES", "check_random_state", "rademacher", "standard_normal", "uniform_integers"]


RANDOM_STATE_TYPES = "None, an int seed >= 0, a numpy.random.Generator, a SeedSequence or a legacy RandomState"


def check_random_state(random_state, name="random_state"):
    """Turn ``random_state`` into a :class:`numpy.random.Generator`: the one rule for functions and estimators.

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence, numpy.random.Generator or numpy.random.RandomState
        None draws fresh entropy, an int or SeedSequence seeds a new PCG64 generator, and a
        Generator is returned as is (so consecutive calls continue its stream).  A legacy
        RandomState (what ``sklearn.utils.check_random_state`` returns) seeds a new generator with
        one draw from its stream, so it too advances between calls.
    name : str, default="random_state"
        Argument name used in error messages.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    ValidationError
        For a negative int seed.
    ArgumentTypeError
        For any other type.
    """
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValidationError(f"{name} must be a non-negative integer seed, got {random_state}; pass abs(seed)")
        return np.random.default_rng(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**63 - 1, dtype=np.int64)))
    raise ArgumentTypeError(f"{name} must be {RANDOM_STATE_TYPES}, got {type(random_state).__name__} "
                            f"{random_state!r}; pass an int seed or numpy.random.default_rng(seed)")


def standard_normal(rng, shape, *, dtype, backend):
    """Standard normal array drawn on the host in float64, cast to ``dtype`` on ``backend``."""
    return backend.asarray(backend.from_host(rng.standard_normal(shape)), dtype=dtype)


def rademacher(rng, shape, *, dtype, backend):
    """Array of independent random signs (+1 or -1 with probability 1/2) on ``backend``."""
    signs = 1.0 - 2.0 * rng.integers(0, 2, size=shape, dtype=np.int8)
    return backend.asarray(backend.from_host(signs), dtype=dtype)


def uniform_integers(rng, low, high, shape, *, backend):
    """int64 array of uniform integers in ``[low, high)`` on ``backend``."""
    return backend.from_host(rng.integers(low, high, size=shape, dtype=np.int64))
