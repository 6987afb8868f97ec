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


@numba.njit(cache=True)
def givens_column(column, cs, sn, j, g):
    r"""Rotate the new Hessenberg column ``j`` (length ``j + 2``) in place, make rotation ``j`` and apply it to ``g``.

    The rotations :math:`0..j-1` of the earlier columns come first; rotation ``j`` zeroes
    ``column[j + 1]``.  ``g`` is the rotated right-hand side :math:`\beta e_1`; returns
    :math:`|g_{j+1}|`, the least-squares residual after step ``j``.
    """
    for i in range(j):
        a, b = column[i], column[i + 1]
        column[i] = cs[i] * a + sn[i] * b
        column[i + 1] = cs[i] * b - sn[i] * a
    rho = math.hypot(column[j], column[j + 1])
    c, s = (1.0, 0.0) if rho == 0 else (column[j] / rho, column[j + 1] / rho)
    cs[j], sn[j] = c, s
    column[j], column[j + 1] = rho, 0.0
    g[j + 1] = -s * g[j]
    g[j] = c * g[j]
    return abs(g[j + 1])
