"""gmres, gcrodr, rcg, rminres: the rule on the true residual, SciPy references, input types, contract, bad input."""

import warnings

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg as sla

from linalgkit.datasets._krylov import make_convection_diffusion, make_darcy, make_poisson
from linalgkit.exceptions import (ArgumentTypeError, ConvergenceWarning, LinalgkitError, NonFiniteError,
                                  NotSPDError, NotSupportedError, ShapeError, ValidationError)
from linalgkit.krylov import RecycleSpace, gcrodr, gmres, rcg, rminres
from tests.conftest import to_numpy

DARCY = make_darcy(16, random_state=0)
CONVDIFF = make_convection_diffusion(16, [40.0], random_state=0)[0]


def _relres(A, b, x):
    return np.linalg.norm(b - A @ x) / np.linalg.norm(b)


SOLVERS = {
    "gmres": lambda A, b, **kw: gmres(A, b, restart=30, **kw),
    "gcrodr": lambda A, b, **kw: gcrodr(A, b, k=10, m=30, **kw),
    "rcg": lambda A, b, **kw: rcg(A, b, k=10, **kw),
    "rminres": lambda A, b, **kw: rminres(A, b, k=10, **kw),
}


@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("problem", ["darcy", "poisson", "convdiff"])
def test_true_relative_residual_meets_rtol(name, problem):
    if name in ("rcg", "rminres") and problem == "convdiff":
        pytest.skip(f"{name} is for symmetric systems")
    A, b = {"darcy": DARCY, "poisson": make_poisson(16), "convdiff": CONVDIFF}[problem]
    for rtol in (1e-6, 1e-10):
        result = SOLVERS[name](A, b, rtol=rtol)
        assert result.converged
        assert _relres(A, b, result.x) <= rtol
        assert result.residual_norm == pytest.approx(np.linalg.norm(b - A @ result.x), rel=1e-6, abs=1e-300)


@pytest.mark.parametrize("problem", ["darcy", "convdiff"])
def test_gmres_iterations_match_scipy(problem):
    A, b = DARCY if problem == "darcy" else CONVDIFF
    count = []
    sla.gmres(A, b, rtol=1e-8, restart=20, maxiter=1000, callback=lambda pr: count.append(pr),
              callback_type="pr_norm")
    ours = gmres(A, b, rtol=1e-8, restart=20)
    assert abs(ours.iterations - len(count)) <= 1


def test_gcrodr_with_k0_reproduces_gmres_iterates():
    A, b = CONVDIFF
    ours, plain = [], []
    gmres(A, b, rtol=1e-9, restart=15, callback=lambda x: plain.append(x.copy()))
    result = gcrodr(A, b, k=0, m=15, rtol=1e-9, callback=lambda x: ours.append(x.copy()))
    assert result.recycle is None and len(ours) == len(plain) == result.iterations
    np.testing.assert_allclose(np.array(ours), np.array(plain), rtol=0, atol=1e-10 * np.abs(plain[-1]).max())


def test_rcg_without_space_matches_scipy_cg():
    A, b = DARCY
    count = []
    sla.cg(A, b, rtol=1e-9, callback=lambda x: count.append(1))
    result = rcg(A, b, k=0, rtol=1e-9)
    assert abs(result.iterations - len(count)) <= 1


@pytest.mark.parametrize("name", SOLVERS)
def test_solution_matches_spsolve_within_the_condition_bound(name):
    A, b = DARCY
    exact = sla.spsolve(A.tocsc(), b)
    cond = np.linalg.cond(A.toarray())
    x = SOLVERS[name](A, b, rtol=1e-12).x
    assert np.linalg.norm(x - exact) / np.linalg.norm(exact) <= cond * 1e-12


def _as_operator(A):
    return sla.LinearOperator(A.shape, matvec=lambda v: A @ v, matmat=lambda V: A @ V, dtype=A.dtype)


@pytest.mark.parametrize("kind", ["csr", "csr-int64", "csc", "dense", "operator"])
@pytest.mark.parametrize("name", ["gmres", "gcrodr"])
def test_input_types_give_the_same_answer(kind, name):
    A, b = CONVDIFF
    if kind == "csr-int64":
        A = A.copy()
        A.indices, A.indptr = A.indices.astype(np.int64), A.indptr.astype(np.int64)
    converted = {"csr": A, "csr-int64": A, "csc": A.tocsc(), "dense": A.toarray(), "operator": _as_operator(A)}
    reference = SOLVERS[name](A, b, rtol=1e-10)
    result = SOLVERS[name](converted[kind], b, rtol=1e-10)
    assert result.iterations == reference.iterations
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("name", SOLVERS)
def test_preconditioner_as_matrix_or_operator(name):
    A, b = DARCY
    jacobi = scipy.sparse.diags(1.0 / A.diagonal()).tocsr()
    plain = SOLVERS[name](A, b, rtol=1e-10)
    for M in (jacobi, _as_operator(jacobi)):
        if name == "rminres":
            with pytest.raises(NotSupportedError, match="M is not supported by rminres"):
                SOLVERS[name](A, b, rtol=1e-10, M=M)
            continue
        result = SOLVERS[name](A, b, rtol=1e-10, M=M)
        assert result.converged and _relres(A, b, result.x) <= 1e-10
        assert result.iterations < plain.iterations


