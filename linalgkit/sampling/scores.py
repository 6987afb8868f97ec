r"""Leverage scores :math:`\tau_i(A) = a_i^T (A^T A)^{-1} a_i`, exact (thin QR) or sketched (Drineas et al. 2012)."""

import math
import numbers

from .._backend import capabilities, check_random_state, standard_normal
from .._validation import check_option, check_scalar
from ..sketch import make_sketch
from ._common import (basis, check_design, check_rank, left_solve, r_factor, right_solve, row_dot, row_quadratic,
                      sketch, weighted_inverse_gram)

__all__ = ["leverage_scores"]

METHODS = ("exact", "sketched")
# Sketch rows per column for sketched leverage: distortion about 0.1 to 0.2, so that the largest error over
# 20,000 scores is typically 0.1 to 0.3 (median 0.17 over 20 seeds on 20,000 x 10 heavy-tailed rows).
SKETCH_OVERSAMPLING = 100
# Nonzeros per column of the sparse sign sketch: on 2^18 x 50 (heavy-tailed) zeta = 2, 4, 8 all gave a largest
# error of 0.11 at m = 100 d, and zeta = 4 (RandBLAS' default) applied 7x faster than 8.
SKETCH_ZETA = 4
# JL columns per log(n) for sketched leverage; when that reaches d the JL step is skipped (exact row norms).
JL_PER_LOG_N = 24


@capabilities("linalgkit.sampling.leverage_scores",
              numpy="LAPACK thin QR (dense); sparse sign sketch + Cholesky on the preconditioned Gram (sparse, "
                    "sketched)",
              cupy="cuSOLVER QR; sparse sign sketch",
              generic="exact: array-API QR; sketched: Gaussian sketch")
def leverage_scores(A, *, method="exact", m=None, jl_dim=None, random_state=None):
    r"""Leverage scores :math:`\tau_i = a_i^T (A^T A)^{-1} a_i = \|e_i^T Q\|_2^2` of a tall full-rank ``A``.

    They lie in :math:`[0, 1]` and sum to :math:`d`; they are the :math:`\ell_2` sensitivities
    and the :math:`p = 2` Lewis weights.

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
        Real, full column rank, ``n >= d``.
    method : {"exact", "sketched"}, default="exact"
        ``"exact"``: squared row norms of the thin QR factor :math:`Q` (LAPACK, :math:`O(nd^2)`);
        for sparse ``A``, :math:`Q = A R_s^{-1} L^{-T}` with :math:`R_s` from a sparse sign sketch
        and :math:`L` the Cholesky factor of the (well-conditioned) Gram of :math:`A R_s^{-1}`.
        ``"sketched"`` (Drineas, Magdon-Ismail, Mahoney & Woodruff 2012): :math:`R` from the QR of
        a sparse sign sketch :math:`\Pi A` with ``m`` rows (4 nonzeros per column), then
        :math:`\hat\tau_i = \|a_i^T R^{-1} G\|_2^2` with a :math:`d \times k` Gaussian JL matrix
        :math:`G` (entries :math:`N(0, 1/k)`), in :math:`O(\mathrm{nnz}(A)\,k + m d^2)`.
    m : int, optional
        Sketch rows of ``"sketched"``; default :math:`\min(n, 100 d)`, for a distortion
        :math:`\varepsilon` of about 0.1 to 0.2.  Without the JL step each :math:`\hat\tau_i` lies in
        :math:`[(1 + \varepsilon)^{-2}, (1 - \varepsilon)^{-2}]\,\tau_i`; the largest error over
        20,000 scores is typically 10 to 30%.
    jl_dim : int, optional
        Columns :math:`k` of :math:`G`; default :math:`\lceil 24 \ln n \rceil`.  When
        :math:`k \ge d` the JL step is skipped and the row norms of :math:`A R^{-1}` are exact.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the sketches (``"sketched"``, and ``"exact"`` on sparse ``A``).

    Returns
    -------
    array of shape (n,)
        The scores, on the device of ``A``.

    Raises
    ------
    ValidationError
        When ``A`` is rank-deficient, or ``m`` / ``jl_dim`` are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sampling import leverage_scores
    >>> A = np.vstack([np.eye(2), np.zeros((2, 2))])
    >>> leverage_scores(A)
    array([1., 1., 0., 0.])
    """
    be, A = check_design(A)
    n, d = A.shape
    method = check_option(method, "method", METHODS)
    if m is not None:
        check_scalar(m, "m", kind=numbers.Integral, low=d, high=n)
    if jl_dim is not None:
        check_scalar(jl_dim, "jl_dim", kind=numbers.Integral, low=1)
    return _leverage_scores(be, A, method, m, jl_dim, check_random_state(random_state))


def _leverage_scores(be, A, method, m, jl_dim, rng):
    """Private implementation of :func:`leverage_scores` on checked arguments."""
    n, d = A.shape
    if method == "exact":
        Y = basis(be, A, rng, exact=not be.issparse(A)).Y
        return _row_norms_squared(be, Y) if not be.issparse(A) else row_quadratic(
            be, Y, weighted_inverse_gram(be, Y, None))
    m = min(n, SKETCH_OVERSAMPLING * d) if m is None else int(m)
    S = (make_sketch("gaussian", m, n, random_state=rng) if be.kind == "generic" else
         make_sketch("sparse_sign", m, n, random_state=rng, zeta=min(SKETCH_ZETA, m)))
    R = r_factor(be, sketch(be, S, A))
    check_rank(be, R, n)
    k = math.ceil(JL_PER_LOG_N * math.log(max(n, 2))) if jl_dim is None else int(jl_dim)
    if k >= d:
        return _row_norms_squared(be, right_solve(be, A, R))
    G = standard_normal(rng, (d, k), dtype=R.dtype, backend=be) / math.sqrt(k)
    return _row_norms_squared(be, A @ left_solve(be, R, G))


def _row_norms_squared(be, Y):
    return row_dot(be, Y, Y)
