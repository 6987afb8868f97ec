"""Front-end design of the sparse Walsh-Hadamard transform: GF(2) subsampling and offsets.

Vectors of :math:`\\mathbb{F}_2^n` are ``numpy.uint64`` bit masks (bit ``i`` is coordinate
``i``, so ``n <= 62``), and a matrix is the array of its rows as masks.  Group ``c`` of the
front end is described by an invertible matrix :math:`G_c`: its first ``b`` rows ``H_c`` are
the hash, bin :math:`j = H_c k` (bit ``t`` of ``j`` is :math:`\\langle H_c[t], k\\rangle`), and
the subsampling matrix is :math:`M_c = H_c^T`, so that the samples
:math:`f(M_c \\ell \\oplus d)` alias coefficient ``k`` into bin ``H_c k`` (Li, Bradley and
Ramchandran, arXiv 1508.06336, Sec. III).  The columns of :math:`G_c^{-1}` parametrize each
bin's coset, :math:`k = G_c^{-1}[j; a]`, which the sample-optimal decoder searches.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["Design", "chain_offsets", "make_design", "pack_bits", "parity", "random_offsets", "xor_combine"]

_UINT64 = np.uint64


def parity(a, b):
    """``<a, b>`` over GF(2) elementwise (broadcasting): the parity of ``popcount(a & b)``, as uint8."""
    return np.bitwise_count(np.bitwise_and(a, b)) & np.uint8(1)


def pack_bits(bits):
    """Integers (uint64) whose bit ``i`` is ``bits[..., i]`` (a 0/1 array of at most 62 columns)."""
    weights = np.left_shift(_UINT64(1), np.arange(bits.shape[-1], dtype=_UINT64))
    return (bits.astype(_UINT64) * weights).sum(axis=-1, dtype=_UINT64)


def xor_combine(vectors, coefficients):
    """``XOR_i coefficients_i * vectors[..., i]``: the GF(2) combination selected by the bits of ``coefficients``.

    ``vectors`` has shape ``(..., m)`` (uint64 masks) and ``coefficients`` (integers) broadcasts
    against ``vectors[..., 0]``.
    """
    shifts = np.arange(vectors.shape[-1], dtype=_UINT64)
    selected = (np.asarray(coefficients, dtype=_UINT64)[..., None] >> shifts) & _UINT64(1)
    return np.bitwise_xor.reduce(np.where(selected.astype(bool), vectors, _UINT64(0)), axis=-1)


def _gf2_inverse(rows, n):
    """Inverse of the ``n x n`` GF(2) matrix given by its row masks (Python ints), or None if singular."""
    a = [int(r) for r in rows]
    inv = [1 << i for i in range(n)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if a[r] >> col & 1), None)
        if pivot is None:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        inv[col], inv[pivot] = inv[pivot], inv[col]
        for r in range(n):
            if r != col and a[r] >> col & 1:
                a[r] ^= a[col]
                inv[r] ^= inv[col]
    return inv


def _columns(rows, n):
    """Column masks of the ``n x n`` matrix with row masks ``rows`` (the transpose)."""
    return [sum(((rows[i] >> j) & 1) << i for i in range(n)) for j in range(n)]


def _random_invertible(n, rng):
    """Row masks of a uniformly random invertible ``n x n`` GF(2) matrix and the columns of its inverse."""
    while True:
        rows = [int(r) for r in rng.integers(0, 1 << n, size=n, dtype=np.int64)]
        inverse = _gf2_inverse(rows, n)
        if inverse is not None:
            return rows, _columns(inverse, n)


def _coordinate_block(n, b, group):
    """Rotation that puts coordinates ``group*b, ..., group*b + b - 1`` (mod n) first: the coordinate-block hash."""
    order = [(group * b + t) % n for t in range(n)]
    rows = [1 << i for i in order]
    inverse_columns = rows  # a permutation matrix's inverse is its transpose
    return rows, inverse_columns


def chain_offsets(n, chains, rng):
    """``chains`` random bases ``d_r`` each followed by ``d_r XOR e_i``, i = 0..n-1: shape ``(chains * (n + 1),)``."""
    bases = rng.integers(0, 1 << n, size=chains, dtype=np.int64).astype(_UINT64)
    units = np.concatenate([[0], np.left_shift(_UINT64(1), np.arange(n, dtype=_UINT64))]).astype(_UINT64)
    return (bases[:, None] ^ units[None, :]).reshape(-1)


def random_offsets(n, count, rng):
    """``count`` uniformly random offsets in ``[0, 2^n)``."""
    return rng.integers(0, 1 << n, size=count, dtype=np.int64).astype(_UINT64)


@dataclass(frozen=True)
class Design:
    """The front end of one transform: ``C`` groups of ``B = 2^b`` bins and ``P`` offsets per bin.

    Attributes
    ----------
    n, b : int
        Number of bits and of hash bits.
    hash_rows : ndarray of uint64, shape (C, b)
        Rows of :math:`H_c`; bin of ``k`` in group ``c`` has bit ``t`` equal to ``<hash_rows[c, t], k>``.
    coset_columns : ndarray of uint64, shape (C, n)
        Columns of :math:`G_c^{-1}`: bin ``j`` of group ``c`` is ``{xor_combine(cols[:b], j) ^ xor_combine(cols[b:], a)}``.
    offsets : ndarray of uint64, shape (C, P)
        Offsets :math:`d_{c,p}`.
    chains : int or None
        Number of chains when ``offsets`` are chain offsets (decoded bit by bit), else None.
    """

    n: int
    b: int
    hash_rows: np.ndarray
    coset_columns: np.ndarray
    offsets: np.ndarray
    chains: int | None

    @property
    def n_groups(self):
        return self.hash_rows.shape[0]

    @property
    def n_offsets(self):
        return self.offsets.shape[1]

    def bins(self, k, groups):
        """Bin index (int64) of the indices ``k`` in ``groups`` (broadcasting arrays)."""
        bits = parity(self.hash_rows[groups][..., :], np.asarray(k, dtype=_UINT64)[..., None])
        return pack_bits(bits).astype(np.int64)

    def signatures(self, k, groups):
        """Offset signs :math:`(-1)^{\\langle d_{c,p}, k\\rangle}` of shape ``k.shape + (P,)`` (float64)."""
        bits = parity(self.offsets[groups], np.asarray(k, dtype=_UINT64)[..., None])
        return 1.0 - 2.0 * bits

    def sample_indices(self):
        """Query indices :math:`M_c \\ell \\oplus d_{c,p}`, shape ``(C, P, B)`` (uint64)."""
        base = np.zeros((self.n_groups, 1), dtype=_UINT64)
        for t in range(self.b):
            base = np.concatenate([base, base ^ self.hash_rows[:, t : t + 1]], axis=1)
        return base[:, None, :] ^ self.offsets[:, :, None]


def make_design(n, b, n_groups, *, subsampling, offsets, chains, n_offsets, rng):
    """Draw the subsampling matrices and offsets of every group.

    ``subsampling`` is ``"random"`` (uniform invertible :math:`G_c`) or ``"coordinate"``
    (coordinate blocks); ``offsets`` is ``"chains"`` (``chains`` chains of ``n + 1``) or
    ``"random"`` (``n_offsets`` uniform offsets).
    """
    hash_rows, coset_columns, all_offsets = [], [], []
    for group in range(n_groups):
        if subsampling == "random":
            rows, inverse_columns = _random_invertible(n, rng)
        else:
            rows, inverse_columns = _coordinate_block(n, b, group)
        hash_rows.append(rows[:b])
        coset_columns.append(inverse_columns)
        if offsets == "chains":
            all_offsets.append(chain_offsets(n, chains, rng))
        else:
            all_offsets.append(random_offsets(n, n_offsets, rng))
    return Design(n, b, np.array(hash_rows, dtype=_UINT64), np.array(coset_columns, dtype=_UINT64),
                  np.array(all_offsets, dtype=_UINT64), chains if offsets == "chains" else None)
