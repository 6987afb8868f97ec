r"""Recycled MINRES for sequences of symmetric (indefinite) systems (Wang, de Sturler and Paulino 2007)."""

import math

import numpy as np

from .._backend import capabilities, serial_blas
from ..exceptions import NotSupportedError
from ._common import norm, to_device
from ._cutovers import BREAKDOWN
from ._engine import EngineResult, image_basis
from .gcrodr import _space, to_result
from .rcg import solve_symmetric

__all__ = ["rminres"]


class _Lanczos:
    r"""MINRES on the deflated operator :math:`(I - CC^T)A` from :math:`r \perp C` (Paige and Saunders 1975).

    Each step makes one product :math:`Av_j` and projects it off :math:`C` (coefficients
    :math:`c_j = C^TAv_j`), then the three-term recurrence and one Givens rotation.  The direction
    vectors :math:`d_j` and their coefficient vectors :math:`e_j` (the same recurrence on
    :math:`c_j`) accumulate :math:`y = \sum \phi_j d_j` and :math:`C^TAy = \sum \phi_j e_j`.
    """

    def __init__(self, be, system, C, r, beta):
        xp = be.xp
        self.be, self.system, self.C = be, system, C
        self.kc = 0 if C is None else C.shape[0]
        self.v_old, self.v, self.beta_old, self.beta = xp.zeros_like(r), r / beta, 0.0, beta
        self.d = self.d_old = xp.zeros_like(r)
        self.e = self.e_old = np.zeros(self.kc)
        self.y, self.z = xp.zeros_like(r), np.zeros(self.kc)
        self.cs, self.sn, self.dbar, self.eps, self.phibar = -1.0, 0.0, 0.0, 0.0, beta
        self.steps = 0

    def step(self):
        """One Lanczos step and its rotation; returns ``(v_j, A v_j)`` and updates the residual estimate."""
        be, v = self.be, self.v
        Av = self.system.apply_A(v)
        w, c = Av, np.zeros(0)
        if self.kc:
            cd = self.C @ Av
            c = be.to_host(cd).astype(np.float64)
            w = Av - cd @ self.C
        if self.steps:
            w = w - self.beta * self.v_old  # beta_j v_{j-1}, with beta_j the norm that normalized v_j
        alpha = float(v @ w)
        w = w - alpha * v
        beta_next = norm(be, w)
        delta = self.cs * self.dbar + self.sn * alpha  # the previous rotation applied to the new column
        gbar = self.sn * self.dbar - self.cs * alpha
        eps_next, self.dbar = self.sn * beta_next, -self.cs * beta_next
        gamma = max(math.hypot(gbar, beta_next), np.finfo(np.float64).tiny)
        self.cs, self.sn = gbar / gamma, beta_next / gamma
        phi, self.phibar = self.cs * self.phibar, self.sn * self.phibar
        self.d_old, self.d = self.d, (v - self.eps * self.d_old - delta * self.d) / gamma
        self.e_old, self.e = self.e, (c - self.eps * self.e_old - delta * self.e) / gamma
        self.eps = eps_next
        self.y = self.y + phi * self.d
        self.z = self.z + phi * self.e
        self.v_old, self.beta_old, self.beta = v, self.beta, beta_next
        self.breakdown = beta_next <= BREAKDOWN * max(abs(alpha), self.beta_old)
        if not self.breakdown:
            self.v = w / beta_next
        self.steps += 1
        return v, Av

    def correction(self, U):
        r""":math:`y - U C^TAy`: the step from the cycle's start (``U`` rows, None without a space)."""
        if U is None:
            return self.y
        return self.y - to_device(self.be, self.z, self.system.dtype) @ U


