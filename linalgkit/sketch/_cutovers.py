"""The sketch family's size cut-overs and block sizes, in one table.

Each constant says where a kernel changes strategy and which measurement set it;
``python -m benchmarks.ablations NAME`` reruns the named ablation.  Change a value only with that
ablation (or, where none exists yet, write one first).

=======================  ==========  ========================================================  ==========
constant                 value       chooses                                                   ablation
=======================  ==========  ========================================================  ==========
SRHT_BLOCK_BYTES         1 MiB       SRHT kernels: a block of C rows of [A B] up to this size  ``srht``
                                     stays in the private L2 cache while H_C runs on it
TWO_PASS_MIN_BLOCKS      10          SRHT: the one-pass kernel below m = 10 C sampled rows,    ``srht``
                                     the two-pass kernel (N x k temporary) above; both cost
                                     the same at m ~ 11 C (2^17 rows, widths 51 and 201)
PARALLEL_MIN_VALUES      2^16        hash sketches: one thread below this many stored values   ``hash_parallel``
                                     x hashes per call, Numba threads above (dense n x 20,
                                     zeta 8: one thread 1.6x faster at 10,240, even at
                                     40,960-81,920, threads 1.5x faster at 163,840)
GAUSSIAN_BLOCK_ENTRIES   2^22        Gaussian/Rademacher: entries of one generated block of    none (a
                                     G (32 MiB in float64), multiplied with one GEMM           memory bound)
GAUSSIAN_CACHE_ENTRIES   2^24        Gaussian/Rademacher: blocks kept between calls when G     none (a
                                     has at most this many entries                             memory bound)
DENSE_ENTRIES            2^26        ``todense()`` refuses operators with more entries         none (a
                                                                                               memory bound)
CSR_COLUMNWISE_ENTRIES   2^20        hash sketches of CSR ``A``: the row scatter into one       ``csr_sketch``
                                     m x (k + q) copy per thread below this many output
                                     entries, the column-wise kernel (CSC transpose, one
                                     output column in cache) above; at m = 8d, 8 nonzeros per
                                     row: row scatter 1.8x faster at 321,600 (2^19 x 200),
                                     column-wise 2x faster at 2,004,000 (2^20 x 500)
CSR_COLUMN_CHUNK_ROWS    2^16        column-wise kernel: rows per range whose hashes stay in    ``csr_sketch``
                                     cache while the columns are swept (2^20 x 500: 2^15 and
                                     2^16 best, 2^14 and 2^19 1.2-1.4x slower)
=======================  ==========  ========================================================  ==========
"""

__all__ = ["CSR_COLUMNWISE_ENTRIES", "CSR_COLUMN_CHUNK_ROWS", "DENSE_ENTRIES", "GAUSSIAN_BLOCK_ENTRIES",
           "GAUSSIAN_CACHE_ENTRIES", "PARALLEL_MIN_VALUES", "SRHT_BLOCK_BYTES", "TWO_PASS_MIN_BLOCKS"]

SRHT_BLOCK_BYTES = 1 << 20
TWO_PASS_MIN_BLOCKS = 10
PARALLEL_MIN_VALUES = 1 << 16
GAUSSIAN_BLOCK_ENTRIES = 1 << 22
GAUSSIAN_CACHE_ENTRIES = 1 << 24
DENSE_ENTRIES = 1 << 26
CSR_COLUMNWISE_ENTRIES = 1 << 20
CSR_COLUMN_CHUNK_ROWS = 1 << 16
