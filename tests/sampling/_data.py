"""Shared test data of the sampling family."""

import functools

import numpy as np
import scipy.linalg


@functools.lru_cache(maxsize=None)
def heavy_rows(n=2000, d=8, seed=0):
    """Gaussian rows scaled by |Cauchy| (heavy-tailed row norms), read-only."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d)) * np.abs(rng.standard_cauchy((n, 1)))
    A.setflags(write=False)
    return A


def qr_leverage(A):
    """Reference leverage scores: squared row norms of LAPACK's thin Q."""
    Q = scipy.linalg.qr(A, mode="economic")[0]
    return np.sum(Q * Q, axis=1)


def lewis_residual(A, w, p):
    r"""Reference fixed-point residual max |T(w)/w - 1|, T through the QR of W^{1/2-1/p} A (no code under test)."""
    scale = w ** (0.5 - 1 / p)
    R = scipy.linalg.qr(A * scale[:, None], mode="r")[0][: A.shape[1]]
    Tw = np.sum(scipy.linalg.solve_triangular(R, A.T, trans="T") ** 2, axis=0) ** (p / 2)
    return float(np.max(np.abs(Tw / w - 1)))
