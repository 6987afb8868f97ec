"""Fast transforms: the dense Walsh-Hadamard transform and the sparse one from few samples (SPRIGHT)."""

from .sparse import SparseWHTResult, evaluate_walsh, sparse_wht, walsh_basis
from .walsh_hadamard import fwht, ifwht

__all__ = ["SparseWHTResult", "evaluate_walsh", "fwht", "ifwht", "sparse_wht", "walsh_basis"]
