r"""Riemannian metrics on SPD matrices, dispatched by name: distances, Exp/Log, geodesics, transport.

Every function takes batches ``(..., n, n)`` that broadcast against each other, and a ``metric``
given by name (see :data:`METRICS`), by a metric object (:func:`power_euclidean`,
:func:`power_affine`, :func:`mixed_power_euclidean`, :func:`kernel_metric` take parameters), or, for
:func:`distance` and :func:`pairwise_distances` only, a callable ``metric(A, B) -> float``.
Kernel metrics without closed forms (BKM, mixed-power, general :math:`\varphi`) integrate geodesics
numerically (see :mod:`linalgkit.spd._kernel`).

Inputs follow one definiteness rule, smallest eigenvalue above :math:`n\epsilon\lambda_{\max}`
(:func:`~linalgkit._validation.definiteness_floor`, ``docs/spd.rst`` "Hostile input"), except the
Euclidean metric, which is defined on all symmetric matrices and does not test it.  Inputs far from 1
are rescaled by a power of two (exact) wherever the metric's scaling rule allows: Exp, Log, geodesics and
transports of every metric but the kernel ones scale by :math:`c`, inner products and squared distances
by :math:`c^k` (``Metric.equivariant``, ``Metric.degree``; derivations in the same section).

``log`` is the true Riemannian logarithm :math:`\operatorname{Log}_S(P) \in T_S\mathrm{SPD}(n)`
(the tangent vector at ``S`` whose geodesic reaches ``P`` at time 1), not the "whitened" vector
at the identity that pyRiemann's ``log_map_riemann`` returns; :func:`~linalgkit.spd.tangent_space`
gives orthonormal coordinates of it.

References
----------
Thanwerdas & Pennec, "O(n)-invariant Riemannian metrics on SPD matrices", LAA 2023 (arXiv 2109.05768);
Pennec, Fillard & Ayache, IJCV 2006 (AI); Arsigny et al., SIMAX 2007 (LE); Bhatia, Jain & Lim,
Expo. Math. 2019 (BW); Lin, SIMAX 2019 (log-Cholesky); Dryden, Koloydenko & Zhou, AoAS 2009 (Cholesky, power).
"""

import numbers

import numpy as np

from .._backend import capabilities, get_backend, serial_blas
from .._solver import check_tolerances, renamed_argument
from .._validation import check_scalar, check_spd, check_spd_scaled
from ..exceptions import ShapeError, ValidationError
from . import _dispatch as dispatch
from . import _geometry as g
from . import _spectral as sp
from ._kernel import KernelMetric

__all__ = [
    "METRICS",
    "distance",
    "exp",
    "geodesic",
    "get_metric",
    "bkm",
    "inner",
    "kernel_metric",
    "log",
    "mixed_power_euclidean",
    "pairwise_distances",
    "parallel_transport",
    "pole_ladder_transport",
    "power_affine",
    "power_euclidean",
]

_CAPS = dict(numpy="SIMD-lane Numba kernels for batches (eigen-decompositions, AI/LE/BW distances, Karcher "
                   "gradient; cut-overs in spd._dispatch), LAPACK otherwise and for failed lanes",
             cupy="CuPy batched eigh/cholesky (cuSOLVER)", generic="array-API linalg")
_CONSTRUCTOR = dict(numpy="metric object (computes nothing; its operations run as in distance)",
                    cupy="metric object (as on NumPy)", generic="metric object (as on NumPy)")


@capabilities("linalgkit.spd.power_euclidean", **_CONSTRUCTOR)
def power_euclidean(p):
    r"""Power-Euclidean metric: Euclidean metric on :math:`(X^p - I)/p` (log-Euclidean at ``p = 0``).

    Parameters
    ----------
    p : float
        Power; ``p = 1`` is the Euclidean metric, ``p -> 0`` the log-Euclidean one.

    Returns
    -------
    metric
        A metric object accepted wherever ``metric=`` is.
    """
    check_scalar(p, "p")
    name = "log_euclidean" if p == 0 else f"power_euclidean({p:g})"
    return g.Pullback(name, g.Flat(), g.SpectralChart("boxcox", float(p)))


@capabilities("linalgkit.spd.power_affine", **_CONSTRUCTOR)
def power_affine(p):
    r"""Power-affine metric: affine-invariant metric on :math:`X^p` scaled by :math:`1/p^2` (``p != 0``).

    Parameters
    ----------
    p : float
        Non-zero power; ``p = 1`` is the affine-invariant metric.

    Returns
    -------
    metric
        A metric object accepted wherever ``metric=`` is.
    """
    check_scalar(p, "p")
    if p == 0:
        raise ValidationError("p must be non-zero for power_affine, got 0; the p -> 0 limit is metric='log_euclidean'")
    return g.Pullback(f"power_affine({p:g})", g.AffineInvariant(), g.SpectralChart("pow", float(p)), 1 / abs(p))


