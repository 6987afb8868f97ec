"""Small seeded generators used by tests, examples, the tour and the benchmarks."""

from ._krylov import (SystemSequence, gaussian_random_field, make_convection_diffusion, make_darcy, make_darcy_family,
                      make_darcy_sequence, make_poisson, make_shifted_laplacian)
from ._regression import LstsqProblem, make_lstsq_problem
from ._sampling import L1RegressionProblem, make_heavy_tailed_design, make_l1_regression_problem
from ._spd import make_spd_classification, make_spd_matrices

__all__ = ["L1RegressionProblem", "LstsqProblem", "SystemSequence", "gaussian_random_field",
           "make_convection_diffusion", "make_darcy", "make_darcy_family", "make_darcy_sequence",
           "make_heavy_tailed_design", "make_l1_regression_problem", "make_lstsq_problem", "make_poisson",
           "make_shifted_laplacian", "make_spd_classification", "make_spd_matrices"]
