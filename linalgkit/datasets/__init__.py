"""Small seeded generators used by tests, examples, the tour and the benchmarks."""

__all__ = []
