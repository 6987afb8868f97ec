r"""Sequences of sparse linear systems from PDEs, for the Krylov recycling family.

All operators are SciPy CSR matrices of the ``n x n`` cell grid on the unit square (``N = n^2``
unknowns, mesh width :math:`h = 1/n`, homogeneous Dirichlet boundary), scaled so that the
right-hand side of :math:`-\nabla\cdot(K\nabla u) = f` is :math:`h^2 f`.
"""

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.sparse

from .._backend import check_random_state
from .._validation import check_scalar

__all__ = ["SystemSequence", "gaussian_random_field", "make_convection_diffusion", "make_darcy",
           "make_darcy_family", "make_darcy_sequence", "make_poisson", "make_shifted_laplacian"]


@dataclass(frozen=True)
class SystemSequence:
    """A generated sequence of linear systems :math:`A_i x_i = b_i`.

    Attributes
    ----------
    systems : list of (sparse matrix, ndarray)
        The ``(A_i, b_i)`` pairs, in generation order.
    features : ndarray of shape (N, p)
        What :func:`~linalgkit.krylov.solve_sequence` sorts on: the PDE parameter of each system
        (the log-permeability field for Darcy, the shift, the convection speed).
    parameters : ndarray of shape (N,)
        The scalar that generated each system (angle, shift, speed; the draw index for Darcy).
    """

    systems: list
    features: np.ndarray
    parameters: np.ndarray

    def __len__(self):
        return len(self.systems)

    def __getitem__(self, i):
        return self.systems[i]

    def __iter__(self):
        return iter(self.systems)


def _check_grid(n):
    return int(check_scalar(n, "n", kind=numbers.Integral, low=2))


def gaussian_random_field(n, *, alpha=2.5, tau=7.0, random_state=None):
    r"""A Gaussian random field on the ``n x n`` cell grid, mean 0 and standard deviation 1.

    Covariance :math:`(-\Delta + \tau^2)^{-\alpha}` with Neumann conditions (the field of the
    neural-operator Darcy benchmarks, Li et al. 2021): cosine modes :math:`(i, j)` get the weight
    :math:`(\pi^2(i^2 + j^2) + \tau^2)^{-\alpha/2}` times a standard normal, then the field is
    normalized.

    Parameters
    ----------
    n : int
        Cells per side.
    alpha, tau : float
        Smoothness and inverse length scale.
    random_state : None, int, Generator, SeedSequence or RandomState

    Returns
    -------
    ndarray of shape (n, n)
    """
    n = _check_grid(n)
    check_scalar(alpha, "alpha", low=0.0, closed="neither")
    check_scalar(tau, "tau", low=0.0)
    rng = check_random_state(random_state)
    i = np.arange(n)
    weight = (np.pi**2 * (i[:, None] ** 2 + i[None, :] ** 2) + tau**2) ** (-alpha / 2)
    weight[0, 0] = 0.0
    field = scipy.fft.idctn(weight * rng.standard_normal((n, n)), norm="ortho")
    return field / field.std()


def _diffusion_matrix(K):
    r"""Cell-centred finite volumes for :math:`-\nabla\cdot(K\nabla u)`: harmonic face means, Dirichlet walls."""
    n = K.shape[0]
    index = np.arange(n * n).reshape(n, n)
    diagonal = np.zeros((n, n))
    rows, cols, vals = [], [], []
    for axis in (0, 1):
        first = [slice(None), slice(None)]
        second = [slice(None), slice(None)]
        first[axis], second[axis] = slice(None, -1), slice(1, None)
        k1, k2 = K[tuple(first)], K[tuple(second)]
        face = 2.0 / (1.0 / k1 + 1.0 / k2)
        diagonal[tuple(first)] += face
        diagonal[tuple(second)] += face
        i1, i2 = index[tuple(first)].ravel(), index[tuple(second)].ravel()
        rows += [i1, i2]
        cols += [i2, i1]
        vals += [-face.ravel(), -face.ravel()]
        for wall in (0, -1):  # the wall sits half a cell away: transmissibility 2 K
            cell = [slice(None), slice(None)]
            cell[axis] = wall
            diagonal[tuple(cell)] += 2.0 * K[tuple(cell)]
    rows.append(index.ravel())
    cols.append(index.ravel())
    vals.append(diagonal.ravel())
    A = scipy.sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                shape=(n * n, n * n))
    return A.tocsr()


def make_darcy(n, *, log_permeability=None, random_state=None):
    r"""One Darcy flow system :math:`-\nabla\cdot(e^{g}\nabla u) = 1` (cell-centred FV, SPD).

    Parameters
    ----------
    n : int
        Cells per side (``n^2`` unknowns).
    log_permeability : ndarray of shape (n, n), optional
        The field :math:`g`; default a :func:`gaussian_random_field` drawn from ``random_state``.
    random_state : None, int, Generator, SeedSequence or RandomState

    Returns
    -------
    A : scipy.sparse.csr_matrix of shape (n^2, n^2)
    b : ndarray of shape (n^2,)
        :math:`h^2` in every cell.
    """
    n = _check_grid(n)
    g = gaussian_random_field(n, random_state=random_state) if log_permeability is None else log_permeability
    return _diffusion_matrix(np.exp(g)), np.full(n * n, 1.0 / n**2)


