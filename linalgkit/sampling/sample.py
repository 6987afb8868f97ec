r"""Sensitivity sampling: keep row :math:`i` with probability :math:`q_i = \min(1, m u_i / \sum u)`, scaled by
:math:`q_i^{-1/p}`.

Then :math:`E\|SAx\|_p^p = \|Ax\|_p^p` for every :math:`x`, and with scores :math:`u` that bound
(multiples of) the sensitivities, :math:`\|SAx\|_p = (1 \pm \varepsilon)\|Ax\|_p` for all
:math:`x` at once with the sample sizes of ``docs/sampling.rst``.
"""

from dataclasses import dataclass

from .._backend import capabilities, check_random_state
from .._validation import check_consistent_length, check_option, check_vector
from ..exceptions import ShapeError, ValidationError
from ._common import RankDeficientError, bernoulli_rows, check_design, check_p, check_sample_size, stack_columns
from .lewis import _lewis_weights
from .scores import _leverage_scores
from .sensitivities import _lp_sensitivities, sampling_tolerances

__all__ = ["SCORES", "SensitivitySample", "sampling_scores", "sensitivity_sample"]

SCORES = ("lewis", "sensitivity", "leverage", "root_leverage", "combined", "uniform")


@dataclass(frozen=True)
class SensitivitySample:
    r"""A weighted row sample (coreset) :math:`SA`, :math:`Sb`.

    Attributes
    ----------
    indices : array of int64, shape (k,)
        Kept rows, increasing.
    weights : array of shape (k,)
        Row scale factors :math:`q_i^{-1/p}` (the weight of row :math:`i` in a weighted
        :math:`\ell_p^p` loss is ``weights ** p`` :math:`= 1/q_i`).
    A : array or sparse matrix of shape (k, d)
        The kept rows of ``A`` times ``weights``.
    b : array of shape (k,) or None
        The kept entries of ``b`` times ``weights``.
    probabilities : array of shape (k,)
        :math:`q_i` of the kept rows.
    expected_size : float
        :math:`\sum_i q_i` over all rows (at most ``m``).
    scores : str
        The scoring method (``"given"`` for user scores).
    """

    indices: object
    weights: object
    A: object
    b: object
    probabilities: object
    expected_size: float
    scores: str


@capabilities("linalgkit.sampling.sampling_scores",
              numpy="Lewis weights / leverage (BLAS-3); sensitivities by HiGHS or Newton-IRLS",
              cupy="lewis, leverage, root_leverage, uniform", generic="lewis, leverage, root_leverage, uniform")
def sampling_scores(A, p, *, scores="lewis", random_state=None):
    r"""Importance scores :math:`u` of the rows of ``A`` for :math:`\ell_p` sampling (see :func:`sensitivity_sample`).

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
    p : float
    scores : {"lewis", "sensitivity", "leverage", "root_leverage", "combined", "uniform"}, default="lewis"
        See :func:`sensitivity_sample`.  Lewis weights are computed to a fixed-point residual of
        1e-3: sampling needs them only to a constant factor.
    random_state : None, int or numpy.random.Generator, default=None

    Returns
    -------
    array of shape (n,)
        Non-negative scores (their scale does not matter).
    """
    be, A = check_design(A)
    scores = check_option(scores, "scores", SCORES)
    p = check_p(p, low=1.0 if scores in ("sensitivity", "combined") else 0.0, purpose=f"scores={scores!r}")
    return _sampling_scores(be, A, p, scores, check_random_state(random_state))


def _sampling_scores(be, A, p, kind, rng):
    """Private implementation of :func:`sampling_scores` on checked arguments."""
    xp = be.xp
    if kind == "uniform":
        return xp.ones((A.shape[0],), dtype=A.dtype, device=be.device)
    if kind == "lewis":
        return _lewis_weights(be, A, p, "exact", sampling_tolerances(), None, None, False, rng).weights
    if kind == "sensitivity":
        return _lp_sensitivities(be, A, p, "approximate", None, rng)
    tau = _leverage_scores(be, A, "exact", None, None, rng)
    if kind == "leverage":
        return tau
    if kind == "root_leverage":
        return xp.sqrt(tau)
    s = _lp_sensitivities(be, A, p, "approximate", None, rng)
    return tau / xp.sum(tau) + s / xp.sum(s)


@capabilities("linalgkit.sampling.sensitivity_sample",
              numpy="host Bernoulli draws; scores as sampling_scores", cupy="host draws, device rows",
              generic="host draws, device rows")
