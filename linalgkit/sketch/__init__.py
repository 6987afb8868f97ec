"""Sketching operators: Gaussian, Rademacher, SRHT, SRTT, Gaussian-pooled Hadamard, CountSketch, sparse sign.

Build one with :func:`make_sketch`; ``S @ A`` sketches, ``S.T @ Y`` applies the adjoint and
``S.apply_pair(A, b)`` sketches ``[A b]`` in one pass over ``A``.
"""

from .operators import (
    SKETCH_KINDS,
    CountSketch,
    GaussianSketch,
    PooledHadamardSketch,
    RademacherSketch,
    SketchOperator,
    SparseSignSketch,
    SRHTSketch,
    SRTTSketch,
    make_sketch,
)

__all__ = [
    "SKETCH_KINDS",
    "CountSketch",
    "GaussianSketch",
    "PooledHadamardSketch",
    "RademacherSketch",
    "SRHTSketch",
    "SRTTSketch",
    "SketchOperator",
    "SparseSignSketch",
    "make_sketch",
]