@capabilities("linalgkit.spd.kernel_metric", **_CONSTRUCTOR)
def kernel_metric(phi, *, dphi=None, name="kernel", n_steps=40, rtol=None, atol=0.0, maxiter=100, tol=None,
                  start=None):
    r"""General kernel (Hiai-Petz) metric :math:`g_\Sigma(X, Y) = \sum_{ij} X'_{ij} Y'_{ij} / \varphi(d_i, d_j)`.

    Geodesics come from the Hamiltonian (cometric) ODE integrated by RK4 with ``n_steps`` steps, and
    Log by shooting (see :mod:`linalgkit.spd._kernel` for the equations and accuracy); distances are
    :math:`\|\operatorname{Log}_A B\|_A`.  The shooting follows the solver contract
    (:mod:`linalgkit._solver`): it stops when :math:`\|r_k\| \le \max(\mathrm{rtol}\,\|r_{\mathrm{ref}}\|,
    \mathrm{atol})` with :math:`r_k = \operatorname{vech}(\operatorname{Exp}_A(V_k) - B)` and
    :math:`r_{\mathrm{ref}} = \operatorname{vech}(B)` (Frobenius norms, the largest over a batch);
    otherwise it returns its best iterate with one :class:`~linalgkit.exceptions.ConvergenceWarning`.

    Parameters
    ----------
    phi : callable ``phi(xp, x, y)``
        Symmetric positive kernel, elementwise on broadcasting arrays ``x``, ``y`` of eigenvalues.
    dphi : callable ``dphi(xp, x, y)``, optional
        :math:`\partial_x \varphi` (central differences by default), used at tied eigenvalues.
    name : str, default="kernel"
        Name shown in ``repr`` and error messages.
    n_steps : int, default=40
        RK4 steps of the geodesic ODE over unit time.
    rtol : float, optional
        Relative tolerance of the shooting behind Log (default 1e-10).
    atol : float, default=0.0
        Absolute tolerance of the shooting.
    maxiter : int, default=100
        Most Broyden steps of the shooting.
    tol : float, optional
        Deprecated name of ``rtol`` (same meaning); passing it warns with a FutureWarning.
    start : metric object, optional
        Metric with a closed-form Log whose :math:`\operatorname{Log}_A B` starts the shooting (default
        log-Euclidean; :func:`mixed_power_euclidean` and :func:`bkm` pass the power-Euclidean metric that
        agrees with them on commuting matrices).

    Returns
    -------
    metric
        A metric object accepted wherever ``metric=`` is.

    Raises
    ------
    ValidationError
        From Log and distances when no trial geodesic of the shooting stays in the cone (says so).
    """
    check_scalar(n_steps, "n_steps", kind=numbers.Integral, low=1)
    rtol = renamed_argument("tol", tol, "rtol", rtol)
    tolerances = check_tolerances(rtol, atol, maxiter, dtype=np.dtype("float64"), default_rtol=1e-10)
    if not callable(phi):
        raise ValidationError(f"phi must be a callable phi(xp, x, y), got {type(phi).__name__}")
    if start is not None and not hasattr(start, "log"):
        raise ValidationError(f"start must be a metric object with a Log, got {type(start).__name__}")
    return KernelMetric(name, phi, dphi, n_steps, tolerances, start)


@capabilities("linalgkit.spd.bkm", **_CONSTRUCTOR)
def bkm(**options):
    r"""Bogoliubov-Kubo-Mori metric: kernel :math:`\varphi(x, y) = (x - y)/(\log x - \log y)` (logarithmic mean).

    It is the Hessian metric of :math:`\operatorname{tr}(\Sigma\log\Sigma - \Sigma)`,
    :math:`g_\Sigma(X, X) = \operatorname{tr}(X\, D_\Sigma\log[X])`.

    Parameters
    ----------
    **options
        ``n_steps``, ``rtol``, ``atol``, ``maxiter`` of :func:`kernel_metric`.

    Returns
    -------
    metric
        A metric object accepted wherever ``metric=`` is.
    """
    options.setdefault("start", power_euclidean(0.5))  # equal to BKM = MPE(1, 0) on commuting matrices
    return kernel_metric(lambda xp, x, y: 1 / sp.pair_divided_differences(xp, "log", x, y), name="bkm", **options)


