"""Numba kernel of the Krylov family: one modified Gram-Schmidt step of the Arnoldi process.

It receives plain arrays (the basis as C-contiguous rows, the new vector, the coefficient buffer)
from the dispatch in :mod:`linalgkit.krylov._engine` and never inspects types.
"""

import math

import numba

# Dot products may be reassociated (that is what vectorizes them); NaN and infinity keep their meaning.
_FAST = {"reassoc", "contract", "nsz"}


@numba.njit(cache=True, fastmath=_FAST)
def mgs_step(basis, count, w, h):
    r"""Orthogonalize ``w`` in place against the first ``count`` rows of ``basis`` by modified Gram-Schmidt.

    For each row :math:`q_i`: :math:`h_i = q_i^T w`, :math:`w \leftarrow w - h_i q_i`.  One sweep over
    the rows with ``w`` in cache (classical Gram-Schmidt twice reads every row twice or four times).
    MGS keeps GMRES backward stable (Paige, Rozloznik and Strakos 2006).

    Returns
    -------
    float
        :math:`\|w\|_2` after the step; ``h[:count]`` holds the coefficients.
    """
    n = w.shape[0]
    for i in range(count):
        s = 0.0
        for c in range(n):
            s += basis[i, c] * w[c]
        for c in range(n):
            w[c] -= s * basis[i, c]
        h[i] = s
    total = 0.0
    for c in range(n):
        total += w[c] * w[c]
    return math.sqrt(total)