def test_array_api_namespaces(xp):
    A, b = DARCY
    Ad, bd = xp.asarray(A.toarray()), xp.asarray(b)
    for name in SOLVERS:
        result = SOLVERS[name](Ad, bd, rtol=1e-8)
        assert type(result.x) is type(bd)
        assert _relres(A, b, to_numpy(result.x)) <= 1e-8
    space = gcrodr(Ad, bd, k=10, m=30, rtol=1e-8).recycle
    follow = gcrodr(Ad, bd * 2, k=10, m=30, rtol=1e-8, recycle=space)
    assert follow.converged and _relres(A, 2 * b, to_numpy(follow.x)) <= 1e-8


def test_float32_stops_at_its_own_floor():
    A, b = DARCY
    A32, b32 = A.astype(np.float32), b.astype(np.float32)
    result = gmres(A32, b32, rtol=1e-5)
    assert result.x.dtype == np.float32 and result.converged
    assert _relres(A32, b32, result.x) <= 1e-5  # the rule, evaluated in the working precision


def test_recycle_space_is_real_with_orthonormal_image_on_a_nonsymmetric_problem():
    A, b = CONVDIFF
    space = gcrodr(A, b, k=8, m=24, rtol=1e-10).recycle
    assert np.isrealobj(space.U) and np.isrealobj(space.C)
    assert space.k in (8, 9)
    np.testing.assert_allclose(space.C.T @ space.C, np.eye(space.k), atol=1e-10)
    np.testing.assert_allclose(A @ space.U, space.C, atol=1e-8 * np.abs(space.C).max())
    assert np.any(np.abs(space.ritz_values.imag) > 0) or np.all(np.isreal(space.ritz_values))


@pytest.mark.parametrize("name", SOLVERS)
def test_contract_callback_maxiter_and_progress(name):
    A, b = DARCY
    seen = []
    result = SOLVERS[name](A, b, rtol=1e-8, callback=lambda x: seen.append(x))
    assert len(seen) == result.iterations
    np.testing.assert_array_equal(seen[-1], result.x)
    with pytest.warns(ConvergenceWarning) as record:
        short = SOLVERS[name](A, b, rtol=1e-12, maxiter=5)
    assert len(record) == 1 and not short.converged and short.iterations == 5
    assert short.residual_norm == pytest.approx(np.linalg.norm(b - A @ short.x))
    assert short.residual_norm <= min(short.history)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shown = SOLVERS[name](A, b, rtol=1e-8, progress=True)
    np.testing.assert_array_equal(shown.x, result.x)
    assert SOLVERS[name](A, b, atol=1e3).iterations == 0


def test_matvecs_count_every_product():
    A, b = DARCY
    count = [0]

    def matvec(v):
        count[0] += 1
        return A @ v

    op = sla.LinearOperator(A.shape, matvec=matvec, dtype=float)
    first = gcrodr(op, b, k=10, m=30, rtol=1e-8)
    assert first.matvecs == count[0] == first.iterations + first.cycles
    count[0] = 0
    second = gcrodr(op, b + 1e-3, k=10, m=30, rtol=1e-8, recycle=first.recycle)
    assert second.matvecs == count[0] == second.iterations + second.cycles  # same operator: C reused
    count[0] = 0
    other = _as_operator(A)
    third = gcrodr(op, b, k=10, m=30, rtol=1e-8, recycle=RecycleSpace(second.recycle.U))
    assert third.matvecs == count[0] == third.iterations + third.cycles + second.recycle.k
    assert other is not op


