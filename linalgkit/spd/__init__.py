"""Geometry of symmetric positive definite matrices: metrics, means, tangent maps, transport, sliced-Wasserstein."""

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

__all__ = [
    "METRICS",
    "bkm",
    "distance",
    "exp",
    "geodesic",
    "get_metric",
    "inner",
    "kernel_metric",
    "log",
    "mixed_power_euclidean",
    "pairwise_distances",
    "parallel_transport",
    "pole_ladder_transport",
    "power_affine",
    "power_euclidean",
]

from .means import MeanResult, geometric_mean, mean  # noqa: E402
from .tangent import tangent_space, untangent_space  # noqa: E402

__all__ += ["MeanResult", "geometric_mean", "mean", "tangent_space", "untangent_space"]

from .sliced import draw_directions, sliced_embedding, sliced_projections, sliced_wasserstein  # noqa: E402

__all__ += ["draw_directions", "sliced_embedding", "sliced_projections", "sliced_wasserstein"]

from ._estimators import MDM, FrechetMean, SPDSlicedWassersteinKernel, TangentSpace  # noqa: E402

__all__ += ["MDM", "FrechetMean", "SPDSlicedWassersteinKernel", "TangentSpace"]