def sensitivity_sample(A, p, m, *, scores="lewis", b=None, random_state=None):
    r"""Sample rows of ``A`` (and ``b``) by importance scores for an :math:`\ell_p` subspace embedding.

    Row :math:`i` is kept independently with probability :math:`q_i = \min(1, m u_i / \sum u)` and
    scaled by :math:`q_i^{-1/p}`, so the expected number of rows is at most ``m`` and
    :math:`E\|S(Ax - b)\|_p^p = \|Ax - b\|_p^p`.

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
        Real, full column rank (``[A b]`` when ``b`` is given).
    p : float
        Exponent, ``p > 0`` (``p >= 1`` for ``"sensitivity"`` and ``"combined"``).
    m : int
        Expected sample size, ``1 <= m <= n``.
    scores : str or array of shape (n,), default="lewis"
        ``"lewis"`` (Lewis weights: the choice for :math:`p < 4`), ``"sensitivity"``
        (approximate :math:`\ell_p` sensitivities, see :func:`lp_sensitivities`),
        ``"leverage"``, ``"root_leverage"`` (:math:`\sqrt{\tau_i}`), ``"combined"`` (the
        leverage + sensitivity mixture :math:`\tau_i/d + s_i/\mathfrak{S}` of Woodruff & Yasuda
        for :math:`p > 2`), ``"uniform"``, or non-negative scores computed elsewhere.  The sample
        complexity of each is in ``docs/sampling.rst``.
    b : array of shape (n,), optional
        Right-hand side sampled with ``A``; the scores are then those of ``[A b]``, as an
        :math:`\ell_p` regression guarantee needs (those of ``A`` when ``b`` lies in the range of
        ``A``).
    random_state : None, int or numpy.random.Generator, default=None

    Returns
    -------
    SensitivitySample
        ``indices``, ``weights``, the sampled ``A`` and ``b``, ``probabilities``, ``expected_size``.

    Raises
    ------
    ValidationError
        For ``p <= 0``, ``m > n``, a rank-deficient ``A`` (or ``[A b]``), non-finite values, or
        negative or all-zero scores.

    Examples
    --------
    >>> import numpy as np
    >>> from linalgkit.sampling import sensitivity_sample
    >>> A = np.random.default_rng(0).standard_normal((10_000, 5))
    >>> sample = sensitivity_sample(A, 1, 500, random_state=0)
    >>> sample.A.shape[1], 400 < sample.A.shape[0] < 600
    (5, True)
    """
    be, A = check_design(A)
    if b is not None:
        b = check_vector(b, "b", backend=be, allow_complex=False)
        check_consistent_length(("A", A), ("b", b))
        b = be.xp.astype(b, A.dtype)
    n = A.shape[0]
    m = check_sample_size(m, n)
    if isinstance(scores, str):
        scores = check_option(scores, "scores", SCORES)
        p = check_p(p, low=1.0 if scores in ("sensitivity", "combined") else 0.0, purpose=f"scores={scores!r}")
    else:
        p = check_p(p)
        scores = _check_given_scores(be, scores, n)
    return _sensitivity_sample(be, A, b, p, m, scores, check_random_state(random_state))


def _check_given_scores(be, u, n):
    u = check_vector(u, "scores", backend=be, length=n, allow_complex=False)
    xp = be.xp
    if bool(xp.any(u < 0)) or not bool(xp.any(u > 0)):
        raise ValidationError("scores must be non-negative with at least one positive entry; pass e.g. "
                              "leverage_scores(A) or scores='lewis'")
    return u


def _scores_of_problem(be, A, b, p, kind, rng):
    """Scores of ``[A b]``, or of ``A`` when ``b`` lies in its range (a zero-residual problem)."""
    if b is None:
        return _sampling_scores(be, A, p, kind, rng)
    try:
        return _sampling_scores(be, stack_columns(be, A, b), p, kind, rng)
    except RankDeficientError:
        return _sampling_scores(be, A, p, kind, rng)


def _sensitivity_sample(be, A, b, p, m, scores, rng):
    """Private implementation of :func:`sensitivity_sample` on checked arguments."""
    score_rng, draw_rng = rng.spawn(2)  # the draws do not depend on how many numbers the scores used
    if isinstance(scores, str):
        u, name = _scores_of_problem(be, A, b, p, scores, score_rng), scores
    else:
        u, name = scores, "given"
    indices, q = bernoulli_rows(be, u, m, draw_rng)
    if indices.shape[0] == 0:
        raise ShapeError(f"m must be larger: the sample of expected size {m} came out empty; raise m")
    xp = be.xp
    weights = q ** (-1.0 / p)
    rows = A[be.to_host(indices)] if be.issparse(A) else xp.take(A, indices, axis=0)
    rows = (be.sparse.diags(weights) @ rows).tocsr() if be.issparse(A) else rows * weights[:, None]
    sampled_b = None if b is None else xp.take(b, indices, axis=0) * weights
    expected = float(xp.sum(xp.minimum(m * u / xp.sum(u), 1.0)))
    return SensitivitySample(indices, weights, rows, sampled_b, q, expected, name)
