r"""Sparse Walsh-Hadamard transform from few noisy samples (SPRIGHT).

The sample model, the normalizations and the SNR are defined once, in :func:`sparse_wht`;
:func:`walsh_basis` and :func:`evaluate_walsh` use the same conventions.

Papers: Li, Bradley, Pawar, Ramchandran, arXiv:1508.06336 (SPRIGHT); Scheibler,
Haghighatshoar, Vetterli, IEEE Trans. Inf. Theory 61(4), 2015 (SparseFHT).
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .._backend import capabilities, check_random_state, get_backend
from .._solver import SolverResult, check_callback, warn_not_converged
from .._validation import check_option, check_scalar
from ..exceptions import ArgumentTypeError, BackendError, DTypeError, NonFiniteError, ShapeError, ValidationError
from ._spright_decode import ROUNDOFF, Thresholds, energy_limit, estimate_bin_noise, peel, refine
from ._spright_design import make_design
from ._spright_numba import expand
from .walsh_hadamard import _fwht

__all__ = ["SparseWHTResult", "evaluate_walsh", "sparse_wht", "walsh_basis"]

MAX_BITS = 62
# Largest n for which walsh_basis may enumerate all 2^n points.
MAX_DENSE_BITS = 24
# Largest n - b the sample-optimal decoder searches (one 2^(n-b)-point FWHT per bin).
MAX_SEARCH_BITS = 20
DESIGNS = ("robust", "noiseless", "sample_optimal")
NORMS = ("forward", "ortho", "backward")


@dataclass(frozen=True)
class SparseWHTResult(SolverResult):
    """Result of :func:`sparse_wht`: the recovered spectrum and the solver contract's fields.

    Attributes
    ----------
    support : ndarray of uint64
        Recovered indices ``k``, sorted.
    coefficients : ndarray of float64
        Their coefficients in the requested normalization.
    n : int
        Number of bits (the transform length is ``2**n``).
    norm : str
        Normalization of ``coefficients``.
    n_samples : int
        Number of values requested from ``signal`` (queries).
    n_calls : int
        Number of calls made to ``signal`` (1 for a callable, 0 for an array).
    multitons : ndarray of int64, shape (m, 2)
        ``(group, bin)`` of the bins whose residual still holds signal (above the zero-ton limit).
    residual_ratio : float
        Energy left in all bins by the returned spectrum over its expectation for pure noise:
        about 1 when the spectrum explains the data, large when coefficients were missed (even
        ones too weak to stand out in any single bin).
    noise_sd : float
        Per-query noise standard deviation :math:`\\sigma` behind the thresholds: given, derived
        from ``snr_db``, estimated, or 0 for the noiseless design and for the dense route of
        small ``n`` without a given noise level.
    converged : bool
        Whether the stopping rule of :func:`sparse_wht` holds for the returned spectrum: no bin
        above the zero-ton limit and the residual energy within the noise.
    iterations : int
        Peeling passes made (each found at least one single-ton); 1 on the dense route of small
        ``n`` (see :func:`sparse_wht`).
    residual_norm : float
        :math:`\\|r\\|_F`, the norm of the bin residual of the returned spectrum.
    history : tuple of float
        :math:`\\|r\\|_F` after each peeling pass (before the final refinement).
    """

    support: np.ndarray
    coefficients: np.ndarray
    n: int
    norm: str
    n_samples: int
    n_calls: int
    multitons: np.ndarray
    residual_ratio: float
    noise_sd: float

    def evaluate(self, points):
        """Predicted :math:`f` at ``points`` from the recovered spectrum.

        Parameters
        ----------
        points : array_like of uint64
            Indices in ``[0, 2**n)`` at which to evaluate (see :func:`evaluate_walsh`).

        Returns
        -------
        ndarray of float64
            The predicted values.
        """
        return evaluate_walsh(self.support, self.coefficients, points, n=self.n, norm=self.norm)


@capabilities("linalgkit.transforms.sparse_wht", numpy="NumPy front end, batched Numba bin FWHTs, vectorized peeling",
              cupy=None, generic=None)
def sparse_wht(signal, n, K=None, *, snr_db=None, noise_sd=None, design="robust", C=3, b=None, chains=None,
               n_offsets=None, subsampling="random", max_peeling=20, callback=None, norm="forward",
               random_state=None):
    r"""K-sparse Walsh-Hadamard spectrum of a function from :math:`O(K \log N)` queries.

    Aliases the spectrum into ``C`` groups of :math:`B = 2^b` bins by subsampling the
    function on cosets of random ``b``-dimensional subspaces of :math:`\mathbb{F}_2^n`, reads
    each bin at ``P`` offsets with one batched ``B``-point FWHT, and peels the bins that hold a
    single coefficient until none is left [1]_ [2]_.

    **Sample model.** A query of index :math:`m \in [0, N)`, :math:`N = 2^n`, returns

    .. math:: y(m) = \sum_k F[k]\,(-1)^{\mathrm{popcount}(m \,\&\, k)} + w(m),
              \qquad w(m) \sim N(0, \sigma^2) \text{ i.i.d.},

    so that :math:`F` = ``fwht(f) / N`` = ``ifwht(f)`` for the noiseless values ``f``.
    **Normalization.** ``norm="forward"`` (default) returns :math:`F`, ``"ortho"`` returns
    :math:`\sqrt{N} F` (``fwht(f, normalize=True)``), ``"backward"`` returns :math:`N F`
    (``fwht(f)``), the names of :mod:`numpy.fft`.  **SNR** is per query,
    :math:`\mathrm{SNR} = \sum_k F[k]^2 / \sigma^2`, and ``snr_db`` =
    :math:`10 \log_{10} \mathrm{SNR}`.

    Parameters
    ----------
    signal : callable or array_like
        Either a function taking a 1-D ``numpy.uint64`` array of indices in ``[0, 2**n)`` and
        returning their real values as a 1-D array of the same length (called once, with all
        queries), or a real 1-D array of length ``2**n`` (for moderate ``n``).  Integer and
        boolean values are cast to float64.
    n : int
        Number of bits, ``1 <= n <= 62``.
    K : int, optional
        Expected number of non-zero coefficients, in ``[1, 2**n]``; sets the default ``b``
        (``B >= 2K``).
    snr_db : float, optional
        Known SNR in dB, in [-100, 400]; the noise level is then derived from the mean squared
        query.
    noise_sd : float, optional
        Known per-query noise standard deviation :math:`\sigma \ge 0`, finite (instead of
        ``snr_db``).
        With neither, ``"robust"`` and ``"sample_optimal"`` estimate it from the bins and
        ``"noiseless"`` assumes exact values.
    design : {"robust", "noiseless", "sample_optimal"}, default="robust"
        Offsets and decoder.  ``"robust"``: ``chains`` random bases :math:`d_r` each with
        :math:`d_r \oplus e_i`, :math:`P = \mathrm{chains}\,(n+1)`, bit ``i`` of a single-ton
        by majority vote over the chains.  ``"noiseless"``: one chain (:math:`P = n + 1`),
        exact data.  ``"sample_optimal"``: ``n_offsets`` random offsets and a maximum-
        likelihood search over the :math:`2^{n-b}` indices of each bin (``n - b <= 20``).
    C : int, default=3
        Number of subsampling groups, at least 1.
    b : int, optional
        Bins per group are ``B = 2**b``, ``1 <= b <= n``; default ``ceil(log2(K)) + 1`` capped
        at ``n``.
    chains : int, optional
        Chains of the robust design, at least 1 (must be None for the other designs); default
        5, or from ``snr_db``: ``round(9 - 0.4 * snr_db)`` made odd, within [3, 31] (9 chains
        at 0 dB).
    n_offsets : int, optional
        Offsets per bin of the sample-optimal design, at least 1 (must be None for the other
        designs); default ``2 * n``.
    subsampling : {"random", "coordinate"}, default="random"
        ``"random"``: uniformly random full-rank subsampling matrices over GF(2).
        ``"coordinate"``: group ``c`` hashes by the coordinate block ``c*b .. c*b+b-1`` (mod n);
        it fails on supports of low Hamming weight, which crowd into bin 0.
    max_peeling : int, default=20
        Cap on peeling passes, at least 1: the ``maxiter`` of the solver contract (one
        iteration is one pass).
    callback : callable, optional
        ``callback(support, coefficients)`` after each peeling pass, with the spectrum found so
        far: the indices (uint64, sorted) and their coefficients in the normalization ``norm``,
        before the final refinement.  It is called ``result.iterations`` times.
    norm : {"forward", "ortho", "backward"}, default="forward"
        Normalization of the returned coefficients: :math:`F`, :math:`\sqrt{N} F` or :math:`N F`.
    random_state : None, int or numpy.random.Generator
        Seed of the subsampling matrices and offsets.

    Returns
    -------
    SparseWHTResult
        ``support``, ``coefficients``, ``n_samples`` (queries), ``converged``, ``iterations``,
        ``residual_norm``, leftover ``multitons`` and the ``noise_sd`` used.  When the stopping
        rule (Notes) does not hold, ``converged`` is False and one
        :class:`~linalgkit.ConvergenceWarning` is emitted.

    Raises
    ------
    ValidationError
        For an argument outside its range above (``n``, ``K``, ``b``, ``C``, ``chains``,
        ``n_offsets``, ``max_peeling``, ``snr_db``, ``noise_sd``), a design of at least
        :math:`N` queries for ``n > 24`` (where the dense route would not fit in memory), both
        ``snr_db`` and ``noise_sd``, an option that does not belong to ``design`` (``chains``
        with ``"noiseless"`` or ``"sample_optimal"``, ``n_offsets`` with the chain designs), an
        unknown ``design``, ``subsampling`` or ``norm``.
    ArgumentTypeError
        If ``signal`` is neither callable nor an array, ``callback`` is not callable, or an
        integer argument is not an integer (a bool is not one).
    BackendError
        If ``signal`` is a CuPy or other non-NumPy array (the decoder runs on the host).
    ShapeError, DTypeError, NonFiniteError
        If a ``signal`` array (1-D of length ``2**n``) or the values returned by ``signal`` have
        the wrong shape (or are a ragged sequence), are complex or not numbers, or hold NaN or
        infinity.

    Notes
    -----
    **Small n.**  Where the design would query at least :math:`N` values (``C P B >= N``:
    ``n <= 8`` for any ``K`` at the defaults, larger ``n`` for larger ``K``, and whenever
    ``b = n``), all :math:`N` values are queried instead and one dense :func:`fwht` gives every
    coefficient exactly; those above four standard errors :math:`\sigma/\sqrt N` of the noise
    are kept.  With no noise level given, one query per coefficient cannot tell noise from
    signal, so :math:`\sigma` is taken as 0 and only round-off is dropped.  The result then has
    ``iterations = 1``, no ``multitons``, and ``converged`` states the energy rule below with the
    :math:`N` coefficients as the bins (:math:`CBP = N`, :math:`\nu^2 = \sigma^2 / N`).  Above
    ``n = 24`` such a design is refused.

    **Stopping rule.**  ``sparse_wht`` follows the solver contract of :mod:`linalgkit._solver`
    with ``max_peeling`` as its ``maxiter``.  Its residual :math:`r` is the bin array minus the
    bins of the spectrum found, and the noise sets the tolerance in place of ``rtol`` / ``atol``:
    it has converged when no bin of :math:`r` is above the zero-ton limit and
    :math:`\|r\|_F^2 \le (1.05 + 4\sqrt{2/(CBP)})\, CBP\,\nu^2`, the pure-noise expectation
    with its chi-square 4-sigma margin and a 5% slack, tested on the returned spectrum.

    Queries: :math:`C \cdot P \cdot B`; time :math:`O(C P B \log B)` for the bin transforms plus
    :math:`O(K C P n)` for peeling.  A bin is a zero-ton when its energy is below the chi-square
    quantile of pure noise (false-alarm rate 1e-3 over all bins), a single-ton when the
    residual after fitting one signature is, and when the decoded index hashes back to the
    bin.  The noise per bin entry is :math:`\nu^2 = \sigma^2 / B`.  Recovery needs ``B`` of the
    order of ``K`` (peeling succeeds with high probability when ``K`` is below about
    :math:`0.8\,C B`) and a per-bin SNR :math:`F[k]^2 B / \sigma^2` of a few units.

    References
    ----------
    .. [1] X. Li, J. K. Bradley, S. Pawar, K. Ramchandran, "SPRIGHT: A Fast and Robust Framework
       for Sparse Walsh-Hadamard Transform", arXiv:1508.06336, 2015.
    .. [2] R. Scheibler, S. Haghighatshoar, M. Vetterli, "A Fast Hadamard Transform for Signals
       with Sublinear Sparsity in the Transform Domain", IEEE Trans. Inf. Theory 61(4), 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.transforms import sparse_wht, evaluate_walsh
    >>> support = np.array([3, 40, 1000], dtype=np.uint64)
    >>> values = np.array([1.0, -2.0, 0.5])
    >>> result = sparse_wht(lambda m: evaluate_walsh(support, values, m), n=20, K=3,
    ...                     design="noiseless", random_state=0)
    >>> result.support.tolist(), result.coefficients.round(12).tolist()
    ([3, 40, 1000], [1.0, -2.0, 0.5])
    """
    n = _check_bits(n)
    be = _host_backend("sparse_wht", signal=signal)
    sample = _check_signal(signal, n)
    params = _check_parameters(n, K, snr_db, noise_sd, design, C, b, chains, n_offsets, subsampling, max_peeling)
    norm = check_option(norm, "norm", NORMS)
    callback = check_callback(callback)
    rng = check_random_state(random_state)
    queries = _n_queries(n, C, params)
    if queries >= 1 << n:
        if n > MAX_DENSE_BITS:
            raise ValidationError(f"b = {params['b']} must leave the design fewer queries than the 2**n = 2**{n} "
                                  f"of the dense transform, got C * P * 2**b = {queries}; lower b (or K, C, chains, "
                                  f"n_offsets)")
        return _dense_wht(be, sample, n, snr_db, noise_sd, callback, norm)
    front = make_design(n, params["b"], C, subsampling=subsampling, rng=rng, **params["offsets"])
    return _sparse_wht(be, sample, front, snr_db, noise_sd, design, max_peeling, callback, norm)


def _n_queries(n, C, params):
    """Queries ``C * P * B`` of the design that ``params`` describe."""
    offsets = params["offsets"]
    P = offsets["chains"] * (n + 1) if offsets["offsets"] == "chains" else offsets["n_offsets"]
    return C * P << params["b"]


def _dense_wht(be, sample, n, snr_db, noise_sd, callback, norm):
    """All ``2**n`` queries and one dense FWHT: the body of :func:`sparse_wht` where a design would query more.

    Keeps the coefficients above four standard errors :math:`\\sigma / \\sqrt{N}` of the noise;
    with no noise level given, one query per coefficient cannot tell noise from signal, so
    :math:`\\sigma` is taken as 0 and only round-off is dropped.
    """
    values = sample(np.arange(1 << n, dtype=np.uint64))
    size = values.size
    F = _fwht(be, values, 0, 1.0 / size)
    sigma = _given_noise_sd(values, snr_db, noise_sd) or 0.0
    thresholds = Thresholds.from_noise(sigma**2 / size, 1, size, floor=ROUNDOFF**2 * float(np.mean(values**2)))
    kept = np.abs(F) > thresholds.amplitude
    support, scale = np.flatnonzero(kept).astype(np.uint64), _scale(n, norm)
    residual = np.where(kept, 0.0, F)
    residual_norm = float(np.sqrt(residual @ residual))
    residual_ratio = residual_norm**2 / thresholds.noise_energy
    converged = bool(residual_ratio <= energy_limit(size))
    if callback is not None:
        callback(support, F[kept] * scale)
    if not converged:
        warn_not_converged("sparse_wht", _PeelingRule(1), residual_ratio, stacklevel=4,
                           advice=f"the coefficients below the noise hold {residual_ratio:.3g} times its energy; "
                                  f"lower noise_sd or raise snr_db")
    return SparseWHTResult(support, F[kept] * scale, n, norm, size, sample.calls, np.empty((0, 2), dtype=np.int64),
                           residual_ratio, sigma, converged=converged, iterations=1, residual_norm=residual_norm,
                           history=(residual_norm,))


@dataclass(frozen=True)
class _PeelingRule:
    """The stopping rule of :func:`sparse_wht` in the solver contract's terms, for its warning."""

    maxiter: int

    def describe(self):
        return "every bin within the noise"