@capabilities("linalgkit.spd.mixed_power_euclidean", **_CONSTRUCTOR)
def mixed_power_euclidean(theta1, theta2, **options):
    r"""Mixed-power-Euclidean metric.

    Kernel :math:`\varphi = \theta_1\theta_2 (x - y)^2 / ((x^{\theta_1} - y^{\theta_1})(x^{\theta_2} - y^{\theta_2}))`.

    Special cases: (1, 1) Euclidean, (0, 0) log-Euclidean, (p, p) power-Euclidean, (1, -1) affine-invariant,
    (1, 0) BKM.

    Parameters
    ----------
    theta1, theta2 : float
        The two powers of the kernel.
    **options
        ``n_steps``, ``rtol``, ``atol``, ``maxiter`` of :func:`kernel_metric`.

    Returns
    -------
    metric
        A metric object accepted wherever ``metric=`` is.
    """
    check_scalar(theta1, "theta1")
    check_scalar(theta2, "theta2")

    def phi(xp, x, y):
        return 1 / (sp.pair_divided_differences(xp, "boxcox", x, y, float(theta1))
                    * sp.pair_divided_differences(xp, "boxcox", x, y, float(theta2)))

    options.setdefault("start", power_euclidean((theta1 + theta2) / 2))  # equal on commuting matrices
    return kernel_metric(phi, name=f"mixed_power_euclidean({theta1:g}, {theta2:g})", **options)


METRICS = {
    "euclidean": g.Pullback("euclidean", g.Flat(), g.IdentityChart()),
    "log_euclidean": power_euclidean(0),
    "affine_invariant": g.AffineInvariant(),
    "bures_wasserstein": g.BuresWasserstein(),
    "cholesky": g.Pullback("cholesky", g.Flat(lower=True), g.CholeskyChart(log_diagonal=False)),
    "log_cholesky": g.Pullback("log_cholesky", g.Flat(lower=True), g.CholeskyChart(log_diagonal=True)),
    "bkm": bkm(),
}
"""Metrics available by name; ``power_euclidean(p)`` and ``power_affine(p)`` build the parametric ones."""

_PARAMETRIC = {"power_euclidean": power_euclidean, "power_affine": power_affine,
               "mixed_power_euclidean": mixed_power_euclidean, "kernel_metric": kernel_metric}


@capabilities("linalgkit.spd.get_metric", **_CONSTRUCTOR)
def get_metric(metric):
    """The metric object for a name in :data:`METRICS` or a metric object (returned as is).

    Parameters
    ----------
    metric : str or metric object
        A key of :data:`METRICS`, or an object built by :func:`power_euclidean`,
        :func:`power_affine`, :func:`kernel_metric` and friends.

    Returns
    -------
    metric
        The metric object.
    """
    if isinstance(metric, str):
        if metric in METRICS:
            return METRICS[metric]
        if metric in _PARAMETRIC:
            raise ValidationError(f"metric {metric!r} needs parameters; pass metric=linalgkit.spd.{metric}(...)")
        raise ValidationError(f"metric must be one of {', '.join(map(repr, METRICS))}, or power_euclidean(p) / "
                              f"power_affine(p), got {metric!r}")
    if all(hasattr(metric, attr) for attr in ("squared_distance", "exp", "log")):
        return metric
    raise ValidationError(f"metric must be a metric name or a metric object, got {type(metric).__name__}")


def _spd(be, X, name, regularize=None):
    return check_spd(X, name, backend=be, definite=False, regularize=regularize)


def _spd_scaled(be, X, name):
    """Checked SPD ``X`` and its per-matrix scale ``max |X_ij|`` (free from the symmetry check)."""
    return check_spd_scaled(X, name, backend=be, definite=False)


def _safe_range(dtype):
    """Entries within which every metric runs without overflow or underflow: ``[tiny^(1/4), max^(1/4)]``."""
    info = np.finfo(np.float32 if "32" in str(dtype) else np.float64)
    return float(info.tiny) ** 0.25, float(info.max) ** 0.25


def _rescaling(be, dtype, *scales):
    """Powers of two ``c`` (broadcast over the scales) that bring entries near 1, or None when all are safe."""
    xp = be.xp
    low, high = _safe_range(dtype)
    top = scales[0]
    for other in scales[1:]:
        top = xp.maximum(top, other)
    if not top.size or bool(xp.all((top >= low) & (top <= high))):
        return None
    exponent = xp.round(xp.log2(xp.where(top > 0, top, xp.ones_like(top))))
    return xp.astype(2.0 ** exponent, dtype)


