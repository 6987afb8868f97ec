"""Back end of the sparse Walsh-Hadamard transform: bin classification and the peeling decoder.

Bin ``j`` of group ``c`` holds the ``P``-vector
:math:`y = \\sum_{k: H_c k = j} F[k]\\, s_k + w` with signatures
:math:`s_k[p] = (-1)^{\\langle d_{c,p}, k\\rangle}` and noise :math:`w \\sim N(0, \\nu^2 I)`.
A bin is a zero-ton when :math:`\\|y\\|^2` is within the noise, a single-ton when one
signature explains it (:math:`\\|y - \\hat F s_{\\hat k}\\|^2` within the noise), and otherwise a
multi-ton.  Single-tons are peeled from every group until none is left (Li, Bradley and
Ramchandran, arXiv 1508.06336; Scheibler, Haghighatshoar and Vetterli, IEEE T-IT 61, 2015).
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from ._cutovers import SEARCH_BLOCK
from ._spright_design import pack_bits, parity, xor_combine
from .walsh_hadamard import _fwht

__all__ = ["Thresholds", "estimate_bin_noise", "peel", "refine"]

# Probability that a pure-noise bin is mistaken for signal, split over all bins (Bonferroni).
FALSE_ALARM = 1e-3
# Relative noise floor for exact (noiseless) data: round-off of the float64 bin FWHTs.
ROUNDOFF = 1e-9
# Relative excess of the total residual energy over its noise expectation still taken as noise.
ENERGY_SLACK = 0.05


@dataclass(frozen=True)
class Thresholds:
    """Energy limits of one transform.

    ``zero`` bounds ||y||^2 of a zero-ton, ``single`` the residual of a single-ton, and
    ``noise_energy`` is the expected energy of pure noise over all bins, against which the
    residual left by peeling is compared (coefficients too weak to show in any one bin still
    show there), and ``amplitude`` is four standard errors of one coefficient estimate: an
    index whose estimates cancel below it (peeled, then peeled back) is not kept.
    """

    zero: float
    single: float
    noise_energy: float
    amplitude: float

    @classmethod
    def from_noise(cls, bin_variance, n_offsets, n_bins, floor):
        """Chi-square limits for noise of variance ``bin_variance`` per bin entry (at least ``floor``)."""
        variance = max(bin_variance, floor, np.finfo(np.float64).tiny)
        alpha = FALSE_ALARM / n_bins
        return cls(variance * chi2.isf(alpha, n_offsets), variance * chi2.isf(alpha, max(n_offsets - 1, 1)),
                   variance * n_bins * n_offsets, 4 * np.sqrt(variance / n_offsets))

    def residual_ratio(self, Y):
        """Energy left in the bins over the noise expectation (about 1 once all signal is explained)."""
        return float(np.vdot(Y, Y)) / self.noise_energy

    def explains(self, Y):
        """Whether the energy left in the bins ``Y`` is within the noise (chi-square 4-sigma plus a 5% slack)."""
        return self.residual_ratio(Y) <= energy_limit(Y.size)

    def unexplained_bins(self, Y):
        """``(group, bin)`` of the bins of ``Y`` whose energy is above the zero-ton limit, shape ``(m, 2)``."""
        return np.argwhere(np.einsum("cjp,cjp->cj", Y, Y) > self.zero).astype(np.int64)


def energy_limit(degrees):
    """Largest residual energy over its noise expectation taken as noise, for ``degrees`` bin entries."""
    return 1 + ENERGY_SLACK + 4 * np.sqrt(2 / degrees)


def estimate_bin_noise(energies, n_offsets):
    """Noise variance per bin entry from the bin energies ||y||^2, most of which are zero-tons.

    Starts from the lower quartile of the energies, rescaled by the chi-square quartile, and
    repeatedly takes the median of the bins below the zero-ton limit, rescaled by the
    chi-square median; the start stays consistent while more than a quarter of the bins are
    zero-tons (the default ``B >= 2K`` fills at most half of them: with the median, a spectrum
    filling half of the bins was taken for noise).
    """
    median_ratio = chi2.median(n_offsets)
    limit = chi2.isf(FALSE_ALARM / energies.size, n_offsets) / median_ratio
    variance = np.quantile(energies, 0.25) / chi2.ppf(0.25, n_offsets)
    for _ in range(50):
        kept = energies[energies <= limit * median_ratio * variance]
        updated = np.median(kept) / median_ratio if kept.size else variance
        if updated == variance:
            break
        variance = updated
    return float(variance)


def _locate_chains(be, y, groups, bins, design):
    """Chain decoding: bit ``i`` of ``k`` by majority over chains of ``[y(d_r) * y(d_r ^ e_i) < 0]``."""
    chains = design.chains
    y = y.reshape(y.shape[0], chains, design.n + 1)
    products = y[:, :, :1] * y[:, :, 1:]
    votes = np.count_nonzero(products < 0, axis=1)
    tie_break = products.sum(axis=1) < 0
    bits = (2 * votes > chains) | ((2 * votes == chains) & tie_break)
    return pack_bits(bits)


def _locate_search(be, y, groups, bins, design):
    """Sample-optimal decoding: the most correlated signature among the ``2^(n-b)`` members of the bin.

    The members are :math:`k(a) = k_0 \\oplus V a` (``V`` spans the kernel of the hash), so the
    correlations :math:`\\sum_p y_p (-1)^{\\langle d_p, k(a)\\rangle}` over all ``a`` are one
    ``2^(n-b)``-point Walsh-Hadamard transform of the offsets' images ``w_p = V^T d_p``.
    """
    n, b = design.n, design.b
    columns = design.coset_columns[groups]
    k0 = xor_combine(columns[:, :b], bins)
    kernel = columns[:, b:]
    images = pack_bits(parity(design.offsets[groups][:, :, None], kernel[:, None, :])).astype(np.int64)
    signed = y * design.signatures(k0, groups)
    width = 1 << (n - b)
    best = np.empty(y.shape[0], dtype=np.int64)
    step = max(1, SEARCH_BLOCK // width)
    for start in range(0, y.shape[0], step):
        rows = slice(start, start + step)
        count = signed[rows].shape[0]
        flat = (np.arange(count)[:, None] * width + images[rows]).ravel()
        spread = np.bincount(flat, weights=signed[rows].ravel(), minlength=count * width).reshape(count, width)
        best[rows] = np.argmax(np.abs(_fwht(be, spread, 1, 1)), axis=-1)
    return k0 ^ xor_combine(kernel, best)


def _classify(be, Y, design, thresholds):
    """Single-tons among the non-zero bins: their index, amplitude, and the non-zero bins' (group, bin)."""
    groups, bins = np.nonzero(np.einsum("cjp,cjp->cj", Y, Y) > thresholds.zero)
    y = Y[groups, bins]
    locate = _locate_chains if design.chains is not None else _locate_search
    k = locate(be, y, groups, bins, design)
    signs = design.signatures(k, groups)
    amplitude = np.einsum("ap,ap->a", signs, y) / design.n_offsets
    residual = y - amplitude[:, None] * signs
    single = (np.einsum("ap,ap->a", residual, residual) <= thresholds.single) & (design.bins(k, groups) == bins)
    return k[single], amplitude[single]


