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
or weights).  :func:`sliced_embedding` samples those quantile functions at fixed levels, which gives
an explicit feature map of :math:`\mathrm{SW}_2`, and :func:`sliced_wasserstein_kernel` the Gaussian
kernel of it between distributions.
"""

import numbers

import numpy as np

from .._backend import capabilities, check_random_state, get_backend
from .._validation import check_array, check_option, check_scalar
from ..exceptions import ShapeError, ValidationError
from . import _geometry as g
from . import _spectral as sp
from .metrics import _CAPS, _run, _spd

__all__ = ["draw_directions", "sliced_embedding", "sliced_projections", "sliced_wasserstein",
           "sliced_wasserstein_kernel"]

_METRICS = ("log_euclidean", "affine_invariant")
"""Projections of the sliced functions: SPDSW (log-Euclidean) and HSPDSW (affine-invariant horospherical)."""

_HOST = dict(numpy="host NumPy (batched QR of Gaussian matrices), returns NumPy arrays",
             cupy="host draw; the sliced functions move the directions to the GPU",
             generic="host draw; the sliced functions move the directions to the device")


@capabilities("linalgkit.spd.draw_directions", **_HOST)
def draw_directions(n, n_projections, random_state=None):
    r"""Draw ``n_projections`` slicing directions :math:`A = P \operatorname{diag}(\theta) P^\top` on the host.

    Parameters
    ----------
    n : int
        Size of the matrices.
    n_projections : int
        Number of directions.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, optional
        Seed of the draw (same directions on every backend); see
        :func:`linalgkit._backend.check_random_state`.

    Returns
    -------
    theta : ndarray, shape (n_projections, n)
        Uniform on the unit sphere, sorted ascending in each row.
    P : ndarray, shape (n_projections, n, n)
        Haar-distributed orthogonal matrices (QR of a Gaussian matrix with the signs of
        :math:`\operatorname{diag} R` moved into :math:`Q`), columns permuted like ``theta``.

    Examples
    --------
    >>> from linalgkit.spd import draw_directions
    >>> theta, P = draw_directions(3, 5, random_state=0)
    >>> theta.shape, P.shape
    ((5, 3), (5, 3, 3))
    """
    check_scalar(n, "n", kind=numbers.Integral, low=1)
    check_scalar(n_projections, "n_projections", kind=numbers.Integral, low=1)
    return _draw_directions(n, n_projections, check_random_state(random_state))


def _draw_directions(n, n_projections, rng):
    Q, R = np.linalg.qr(rng.standard_normal((n_projections, n, n)))
    P = Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[:, None, :]
    theta = rng.standard_normal((n_projections, n))
    theta /= np.linalg.norm(theta, axis=1, keepdims=True)
    order = np.argsort(theta, axis=1)
    return np.take_along_axis(theta, order, axis=1), np.take_along_axis(P, order[:, None, :], axis=2)


def _directions(be, n, n_projections, rng, dtype):
    """:func:`draw_directions` from a Generator ``rng``, moved to ``be`` in ``dtype``."""
    theta, P = _draw_directions(n, n_projections, rng)
    return be.asarray(be.from_host(theta), dtype=dtype), be.asarray(be.from_host(P), dtype=dtype)


def _project(be, X, theta, P, metric):
    """Projections :math:`t_{A_\\ell}(X_i)`, shape (n_samples, n_projections)."""
    xp = be.xp
    if metric == "log_euclidean":
        A = (P * theta[:, None, :]) @ xp.matrix_transpose(P)
        features = g.vech_weighted(be, sp.apply(be, X, "log"))
        return features @ xp.matrix_transpose(g.vech_weighted(be, A))
    rows = []
    chunk = max(1, 2**22 // (P.shape[0] * X.shape[-1] ** 2))
    N = X.shape[0]
    for start in range(0, N, chunk):
        Z = xp.matrix_transpose(P) @ X[start:min(start + chunk, N), None, ...] @ P
        diag = xp.linalg.diagonal(xp.linalg.cholesky(sp.sym(be, Z)))
        rows.append(2 * xp.sum(theta * xp.log(diag), axis=-1))
    return xp.concat(rows, axis=0)


def _checked_projections(be, X, theta, P, metric, name):
    """:func:`_project` with a non-SPD or too ill-conditioned ``X`` named in the error."""
    return _run(be, lambda: _project(be, X, theta, P, metric), **{name: X})


def _wasserstein_1d(be, u, v, wu, wv, p):
    """:math:`W_p^p` between the columns of ``u`` (N, L) and ``v`` (M, L) with weights ``wu``, ``wv`` (or None)."""
    xp = be.xp
    if wu is None and wv is None and u.shape[0] == v.shape[0]:
        return xp.mean(xp.abs(xp.sort(u, axis=0) - xp.sort(v, axis=0)) ** p, axis=0)
    N, M = u.shape[0], v.shape[0]
    wu = xp.full((N,), 1 / N, dtype=u.dtype, device=be.device) if wu is None else wu
    wv = xp.full((M,), 1 / M, dtype=u.dtype, device=be.device) if wv is None else wv
    u_sorted, cu = _sorted_with_cdf(be, u, wu)
    v_sorted, cv = _sorted_with_cdf(be, v, wv)
    levels = xp.sort(xp.concat([cu, cv], axis=0), axis=0)
    step = xp.concat([levels[:1, :], levels[1:, :] - levels[:-1, :]], axis=0)
    diff = _quantiles(be, u_sorted, cu, levels) - _quantiles(be, v_sorted, cv, levels)
    return xp.sum(step * xp.abs(diff) ** p, axis=0)


def _sorted_with_cdf(be, u, w):
    xp = be.xp
    order = xp.argsort(u, axis=0)
    weights = xp.take(w, xp.reshape(order, (-1,)), axis=0)
    cdf = xp.cumulative_sum(xp.reshape(weights, order.shape), axis=0)
    return xp.take_along_axis(u, order, axis=0), cdf / cdf[-1:, :]


def _quantiles(be, values, cdf, levels):
    """Quantile function ``inf{x : F(x) >= level}`` column by column (one searchsorted with column offsets)."""
    xp = be.xp
    N, L = values.shape
    offset = 2.0 * xp.arange(L, dtype=cdf.dtype, device=be.device)
    flat_cdf = xp.reshape(xp.matrix_transpose(cdf + offset), (-1,))
    flat_levels = xp.reshape(xp.matrix_transpose(levels + offset), (-1,))
    index = xp.searchsorted(flat_cdf, flat_levels)
    column = xp.reshape(xp.arange(L, device=be.device), (L, 1)) * N
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


def _distributions(be, X, name, regularize=None):
    """Validated distributions ``(n_distributions, n_samples, n, n)``, shrunk by ``regularize`` when given."""
    X = _spd(be, X, name, regularize)
    if X.ndim != 4:
        raise ShapeError(f"{name} must be (n_distributions, n_samples, n, n), got shape {tuple(X.shape)}; "
                         f"wrap a single distribution as {name}[None]")
    return X


def _check_slicing(n_projections, metric):
    check_scalar(n_projections, "n_projections", kind=numbers.Integral, low=1)
    check_option(metric, "metric", _METRICS)


@capabilities("linalgkit.spd.sliced_projections", **_CAPS)
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
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, optional
        Seed of the directions (see :func:`draw_directions`).

    Returns
    -------
    array, shape (n_samples, n_projections)
        The projections.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.spd import sliced_projections
    >>> sliced_projections(np.stack([np.eye(2), np.eye(2)]), n_projections=3, random_state=0)
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    be = get_backend(X=X)
    X = _stack(be, X, "X")
    _check_slicing(n_projections, metric)
    return _sliced_projections(be, X, n_projections, metric, check_random_state(random_state))


def _sliced_projections(be, X, n_projections, metric, rng):
    theta, P = _directions(be, X.shape[-1], n_projections, rng, X.dtype)
    return _checked_projections(be, X, theta, P, metric, "X")


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
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, optional
        Seed of the directions (see :func:`draw_directions`; drawn on the host: the same on every backend).
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
    _check_slicing(n_projections, metric)
    check_scalar(p, "p", low=1)
    wx = _weights(be, weights_x, "weights_x", X.shape[0], X.dtype)
    wy = _weights(be, weights_y, "weights_y", Y.shape[0], Y.dtype)
    value = _sliced_wasserstein(be, X, Y, wx, wy, n_projections, p, metric, check_random_state(random_state))
    return value if return_pth_power else value ** (1 / p)


def _sliced_wasserstein(be, X, Y, wx, wy, n_projections, p, metric, rng):
    r""":math:`\mathrm{SW}_p^p` of checked stacks and normalized weights (or None), as a float."""
    theta, P = _directions(be, X.shape[-1], n_projections, rng, X.dtype)
    u = _checked_projections(be, X, theta, P, metric, "X")
    v = _checked_projections(be, Y, theta, P, metric, "Y")
    return float(be.to_host(be.xp.mean(_wasserstein_1d(be, u, v, wx, wy, p))))


@capabilities("linalgkit.spd.sliced_embedding", numpy="NumPy sort and gather", cupy="CuPy sort and gather",
              generic="array-API sort and take")
def sliced_embedding(projections, *, n_quantiles=20, p=2):
    r"""Quantile embedding :math:`\Phi(\mu)_{\ell k} = F^{-1}_{t_\ell\#\mu}(\tau_k) / (L M)^{1/p}`.

    With midpoint levels :math:`\tau_k = (k + 1/2)/M`, :math:`\|\Phi(\mu) - \Phi(\nu)\|_p^p` is the
    midpoint-rule approximation of :math:`\mathrm{SW}_p^p(\mu, \nu)` (exact when :math:`M` equals the
    number of samples); for ``p = 2`` the kernel
    :math:`\exp(-\|\Phi(\mu) - \Phi(\nu)\|^2 / (2\sigma^2))` is positive definite (SPDSW is Hilbertian).

    Parameters
    ----------
    projections : array, shape (n_distributions, n_samples, n_projections)
        Projections of each distribution's (uniformly weighted) samples, e.g. from :func:`sliced_projections`.
    n_quantiles : int, default=20
        Number :math:`M` of quantile levels.
    p : float, default=2
        Order of the Wasserstein distance, ``p >= 1``.

    Returns
    -------
    array, shape (n_distributions, n_projections * n_quantiles)

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.spd import sliced_embedding
    >>> sliced_embedding(np.array([[[1.0], [3.0]]]), n_quantiles=2)
    array([[0.70710678, 2.12132034]])
    """
    be = get_backend(projections=projections)
    u = check_array(projections, "projections", backend=be, ndim=3, allow_complex=False)
    check_scalar(n_quantiles, "n_quantiles", kind=numbers.Integral, low=1)
    check_scalar(p, "p", low=1)
    return _quantile_embedding(be, u, n_quantiles, p)


def _quantile_embedding(be, u, n_quantiles, p):
    xp = be.xp
    n_dist, N, L = u.shape
    levels = (np.arange(n_quantiles) + 0.5) / n_quantiles
    index = be.from_host(np.minimum(np.ceil(levels * N).astype(np.int64) - 1, N - 1))
    quantiles = xp.take(xp.sort(u, axis=1), index, axis=1)
    flat = xp.reshape(xp.permute_dims(quantiles, (0, 2, 1)), (n_dist, L * n_quantiles))
    return flat / (L * n_quantiles) ** (1 / p)


def _embed_distributions(be, X, theta, P, metric, n_quantiles, name="X"):
    """Quantile embeddings (p = 2) of checked distributions ``X`` (n_distributions, n_samples, n, n)."""
    n_dist, n_samples, n = X.shape[0], X.shape[1], X.shape[-1]
    flat = be.xp.reshape(X, (n_dist * n_samples, n, n))
    u = _checked_projections(be, flat, theta, P, metric, name)
    return _quantile_embedding(be, be.xp.reshape(u, (n_dist, n_samples, P.shape[0])), n_quantiles, 2)


def _gaussian_gram(be, phi_x, phi_y, sigma):
    r""":math:`\exp(-\|\phi_i - \psi_j\|^2 / (2\sigma^2))` between the rows of two embeddings."""
    xp = be.xp
    d2 = xp.sum((phi_x[:, None, :] - phi_y[None, :, :]) ** 2, axis=-1)
    return xp.exp(-d2 / (2 * sigma**2))


@capabilities("linalgkit.spd.sliced_wasserstein_kernel", **_CAPS)
def sliced_wasserstein_kernel(X, Y=None, *, n_projections=200, n_quantiles=20, sigma=1.0, metric="log_euclidean",
                              random_state=None):
    r"""Gaussian kernel of the SPD sliced-Wasserstein distance between distributions of SPD matrices.

    Each distribution is a stack of SPD matrices (e.g. the covariance matrices of one subject's
    epochs).  The Gram matrix is
    :math:`K_{ij} = \exp(-\|\Phi(\mu_i) - \Phi(\nu_j)\|^2 / (2\sigma^2))` with the quantile embedding
    :math:`\Phi` of :func:`sliced_embedding` (``p = 2``) of the projections on one set of
    directions, so :math:`\|\Phi(\mu) - \Phi(\nu)\|^2 \approx \mathrm{SPDSW}_2^2(\mu, \nu)` and :math:`K`
    is positive semi-definite (Bonet et al., ICML 2023).  For
    ``KernelRidge(kernel="precomputed")`` or ``SVC(kernel="precomputed")``; the estimator
    :class:`SPDSlicedWassersteinKernel` keeps the training embeddings.

    Parameters
    ----------
    X : array, shape (n_x, n_samples_x, n, n)
        Distributions, each ``n_samples_x`` SPD matrices with uniform weights.
    Y : array, shape (n_y, n_samples_y, n, n), optional
        Second set of distributions (default: ``X``); ``n_samples_y`` may differ from ``n_samples_x``.
    n_projections : int, default=200
        Number :math:`L` of random directions.
    n_quantiles : int, default=20
        Number :math:`M` of quantile levels of the embedding.
    sigma : float, default=1.0
        Bandwidth :math:`\sigma > 0`.
    metric : {"log_euclidean", "affine_invariant"}, default="log_euclidean"
        Projection: SPDSW (log-Euclidean) or HSPDSW (affine-invariant horospherical).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, optional
        Seed of the directions (see :func:`draw_directions`).

    Returns
    -------
    array, shape (n_x, n_y)
        Kernel values in :math:`(0, 1]`.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.spd import sliced_wasserstein_kernel
    >>> X = np.stack([np.eye(2), 2 * np.eye(2)])[None]
    >>> sliced_wasserstein_kernel(X, random_state=0)
    array([[1.]])
    """
    be = get_backend(X=X, Y=Y)
    X = _distributions(be, X, "X")
    Y = None if Y is None else _distributions(be, Y, "Y")
    if Y is not None and X.shape[-1] != Y.shape[-1]:
        raise ShapeError(f"X and Y must hold matrices of one size, got {X.shape[-1]} and {Y.shape[-1]}")
    _check_slicing(n_projections, metric)
    check_scalar(n_quantiles, "n_quantiles", kind=numbers.Integral, low=1)
    check_scalar(sigma, "sigma", low=0, closed="neither")
    return _sliced_wasserstein_kernel(be, X, Y, n_projections, n_quantiles, sigma, metric,
                                      check_random_state(random_state))


def _sliced_wasserstein_kernel(be, X, Y, n_projections, n_quantiles, sigma, metric, rng):
    """Gram matrix of checked distributions ``X`` and ``Y`` (None: ``X``) on one draw of directions."""
    theta, P = _directions(be, X.shape[-1], n_projections, rng, X.dtype)
    phi_x = _embed_distributions(be, X, theta, P, metric, n_quantiles, "X")
    phi_y = phi_x if Y is None else _embed_distributions(be, Y, theta, P, metric, n_quantiles, "Y")
    return _gaussian_gram(be, phi_x, phi_y, sigma)