def _homogeneous(be, op, arrays, scales, degree, what, matrices=False, hint="rescale the inputs"):
    r"""``op(*arrays)`` as :math:`c^k \operatorname{op}(X_1/c, X_2/c, \dots)`, ``k = degree``.

    ``c`` (per problem, from :func:`_rescaling` of the inputs' ``scales``) is a power of two, so the
    rescaling is exact; ``degree`` None, or inputs within the safe range, run ``op`` as is.  ``matrices``:
    ``op`` returns matrices ``(..., n, n)`` (else one value per problem).  A finite value that leaves the
    dtype once scaled back raises an error starting with "overflow" that names ``what`` (then ``hint``); a non-finite
    value of ``op`` itself is returned for :func:`_guarded` to explain.
    """
    xp = be.xp
    c = None if degree is None else _rescaling(be, arrays[0].dtype, *scales)
    if c is None:
        return op(*arrays)
    value = op(*(X / c[..., None, None] for X in arrays))
    if not bool(xp.all(xp.isfinite(value))):
        return value
    factor = c**degree
    with np.errstate(over="ignore"):
        value = value * (factor[..., None, None] if matrices else factor)
    if not bool(xp.all(xp.isfinite(value))):
        raise ValidationError(f"overflow: {what} exceeds the {value.dtype} range; {hint}")
    return value


def _equivariant(be, m, op, arrays, scales, what):
    """Matrix-valued ``op`` (Exp, Log, geodesic, transport) of an equivariant metric, rescaled (degree 1)."""
    degree = 1 if getattr(m, "equivariant", False) else None
    return _homogeneous(be, op, arrays, scales, degree, what, matrices=True)


def _scaled_squared(be, m, op, scales, arrays, squared, names=("A", "B")):
    """The squared distances ``op(*arrays)`` (or the distances) on rescaled inputs for homogeneous metrics."""
    degree = getattr(m, "degree", None)
    what = f"the {'squared ' if squared else ''}{m.name} distance of {' and '.join(names)}"
    if squared:
        return _homogeneous(be, op, arrays, scales, degree, what, hint="pass squared=False or rescale the inputs")
    return _homogeneous(be, lambda *Z: be.xp.sqrt(op(*Z)), arrays, scales, None if degree is None else degree / 2,
                        what)


def _tangent(be, V, name):
    """Tangent vectors: symmetric matrices (shape, dtype, finiteness and symmetry checked, not definiteness),
    and their per-matrix scale ``max |V_ij|``."""
    return check_spd_scaled(V, name, backend=be, definite=False)


def _guarded(be, result, array, **spd):
    """Return ``result`` when ``array`` is finite; otherwise find the argument that is not positive definite,
    or say that entries outside the dtype's safe range overflowed."""
    xp = be.xp
    if result is not None and bool(xp.all(xp.isfinite(array))):
        return result
    for name, X in spd.items():
        check_spd(X, name, backend=be)
    low, high = _safe_range(next(iter(spd.values())).dtype)
    for name, X in spd.items():
        top = float(xp.max(xp.abs(X))) if X.size else 1.0
        if not low <= top <= high:
            raise ValidationError(f"overflow: {name} has entries of magnitude {top:.3g}, outside [{low:.3g}, "
                                  f"{high:.3g}] where this metric is evaluated in {X.dtype} (it is not homogeneous, "
                                  f"or the arguments' scales differ too much for one rescaling); rescale the inputs "
                                  f"or use float64")
    raise ValidationError("the result is not finite although the inputs are SPD: their condition number is too "
                          "large for this dtype; use float64 or regularize the inputs")


def _run(be, op, view=None, **spd):
    """Run ``op`` assuming SPD inputs; non-finite output or a failed factorization names the culprit.

    ``view(result)`` is the array checked for finiteness (the result itself by default).  On NumPy the
    BLAS runs single-threaded: batches of small matrices gain nothing from threads inside each LAPACK
    call, and OpenBLAS threads there make ``eigh`` of 64 x 64 matrices about 10x slower.
    """
    try:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"), serial_blas(be):
            result = op()
        return _guarded(be, result, result if view is None else view(result), **spd)
    except (np.linalg.LinAlgError, ZeroDivisionError) as error:
        _guarded(be, None, None, **spd)
        raise error  # pragma: no cover (an SPD argument always fails above)


