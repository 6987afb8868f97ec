r"""Sketch-preconditioned Cholesky QR of :math:`[A\ b]`: least squares at LAPACK's accuracy with BLAS-3 work.

Steps (Balabanov 2022; Higgins, Szyld, Boman & Yamazaki 2023):

1. :math:`S[A\ b] = Q_s R_s` from the sketch (:func:`~._common.sketch_and_factor`).
2. :math:`W = R_s^{-1}` explicitly (a :math:`(d+1)^2` triangular inverse) and
   :math:`Y = [A\ b]\,W` by one triangular matrix product (on NumPy, BLAS ``trmm`` in place on a
   copy of :math:`[A\ b]`: half the flops of a GEMM, which other backends and sparse ``A`` use):
   :math:`Y` has condition number about :math:`(1+\sqrt{d/m})/(1-\sqrt{d/m})` whatever that of ``A``.
3. The Gram :math:`Y^TY` by one SYRK (NumPy's ``Y.T @ Y`` calls it), :math:`R_c` its Cholesky
   factor, so that :math:`[A\ b] \approx (Y R_c^{-1})(R_c W^{-1})` is a QR factorization.
4. With :math:`R_c = [C\ c;\ 0\ \gamma]` and :math:`W = [W_{11}\ w;\ 0\ \omega]`, the least-squares
   solution is :math:`x = (W_{11} C^{-1} c - w)/\omega`: ``b`` rides along as the last column, as in
   Björck's augmented QR, so :math:`Q^Tb` is never formed from an inaccurate :math:`Q`.

**Why the explicit inverse is safe.**  :math:`W` carries errors of relative size
:math:`u\,\kappa(A)` and so does the GEMM :math:`[A\ b]W`, but the method uses ``W`` itself, not
:math:`R_s`, everywhere: the change of variables :math:`[x; -1] = W[z; \zeta]` is exact for the
computed ``W``, and the only effect of the rounding is that :math:`Y` is the product with a
perturbed :math:`[A\ b]` of relative size :math:`u\,\kappa(A)` in the directions of the small
singular values, which are exactly where the problem's own condition number already allows an
error of that size (:math:`\|\delta x\|/\|x\| \lesssim u(\kappa + \kappa^2 \|r\|/(\|A\|\|x\|))`).
Measured on the generator of :func:`~linalgkit.datasets.make_lstsq_problem` (``2^15 x 100``,
condition numbers 1e3 to 1e12, residual norms 1e-6 and 1): forward error 0.05 to 2.2 times that of
LAPACK ``gelsd``.  A triangular solve with :math:`R_s` over :math:`A^T` is backward stable row by
row but about three times slower than a GEMM (``solve_triangular`` 407 ms against 128 ms at
``2^17 x 200``, issue 10), and a TRMM halves the GEMM's flops again.

**Refinement.**  Each iterate is tested with the rule of :func:`_refine` and refined by
:math:`\Delta x = P P^T A^T(b - Ax)`, :math:`P = W_{11} C^{-1}`, until the rule is met.  The
refinement cannot go below the rounding of :math:`A^T(b - Ax)`, and it adds that rounding to
``x``: an unconditional step costs 1.4 to 16 times gelsd's forward error on the cases above, so
the step is taken only when the test asks for it.
"""

import numpy as np

from .._backend import serial_blas
from ..exceptions import LinalgkitError
from ._blas import gram_of_upper_product
from ._cutovers import GRAM_BLOCK_ROWS

__all__ = ["CholeskyBreakdown", "cholqr_factor", "refine", "solve_upper"]


class CholeskyBreakdown(LinalgkitError):
    """The Gram matrix of :math:`[A\\ b] R_s^{-1}` is not numerically positive definite (internal signal)."""


def _triangular_inverse(backend, R):
    """Inverse of an upper triangular matrix (LAPACK ``trtri`` on NumPy)."""
    if backend.kind == "numpy":
        import scipy.linalg

        trtri, = scipy.linalg.get_lapack_funcs(("trtri",), (R,))
        inverse, info = trtri(R, lower=0)
        if info != 0:
            raise CholeskyBreakdown
        return inverse
    xp = backend.xp
    return solve_upper(backend, R, xp.eye(R.shape[0], dtype=R.dtype))


