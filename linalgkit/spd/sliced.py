r"""Sliced-Wasserstein distances between distributions of SPD matrices (SPDSW and HSPDSW).

Bonet, Malézieux, Rakotomamonjy, Drumetz, Moreau, Kowalski & Courty, "Sliced-Wasserstein on
Symmetric Positive Definite Matrices for M/EEG Signals", ICML 2023 (arXiv 2303.05798).

Directions :math:`A = P \operatorname{diag}(\theta) P^\top` with :math:`P` Haar on :math:`O(n)` and
:math:`\theta` uniform on :math:`S^{n-1}` (so :math:`\|A\|_F = 1`).  Projections:

* ``"log_euclidean"`` (SPDSW): :math:`t_A(X) = \langle A, \log X\rangle_F`, the log-Euclidean geodesic
  projection.  ``log X`` is computed once per sample and all directions are applied in one GEMM on
  weighted half-vectorizations.
* ``"affine_invariant"`` (HSPDSW): the horospherical projection (minus the AI Busemann function)
  :math:`t_A(X) = 2\sum_i \theta_{(i)} \log C_{ii}` with :math:`C = \operatorname{chol}(P_\sigma^\top X P_\sigma)`,
  :math:`\theta` sorted ascending and the columns of :math:`P` permuted alike; one Cholesky per
  (sample, direction).

Then :math:`\mathrm{SW}_p^p(\mu, \nu) = \frac1L \sum_{\ell} W_p^p(t_{A_\ell\#}\mu, t_{A_\ell\#}\nu)`, each
one-dimensional :math:`W_p` computed from quantile functions (sorting; merged CDFs for unequal sizes
or weights).
"""

import numbers

import numpy as np

from .._backend import capabilities, check_random_state, get_backend
from .._validation import check_array, check_option, check_scalar
from ..exceptions import ShapeError, ValidationError
from . import _geometry as g
from . import _spectral as sp
from .metrics import _CAPS, _run, _spd

__all__ = ["draw_directions", "sliced_embedding", "sliced_projections", "sliced_wasserstein"]

_METRICS = ("log_euclidean", "affine_invariant")


def draw_directions(n, n_projections, random_state=None):
    r"""Draw ``n_projections`` slicing directions :math:`A = P \operatorname{diag}(\theta) P^\top` on the host.

    Parameters
    ----------
    n : int
        Size of the matrices.
    n_projections : int
        Number of directions.
    random_state : None, int or numpy.random.Generator, optional
        Seed of the draw (same directions on every backend).

    Returns
    -------
    theta : ndarray, shape (n_projections, n)
        Uniform on the unit sphere, sorted ascending in each row.
    P : ndarray, shape (n_projections, n, n)
        Haar-distributed orthogonal matrices (QR of a Gaussian matrix with the signs of
        :math:`\operatorname{diag} R` moved into :math:`Q`), columns permuted like ``theta``.
    """
    rng = check_random_state(random_state)
    Q, R = np.linalg.qr(rng.standard_normal((n_projections, n, n)))
    P = Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[:, None, :]
    theta = rng.standard_normal((n_projections, n))
    theta /= np.linalg.norm(theta, axis=1, keepdims=True)
    order = np.argsort(theta, axis=1)
    return np.take_along_axis(theta, order, axis=1), np.take_along_axis(P, order[:, None, :], axis=2)


def _directions(be, n, n_projections, random_state, dtype):
    theta, P = draw_directions(n, n_projections, random_state)
    return be.asarray(be.from_host(theta), dtype=dtype), be.asarray(be.from_host(P), dtype=dtype)


