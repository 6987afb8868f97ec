"""Simulated covariance matrices of multichannel signals (EEG-like), for SPD tests, examples and benchmarks."""

import numbers

import numpy as np

from .._backend import check_random_state
from .._validation import check_scalar

__all__ = ["make_spd_classification", "make_spd_matrices"]


def make_spd_matrices(n_matrices, n, *, cond=10.0, random_state=None):
    r"""Random SPD matrices :math:`Q \operatorname{diag}(d) Q^\top`.

    :math:`Q` is Haar-distributed and :math:`d` log-uniform in ``[1, cond]``.

    Parameters
    ----------
    n_matrices, n : int
    cond : float, default=10.0
        Condition number bound, finite: eigenvalues are drawn in ``[1, cond]``.
    random_state : int, Generator or None

    Returns
    -------
    ndarray, shape (n_matrices, n, n)
    """
    check_scalar(n_matrices, "n_matrices", kind=numbers.Integral, low=1)
    check_scalar(n, "n", kind=numbers.Integral, low=1)
    check_scalar(cond, "cond", low=1, high=float(np.finfo(np.float64).max))  # finite: inf and NaN are refused
    rng = check_random_state(random_state)
    Q, R = np.linalg.qr(rng.standard_normal((n_matrices, n, n)))
    Q = Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[:, None, :]
    d = np.exp(rng.uniform(0, np.log(cond), (n_matrices, n)))
    X = (Q * d[:, None, :]) @ np.swapaxes(Q, -1, -2)
    return (X + np.swapaxes(X, -1, -2)) / 2


def make_spd_classification(n_matrices=200, n_channels=8, *, n_times=256, n_sources=None, class_sep=1.0,
                            session_shift=0.0, random_state=None):
    r"""Two-class covariance matrices of simulated multichannel signals with class-dependent mixing.

    Each trial is :math:`x(t) = A_c\, s(t) + \varepsilon(t)`: ``n_sources`` independent Gaussian
    sources (unit power, except that class 1 raises the power of the first source and lowers the
    second by the factor :math:`e^{\text{class\_sep}}`, as motor imagery does with mu rhythms)
    mixed by a class mixing matrix :math:`A_c = A(I + 0.3\,\text{class\_sep}\,E_c)`, plus 10%
    white sensor noise.  Trials return their sample covariance
    :math:`\frac1T \sum_t x(t) x(t)^\top` (SPD as soon as ``n_times >= n_channels``).  A nonzero
    ``session_shift`` applies the congruence :math:`G X G^\top` with
    :math:`G = \exp(\text{session\_shift}\cdot S)`, :math:`S` a fixed random symmetric matrix: the
    domain shift between two recording sessions.

    Parameters
    ----------
    n_matrices : int, default=200
        Trials (half per class, class 0 first in the random order).
    n_channels : int, default=8
    n_times : int, default=256
        Samples per trial.
    n_sources : int, optional
        Defaults to ``n_channels``.
    class_sep : float, default=1.0
        Strength of the class difference (0: indistinguishable classes).
    session_shift : float, default=0.0
    random_state : int, Generator or None

    Returns
    -------
    X : ndarray, shape (n_matrices, n_channels, n_channels)
    y : ndarray of int, shape (n_matrices,)
    """
    check_scalar(n_matrices, "n_matrices", kind=numbers.Integral, low=2)
    check_scalar(n_channels, "n_channels", kind=numbers.Integral, low=1)
    check_scalar(n_times, "n_times", kind=numbers.Integral, low=n_channels)
    n_sources = n_channels if n_sources is None else n_sources
    check_scalar(n_sources, "n_sources", kind=numbers.Integral, low=1)
    check_scalar(class_sep, "class_sep", low=0)
    check_scalar(session_shift, "session_shift")
    rng = check_random_state(random_state)
    mixing = rng.standard_normal((n_channels, n_sources)) / np.sqrt(n_sources)
    perturb = rng.standard_normal((2, n_sources, n_sources)) * 0.3 * class_sep / np.sqrt(n_sources)
    y = rng.permutation(np.arange(n_matrices) % 2)
    power = np.ones((2, n_sources))
    power[1, 0] = np.exp(class_sep)
    if n_sources > 1:
        power[1, 1] = np.exp(-class_sep)
    sources = rng.standard_normal((n_matrices, n_sources, n_times)) * np.sqrt(power[y])[:, :, None]
    class_mixing = mixing @ (np.eye(n_sources) + perturb)
    signals = class_mixing[y] @ sources + 0.1 * rng.standard_normal((n_matrices, n_channels, n_times))
    X = signals @ np.swapaxes(signals, -1, -2) / n_times
    if session_shift:
        S = rng.standard_normal((n_channels, n_channels))
        d, Q = np.linalg.eigh((S + S.T) / (2 * np.sqrt(n_channels)))
        G = (Q * np.exp(session_shift * d)) @ Q.T
        X = G @ X @ G.T
    return (X + np.swapaxes(X, -1, -2)) / 2, y
