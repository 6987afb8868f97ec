r"""Tangent-space coordinates: SPD matrices as vectors in which Euclidean tools see the metric.

:func:`tangent_space` maps :math:`X` to the coordinates of :math:`\operatorname{Log}_C X` in an
orthonormal basis of :math:`T_C\mathrm{SPD}(n)` for the metric at the reference :math:`C`, so that
:math:`\|t(X)\|_2 = d(C, X)` (and :math:`\|t(X) - t(Y)\|_2 = d(X, Y)` for flat metrics).
Symmetric matrices are vectorized by their upper triangle with off-diagonal entries times
:math:`\sqrt 2` (an isometry from Frobenius to :math:`\mathbb{R}^{n(n+1)/2}`).  The orthonormal
frame is the whitening :math:`C^{-1/2}\cdot C^{-1/2}` for affine-invariant (pyRiemann's
``tangent_space``), the chart differential for pullback metrics (for log-Euclidean
:math:`\log X - \log C`), the eigenbasis of :math:`C` with weights :math:`(2(c_i + c_j))^{-1/2}`
for Bures-Wasserstein, and the lower-triangular chart for (log-)Cholesky.
"""

from .._backend import capabilities, get_backend
from .._validation import check_array
from ..exceptions import ShapeError
from .metrics import _CAPS, _run, _spd, get_metric

__all__ = ["tangent_space", "untangent_space"]


def _reference(be, reference):
    C = _spd(be, reference, "reference")
    if C.ndim != 2:
        raise ShapeError(f"reference must be one (n, n) matrix, got shape {tuple(C.shape)}")
    return C


@capabilities("linalgkit.spd.tangent_space", **_CAPS)
def tangent_space(X, reference, *, metric="affine_invariant"):
    r"""Orthonormal coordinates :math:`t(X)` of :math:`\operatorname{Log}_C X` at ``reference`` :math:`C`.

    Parameters
    ----------
    X : array, shape (..., n, n)
        SPD matrices.
    reference : array, shape (n, n)
        SPD reference point (typically the mean of ``X`` for this metric).
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    array, shape (..., n (n + 1) / 2)

    See Also
    --------
    untangent_space : The inverse map.
    """
    be = get_backend(X=X, reference=reference)
    X, C = _spd(be, X, "X"), _reference(be, reference)
    if X.shape[-1] != C.shape[-1]:
        raise ShapeError(f"X holds {X.shape[-1]} x {X.shape[-1]} matrices but reference is {tuple(C.shape)}; pass a "
                         f"reference of the size of X's matrices")
    m = get_metric(metric)
    return _run(be, lambda: m.log_coordinates(be, C, X), X=X, reference=C)


@capabilities("linalgkit.spd.untangent_space", **_CAPS)
def untangent_space(T, reference, *, metric="affine_invariant"):
    r"""Inverse of :func:`tangent_space`: :math:`\operatorname{Exp}_C` of the tangent vector with coordinates ``T``.

    Parameters
    ----------
    T : array, shape (..., n (n + 1) / 2)
    reference : array, shape (n, n)
    metric : str or metric object, default="affine_invariant"

    Returns
    -------
    array, shape (..., n, n)
    """
    be = get_backend(T=T, reference=reference)
    C = _reference(be, reference)
    T = check_array(T, "T", backend=be, min_ndim=1, allow_complex=False)
    n = C.shape[-1]
    if T.shape[-1] != n * (n + 1) // 2:
        raise ShapeError(f"T must have n(n+1)/2 = {n * (n + 1) // 2} columns for {n} x {n} matrices, "
                         f"got {T.shape[-1]}")
    m = get_metric(metric)
    return _run(be, lambda: m.exp_coordinates(be, C, T), reference=C)