def _project(be, X, theta, P, metric):
    """Projections :math:`t_{A_\\ell}(X_i)`, shape (n_samples, n_projections)."""
    xp = be.xp
    if metric == "log_euclidean":
        A = (P * theta[:, None, :]) @ xp.matrix_transpose(P)
        features = g.vech_weighted(xp, sp.apply(xp, X, "log"))
        return features @ xp.matrix_transpose(g.vech_weighted(xp, A))
    rows = []
    chunk = max(1, 2**22 // (P.shape[0] * X.shape[-1] ** 2))
    N = X.shape[0]
    for start in range(0, N, chunk):
        Z = xp.matrix_transpose(P) @ X[start:min(start + chunk, N), None, ...] @ P
        diag = xp.linalg.diagonal(xp.linalg.cholesky(sp.sym(xp, Z)))
        rows.append(2 * xp.sum(theta * xp.log(diag), axis=-1))
    return xp.concat(rows, axis=0)


def _wasserstein_1d(xp, u, v, wu, wv, p):
    """:math:`W_p^p` between the columns of ``u`` (N, L) and ``v`` (M, L) with weights ``wu``, ``wv`` (or None)."""
    if wu is None and wv is None and u.shape[0] == v.shape[0]:
        return xp.mean(xp.abs(xp.sort(u, axis=0) - xp.sort(v, axis=0)) ** p, axis=0)
    N, M = u.shape[0], v.shape[0]
    wu = xp.full((N,), 1 / N, dtype=u.dtype) if wu is None else wu
    wv = xp.full((M,), 1 / M, dtype=u.dtype) if wv is None else wv
    u_sorted, cu = _sorted_with_cdf(xp, u, wu)
    v_sorted, cv = _sorted_with_cdf(xp, v, wv)
    levels = xp.sort(xp.concat([cu, cv], axis=0), axis=0)
    step = xp.concat([levels[:1, :], levels[1:, :] - levels[:-1, :]], axis=0)
    diff = _quantiles(xp, u_sorted, cu, levels) - _quantiles(xp, v_sorted, cv, levels)
    return xp.sum(step * xp.abs(diff) ** p, axis=0)


def _sorted_with_cdf(xp, u, w):
    order = xp.argsort(u, axis=0)
    weights = xp.take(w, xp.reshape(order, (-1,)), axis=0)
    cdf = xp.cumulative_sum(xp.reshape(weights, order.shape), axis=0)
    return xp.take_along_axis(u, order, axis=0), cdf / cdf[-1:, :]


def _quantiles(xp, values, cdf, levels):
    """Quantile function ``inf{x : F(x) >= level}`` column by column (one searchsorted with column offsets)."""
    N, L = values.shape
    offset = 2.0 * xp.arange(L, dtype=cdf.dtype)
    flat_cdf = xp.reshape(xp.matrix_transpose(cdf + offset), (-1,))
    flat_levels = xp.reshape(xp.matrix_transpose(levels + offset), (-1,))
    index = xp.searchsorted(flat_cdf, flat_levels)
    column = xp.reshape(xp.arange(L), (L, 1)) * N
    local = xp.clip(xp.reshape(index, (L, -1)) - column, 0, N - 1)
    return xp.matrix_transpose(xp.take_along_axis(xp.matrix_transpose(values), local, axis=1))


def _weights(be, w, name, size, dtype):
    if w is None:
        return None
    xp = be.xp
    w = check_array(w, name, backend=be, ndim=1, numeric="cast", allow_complex=False)
    if w.shape[0] != size:
        raise ShapeError(f"{name} must have one entry per matrix ({size}), got {w.shape[0]}")
    if bool(xp.any(w < 0)) or not bool(xp.sum(w) > 0):
        raise ValidationError(f"{name} must be non-negative with a positive sum; pass e.g. numpy.ones({size})")
    w = xp.astype(w, dtype)
    return w / xp.sum(w)


def _stack(be, X, name):
    X = _spd(be, X, name)
    if X.ndim != 3:
        raise ShapeError(f"{name} must be a stack (n_samples, n, n), got shape {tuple(X.shape)}")
    return X


def sliced_projections(X, *, n_projections=200, metric="log_euclidean", random_state=None):
    """Projections :math:`t_{A_\\ell}(X_i)` of SPD matrices on random directions, shape (n_samples, n_projections).

    Same directions as :func:`sliced_wasserstein` for the same ``random_state``.

    Parameters
    ----------
    X : array, shape (n_samples, n, n)
        SPD matrices.
    n_projections : int, default=200
        Number of directions.
    metric : {"log_euclidean", "affine_invariant"}, default="log_euclidean"
        Projection: SPDSW (log-Euclidean) or horospherical (affine-invariant).
    random_state : None, int or numpy.random.Generator, optional
        Seed of the directions.

    Returns
    -------
    array, shape (n_samples, n_projections)
        The projections.
    """
    be = get_backend(X=X)
    X = _stack(be, X, "X")
    check_option(metric, "metric", _METRICS)
    theta, P = _directions(be, X.shape[-1], n_projections, random_state, X.dtype)
    return _run(be, lambda: _project(be, X, theta, P, metric), X=X)


@capabilities("linalgkit.spd.sliced_wasserstein", **_CAPS)
def sliced_wasserstein(X, Y, *, n_projections=200, p=2, metric="log_euclidean", weights_x=None, weights_y=None,
                       random_state=None, return_pth_power=False):
    r"""Sliced-Wasserstein distance between two empirical distributions of SPD matrices.

    :math:`\mathrm{SW}_p(\mu, \nu) = \big(\frac1L\sum_\ell W_p^p(t_{A_\ell\#}\mu, t_{A_\ell\#}\nu)\big)^{1/p}`
    with :math:`\mu = \sum_i a_i \delta_{X_i}` and :math:`\nu = \sum_j b_j \delta_{Y_j}` (see the module
    docstring for the directions and projections).  Cost :math:`O((N+M)(n^3 + L n^2) + L (N+M)\log(N+M))`
    for SPDSW; :math:`O((N+M) L n^3)` for the horospherical variant.

    Parameters
    ----------
    X : array, shape (n_x, n, n)
    Y : array, shape (n_y, n, n)
        SPD samples; ``n_x`` and ``n_y`` may differ.
    n_projections : int, default=200
        Number :math:`L` of random directions (Monte Carlo error :math:`O(L^{-1/2})`).
    p : float, default=2
        Order of the Wasserstein distance, ``p >= 1``.
    metric : {"log_euclidean", "affine_invariant"}, default="log_euclidean"
        SPDSW (log-Euclidean geodesic projection) or HSPDSW (affine-invariant horospherical projection).
    weights_x, weights_y : array, optional
        Non-negative sample weights (normalized); uniform by default.
    random_state : int, numpy.random.Generator or None
        Seeds the directions (drawn on the host: the same on every backend).
    return_pth_power : bool, default=False
        Return :math:`\mathrm{SW}_p^p` (what the paper's code returns) instead of :math:`\mathrm{SW}_p`.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.spd import sliced_wasserstein
    >>> X = np.stack([np.eye(2), 2 * np.eye(2)])
    >>> float(sliced_wasserstein(X, X, random_state=0))
    0.0
    """
    be = get_backend(X=X, Y=Y, weights_x=weights_x, weights_y=weights_y)
    X, Y = _stack(be, X, "X"), _stack(be, Y, "Y")
    if X.shape[-1] != Y.shape[-1]:
        raise ShapeError(f"X and Y must hold matrices of one size, got {X.shape[-1]} and {Y.shape[-1]}")
    check_scalar(n_projections, "n_projections", kind=numbers.Integral, low=1)
    check_scalar(p, "p", low=1)
    check_option(metric, "metric", _METRICS)
    wx = _weights(be, weights_x, "weights_x", X.shape[0], X.dtype)
    wy = _weights(be, weights_y, "weights_y", Y.shape[0], Y.dtype)
    theta, P = _directions(be, X.shape[-1], n_projections, random_state, X.dtype)
    u = _run(be, lambda: _project(be, X, theta, P, metric), X=X)
    v = _run(be, lambda: _project(be, Y, theta, P, metric), Y=Y)
    value = float(be.to_host(be.xp.mean(_wasserstein_1d(be.xp, u, v, wx, wy, p))))
    return value if return_pth_power else value ** (1 / p)


def sliced_embedding(projections, *, n_quantiles=20, p=2):
    r"""Quantile embedding :math:`\Phi(\mu)_{\ell k} = F^{-1}_{t_\ell\#\mu}(\tau_k) / (L M)^{1/p}`.

    With midpoint levels :math:`\tau_k = (k + 1/2)/M`, :math:`\|\Phi(\mu) - \Phi(\nu)\|_p^p` is the
    midpoint-rule approximation of :math:`\mathrm{SW}_p^p(\mu, \nu)`; for ``p = 2`` the kernel
    :math:`\exp(-\|\Phi(\mu) - \Phi(\nu)\|^2 / (2\sigma^2))` is positive definite (SPDSW is Hilbertian).

    Parameters
    ----------
    projections : array, shape (n_distributions, n_samples, n_projections)
        Projections of each distribution's (uniformly weighted) samples, e.g. from :func:`sliced_projections`.
    n_quantiles : int, default=20
    p : float, default=2

    Returns
    -------
    array, shape (n_distributions, n_projections * n_quantiles)
    """
    be = get_backend(projections=projections)
    xp = be.xp
    u = check_array(projections, "projections", backend=be, ndim=3, allow_complex=False)
    check_scalar(n_quantiles, "n_quantiles", kind=numbers.Integral, low=1)
    n_dist, N, L = u.shape
    levels = (np.arange(n_quantiles) + 0.5) / n_quantiles
    index = be.from_host(np.minimum(np.ceil(levels * N).astype(np.int64) - 1, N - 1))
    quantiles = xp.take(xp.sort(u, axis=1), index, axis=1)
    flat = xp.reshape(xp.permute_dims(quantiles, (0, 2, 1)), (n_dist, L * n_quantiles))
    return flat / (L * n_quantiles) ** (1 / p)