def _harmonic_ritz(be, system, U, C, V, AV, k):
    r"""The ``k`` harmonic Ritz vectors of symmetric ``A`` in span(U, V), smallest :math:`|\theta|`: ``(U, C, theta)``.

    With :math:`Z = [U; V]` (rows) and :math:`AZ = [C; AV]` (no products), :math:`AZ\,p = \theta\,Z\,p`
    projected on :math:`AZ` is the symmetric-definite pencil :math:`(ZAZ^T) p = \mu (AZ\,AZ^T) p`,
    :math:`\mu = 1/\theta`; it is solved on the well-determined part of :math:`AZ` (Lanczos vectors
    lose orthogonality), so the new :math:`C = AU` comes out orthonormal.
    """
    xp = be.xp
    Z = V if U is None else xp.concat([U, V], axis=0)
    AZ = AV if C is None else xp.concat([C, AV], axis=0)
    F = be.to_host(AZ @ xp.matrix_transpose(AZ)).astype(np.float64)
    G = be.to_host(Z @ xp.matrix_transpose(AZ)).astype(np.float64)
    s, Y = np.linalg.eigh((F + F.T) / 2)
    keep = s > BREAKDOWN * 1e3 * s[-1]
    X = Y[:, keep] / np.sqrt(s[keep])
    mu, P = np.linalg.eigh(X.T @ ((G + G.T) / 2) @ X)
    k = min(k, mu.size)
    if k == 0:
        return None
    chosen = np.argsort(-np.abs(mu))[:k]
    T = to_device(be, (X @ P[:, chosen]).T, system.dtype)
    return T @ Z, T @ AZ, 1.0 / mu[chosen]


def rminres_engine(be, system, *, k, m, tolerances, U=None, C=None, monitor):
    r"""Recycled MINRES from the space ``U`` (rows, orthonormal ``C = AU`` when known); keeps ``m`` Lanczos vectors."""
    xp = be.xp
    x = xp.zeros_like(system.b) if system.x0 is None else system.x0
    r = system.b if system.x0 is None else system.residual(x)
    rnorm = norm(be, r)
    threshold = tolerances.threshold(norm(be, system.b))
    ratio = None
    if U is not None and C is None:
        U, C = image_basis(be, system, U)
    history, iterations, cycles = [rnorm], 0, 0
    best = (rnorm, x)
    stored_v, stored_av = [], []
    while rnorm > threshold and iterations < tolerances.maxiter:
        if C is not None:
            c = C @ r
            x, r = x + c @ U, r - c @ C
            if ratio is None:
                ratio = norm(be, r) / rnorm if rnorm > 0 else 0.0
        beta = norm(be, r)
        lanczos = _Lanczos(be, system, C, r, beta) if beta > threshold else None
        while lanczos is not None and iterations < tolerances.maxiter:
            v, Av = lanczos.step()
            iterations += 1
            if len(stored_v) < m:
                stored_v.append(v)
                stored_av.append(Av)
            monitor(lambda start=x, lanczos=lanczos: start + lanczos.correction(U))
            if lanczos.phibar <= threshold or lanczos.breakdown:
                break
        if lanczos is not None:
            x = x + lanczos.correction(U)
        r = system.residual(x)  # confirm on the computed residual; a drifted recursion restarts from it
        rnorm = norm(be, r)
        cycles += 1
        history.append(rnorm)
        if rnorm < best[0]:
            best = (rnorm, x)
        if lanczos is None:  # the projection alone met the estimate: nothing left to iterate on
            break
    rnorm, x = best
    theta = None
    if k > 0 and stored_v:
        update = _harmonic_ritz(be, system, U, C, xp.stack(stored_v), xp.stack(stored_av), k)
        if update is not None:
            U, C, theta = update
    return EngineResult(x, rnorm <= threshold, iterations, cycles, rnorm, tuple(history), U, C, theta, ratio)


def _rminres(be, system, *, k, m, tolerances, U, C, monitor):
    """Private implementation on a checked system (no warning); serial host BLAS as in :func:`gcrodr`."""
    if system.M is not None:
        raise NotSupportedError("M is not supported by rminres yet (a symmetric preconditioner needs MINRES in the "
                                "M^-1 inner product); pass M to gcrodr (any nonsingular A) or to rcg (SPD A)")
    with serial_blas(be):
        result = rminres_engine(be, system, k=k, m=m, tolerances=tolerances, U=U, C=C, monitor=monitor)
    return to_result(be, result, system, _space(be, result, system) if k > 0 else None)


