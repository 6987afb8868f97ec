r"""The GCRO-DR engine: restarted GMRES (``k = 0``), GMRES-DR (no incoming space) and GCRO-DR.

One cycle runs ``s`` Arnoldi steps on the deflated operator :math:`(I - CC^T)AM` from the
residual :math:`r \perp C`, orthogonalizing each new vector against the preallocated block
:math:`[C; V_0; \dots; V_j]` (modified Gram-Schmidt in a Numba kernel on NumPy; elsewhere
classical Gram-Schmidt on GEMVs, repeated once when the first pass cancelled more than
``1 - REORTHOGONALIZE`` of its norm: CGS2 with the DGKS criterion), with Givens rotations that
give the least-squares residual after every step.  Because :math:`r \perp C` and
:math:`AMU = C`, the GCRO-DR least-squares problem (Parks et al. 2006, eq. 2.13) splits:
:math:`w` minimizes :math:`\|\beta e_1 - \bar H w\|` and the correction is :math:`V w - U B w`,
so the in-cycle residual is GMRES's.  After each cycle the harmonic Ritz vectors of :math:`AM`
in :math:`[U, V]` with the ``k`` smallest harmonic Ritz values become the new :math:`U` (complex
pairs as their real and imaginary parts) and :math:`C = AMU` is kept orthonormal without new
products.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ._common import norm, to_device
from ._cutovers import BREAKDOWN, MAX_RITZ_PERIOD, REORTHOGONALIZE, RITZ_EVERY_CYCLE
from ._numba import arnoldi_csr, givens_column, mgs_step

__all__ = ["EngineResult", "gcrodr_engine", "image_basis"]


@dataclass
class EngineResult:
    x: object
    converged: bool
    iterations: int
    cycles: int
    residual_norm: float
    history: tuple
    U: object
    C: object
    ritz_values: object
    projection_ratio: float | None


def image_basis(be, system, U):
    r"""``(U R^{-1}, Q)`` with :math:`QR = AMU` (thin QR): the pair with :math:`AMU = C`, :math:`C^TC = I`.

    ``U`` holds the vectors as rows; costs ``k`` products with ``A`` (one block product).
    """
    xp = be.xp
    AU = system.op(U)
    Q, R = xp.linalg.qr(xp.matrix_transpose(AU))
    Rinv = np.linalg.inv(be.to_host(R).astype(np.float64))
    return to_device(be, Rinv.T, system.dtype) @ U, xp.matrix_transpose(Q)


class _Cycle:
    """State of one Arnoldi cycle: unrotated Hessenberg ``H``, ``B = C^T AM V``, Givens factors."""

    def __init__(self, kc, s, beta):
        self.H = np.zeros((s + 1, s))
        self.B = np.zeros((kc, s))
        self.R = np.zeros((s + 1, s))
        self.cs, self.sn = np.zeros(s), np.zeros(s)
        self.g = np.zeros(s + 1)
        self.g[0] = self.beta = beta
        self.steps = 0
        self.breakdown = False

    def add_column(self, j, h, hnorm, kc):
        """Record step ``j``: rotate the new column, make the next rotation; return the residual estimate."""
        self.B[:, j] = h[:kc]
        self.H[: j + 1, j] = h[kc:]
        self.H[j + 1, j] = hnorm
        self.R[: j + 2, j] = self.H[: j + 2, j]
        self.steps = j + 1
        return givens_column(self.R[: j + 2, j], self.cs, self.sn, j, self.g)

    def coefficients(self):
        r"""The least-squares solution :math:`w` of the steps so far.

        From the rotated triangle; when it is singular (a singular ``A`` maps a Krylov vector to
        zero), the minimum-norm solution of :math:`\min \|\beta e_1 - \bar H w\|` from LAPACK's lstsq.
        """
        j = self.steps
        if j == 0:
            return np.zeros(0)
        diagonal = np.abs(np.diag(self.R[:j, :j]))
        if diagonal.min() > BREAKDOWN * diagonal.max():
            return scipy.linalg.solve_triangular(self.R[:j, :j], self.g[:j], check_finite=False)
        rhs = np.zeros(j + 1)
        rhs[0] = self.beta
        return np.linalg.lstsq(self.H[: j + 1, :j], rhs, rcond=None)[0]


def _correction(be, system, W, U, kc, cycle, w):
    """:math:`Vw - UBw` in the preconditioned variables."""
    j = cycle.steps
    dz = to_device(be, w, system.dtype) @ W[kc:kc + j, :]
    if kc:
        dz = dz - to_device(be, cycle.B[:, :j] @ w, system.dtype) @ U
    return dz


def _cgs2(be, W, count, w):
    """Classical Gram-Schmidt against ``W[:count]`` (two GEMVs), repeated once by the DGKS criterion."""
    basis = W[:count, :]
    before = norm(be, w)
    h = basis @ w
    w = w - h @ basis
    hnorm = norm(be, w)
    if hnorm < REORTHOGONALIZE * before:  # a second pass only when the first cancelled much
        h2 = basis @ w
        w = w - h2 @ basis
        h = h + h2
        hnorm = norm(be, w)
    return w, be.to_host(h).astype(np.float64), hnorm


def _orthogonalize(be, W, count, w, buffer):
    """The family's dispatch point: ``(w', h, ||w'||)``, ``w' = w - W[:count]^T h`` orthogonal to ``W[:count]``.

    NumPy inputs take the Numba MGS kernel (one sweep over the basis; ``python -m benchmarks.ablations
    arnoldi``), other backends CGS2 on GEMVs, which run well on a GPU and need no kernel.
    """
    if be.kind == "numpy" and be.use_numba:
        w = np.array(w, dtype=W.dtype)  # the product may be a fresh array of another dtype: own it
        hnorm = mgs_step(W, count, w, buffer)
        return w, buffer[:count].astype(np.float64), hnorm
    return _cgs2(be, W, count, w)


def _compiled_csr(be, system, monitor):
    """The CSR arrays of ``A`` when a whole cycle may run in :func:`~._numba.arnoldi_csr`, else None.

    That is NumPy with Numba, ``A`` a CSR matrix, no preconditioner and no callback (which needs
    every iterate); the cycle then costs no Python per step (``python -m benchmarks.ablations arnoldi``).
    """
    A = system.A
    if (be.kind != "numpy" or not be.use_numba or system.M is not None or monitor.wants_iterates
            or not be.issparse(A) or A.format != "csr"):
        return None
    return A.indptr, A.indices, A.data


def _arnoldi(be, system, W, kc, s, r, beta, threshold, monitor, iterate):
    """``s`` Arnoldi steps from ``r / beta`` (``W[:kc]`` holds ``C``) until the estimate meets ``threshold``."""
    cycle = _Cycle(kc, s, beta)
    W[kc, :] = r / beta
    buffer = np.empty(W.shape[0], dtype=W.dtype) if be.kind == "numpy" else None
    csr = _compiled_csr(be, system, monitor)
    if csr is not None:
        cycle.steps, cycle.breakdown = arnoldi_csr(*csr, W, kc, s, threshold, BREAKDOWN, cycle.H, cycle.B, cycle.R,
                                                   cycle.cs, cycle.sn, cycle.g, buffer)
        system.matvecs += cycle.steps
        monitor.advance(cycle.steps)
        return cycle
    for j in range(s):
        w, h, hnorm = _orthogonalize(be, W, kc + j + 1, system.op(W[kc + j, :]), buffer)
        estimate = cycle.add_column(j, h, hnorm, kc)
        cycle.breakdown = hnorm <= BREAKDOWN * max(float(np.abs(h).max()), hnorm)
        if cycle.breakdown:
            W[kc + j + 1, :] = 0 * w
        else:
            W[kc + j + 1, :] = w / hnorm
        monitor(lambda: iterate(cycle))
        if estimate <= threshold or cycle.breakdown:
            break
    return cycle


def _select(theta, k, k_max):
    """Indices of harmonic Ritz values to keep: the ``k`` smallest in modulus, complex pairs whole."""
    finite = np.isfinite(theta)
    tol = 1e-12 * np.maximum(np.abs(theta), 1e-300)
    candidates = [i for i in np.argsort(np.where(finite, np.abs(theta), np.inf))
                  if finite[i] and theta[i].imag >= -tol[i]]
    chosen, count = [], 0
    for i in candidates:
        width = 1 if abs(theta[i].imag) <= tol[i] else 2
        if count + width > k_max:
            break
        chosen.append((i, width))
        count += width
        if count >= k:
            break
    return chosen


def _harmonic_ritz(be, system, W, U, CtU, kc, cycle, k, m):
    r"""New ``(U, C, C^T U, theta)`` from :math:`G^TG p = \theta\, G^T \hat W^T \hat V p` on :math:`\hat V = [UD, V_j]`.

    ``CtU`` is :math:`C^TU` on the host (``kc x kc``), carried from cycle to cycle: with
    :math:`U' = \hat V S` and :math:`C' = \hat W Q`, :math:`C'^TU' = Q^T (\hat W^T \hat V) S` costs no
    pass over the vectors, so :math:`\hat W^T \hat V` needs only :math:`V^TU`.
    """
    j = cycle.steps
    size = kc + j
    G = np.zeros((size + 1, size))
    WtV = np.zeros((size + 1, size))
    G[kc:, kc:] = cycle.H[: j + 1, :j]
    WtV[kc:kc + j, kc:] = np.eye(j)
    if kc:
        d = 1.0 / be.to_host(be.xp.linalg.vector_norm(U, axis=1)).astype(np.float64)
        G[:kc, :kc] = np.diag(d)
        G[:kc, kc:] = cycle.B[:, :j]
        WtV[:kc, :kc] = CtU * d
        WtV[kc:, :kc] = be.to_host(W[kc: size + 1, :] @ be.xp.matrix_transpose(U)).astype(np.float64) * d
    try:  # a standard eigenproblem when G^T W^T V is invertible (it is, unless the cycle broke down): 3x faster
        theta, P = np.linalg.eig(np.linalg.solve(G.T @ WtV, G.T @ G))
    except np.linalg.LinAlgError:
        try:
            theta, P = scipy.linalg.eig(G.T @ G, G.T @ WtV, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            return None
    chosen = _select(theta, min(k, size), min(k + 1, m - 1, size))
    if not chosen:
        return None
    columns = []
    for i, width in chosen:
        columns.append(P[:, i].real)
        if width == 2:
            columns.append(P[:, i].imag)
    P = np.column_stack(columns)
    Q, R = np.linalg.qr(G @ P)
    if not np.all(np.isfinite(R)) or np.min(np.abs(np.diag(R))) <= BREAKDOWN * np.max(np.abs(np.diag(R))):
        return None
    S = P @ np.linalg.inv(R)  # U_new = [UD, V] P R^{-1}: the small factors first, then one GEMM per block
    U_new = to_device(be, S[kc:].T, system.dtype) @ W[kc:kc + j, :]
    if kc:
        U_new = U_new + to_device(be, (S[:kc] * d[:, None]).T, system.dtype) @ U
    C = to_device(be, Q.T, system.dtype) @ W[: size + 1, :]
    return U_new, C, Q.T @ WtV @ S, np.array([theta[i] for i, _ in chosen])


def ritz_period(be, system, k, m):
    r"""Cycles between harmonic Ritz updates: the update's flops over the cycle's products, in 1..``MAX_RITZ_PERIOD``.

    An update costs about :math:`6kmn` flops (three passes of ``k`` vectors over the ``m + 1``
    basis vectors), a cycle :math:`m - k` products of :math:`2\,\mathrm{nnz}(A)` flops: on a
    5-point stencil one update costs 24 cycles' products.  The first ``RITZ_EVERY_CYCLE`` cycles of
    a solve and its last one update always (short, warm-started solves lose nothing), later ones
    every ``period``-th: a Darcy sequence takes 6.8 -> 4.4 s at 4 % fewer products, a warm-started
    Helmholtz one the same products (``python -m benchmarks.ablations ritz_period``).  A LinearOperator
    or a preconditioner (cost unknown, perhaps a solve) updates every cycle.
    """
    A = system.A
    if system.M is not None or system.matrix_free:
        return 1
    entries = A.nnz if be.issparse(A) else system.n**2
    update = 6 * k * m * system.n
    products = 2 * entries * max(m - k, 1)
    return int(min(MAX_RITZ_PERIOD, max(1, update // products)))


def gcrodr_engine(be, system, *, k, m, tolerances, U=None, C=None, monitor, guard=None):
    r"""Solve ``system`` by GCRO-DR(m, k) from an optional recycle space (rows ``U``, ``C`` with :math:`AMU = C`).

    ``k = 0`` is GMRES(m); ``U = None`` with ``k > 0`` is GMRES-DR(m, k).  ``monitor(iterate)`` is
    called after every inner iteration with a function returning the current iterate.  With
    ``guard``, an incoming space whose projection keeps more than ``guard`` of the first
    residual's norm is dropped before the first cycle (the solve becomes GMRES-DR).
    """
    xp = be.xp
    x = xp.zeros_like(system.b) if system.x0 is None else system.x0
    r = system.b if system.x0 is None else system.residual(x)
    rnorm = norm(be, r)
    threshold = tolerances.threshold(norm(be, system.b))
    incoming = U is not None
    if incoming and C is None:
        U, C = image_basis(be, system, U)
    ratio = theta = CtU = None
    if incoming:
        ratio = norm(be, r - (C @ r) @ C) / rnorm if rnorm > 0 else 0.0
        if guard is not None and ratio > guard:
            U = C = None
        else:
            CtU = be.to_host(C @ xp.matrix_transpose(U)).astype(np.float64)
    W = xp.zeros((m + 1, system.n), dtype=system.dtype, device=be.device)
    period = ritz_period(be, system, k, m)
    history, iterations, cycles = [rnorm], 0, 0
    best = (rnorm, x)
    while rnorm > threshold and iterations < tolerances.maxiter:
        kc = 0 if C is None else C.shape[0]
        pending = None
        if kc:
            c = C @ r
            pending = c @ U
            r = r - c @ C
            W[:kc, :] = C
        beta = norm(be, r)
        s = min(m - kc, tolerances.maxiter - iterations)

        def iterate(cycle, start=x, pending=pending, kc=kc):  # one product with M per iterate
            dz = _correction(be, system, W, U, kc, cycle, cycle.coefficients())
            return start + system.apply_M(dz if pending is None else dz + pending)

        if beta <= threshold:
            cycle = _Cycle(kc, 0, beta)
            x = x + system.apply_M(pending)
        else:
            cycle = _arnoldi(be, system, W, kc, s, r, beta, threshold, monitor, iterate)
            x = iterate(cycle)
        r = system.residual(x)
        rnorm = norm(be, r)
        iterations += cycle.steps
        cycles += 1
        history.append(rnorm)
        if rnorm < best[0]:
            best = (rnorm, x)
        last = rnorm <= threshold or iterations >= tolerances.maxiter
        due = U is None or last or cycles <= RITZ_EVERY_CYCLE or cycles % period == 0
        if k > 0 and cycle.steps > 0 and due:
            update = _harmonic_ritz(be, system, W, U, CtU, kc, cycle, k, m)
            if update is not None:
                U, C, CtU, theta = update
    rnorm, x = best
    return EngineResult(x, rnorm <= threshold, iterations, cycles, rnorm, tuple(history), U, C, theta, ratio)
