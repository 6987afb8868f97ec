r"""The regression family's size rules and block sizes, in one table.

Each constant says what it chooses and which measurement set it; ``python -m benchmarks.ablations
NAME`` reruns the named ablation.  Change a value only with that ablation (or, where none exists
yet, write one first).  The sketch kernels' own cut-overs live in :mod:`linalgkit.sketch._cutovers`.

=======================  ==========  ========================================================  ==========
constant                 value       chooses                                                   ablation
=======================  ==========  ========================================================  ==========
QR_BLOCK                 32          block size of LAPACK ``geqrt`` for the QR of the sketch   ``qr``
                                     (recursive BLAS-3 panels: about 2x ``geqrf``)
PRECONDITION_SKETCH      n/16 in     default ``m`` of the iterative methods on dense ``A``:    ``dense_sketch_sizes``
                         [4d, 20d]   ``min(max(n // 16, 4 d), 20 d)`` (2^17 x 200, LSQR: 20d
                                     the default and fastest, 492 ms / 17 iterations; 12d 579
                                     ms / 20, 8d 638 ms / 24, 4d 715 ms / 34)
SPARSE_SKETCH            8d          default ``m`` of the iterative methods on sparse ``A``    ``sparse_sketch``
                                     (CSR 2^20 x 500, 8 nonzeros per row, two runs: 8d best
                                     at 1.10-1.18 s and 28 iterations; 4d 1.25-1.94 s / 41,
                                     6d 1.20-1.50 s / 33, 12d 1.45-1.50 s / 24, 16d 1.32 s / 21)
STABLE_SKETCH            12d         default ``m`` of ``"ihs"`` and ``"fossils"`` (Epperly's   none (the
                                     repositories' default)                                    papers')
CHOLQR_SKETCH            4d          default ``m`` of ``"cholqr"``: :math:`A R_s^{-1}` has      ``dense_sketch_sizes``
                                     condition number about 3, its Gram about 9 (2^17 x 200,
                                     cond 1e12: 2d..12d all one iteration, 382-452 ms, forward
                                     error 0.30-0.42 x gelsd's; 4d 396 ms, 0.30 x)
DIVERGENCE               100         growth of the tested quantity over its smallest value at   none (a
                                     which ``"ihs"`` / ``"fossils"`` stop as diverging          safety stop)
GRAM_BLOCK_ROWS          256         rows per block of the Cholesky-QR Gram matrix              ``gram``,
                                     :math:`([A\ B]W)^T([A\ B]W)`: copy, ``trmm``, ``syrk``    ``gram_threads``
                                     with the block in cache, one thread per core with serial
                                     BLAS (2^17 x 200: 128-512 rows all 250-280 ms, 1024 and
                                     more slower; one threaded-BLAS stream of 1024-row blocks
                                     270-430 ms; the whole product, then a GEMM, 452 ms)
=======================  ==========  ========================================================  ==========
"""

__all__ = ["CHOLQR_SKETCH", "DIVERGENCE", "GRAM_BLOCK_ROWS", "PRECONDITION_SKETCH", "QR_BLOCK", "SPARSE_SKETCH",
           "STABLE_SKETCH"]

QR_BLOCK = 32
PRECONDITION_SKETCH = (16, 4, 20)  # (rows per sketch row, floor and cap in multiples of d)
SPARSE_SKETCH = 8
STABLE_SKETCH = 12
CHOLQR_SKETCH = 4
DIVERGENCE = 100
GRAM_BLOCK_ROWS = 256
