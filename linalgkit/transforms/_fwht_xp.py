"""Pure array-API Walsh-Hadamard transform: the fallback for libraries without a native kernel."""

import math


def transform(xp, x, axis, scale):
    """Unnormalized transform of ``x`` along ``axis`` times ``scale``, one reshape per stage."""
    moved = xp.moveaxis(x, axis, -1)
    shape = moved.shape
    n = shape[-1]
    batch = math.prod(shape[:-1])
    y = xp.reshape(moved, (batch, n))
    h = 1
    while h < n:
        pairs = xp.reshape(y, (batch, n // (2 * h), 2, h))
        low, high = pairs[:, :, 0, :], pairs[:, :, 1, :]
        y = xp.stack([low + high, low - high], axis=2)
        h *= 2
    y = xp.reshape(y, shape)
    if scale != 1:
        y = y * scale
    return xp.moveaxis(y, -1, axis)
