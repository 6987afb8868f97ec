"""The Krylov family's thresholds and size rules, in one table.

Each constant says what it chooses and which measurement set it.  Change a value only with a
measurement (``python -m benchmarks.krylov`` prints the arms it is judged by).

===================  ==========  =============================================================  =================
constant             value       chooses                                                        set by
===================  ==========  =============================================================  =================
BREAKDOWN            1e-13       Arnoldi / Ritz breakdown: a new vector (or a diagonal of R)    rounding (not
                                 below this fraction of its column is treated as zero           tuned)
REORTHOGONALIZE      0.7071      CGS2 in Arnoldi (GPU / array-API body; NumPy runs the MGS      DGKS criterion
                                 kernel): the second pass runs only when the first left less    (Daniel et al.
                                 than this fraction of the vector's norm                        1976), not tuned
GUARD_RATIO          0.995       ``recycle="auto"``: drop the space when projecting the first   conv-diff and
                                 residual onto ``C`` keeps more than this fraction of its norm  Darcy families
GUARD_EASY           2           ``recycle="auto"``: drop the space after a solve that needed   conv-diff family
                                 no more than this many restart cycles of GMRES-DR (recycling    (docs/krylov.rst)
                                 costs ``k`` products and shortens cycles to ``m - k``)
GROUP_SIZE           2000        ``solve_sequence``: sort greedily within groups of this many   O(N^2) distances:
                                 systems (cut along the first principal axis of the features)   about 1 s at 2000
MAX_RITZ_PERIOD      3           GCRO-DR / GMRES-DR: the most cycles between harmonic Ritz      ``python -m
                                 updates of the recycle space; the period is the update's       benchmarks.ablations
                                 flops over the cycle's products, clipped to 1..this            ritz_period``
RITZ_EVERY_CYCLE     3           ... except in the first this many cycles of a solve (and its   the same (warm-
                                 last), which always update                                     started Helmholtz)
===================  ==========  =============================================================  =================
"""

__all__ = ["BREAKDOWN", "GROUP_SIZE", "GUARD_EASY", "GUARD_RATIO", "MAX_RITZ_PERIOD", "REORTHOGONALIZE",
           "RITZ_EVERY_CYCLE"]

BREAKDOWN = 1e-13
GUARD_RATIO = 0.995
GUARD_EASY = 2
REORTHOGONALIZE = 0.7071
GROUP_SIZE = 2000
MAX_RITZ_PERIOD = 3
RITZ_EVERY_CYCLE = 3
