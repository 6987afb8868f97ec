"""Random number helpers: one NumPy Generator per call, the same numbers on every backend.

Random matrices are drawn on the host from a :class:`numpy.random.Generator` and moved to the
backend's device, so that a seed gives bit-identical sketches on CPU and GPU.
"""

import numbers

import numpy as np

__all__ = ["check_random_state", "rademacher", "standard_normal", "uniform_integers"]


def check_random_state(random_state, name="random_state"):
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        None draws fresh entropy, an int or SeedSequence seeds a new PCG64 generator, and a
        Generator is returned as is (so consecutive calls continue its stream).
    name : str, default="random_state"
        Argument name used in error messages.

    Returns
    -------
    numpy.random.Generator
    """
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"{name} must be a non-negative integer seed, got {random_state}; pass abs(seed)")
        return np.random.default_rng(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        raise TypeError(
            f"{name} is a legacy numpy.random.RandomState; pass an int seed or numpy.random.default_rng(seed)"
        )
    raise TypeError(
        f"{name} must be None, an int seed or a numpy.random.Generator, got {type(random_state).__name__}"
    )


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
