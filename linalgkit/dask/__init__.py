"""Distributed versions for what outgrows one machine: ``dask.array`` inputs, Dask scheduling.

A layer on top of the families (no family module imports Dask): sketches as tree reductions
over row chunks, sketched and sketch-preconditioned least squares whose iterations pass over
``A`` persisted on the workers, SPD distances, tangent maps and means over chunked ``(N, n, n)``
stacks, and scikit-learn estimators that fit and transform chunk by chunk.  Needs the ``dask``
extra (``pip install linalgkit[dask]``); ``import linalgkit`` never imports Dask.  See the
"Scaling out" page of the documentation for what is exact and what is statistical.
"""

from ._core import RowOperator
from ._estimators import MDM, SketchedLinearRegression, TangentSpace
from .regression import lstsq_precondition, lstsq_sketched
from .sketch import DASK_SKETCH_KINDS, BlockSRHT, sketch
from .spd import distance, mean, pairwise_distances, tangent_space, untangent_space

__all__ = [
    "DASK_SKETCH_KINDS",
    "MDM",
    "BlockSRHT",
    "RowOperator",
    "SketchedLinearRegression",
    "TangentSpace",
    "distance",
    "lstsq_precondition",
    "lstsq_sketched",
    "mean",
    "pairwise_distances",
    "sketch",
    "tangent_space",
    "untangent_space",
]