BAD = [
    (lambda: gmres(np.ones((3, 4)), np.ones(3)), ShapeError, "A must be square"),
    (lambda: gmres(DARCY[0], np.ones(5)), ShapeError, "b must have length 256"),
    (lambda: gmres(DARCY[0], np.full(256, np.nan)), NonFiniteError, "b must be finite"),
    (lambda: gmres(np.full((4, 4), np.nan), np.ones(4)), NonFiniteError, "A must be finite"),
    (lambda: gmres(DARCY[0], DARCY[1], x0=np.ones(3)), ShapeError, "x0 must have length 256"),
    (lambda: gcrodr(*DARCY, k=40, m=40), ValidationError, "k must be smaller than m"),
    (lambda: gcrodr(*DARCY, M="jacobi"), ArgumentTypeError, "M must be None, a matrix or a LinearOperator"),
    (lambda: gcrodr(*DARCY, M=np.eye(3)), ShapeError, "M must have shape (256, 256)"),
    (lambda: gcrodr(*DARCY, recycle=np.ones((5, 2))), ShapeError, "recycle must have 256 rows"),
    (lambda: gcrodr(*DARCY, recycle=np.ones((256, 45))), ValidationError, "recycle must have fewer than m=40"),
    (lambda: rcg(*CONVDIFF), NotSPDError, "A must be symmetric positive definite for rcg"),
    (lambda: rcg(-DARCY[0], DARCY[1]), NotSPDError, "diagonal entry"),
    (lambda: rcg(_as_operator(-DARCY[0]), DARCY[1]), NotSPDError, "p^T A p"),
    (lambda: rminres(*CONVDIFF), NotSPDError, "A must be symmetric for rminres"),
    (lambda: rminres(*DARCY, k=10, m=5), ValidationError, "k must be smaller than m, got k=10"),
    (lambda: gmres(DARCY[0], DARCY[1], restart=0), ValidationError, "restart must be in"),
    (lambda: gmres("A", DARCY[1]), ArgumentTypeError, "A must be an array"),
    (lambda: gmres(*DARCY, rtol=2.0), ValidationError, "rtol"),
    (lambda: gmres(*DARCY, callback=3), ArgumentTypeError, "callback"),
    (lambda: gmres(DARCY[0].astype(complex), DARCY[1]), LinalgkitError, "A must have a floating dtype"),
    (lambda: gmres(DARCY[0] * 1e300, DARCY[1]), ValidationError, "A has entries of magnitude"),
    (lambda: rcg(DARCY[0], DARCY[1] * 1e-200), ValidationError, "b has entries of magnitude"),
    (lambda: gcrodr(*DARCY, x0=np.full(256, 1e150)), ValidationError, "x0 has entries of magnitude"),
    (lambda: rminres(DARCY[0].astype(np.float32) * 1e15, DARCY[1].astype(np.float32)), ValidationError,
     "stay finite in float32"),
]


@pytest.mark.parametrize("solver", [gmres, gcrodr, rcg, rminres])
@pytest.mark.parametrize("scale", [2.0**-290, 2.0**330])
def test_scaled_systems_inside_the_range_solve_as_the_unscaled_one(solver, scale):
    """A c and b c with c = 2^-290 and 2^330 (b's entries 2^-8: the ends of the range): the unscaled solve.

    The same iterations and the same x far below rtol (GCRO-DR's small eigenproblem in LAPACK is not
    exactly scale-equivariant below c = 2^-50: 8e-14 apart; the others agree to the bit).
    """
    A, b = DARCY
    plain = solver(A, b, rtol=1e-8)
    scaled = solver(A * scale, b * scale, rtol=1e-8)
    assert scaled.converged and scaled.iterations == plain.iterations
    np.testing.assert_allclose(scaled.x, plain.x, rtol=0, atol=1e-12 * np.abs(plain.x).max())


@pytest.mark.parametrize("call, error, message", BAD, ids=[m for _, _, m in BAD])
def test_bad_input_names_the_argument_and_the_fix(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("^", r"\^")) as info:
        call()
    assert ";" in str(info.value) or "must be in" in str(info.value) or "rtol" in str(info.value)


@pytest.mark.gpu
def test_cupy_sparse_sequence():
    from linalgkit._backend import cupy_module, gpu_available

    if not gpu_available():
        pytest.skip("no CUDA device answers (CuPy missing, disabled, or no GPU)")
    cupy = cupy_module()
    import cupyx.scipy.sparse

    A, b = DARCY
    Ad, bd = cupyx.scipy.sparse.csr_matrix(A), cupy.asarray(b)
    for name in SOLVERS:
        result = SOLVERS[name](Ad, bd, rtol=1e-8)
        assert isinstance(result.x, cupy.ndarray) and _relres(A, b, result.x.get()) <= 1e-8
    follow = gcrodr(Ad, 2 * bd, k=10, m=30, rtol=1e-8, recycle=gcrodr(Ad, bd, k=10, m=30, rtol=1e-8).recycle)
    assert follow.converged