def _sparse_wht(be, sample, front, snr_db, noise_sd, design, max_peeling, callback, norm):
    """Query ``sample`` on the design ``front``, peel the bins and refine: the checked body of :func:`sparse_wht`."""
    indices = front.sample_indices()
    values = sample(indices.ravel()).reshape(indices.shape)
    Y = np.ascontiguousarray(np.swapaxes(_fwht(be, values, 2, 1), 1, 2)) / (1 << front.b)
    sigma = _given_noise_sd(values, snr_db, noise_sd)
    if sigma is None:
        sigma = 0.0 if design == "noiseless" else _estimated_noise_sd(Y)
    thresholds = Thresholds.from_noise(sigma**2 / (1 << front.b), front.n_offsets, Y.shape[0] * Y.shape[1],
                                       floor=ROUNDOFF**2 * float(np.mean(values**2)))
    scale = _scale(front.n, norm)
    report = None if callback is None else (lambda support, coefficients: callback(support, coefficients * scale))
    support, coefficients, iterations, history = peel(be, Y, front, thresholds, max_peeling, report)
    support, coefficients = refine(Y, front, thresholds, support, coefficients)
    multitons = thresholds.unexplained_bins(Y)
    residual_ratio = thresholds.residual_ratio(Y)
    converged = bool(multitons.shape[0] == 0 and residual_ratio <= energy_limit(Y.size))
    if not converged:
        warn_not_converged("sparse_wht", _PeelingRule(max_peeling), residual_ratio, stacklevel=4,
                           advice=f"{multitons.shape[0]} bin(s) unexplained after {iterations} peeling pass(es), "
                                  f"residual energy {residual_ratio:.3g} times the noise's; increase b (more bins), "
                                  f"chains (noise) or max_peeling")
    return SparseWHTResult(support, coefficients * scale, front.n, norm, values.size, sample.calls, multitons,
                           residual_ratio, sigma, converged=converged, iterations=iterations,
                           residual_norm=float(np.sqrt(np.vdot(Y, Y))), history=history)