def solve_upper(backend, R, B, trans=False):
    """:math:`R^{-1}B` (or :math:`R^{-T}B`) for an upper triangular ``R``."""
    if backend.kind == "numpy":
        import scipy.linalg

        return scipy.linalg.solve_triangular(R, B, trans=1 if trans else 0, check_finite=False)
    if backend.kind == "cupy":
        import cupyx.scipy.linalg

        return cupyx.scipy.linalg.solve_triangular(R, B, trans=1 if trans else 0)
    xp = backend.xp
    return xp.linalg.solve(xp.matrix_transpose(R) if trans else R, B)


def _cholesky_upper(backend, G):
    """Upper Cholesky factor of ``G``; :class:`CholeskyBreakdown` when it fails or is not finite."""
    xp = backend.xp
    try:
        L = xp.linalg.cholesky(G)
    except np.linalg.LinAlgError as error:
        raise CholeskyBreakdown from error
    if not bool(xp.all(xp.isfinite(L))):
        raise CholeskyBreakdown
    return xp.matrix_transpose(L)


def _times_upper(backend, A, B, W):
    r""":math:`[A\ B]\,W` for an upper triangular ``W``: BLAS ``trmm`` on a copy for dense NumPy, else a product."""
    n, d = A.shape
    if backend.kind == "numpy" and not backend.issparse(A):
        import scipy.linalg

        trmm, = scipy.linalg.get_blas_funcs(("trmm",), (W,))
        Z = np.empty((n, W.shape[0]), dtype=A.dtype)
        Z[:, :d] = A
        Z[:, d:] = B
        # Z^T is Fortran-ordered, so trmm overwrites it in place: Z^T <- W^T Z^T, i.e. Z <- Z W
        return trmm(1.0, np.asfortranarray(W), Z.T, side=0, lower=0, trans_a=1, overwrite_b=1).T
    Y = A @ W[:d, :]
    Y[:, d:] = Y[:, d:] + B @ W[d:, d:]
    return Y


def _gram_times_upper(backend, A, B, W):
    r""":math:`Y^TY` for :math:`Y = [A\ B]\,W` (``W`` upper triangular), without forming ``Y`` for dense NumPy.

    Blocks of ``GRAM_BLOCK_ROWS`` rows are copied, multiplied by ``W`` in place (``trmm``) and added
    into an upper triangle by ``syrk`` while in cache, on one Python thread per core with the BLAS
    on one thread each (:func:`._blas.gram_of_upper_product`): one read of ``A`` instead of a
    copy, a ``trmm`` pass and a GEMM over all of ``Y`` (``python -m benchmarks.ablations gram``).
    """
    if backend.kind != "numpy" or backend.issparse(A):
        Y = _times_upper(backend, A, B, W)
        return backend.xp.matrix_transpose(Y) @ Y
    dtype = np.result_type(A.dtype, W.dtype)
    with serial_blas(backend):
        return gram_of_upper_product(A, B, np.asfortranarray(W, dtype=dtype), GRAM_BLOCK_ROWS)


def cholqr_factor(backend, A, B, stacked):
    r"""Steps 2-4 for ``k`` right-hand sides ``B``: ``(X, P, singular values of A)`` from the sketch's ``stacked``.

    With :math:`R_c = [C\ C_{12};\ 0\ C_{22}]` and :math:`W = [W_{11}\ W_{12};\ 0\ W_{22}]` the solution is
    :math:`X = (W_{11} C^{-1} C_{12} - W_{12})\,W_{22}^{-1}` (for one column, :math:`(W_{11}C^{-1}c - w)/\omega`).
    ``P = W_{11} C^{-1}`` makes :math:`AP` orthonormal up to :math:`u\,\kappa(A)`; the singular
    values of ``A`` are those of :math:`P^{-1}`, computed from ``P``.
    Raises :class:`CholeskyBreakdown` when the Gram matrix is not positive definite.
    """
    xp = backend.xp
    d = A.shape[1]
    with serial_blas(backend):
        W = _triangular_inverse(backend, stacked)
    G = _gram_times_upper(backend, A, B, W)
    with serial_blas(backend):
        Rc = _cholesky_upper(backend, G)
        C = Rc[:d, :d]
        M = W[:d, :d] @ solve_upper(backend, C, Rc[:d, d:]) - W[:d, d:]
        X = xp.matrix_transpose(solve_upper(backend, W[d:, d:], xp.matrix_transpose(M), trans=True))
        P = xp.matrix_transpose(solve_upper(backend, C, xp.matrix_transpose(W[:d, :d]), trans=True))
        inverse_values = backend.to_host(xp.linalg.svdvals(P))
    if not (np.all(np.isfinite(inverse_values)) and inverse_values[-1] > 0):
        raise CholeskyBreakdown
    return X, P, 1 / inverse_values[::-1]


