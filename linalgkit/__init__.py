"""linalgkit: fast randomized and structured numerical linear algebra on CPU and GPU.

Subpackages
-----------
transforms
    Dense fast Walsh-Hadamard transform and the sparse WHT from few samples (SPRIGHT).
sketch
    Sketching operators: Gaussian, Rademacher, SRHT, SRTT, pooled Hadamard, CountSketch, sparse sign.
regression
    Sketched least squares with an l_inf guarantee, sketch-and-precondition, a scikit-learn regressor.
sampling
    Row sampling with l_p guarantees: leverage scores, Lewis weights, sensitivities, l_p regression.
krylov
    Krylov subspace recycling for sequences of linear systems: GMRES, GCRO-DR, recycled CG, SKR ordering.
spd
    SPD matrices: Riemannian metrics, means, tangent maps, transport, sliced-Wasserstein.
"""

from . import krylov, regression, sampling, sketch, spd, transforms
from .exceptions import ConvergenceWarning, LinalgkitError, RankDeficiencyWarning

__version__ = "0.1.0.dev0"

__all__ = ["ConvergenceWarning", "LinalgkitError", "RankDeficiencyWarning", "__version__", "krylov", "regression",
           "sampling", "sketch", "spd", "transforms"]
