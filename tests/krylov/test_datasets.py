"""The PDE generators of linalgkit.datasets._krylov against closed forms and their stated properties."""

import numpy as np
import pytest
import scipy.sparse

from linalgkit.datasets._krylov import (gaussian_random_field, make_convection_diffusion, make_darcy,
                                        make_darcy_family, make_darcy_sequence, make_poisson,
                                        make_shifted_laplacian)
from linalgkit.exceptions import ValidationError


def _dirichlet_fd_laplacian(n):
    """5-point Laplacian with the half-cell Dirichlet wall: 4 inside, +1 per wall face (written out directly)."""
    N = n * n
    A = np.zeros((N, N))
    for i in range(n):
        for j in range(n):
            c = i * n + j
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                a, b = i + di, j + dj
                if 0 <= a < n and 0 <= b < n:
                    A[c, c] += 1
                    A[c, a * n + b] -= 1
                else:
                    A[c, c] += 2
    return A


def test_darcy_with_unit_permeability_is_the_fv_laplacian():
    A, b = make_darcy(5, log_permeability=np.zeros((5, 5)))
    np.testing.assert_allclose(A.toarray(), _dirichlet_fd_laplacian(5), atol=1e-14)
    np.testing.assert_allclose(b, 1 / 25)


def test_darcy_is_spd_and_uses_harmonic_face_means():
    g = gaussian_random_field(8, random_state=0)
    A, _ = make_darcy(8, log_permeability=g)
    dense = A.toarray()
    np.testing.assert_allclose(dense, dense.T, atol=1e-14)
    assert np.linalg.eigvalsh(dense)[0] > 0
    K = np.exp(g)
    assert dense[0, 1] == pytest.approx(-2 / (1 / K[0, 0] + 1 / K[0, 1]))
    assert dense[0, 8] == pytest.approx(-2 / (1 / K[0, 0] + 1 / K[1, 0]))


def test_gaussian_random_field_is_normalized_and_seeded():
    g = gaussian_random_field(32, random_state=3)
    assert g.std() == pytest.approx(1.0) and abs(g.mean()) < 1e-12
    np.testing.assert_array_equal(g, gaussian_random_field(32, random_state=3))
    assert not np.allclose(g, gaussian_random_field(32, random_state=4))


def test_poisson_and_shifted_laplacian():
    A, _ = make_poisson(6)
    np.testing.assert_allclose(A.toarray(), _dirichlet_fd_laplacian(6) - np.diag(
        np.diag(_dirichlet_fd_laplacian(6)) - 4), atol=1e-14)
    family = make_shifted_laplacian(6, [0.0, 36.0])
    np.testing.assert_allclose((family[1][0] - family[0][0]).toarray(), np.eye(36), atol=1e-14)
    assert family.features.shape == (2, 1)


def test_convection_diffusion_is_nonsymmetric_with_the_central_stencil():
    family = make_convection_diffusion(6, [12.0], random_state=0)
    A = family[0][0].toarray()
    skew = (A - A.T) / 2
    assert skew[0, 1] == pytest.approx(12.0 / 12) and skew[0, 6] == pytest.approx(12.0 / 12)
    np.testing.assert_allclose((A + A.T) / 2, make_poisson(6)[0].toarray(), atol=1e-14)


def test_families_and_sequences():
    family = make_darcy_family(8, [0.0, np.pi / 2], random_state=0)
    assert len(family) == 2 and family.features.shape == (2, 64)
    rebuilt, _ = make_darcy(8, log_permeability=family.features[1].reshape(8, 8))
    np.testing.assert_allclose(family[1][0].toarray(), rebuilt.toarray())
    sequence = make_darcy_sequence(8, 3, random_state=0)
    assert len(list(sequence)) == 3 and scipy.sparse.issparse(sequence[0][0])
    with pytest.raises(ValidationError, match="n must be in"):
        make_poisson(1)