@capabilities("linalgkit.krylov.rminres", numpy="NumPy/SciPy BLAS-1/2 Lanczos, LAPACK eigh for harmonic Ritz",
              cupy="the same code on CuPy arrays and cupyx sparse (small eigh on the host)",
              generic="pure array-API Lanczos (small eigh on the host)")
def rminres(A, b, x0=None, *, recycle=None, k=20, m=None, rtol=None, atol=0.0, maxiter=None, M=None, callback=None,
            progress=False, check_symmetry=True):
    r"""Solve a symmetric (possibly indefinite) system by recycled MINRES, returning a recycle space.

    With a recycle space :math:`U` and :math:`C = AU` (orthonormal), the start removes the
    component of the residual in :math:`C` and MINRES runs on :math:`(I - CC^T)A`, which is
    symmetric on the complement of :math:`C`: a three-term recurrence, no long orthogonalization
    (the deflated MINRES of Wang, de Sturler and Paulino 2007, RMINRES).  The solution is
    :math:`x_0 + y - UC^TAy`, accumulated by short recurrences.  The first ``m`` Lanczos vectors
    (and their products, kept without new ones) with :math:`U` give the ``k`` harmonic Ritz
    vectors with the smallest :math:`|\theta|`: the new space (RMINRES updates it every ``m``
    steps; once per solve costs one small eigenproblem).  ``k = 0`` is plain MINRES.

    Stopping rule of :mod:`linalgkit._solver` with :math:`r_k = b - Ax_k` and
    :math:`r_{\mathrm{ref}} = b`: tested on MINRES's residual estimate and confirmed on the
    computed residual (the recurrence restarts from it when they disagree).  The space is
    interchangeable with :func:`gcrodr`'s (both keep :math:`C = AU` orthonormal).

    Parameters
    ----------
    A : array, sparse matrix or LinearOperator of shape (n, n)
        Symmetric, nonsingular (indefinite is fine).
    b : array of shape (n,)
    x0 : array of shape (n,), optional
    recycle : RecycleSpace or array of shape (n, j), optional
        The space of a previous solve; its ``C`` is reused for the same ``A`` object.
    k : int, default=20
        Harmonic Ritz vectors kept.
    m : int, optional
        Lanczos vectors stored for the update (default ``4 k``; more than ``k``).
    rtol, atol, maxiter, callback, progress
        As in :func:`gcrodr` (``callback(xk)`` after every iteration).
    M : None
        Not supported yet: a symmetric preconditioner needs MINRES in the :math:`M^{-1}` inner
        product; use :func:`gcrodr` with ``M`` (any nonsingular ``A``) or :func:`rcg` (SPD ``A``).
    check_symmetry : bool, default=True
        Check an explicit ``A`` for symmetry first (one pass over it).

    Returns
    -------
    KrylovResult

    Raises
    ------
    NotSPDError
        When an explicit ``A`` is not symmetric.
    NotSupportedError
        When ``M`` is given.

    Examples
    --------
    >>> from linalgkit.datasets._krylov import make_shifted_laplacian
    >>> (A1, b1), (A2, b2) = make_shifted_laplacian(24, [-20.0, -21.0])
    >>> first = rminres(A1, b1, rtol=1e-8)
    >>> second = rminres(A2, b2, recycle=first.recycle, rtol=1e-8)
    >>> bool(second.converged), second.iterations < first.iterations
    (True, True)
    """
    return solve_symmetric("rminres", _rminres, A, b, x0, M, recycle=recycle, k=k, m=m, rtol=rtol, atol=atol,
                           maxiter=maxiter, callback=callback, progress=progress, check=check_symmetry,
                           definite=False)