def _check_same_n(**arrays):
    """Matrices of one size ``n`` whose batch shapes broadcast; the error names the arguments."""
    sizes = {name: X.shape[-1] for name, X in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise ShapeError(f"{' and '.join(sizes)} must hold matrices of the same n, got sizes {sizes}; pass matrices "
                         f"of one size")
    batches = {name: tuple(X.shape[:-2]) for name, X in arrays.items()}
    try:
        np.broadcast_shapes(*batches.values())
    except ValueError:
        raise ShapeError(f"the batch shapes of {' and '.join(batches)} must broadcast, got {batches}; pass batches of "
                         f"one length (or of length 1)") from None


@capabilities("linalgkit.spd.distance", **_CAPS)
def distance(A, B, *, metric="affine_invariant", squared=False):
    r"""Riemannian distance :math:`d(A, B)` between batches of SPD matrices.

    Affine-invariant: :math:`d^2 = \sum_i \log^2 \lambda_i(A, B)` with the generalized eigenvalues
    computed from :math:`C = \operatorname{chol}(B)` as ``eigvalsh(C^{-1} A C^{-T})``.
    Bures-Wasserstein: :math:`d^2 = \operatorname{tr} A + \operatorname{tr} B - 2\sum_i
    \sqrt{\lambda_i(C^\top A C)}`, :math:`C = \operatorname{chol}(B)` (no general square root; tiny
    negative values clipped at 0),
    equal to the Wasserstein-2 distance between :math:`N(0, A)` and :math:`N(0, B)`.
    Pullback metrics: the distance between chart images (see :mod:`linalgkit.spd._geometry`).

    Parameters
    ----------
    A, B : array, shape (..., n, n)
        SPD matrices; the batch shapes broadcast.
    metric : str, metric object or callable, default="affine_invariant"
        Name in :data:`METRICS`, ``power_euclidean(p)``, ``power_affine(p)``, or a callable
        ``metric(A, B)`` returning the distance of two ``(n, n)`` matrices (looped in Python).
    squared : bool, default=False
        Return :math:`d^2`.

    Returns
    -------
    array, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.spd import distance
    >>> float(distance(np.eye(2), np.diag([np.e, 1.0])))
    1.0
    """
    be = get_backend(A=A, B=B)
    (A, scale_a), (B, scale_b) = _spd_scaled(be, A, "A"), _spd_scaled(be, B, "B")
    _check_same_n(A=A, B=B)
    if callable(metric) and not hasattr(metric, "squared_distance"):
        return _callable_distances(be, metric, A, B, squared)
    m = get_metric(metric)
    return _run(be, lambda: _scaled_squared(be, m, lambda A, B: m.squared_distance(be, A, B), (scale_a, scale_b),
                                            (A, B), squared), A=A, B=B)


def _callable_distances(be, metric, A, B, squared):
    xp = be.xp
    A, B = xp.broadcast_arrays(A, B)
    n = A.shape[-1]
    flat_a, flat_b = xp.reshape(A, (-1, n, n)), xp.reshape(B, (-1, n, n))
    values = [float(metric(flat_a[k, ...], flat_b[k, ...])) for k in range(flat_a.shape[0])]
    d = xp.reshape(be.asarray(values, dtype=A.dtype), A.shape[:-2])
    return d**2 if squared else d


@capabilities("linalgkit.spd.pairwise_distances", **_CAPS)
def pairwise_distances(X, Y=None, *, metric="affine_invariant", squared=False):
    r"""Distance matrix :math:`D_{ij} = d(X_i, Y_j)` between two sets of SPD matrices.

    Affine-invariant: Cholesky factors once per matrix, then per pair the whitened
    :math:`L_i^{-1} Y_j L_i^{-T} = (L_i^{-1} R_j)(L_i^{-1} R_j)^T` from two triangular products and its
    eigenvalues, 16 pairs at a time in SIMD lanes on NumPy (8 without AVX-512) (only the upper triangle when ``Y`` is
    None).  Flat metrics (Euclidean, log-Euclidean, power-Euclidean, (log-)Cholesky): chart images once
    per matrix, then one GEMM with
    :math:`\|a - b\|^2 = \|a\|^2 + \|b\|^2 - 2\langle a, b\rangle`, and the pairs where that cancels
    (:math:`\|a - b\|^2 \le 2^{-20}(\|a\|^2 + \|b\|^2)`) summed from the difference, so that every
    distance has a small relative error.

    Parameters
    ----------
    X : array, shape (n_x, n, n)
    Y : array, shape (n_y, n, n), optional
        Defaults to ``X`` (the result is then symmetric with a zero diagonal).
    metric, squared
        As in :func:`distance`.

    Returns
    -------
    array, shape (n_x, n_y)
    """
    be = get_backend(X=X, Y=Y)
    xp = be.xp
    X, scale_x = _spd_scaled(be, X, "X")
    Yv, scale_y = (X, scale_x) if Y is None else _spd_scaled(be, Y, "Y")
    for name, Z in (("X", X), ("Y", Yv)):
        if Z.ndim != 3:
            raise ShapeError(f"{name} must be a stack (n_matrices, n, n), got shape {tuple(Z.shape)}")
    if Y is not None and X.shape[-1] != Yv.shape[-1]:
        raise ShapeError(f"X and Y must hold matrices of the same n, got {X.shape[-1]} and {Yv.shape[-1]}; pass "
                         f"matrices of one size")
    if not (X.shape[0] and Yv.shape[0]):
        return xp.zeros((X.shape[0], Yv.shape[0]), dtype=X.dtype, device=be.device)
    if callable(metric) and not hasattr(metric, "squared_distance"):
        return _callable_distances(be, metric, X[:, None, ...], Yv[None, ...], squared)
    m = get_metric(metric)
    top = xp.max(xp.concat([scale_x, scale_y]))[None]  # one scale for the whole matrix of pairs
    return _run(be, lambda: _scaled_squared(be, m, lambda *Z: _pairwise_squared(be, m, Z[0], Z[-1], Y is None),
                                            (top,), (X,) if Y is None else (X, Yv), squared, ("X", "Y")), X=X, Y=Yv)


def _pairwise_squared(be, m, X, Y, symmetric):
    if isinstance(m, g.AffineInvariant):
        d2 = dispatch.ai_pairwise(be, X, Y, symmetric, lambda: _pairwise_body(be, m, X, Y),
                                  lambda A, B: m.squared_distance(be, A, B))
    else:
        d2 = _pairwise_body(be, m, X, Y, symmetric)
    if symmetric:  # exactly symmetric, exact zeros on the diagonal (round-off would leave sqrt(eps)-sized values)
        d2 = (d2 + be.xp.matrix_transpose(d2)) / 2 * (1 - be.xp.eye(d2.shape[0], dtype=d2.dtype, device=be.device))
    return d2


def _pairwise_body(be, m, X, Y, symmetric=False):
    """Squared distances ``(N, M)``: one GEMM of chart images for flat metrics, else rows of 64 broadcast pairs."""
    xp = be.xp
    if isinstance(m, g.Pullback) and isinstance(m.base, g.Flat):
        a = m.base.coordinates(be, None, m.chart.forward(be, X)[0])
        b = a if symmetric else m.base.coordinates(be, None, m.chart.forward(be, Y)[0])
        gram = a @ xp.matrix_transpose(b)
        total = xp.sum(a**2, axis=-1)[:, None] + xp.sum(b**2, axis=-1)[None, :]
        d2 = xp.clip(total - 2 * gram, 0, None)
        return m.scale**2 * _recompute_close(be, a, b, d2, total)
    N = X.shape[0]
    rows = [m.squared_distance(be, X[i:min(i + 64, N), None, ...], Y[None, ...]) for i in range(0, N, 64)]
    return xp.concat(rows, axis=0)


_CANCELLATION = 2.0**-20
r"""Pairs with :math:`\|a - b\|^2 \le 2^{-20} (\|a\|^2 + \|b\|^2)` are recomputed from the difference: the
Gram form loses :math:`\epsilon (\|a\|^2 + \|b\|^2)` absolutely, so the others keep a relative error below
:math:`2^{20}\epsilon \approx 2\cdot 10^{-10}` (float64)."""


def _recompute_close(be, a, b, d2, total):
    """``d2`` with the entries that cancelled (see :data:`_CANCELLATION`) summed from ``a_i - b_j`` directly."""
    xp = be.xp
    close = d2 <= _CANCELLATION * total
    if not bool(xp.any(close)):
        return d2
    if be.kind != "numpy":  # no item assignment in the array API: every difference, kept where it cancelled
        return xp.where(close, xp.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1), d2)
    rows, cols = np.nonzero(close)
    d2 = d2.copy()
    d2[rows, cols] = np.sum((a[rows] - b[cols]) ** 2, axis=-1)
    return d2