def _host_backend(function, **arrays):
    """The NumPy backend of a host-only function; other libraries' arrays are refused, not copied."""
    be = get_backend(**arrays)
    if be.kind != "numpy":
        name, value = next((name, value) for name, value in arrays.items() if get_backend(value).kind != "numpy")
        raise BackendError(f"{name} must be a NumPy array for {function}, which runs on the host, got an array "
                           f"of {type(value).__module__.split('.')[0]}; pass {name}.get() (CuPy) or "
                           f"numpy.from_dlpack({name})")
    return be


@capabilities("linalgkit.transforms.walsh_basis", numpy="NumPy popcount of index-point products", cupy=None,
              generic=None)
def walsh_basis(indices, n, points=None, *, norm="forward"):
    r"""Walsh functions :math:`(-1)^{\mathrm{popcount}(m \& k)}` of ``indices`` at ``points``, as columns.

    Parameters
    ----------
    indices : array_like of int
        Spectral indices ``k`` in ``[0, 2**n)``, shape ``(K,)``.
    n : int
        Number of bits, ``1 <= n <= 62``.
    points : array_like of int, optional
        Points ``m`` in ``[0, 2**n)``, shape ``(M,)``; default all ``2**n`` points (``n <= 24``).
    norm : {"forward", "ortho", "backward"}, default="forward"
        Scale the columns so that ``walsh_basis(...) @ coefficients`` is :math:`f` for
        coefficients in that normalization (:func:`sparse_wht`): 1, :math:`N^{-1/2}`, :math:`N^{-1}`.

    Returns
    -------
    ndarray of float64, shape (M, K)
        With all points and ``indices = arange(2**n)`` this is ``scipy.linalg.hadamard(2**n)``.

    Examples
    --------
    >>> from linalgkit.transforms import walsh_basis
    >>> walsh_basis([0, 1, 3], n=2).tolist()
    [[1.0, 1.0, 1.0], [1.0, -1.0, -1.0], [1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]
    """
    n = _check_bits(n)
    be = _host_backend("walsh_basis", indices=indices, points=points)
    norm = check_option(norm, "norm", NORMS)
    indices = _check_indices(indices, n, "indices")
    if points is None:
        if n > MAX_DENSE_BITS:
            raise ValidationError(f"points must be given for n > {MAX_DENSE_BITS}, got n = {n}; pass the points "
                                  f"to evaluate (all 2**n of them would not fit in memory)")
        points = np.arange(1 << n, dtype=np.uint64)
    points = _check_indices(points, n, "points")
    return _walsh_basis(be, indices, points, _scale(n, norm))


