"""Geometry of symmetric positive definite matrices: metrics, means, tangent maps, transport, sliced-Wasserstein.

Papers: Thanwerdas & Pennec, "O(n)-invariant Riemannian metrics on SPD matrices", LAA 2023
(arXiv 2109.05768); Bonet et al., "Sliced-Wasserstein on Symmetric Positive Definite Matrices for
M/EEG Signals", ICML 2023 (arXiv 2303.05798).
"""

from ._estimators import MDM, FrechetMean, SPDSlicedWassersteinKernel, TangentSpace
from .means import MeanResult, geometric_mean, mean
from .metrics import (
    METRICS,
    bkm,
    distance,
    exp,
    geodesic,
    get_metric,
    inner,
    kernel_metric,
    log,
    mixed_power_euclidean,
    pairwise_distances,
    parallel_transport,
    pole_ladder_transport,
    power_affine,
    power_euclidean,
)
from .sliced import draw_directions, sliced_embedding, sliced_projections, sliced_wasserstein, sliced_wasserstein_kernel
from .tangent import tangent_space, untangent_space

__all__ = [
    "MDM",
    "METRICS",
    "FrechetMean",
    "MeanResult",
    "SPDSlicedWassersteinKernel",
    "TangentSpace",
    "bkm",
    "distance",
    "draw_directions",
    "exp",
    "geodesic",
    "geometric_mean",
    "get_metric",
    "inner",
    "kernel_metric",
    "log",
    "mean",
    "mixed_power_euclidean",
    "pairwise_distances",
    "parallel_transport",
    "pole_ladder_transport",
    "power_affine",
    "power_euclidean",
    "sliced_embedding",
    "sliced_projections",
    "sliced_wasserstein",
    "sliced_wasserstein_kernel",
    "tangent_space",
    "untangent_space",
]