def _residual_gradient(backend, A, B, X):
    r""":math:`(A^TR,\ \|R_{:j}\|)` for :math:`R = B - AX`: one fused read of a C-ordered NumPy ``A`` (Numba).

    An operator with its own one-pass ``product_pair`` (:class:`linalgkit.dask.RowOperator`) takes
    one pass for a single column too; two products elsewhere.
    """
    pair = getattr(A, "product_pair", None)
    if pair is not None and B.shape[1] == 1:
        _, gradient, size = pair(-X[:, 0], B[:, 0], 1.0, gather=False)
        return gradient[:, None], np.array([size])
    if backend.kind == "numpy" and backend.use_numba and isinstance(A, np.ndarray) and A.flags.c_contiguous:
        from ._numba import residual_gradient

        gradient, squares = residual_gradient(A, B, X)
        return gradient, np.sqrt(squares)
    residual = B - A @ X
    return A.T @ residual, backend.to_host(backend.xp.linalg.vector_norm(residual, axis=0))


def refine(backend, A, B, X, P, singular_values, tolerances, monitor):
    r"""Test each column of ``X`` and refine those that fail until the rule holds.

    Returns ``(X, converged, iterations, residual_norm, history, reached)``: the best iterate of
    each column, whether each meets the rule (a tuple), the iterations run, :math:`\|B - AX\|_F` of
    the returned ``X``, that norm for every tested iterate, and the largest :math:`\|r_k\|` of the
    returned columns.

    Rule (in the contract's form, per column): :math:`r_k = \Delta x_k = PP^TA^T(b - Ax_k)`, the
    refinement correction, which estimates the forward error :math:`x_k - x^*`, and
    :math:`\|r_{\mathrm{ref}}\| = \kappa\|x_k\| + \kappa^2\|b - Ax_k\|/\sigma_{\max}`, the
    first-order bound on the forward error of a solution with unit relative backward error (Wedin);
    so the default ``rtol = eps`` asks for the forward error a backward-stable solver guarantees.
    ``X`` (the Cholesky-QR solution) is iteration 1; each refinement step is one more and moves
    only the columns that fail.  The best iterate of a column is the one with the smallest ratio
    :math:`\|r_k\| / \text{threshold}`.
    """
    xp = backend.xp
    norms = xp.linalg.vector_norm
    sigma_max, kappa = float(singular_values[0]), float(singular_values[0] / singular_values[-1])
    iterations, history, best = 1, [], None
    monitor(lambda: X)
    while True:
        gradient, rnorms = _residual_gradient(backend, A, B, X)
        correction = P @ (xp.matrix_transpose(P) @ gradient)
        sizes = backend.to_host(norms(correction, axis=0))
        history.append(float(np.sqrt(np.sum(rnorms**2))))
        thresholds = np.maximum(tolerances.rtol * (kappa * backend.to_host(norms(X, axis=0)) + kappa**2 * rnorms
                                                   / sigma_max), tolerances.atol)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(thresholds > 0, sizes / thresholds, np.where(sizes == 0, 0.0, np.inf))
        if best is None:
            best = [ratios, X, rnorms, sizes]
        else:
            better = ratios < best[0]
            best = [np.where(better, ratios, best[0]), xp.where(backend.from_host(better), X, best[1]),
                    np.where(better, rnorms, best[2]), np.where(better, sizes, best[3])]
        failing = ratios > 1
        if not failing.any() or iterations == tolerances.maxiter:
            break
        X = xp.where(backend.from_host(failing), X + correction, X)
        iterations += 1
        monitor(lambda: X)
    ratios, X, rnorms, sizes = best
    return X, tuple(bool(r <= 1) for r in ratios), iterations, float(np.sqrt(np.sum(rnorms**2))), tuple(history), \
        float(sizes.max())
