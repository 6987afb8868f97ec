"""Small seeded generators used by tests, examples, the tour and the benchmarks."""

from ._regression import LstsqProblem, make_lstsq_problem

__all__ = ["LstsqProblem", "make_lstsq_problem"]