@capabilities("linalgkit.spd.inner", **_CAPS)
def inner(S, U, V, *, metric="affine_invariant"):
    r"""Riemannian inner product :math:`g_S(U, V)` of tangent vectors (symmetric matrices) at ``S``.

    Parameters
    ----------
    S : array, shape (..., n, n)
        Base points (SPD).
    U, V : array, shape (..., n, n)
        Symmetric tangent vectors at ``S``.
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    array, shape (...)
    """
    be = get_backend(S=S, U=U, V=V)
    (S, scale_s), (U, scale_u), (V, scale_v) = _spd_scaled(be, S, "S"), _tangent(be, U, "U"), _tangent(be, V, "V")
    _check_same_n(S=S, U=U, V=V)
    m = get_metric(metric)
    return _run(be, lambda: _homogeneous(be, lambda *Z: m.inner(be, *Z), (S, U, V), (scale_s, scale_u, scale_v),
                                         getattr(m, "degree", None), f"the {m.name} inner product of U and V"), S=S)


@capabilities("linalgkit.spd.exp", **_CAPS)
def exp(S, V, *, metric="affine_invariant"):
    r"""Riemannian exponential :math:`\operatorname{Exp}_S(V) = \gamma(1)` of the geodesic with
    :math:`\gamma(0) = S`, :math:`\dot\gamma(0) = V`.

    AI: :math:`S^{1/2}\exp(S^{-1/2} V S^{-1/2}) S^{1/2}`; BW: :math:`(I + L) S (I + L)` with
    :math:`L = \mathcal{L}_S(V)` (a geodesic while :math:`I + L \succ 0`); pullbacks:
    :math:`\chi^{-1}(\chi(S) + d\chi_S[V])` for flat bases.  Euclidean, power-Euclidean (p > 0),
    Cholesky and BW are not complete: their Exp can leave the cone for long vectors.

    Parameters
    ----------
    S : array, shape (..., n, n)
    V : array, shape (..., n, n)
        Symmetric tangent vectors.
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    array, shape (..., n, n)
    """
    be = get_backend(S=S, V=V)
    (S, scale_s), (V, scale_v) = _spd_scaled(be, S, "S"), _tangent(be, V, "V")
    _check_same_n(S=S, V=V)
    m = get_metric(metric)
    return _run(be, lambda: _equivariant(be, m, lambda *Z: m.exp(be, *Z), (S, V), (scale_s, scale_v),
                                         f"the {m.name} Exp_S(V)"), S=S)


