"""Fast transforms: the dense Walsh-Hadamard transform."""

from .walsh_hadamard import fwht, ifwht

__all__ = ["fwht", "ifwht"]