def _walsh_basis(be, indices, points, scale):
    """Columns :math:`(-1)^{\\langle m, k\\rangle} / \\mathrm{scale}` for checked uint64 ``indices`` and ``points``."""
    bits = np.bitwise_count(points[:, None] & indices[None, :]) & np.uint8(1)
    return (1.0 - 2.0 * bits) / scale


@capabilities("linalgkit.transforms.evaluate_walsh", numpy="Numba expansion kernel, multi-threaded", cupy=None,
              generic=None)
def evaluate_walsh(support, coefficients, points, *, n=None, norm="forward"):
    r"""Evaluate :math:`f(m) = \sum_k F[k] (-1)^{\mathrm{popcount}(m \& k)}` at ``points``.

    Predicts the function anywhere from a (recovered) sparse spectrum, without forming the
    basis: :math:`O(MK)` work in a multi-threaded Numba loop.

    Parameters
    ----------
    support : array_like of int
        Indices ``k`` (non-negative, below ``2**62``), shape ``(K,)``.
    coefficients : array_like of float
        Their coefficients, shape ``(K,)``, in the normalization ``norm``.
    points : array_like of int
        Points ``m``, shape ``(M,)``.
    n : int, optional
        Number of bits; required for ``norm="ortho"`` or ``"backward"`` (and then checks the ranges).
    norm : {"forward", "ortho", "backward"}, default="forward"
        Normalization of ``coefficients`` (see :func:`sparse_wht`).

    Returns
    -------
    ndarray of float64, shape (M,)
        The function's values at ``points`` (without noise).

    Examples
    --------
    >>> from linalgkit.transforms import evaluate_walsh
    >>> evaluate_walsh([0, 1], [2.0, 0.5], [0, 1, 2, 3]).tolist()
    [2.5, 1.5, 2.5, 1.5]
    """
    be = _host_backend("evaluate_walsh", support=support, coefficients=coefficients, points=points)
    norm = check_option(norm, "norm", NORMS)
    if n is None and norm != "forward":
        raise ValidationError(f"n must be given with norm={norm!r}, got None; pass the number of bits n")
    bits = MAX_BITS if n is None else _check_bits(n)
    support = _check_indices(support, bits, "support")
    points = _check_indices(points, bits, "points")
    coefficients = _host_array(coefficients, "coefficients")
    if coefficients.shape != support.shape:
        raise ShapeError(f"coefficients must have shape {support.shape} like support, got {coefficients.shape}")
    if np.iscomplexobj(coefficients) or not (np.issubdtype(coefficients.dtype, np.number)
                                             or coefficients.dtype == np.bool_):
        raise DTypeError(f"coefficients must be real numbers, got dtype {coefficients.dtype}; pass the real part")
    scale = 1.0 if n is None else _scale(n, norm)
    return _evaluate_walsh(be, support, coefficients.astype(np.float64) / scale, points)


