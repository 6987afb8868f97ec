"""linalgkit: fast randomized and structured numerical linear algebra on CPU and GPU.

Subpackages
-----------
transforms
    Dense fast Walsh-Hadamard transform and the sparse WHT from few samples (SPRIGHT).
"""

from . import transforms
from .exceptions import ConvergenceWarning, LinalgkitError

__version__ = "0.1.0.dev0"

__all__ = ["ConvergenceWarning", "LinalgkitError", "__version__", "transforms"]
