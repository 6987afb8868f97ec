"""Recycled MINRES: MINRES's optimality, recycling on symmetric indefinite sequences, the space it returns."""

import numpy as np
import pytest
import scipy.sparse.linalg as sla

from linalgkit.datasets._krylov import make_convection_diffusion, make_shifted_laplacian
from linalgkit.exceptions import ConvergenceWarning
from linalgkit.krylov import RecyclingSolver, gmres, rminres, solve_sequence

RTOL = 1e-8
SHIFTS = np.random.default_rng(0).permutation(np.linspace(0.0, 50.0, 12))


def _relres(A, b, x):
    return np.linalg.norm(b - A @ x) / np.linalg.norm(b)


def test_minres_residual_equals_gmres_over_the_same_krylov_space():
    """For symmetric A both minimize ||b - Ax|| over K_j(A, b): the residuals after j steps agree."""
    A, b = make_shifted_laplacian(24, [-30.0])[0]
    for steps in (5, 15, 30):
        with pytest.warns(ConvergenceWarning):
            ours = rminres(A, b, k=0, rtol=1e-14, maxiter=steps)
        with pytest.warns(ConvergenceWarning):
            full = gmres(A, b, restart=steps, rtol=1e-14, maxiter=steps)
        assert ours.iterations == full.iterations == steps
        assert ours.residual_norm == pytest.approx(full.residual_norm, rel=1e-6)


def test_indefinite_solution_matches_spsolve():
    A, b = make_shifted_laplacian(24, [-45.0])[0]
    result = rminres(A, b, rtol=1e-11)
    assert result.converged and _relres(A, b, result.x) <= 1e-11
    exact = sla.spsolve(A.tocsc(), b)
    cond = np.linalg.cond(A.toarray())
    assert np.linalg.norm(result.x - exact) <= 10 * cond * 1e-11 * np.linalg.norm(exact)


def test_space_is_orthonormal_image_of_u():
    A, b = make_shifted_laplacian(24, [-30.0])[0]
    space = rminres(A, b, k=8, rtol=RTOL).recycle
    U, C = space.U, space.C
    assert U.shape == C.shape == (A.shape[0], 8)
    np.testing.assert_allclose(C.T @ C, np.eye(8), atol=1e-10)
    np.testing.assert_allclose(A @ U, C, atol=1e-10 * np.abs(C).max())


def test_recycling_along_sorted_shifts_saves_products():
    systems = make_shifted_laplacian(32, -SHIFTS)
    order = np.argsort(SHIFTS)
    fresh = sum(rminres(*systems[i], k=0, rtol=RTOL).matvecs for i in order)
    space, recycled = None, 0
    for i in order:
        A, b = systems[i]
        result = rminres(A, b, recycle=space, rtol=RTOL)
        assert result.converged and _relres(A, b, result.x) <= RTOL
        space, recycled = result.recycle, recycled + result.matvecs
    assert recycled <= 0.9 * fresh, (recycled, fresh)  # observed at 48^2 over 20 shifts: 1556 / 1886


def _same_operator_counts(method, A):
    rng = np.random.default_rng(1)
    solver = RecyclingSolver(method, recycle=True, rtol=RTOL)
    counts = []
    for _ in range(4):
        b = rng.standard_normal(A.shape[0])
        result = solver.solve(A, b)
        assert result.converged and _relres(A, b, result.x) <= RTOL
        counts.append(result.matvecs)
    return counts


def test_same_operator_new_right_hand_sides():
    """Recycling pays from the third solve on (the first space holds only 4k Lanczos vectors), as GCRO-DR's."""
    A, _ = make_shifted_laplacian(32, [-25.0])[0]
    counts = _same_operator_counts("rminres", A)  # observed 115, 92, 58, 51
    reference = _same_operator_counts("gcrodr", A)  # observed 124, 95, 62, 54
    assert max(counts[1:]) < counts[0] and max(counts[2:]) <= 0.6 * counts[0], counts
    assert sum(counts[1:]) <= 1.1 * sum(reference[1:]), (counts, reference)


def test_auto_picks_by_structure():
    """Auto: CG for a positive diagonal, MINRES once CG meets negative curvature, GCRO-DR for nonsymmetric A."""
    helmholtz = make_shifted_laplacian(24, [-40.0])[0]
    solver = RecyclingSolver("auto", rtol=RTOL)
    assert solver.solve(*helmholtz).converged and solver._method == "rminres"
    convdiff = make_convection_diffusion(16, [40.0], random_state=0)[0]
    solver = RecyclingSolver("auto", rtol=RTOL)
    assert solver.solve(*convdiff).converged and solver._method == "gcrodr"


def test_solve_sequence_with_rminres():
    systems = make_shifted_laplacian(24, -SHIFTS[:6])
    out = solve_sequence(systems, solver="rminres", rtol=RTOL)
    assert out.converged.all()
    for i, (A, b) in enumerate(systems):
        assert _relres(A, b, out.x[i]) <= RTOL