def _evaluate_walsh(be, support, coefficients, points):
    """The expansion at checked uint64 ``points`` of float64 forward-normalized ``coefficients`` on ``support``.

    The Numba kernel, or under ``LINALGKIT_DISABLE_NUMBA`` the product with the basis (``M x K``
    memory: a check of the kernel, not a path for large problems).
    """
    if be.use_numba:
        return expand(points, support, coefficients)
    return _walsh_basis(be, support, points, 1.0) @ coefficients


class _Sampler:
    """Queries of ``signal`` as float64, with the number of calls made."""

    def __init__(self, signal):
        self.signal, self.calls = signal, 0

    def __call__(self, indices):
        if not callable(self.signal):
            return self.signal[indices]
        self.calls += 1
        values = _host_array(self.signal(indices), "the values returned by signal")
        if values.shape != indices.shape:
            raise ShapeError(f"signal must return one value per index, shape {indices.shape}, got shape "
                             f"{values.shape}; return a 1-D array of the same length as its argument")
        return _real_values(values, "the values returned by signal")


def _real_values(values, name):
    if np.iscomplexobj(values):
        raise DTypeError(f"{name} must be real, got dtype {values.dtype}; return the real part")
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        raise DTypeError(f"{name} must be real numbers, got dtype {values.dtype}; return a float array")
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise NonFiniteError(f"{name} must be finite, got {np.count_nonzero(~np.isfinite(values))} NaN or infinite "
                             f"value(s); make the function return finite numbers")
    return values