def make_darcy_sequence(n, n_systems, *, random_state=None):
    """Darcy systems with independent permeability fields, as in a neural-operator training set.

    Parameters
    ----------
    n : int
        Cells per side.
    n_systems : int
        Number of systems.
    random_state : None, int, Generator, SeedSequence or RandomState

    Returns
    -------
    SystemSequence
        Features: the flattened log-permeability fields; parameters: ``0 .. n_systems - 1``.
    """
    n = _check_grid(n)
    check_scalar(n_systems, "n_systems", kind=numbers.Integral, low=1)
    rng = check_random_state(random_state)
    fields = [gaussian_random_field(n, random_state=rng) for _ in range(n_systems)]
    systems = [make_darcy(n, log_permeability=g) for g in fields]
    return SystemSequence(systems, np.stack([g.ravel() for g in fields]), np.arange(n_systems, dtype=float))


def make_darcy_family(n, thetas, *, random_state=None):
    r"""The smooth Darcy family :math:`K_\theta = \exp(\cos\theta\, g_0 + \sin\theta\, g_1)`.

    Two random fields :math:`g_0, g_1` are drawn once; the log-permeability moves on a circle, so
    systems with nearby :math:`\theta` are nearby operators.

    Parameters
    ----------
    n : int
        Cells per side.
    thetas : array_like of shape (N,)
        Angles :math:`\theta_i`.
    random_state : None, int, Generator, SeedSequence or RandomState

    Returns
    -------
    SystemSequence
        Features: the flattened log-permeability fields; parameters: ``thetas``.
    """
    n = _check_grid(n)
    thetas = np.asarray(thetas, dtype=float).ravel()
    rng = check_random_state(random_state)
    g0, g1 = gaussian_random_field(n, random_state=rng), gaussian_random_field(n, random_state=rng)
    fields = [np.cos(t) * g0 + np.sin(t) * g1 for t in thetas]
    systems = [make_darcy(n, log_permeability=g) for g in fields]
    return SystemSequence(systems, np.stack([g.ravel() for g in fields]), thetas)


def _laplacian(n):
    """The 5-point :math:`-\\Delta_h` on ``n x n`` cells, times :math:`h^2` (diagonal 4)."""
    T = scipy.sparse.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    eye = scipy.sparse.identity(n)
    return (scipy.sparse.kron(T, eye) + scipy.sparse.kron(eye, T)).tocsr()


def make_poisson(n):
    r"""The Poisson system :math:`-\Delta u = 1` (5-point stencil, :math:`h^2`-scaled: diagonal 4; SPD).

    Parameters
    ----------
    n : int
        Cells per side.

    Returns
    -------
    A : scipy.sparse.csr_matrix of shape (n^2, n^2)
    b : ndarray of shape (n^2,)
    """
    n = _check_grid(n)
    return _laplacian(n), np.full(n * n, 1.0 / n**2)


def make_shifted_laplacian(n, shifts):
    r"""Shifted Laplacians :math:`(-\Delta + \sigma_i)\,u = 1`, one system per shift.

    The matrix is :math:`h^2(-\Delta_h + \sigma I)`: SPD for :math:`\sigma > -2\pi^2`, a
    Helmholtz operator :math:`-\Delta - k^2` (indefinite) for :math:`\sigma = -k^2 < -2\pi^2`.

    Parameters
    ----------
    n : int
        Cells per side.
    shifts : array_like of shape (N,)
        The shifts :math:`\sigma_i`.

    Returns
    -------
    SystemSequence
        Features and parameters: the shifts.
    """
    n = _check_grid(n)
    shifts = np.asarray(shifts, dtype=float).ravel()
    L = _laplacian(n)
    eye = scipy.sparse.identity(n * n, format="csr")
    b = np.full(n * n, 1.0 / n**2)
    systems = [((L + (s / n**2) * eye).tocsr(), b) for s in shifts]
    return SystemSequence(systems, shifts[:, None].copy(), shifts)


def make_convection_diffusion(n, betas, *, random_state=None):
    r"""Convection-diffusion :math:`-\Delta u + \beta(u_x + u_y) = f` (central differences; nonsymmetric).

    Each system has its own speed :math:`\beta_i` and a standard normal right-hand side.  At cell
    Peclet numbers :math:`\beta h / 2 > 1` the matrix loses diagonal dominance.

    Parameters
    ----------
    n : int
        Cells per side.
    betas : array_like of shape (N,)
        Convection speeds.
    random_state : None, int, Generator, SeedSequence or RandomState

    Returns
    -------
    SystemSequence
        Features and parameters: the speeds.
    """
    n = _check_grid(n)
    betas = np.asarray(betas, dtype=float).ravel()
    rng = check_random_state(random_state)
    L = _laplacian(n)
    D = scipy.sparse.diags([-np.ones(n - 1), np.ones(n - 1)], [-1, 1])  # 2h * d/dx
    eye = scipy.sparse.identity(n)
    gradient = (scipy.sparse.kron(D, eye) + scipy.sparse.kron(eye, D)).tocsr()
    systems = [((L + (beta / (2 * n)) * gradient).tocsr(), rng.standard_normal(n * n)) for beta in betas]
    return SystemSequence(systems, betas[:, None].copy(), betas)
