"""Small seeded generators used by tests, examples, the tour and the benchmarks."""

from ._regression import LstsqProblem, make_lstsq_problem
from ._spd import make_spd_classification, make_spd_matrices

__all__ = ["LstsqProblem", "make_lstsq_problem", "make_spd_classification", "make_spd_matrices"]