def _check_signal(signal, n):
    if callable(signal):
        return _Sampler(signal)
    if not hasattr(signal, "__len__") and not hasattr(signal, "__array__"):
        raise ArgumentTypeError(f"signal must be a callable or an array of length 2**n, got "
                                f"{type(signal).__name__}; pass a function of the indices or a 1-D array")
    array = _host_array(signal, "signal")
    if array.shape != (1 << n,):
        raise ShapeError(f"signal must be a callable or a 1-D array of length 2**n = {1 << n}, got shape "
                         f"{array.shape}; pass the matching n or a function of the indices")
    return _Sampler(_real_values(array, "signal"))


def _check_bits(n):
    check_scalar(n, "n", kind=numbers.Integral)
    if not 1 <= n <= MAX_BITS:
        raise ValidationError(f"n must be in [1, {MAX_BITS}], got {n}; indices are uint64 bit masks, so split "
                              f"wider inputs into groups of at most {MAX_BITS} bits")
    return int(n)


def _host_array(value, name):
    """``numpy.asarray(value)``, refusing what NumPy cannot convert (a ragged list) with an error naming it."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ShapeError(f"{name} must be an array or a rectangular sequence, got a {type(value).__name__} that "
                         f"numpy cannot convert ({error}); pass a 1-D array") from None


def _check_indices(values, n, name):
    array = _host_array(values, name)
    if array.ndim != 1:
        raise ShapeError(f"{name} must be 1-D, got shape {array.shape}; flatten it with .ravel()")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DTypeError(f"{name} must hold integers, got dtype {array.dtype}; convert with .astype(numpy.uint64)")
    if array.size and (np.issubdtype(array.dtype, np.signedinteger) and array.min() < 0):
        raise ValidationError(f"{name} must be non-negative, got {array.min()}")
    array = array.astype(np.uint64)
    if array.size and int(array.max()) >> n:
        raise ValidationError(f"{name} must be below 2**{n}, got {int(array.max())}; reduce modulo 2**n or raise n")
    return array


def _check_parameters(n, K, snr_db, noise_sd, design, C, b, chains, n_offsets, subsampling, max_peeling):
    """Validated design parameters: ``b`` and the keyword arguments of the offset design."""
    design = check_option(design, "design", DESIGNS)
    check_option(subsampling, "subsampling", ("random", "coordinate"))
    check_scalar(C, "C", kind=numbers.Integral, low=1)
    check_scalar(max_peeling, "max_peeling", kind=numbers.Integral, low=1)
    if K is not None:
        check_scalar(K, "K", kind=numbers.Integral)
        if not 1 <= K <= 1 << n:
            raise ValidationError(f"K must be in [1, 2**n = {1 << n}], got {K}; a spectrum of length 2**n has at "
                                  f"most 2**n non-zero coefficients (raise n or lower K)")
    if snr_db is not None and noise_sd is not None:
        raise ValidationError("snr_db and noise_sd must not both be given, got both; pass only one noise level")
    if snr_db is not None:
        check_scalar(snr_db, "snr_db", low=-100, high=400)
    if noise_sd is not None:
        check_scalar(noise_sd, "noise_sd", low=0)
        if not math.isfinite(noise_sd):
            raise ValidationError(f"noise_sd must be finite, got {noise_sd!r}; pass the per-query noise standard "
                                  f"deviation")
    if b is None:
        if K is None:
            raise ValidationError("K or b must be given, got neither; pass the expected sparsity K (or b = log2 bins)")
        b = min(n, math.ceil(math.log2(K)) + 1)
    check_scalar(b, "b", kind=numbers.Integral, low=1, high=n)
    if design == "sample_optimal":
        return dict(b=b, offsets=_search_offsets(n, b, chains, n_offsets))
    if n_offsets is not None:
        raise ValidationError(f"n_offsets must be None for design={design!r}, got {n_offsets}; it sets the "
                              f"sample-optimal design (use chains for {design!r})")
    if design == "noiseless":
        if chains is not None:
            raise ValidationError(f"chains must be None for design='noiseless', got {chains}; it reads one chain "
                                  f"(use design='robust' for several)")
        chains = 1
    elif chains is None:
        chains = _default_chains(snr_db)
    check_scalar(chains, "chains", kind=numbers.Integral, low=1)
    return dict(b=b, offsets=dict(offsets="chains", chains=chains, n_offsets=None))


def _search_offsets(n, b, chains, n_offsets):
    if chains is not None:
        raise ValidationError(f"chains must be None for design='sample_optimal', got {chains}; set n_offsets")
    if n - b > MAX_SEARCH_BITS:
        raise ValidationError(f"n - b must be at most {MAX_SEARCH_BITS} for design='sample_optimal', got "
                              f"{n - b}; raise b or use design='robust'")
    n_offsets = 2 * n if n_offsets is None else n_offsets
    check_scalar(n_offsets, "n_offsets", kind=numbers.Integral, low=1)
    return dict(offsets="random", chains=None, n_offsets=n_offsets)


def _default_chains(snr_db):
    """Odd number of chains, 5 at 10 dB and 9 at 0 dB (calibrated on N = 2^20, K = 50, B = 128)."""
    if snr_db is None:
        return 5
    chains = min(31, max(3, round(9 - 0.4 * snr_db)))
    return chains + (chains % 2 == 0)


def _given_noise_sd(values, snr_db, noise_sd):
    """Per-query noise standard deviation given as ``noise_sd`` or through ``snr_db`` (None: neither)."""
    if noise_sd is not None:
        return float(noise_sd)
    if snr_db is not None:
        return math.sqrt(float(np.mean(values**2)) / (1 + 10 ** (snr_db / 10)))
    return None


def _estimated_noise_sd(Y):
    """Per-query noise standard deviation estimated from the bins ``Y`` (most of which are zero-tons)."""
    energies = np.einsum("cjp,cjp->cj", Y, Y).ravel()
    return math.sqrt(estimate_bin_noise(energies, Y.shape[2]) * Y.shape[1])


def _scale(n, norm):
    """Factor from F (``norm="forward"``) to the coefficients of ``norm``."""
    return {"forward": 1.0, "ortho": 2.0 ** (n / 2), "backward": 2.0**n}[norm]