@capabilities("linalgkit.spd.log", **_CAPS)
def log(S, P, *, metric="affine_invariant"):
    r"""Riemannian logarithm :math:`\operatorname{Log}_S(P)`: the tangent vector at ``S`` with
    :math:`\operatorname{Exp}_S(\operatorname{Log}_S P) = P` and :math:`\|\operatorname{Log}_S P\|_S = d(S, P)`.

    AI: :math:`S^{1/2}\log(S^{-1/2} P S^{-1/2}) S^{1/2}`; BW: :math:`(SP)^{1/2} + (PS)^{1/2} - 2S`
    (through the optimal map :math:`T`, no general square root); LE:
    :math:`D_{\log S}\exp[\log P - \log S]` (Daleckii-Krein divided differences).

    Parameters
    ----------
    S, P : array, shape (..., n, n)
        SPD base points and targets.
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    array, shape (..., n, n)
        Symmetric tangent vectors at ``S``.
    """
    be = get_backend(S=S, P=P)
    (S, scale_s), (P, scale_p) = _spd_scaled(be, S, "S"), _spd_scaled(be, P, "P")
    _check_same_n(S=S, P=P)
    m = get_metric(metric)
    return _run(be, lambda: _equivariant(be, m, lambda *Z: m.log(be, *Z), (S, P), (scale_s, scale_p),
                                         f"the {m.name} Log_S(P)"), S=S, P=P)


@capabilities("linalgkit.spd.geodesic", **_CAPS)
def geodesic(A, B, t=0.5, *, metric="affine_invariant"):
    r"""Point :math:`\gamma(t)` of the geodesic with :math:`\gamma(0) = A`, :math:`\gamma(1) = B`.

    AI: :math:`A \#_t B = A^{1/2}(A^{-1/2} B A^{-1/2})^t A^{1/2}`, any real ``t``; BW:
    :math:`(1-t)^2 A + t^2 B + t(1-t)(TA + AT)`; pullbacks: :math:`\chi^{-1}((1-t)\chi(A) + t\chi(B))`.

    Parameters
    ----------
    A, B : array, shape (..., n, n)
    t : float, default=0.5
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    array, shape (..., n, n)
    """
    be = get_backend(A=A, B=B)
    (A, scale_a), (B, scale_b) = _spd_scaled(be, A, "A"), _spd_scaled(be, B, "B")
    _check_same_n(A=A, B=B)
    check_scalar(t, "t")
    m = get_metric(metric)
    return _run(be, lambda: _equivariant(be, m, lambda *Z: m.geodesic(be, *Z, float(t)), (A, B), (scale_a, scale_b),
                                         f"the {m.name} geodesic from A to B"), A=A, B=B)


