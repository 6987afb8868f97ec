"""Random SPD test data drawn independently of the code under test."""

import dataclasses

import numpy as np
import pytest


def random_spd(rng, shape, n, cond=10.0):
    """SPD matrices ``Q diag(d) Q^T`` with Haar ``Q`` and log-uniform eigenvalues spanning ``cond``."""
    Q, R = np.linalg.qr(rng.standard_normal((*shape, n, n)))
    Q = Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[..., None, :]
    d = np.exp(rng.uniform(0, np.log(cond), (*shape, n)))
    X = (Q * d[..., None, :]) @ np.swapaxes(Q, -1, -2)
    return (X + np.swapaxes(X, -1, -2)) / 2


def random_sym(rng, shape, n):
    G = rng.standard_normal((*shape, n, n))
    return (G + np.swapaxes(G, -1, -2)) / 2


def commuting(rng, k, n, repeated=False):
    """``k`` SPD matrices sharing one eigenbasis (optionally with a repeated eigenvalue)."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    d = rng.uniform(0.3, 3.0, (k, n))
    if repeated:
        d[:, 1] = d[:, 0]
    return (Q * d[:, None, :]) @ Q.T, Q, d


@pytest.fixture
def lanes_for_any_batch(monkeypatch):
    """The lanes for stacks of any length (the "batch" cut-over at 1), so that small test stacks exercise them."""
    from linalgkit.spd import _dispatch

    monkeypatch.setitem(_dispatch.CUTOVERS, "batch", dataclasses.replace(_dispatch.CUTOVERS["batch"], value=1))