def _subtract(Y, design, k, amplitude):
    """Remove ``amplitude * s_k`` from the bin of ``k`` in every group (in place)."""
    groups = np.broadcast_to(np.arange(design.n_groups), (k.size, design.n_groups))
    keys = np.broadcast_to(k[:, None], groups.shape)
    bins = design.bins(keys, groups)
    update = amplitude[:, None, None] * design.signatures(keys, groups)
    np.subtract.at(Y, (groups.ravel(), bins.ravel()), update.reshape(-1, design.n_offsets))


def peel(be, Y, design, thresholds, max_iterations, callback=None):
    """Peeling decoder on the bin array ``Y`` of shape ``(C, B, P)`` (modified in place).

    Each pass finds every single-ton, averages repeated findings of the same index, and
    subtracts them from all groups; it stops when a pass finds no single-ton (every bin left is
    a zero-ton or a multi-ton), or after ``max_iterations`` passes.

    Parameters
    ----------
    callback : callable, optional
        ``callback(support, coefficients)`` after each pass, with the indices (uint64, sorted)
        and summed amplitudes found so far.

    Returns
    -------
    support, coefficients : ndarray
        Indices (uint64, sorted) and their summed amplitude estimates.
    iterations : int
        Passes made (each found at least one single-ton).
    history : tuple of float
        :math:`\\|Y\\|_F` after each pass.
    """
    support, coefficients = np.empty(0, dtype=np.uint64), np.empty(0)
    history = []
    while len(history) < max_iterations:
        k, amplitude = _classify(be, Y, design, thresholds)
        if k.size == 0:
            break
        unique, inverse = np.unique(k, return_inverse=True)
        mean = np.bincount(inverse, weights=amplitude) / np.bincount(inverse)
        _subtract(Y, design, unique, mean)
        support, inverse = np.unique(np.concatenate([support, unique]), return_inverse=True)
        coefficients = np.bincount(inverse, weights=np.concatenate([coefficients, mean]))
        history.append(float(np.sqrt(np.vdot(Y, Y))))
        if callback is not None:
            callback(support, coefficients)
    return support, coefficients, len(history), tuple(history)


def refine(Y, design, thresholds, support, coefficients):
    """One averaging step over the groups, then drop the indices whose coefficient is not above the noise.

    Adds to each coefficient the mean correlation of its index with its residual bins.

    ``Y`` is the residual after peeling.  Only residual bins within the noise are used, so an
    unresolved multi-ton cannot bias the estimate; an index whose bins all hold signal keeps
    its value.  ``Y`` is updated in place to the residual of the returned spectrum.
    """
    groups = np.broadcast_to(np.arange(design.n_groups), (support.size, design.n_groups))
    keys = np.broadcast_to(support[:, None], groups.shape)
    residual = Y[groups, design.bins(keys, groups)]
    clean = np.einsum("kcp,kcp->kc", residual, residual) <= thresholds.zero
    correlation = np.einsum("kcp,kcp->kc", design.signatures(keys, groups), residual) / design.n_offsets
    used = clean.sum(axis=1)
    refined = coefficients + np.where(used > 0, (correlation * clean).sum(axis=1) / np.maximum(used, 1), 0.0)
    kept = np.abs(refined) > thresholds.amplitude
    _subtract(Y, design, support, np.where(kept, refined, 0.0) - coefficients)
    return support[kept], refined[kept]