@capabilities("linalgkit.spd.parallel_transport", **_CAPS)
def parallel_transport(A, B, V, *, metric="affine_invariant"):
    r"""Parallel transport of tangent vectors ``V`` at ``A`` to ``B`` along the geodesic.

    AI: :math:`E V E^\top` with :math:`E = A^{1/2}(A^{-1/2} B A^{-1/2})^{1/2} A^{-1/2}`;
    flat pullbacks (E, LE, power-Euclidean, (log-)Cholesky):
    :math:`d\chi_B^{-1}[d\chi_A[V]]`; power-affine: the AI transport read through :math:`X^p`;
    BW: closed form between commuting matrices only,
    :math:`(P^\top V' P)_{ij}\sqrt{(b_i + b_j)/(a_i + a_j)}` in the shared eigenbasis
    (use :func:`pole_ladder_transport` otherwise).

    Parameters
    ----------
    A, B : array, shape (..., n, n)
    V : array, shape (..., n, n)
        Symmetric tangent vectors at ``A``.
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    array, shape (..., n, n)
    """
    be = get_backend(A=A, B=B, V=V)
    (A, scale_a), (B, scale_b), (V, scale_v) = _spd_scaled(be, A, "A"), _spd_scaled(be, B, "B"), _tangent(be, V, "V")
    _check_same_n(A=A, B=B, V=V)
    m = get_metric(metric)
    return _run(be, lambda: _equivariant(be, m, lambda *Z: m.transport(be, *Z), (A, B, V), (scale_a, scale_b, scale_v),
                                         f"the {m.name} transport of V"), A=A, B=B)


@capabilities("linalgkit.spd.pole_ladder_transport", **_CAPS)
def pole_ladder_transport(A, B, V, *, metric="bures_wasserstein", n_rungs=10):
    r"""Parallel transport by the pole ladder, for metrics without a closed form (e.g. BW, non-commuting).

    The geodesic from ``A`` to ``B`` is cut into ``n_rungs`` pieces; on each piece
    :math:`[X_k, X_{k+1}]` with midpoint :math:`M_k`, the vector is carried as
    :math:`V \leftarrow -\operatorname{Log}_{X_{k+1}}(\operatorname{Exp}_{M_k}(-\operatorname{Log}_{M_k}
    \operatorname{Exp}_{X_k}(hV)))/h`, with :math:`h` scaling ``V`` to the rung length.  The pole ladder
    is exact in symmetric spaces and of global order :math:`O(1/n_{\mathrm{rungs}}^2)` otherwise
    (Guigui & Pennec, "Numerical accuracy of ladder schemes for parallel transport on manifolds",
    FoCM 2022).

    Parameters
    ----------
    A, B, V : array, shape (n, n) or (..., n, n)
    metric : str or metric object, default="bures_wasserstein"
    n_rungs : int, default=10

    Returns
    -------
    array, shape (..., n, n)
    """
    check_scalar(n_rungs, "n_rungs", kind=numbers.Integral, low=1)
    be = get_backend(A=A, B=B, V=V)
    (A, scale_a), (B, scale_b), (V, scale_v) = _spd_scaled(be, A, "A"), _spd_scaled(be, B, "B"), _tangent(be, V, "V")
    _check_same_n(A=A, B=B, V=V)
    m = get_metric(metric)
    return _run(be, lambda: _equivariant(be, m, lambda *Z: _pole_ladder(be, m, *Z, n_rungs), (A, B, V),
                                         (scale_a, scale_b, scale_v), f"the {m.name} transport of V"), A=A, B=B)


def _pole_ladder(be, m, A, B, V, n_rungs):
    xp = be.xp
    step = xp.sqrt(m.squared_distance(be, A, B))[..., None, None] / n_rungs
    norm = xp.sqrt(m.inner(be, A, V, V))[..., None, None]
    h = xp.where(norm > 0, step / xp.where(norm > 0, norm, 1), 1)
    V = V * h
    points = [A] + [m.geodesic(be, A, B, (k + 1) / n_rungs) for k in range(n_rungs)]
    for k in range(n_rungs):
        mid = m.geodesic(be, points[k], points[k + 1], 0.5)
        tip = m.exp(be, points[k], V)
        opposite = m.exp(be, mid, -m.log(be, mid, tip))
        V = -m.log(be, points[k + 1], opposite)
    return V / h
