"""The transforms family's size cut-overs, in one table.

Each constant says where a kernel changes strategy and which measurement set it;
``python -m benchmarks.transforms [parallel_elements|parallel_pairs|blocks]`` reruns those
measurements (the two strategies timed on either side of each cut-over, or the block size halved
and doubled).  Change a value only with that ablation.

========================  ==========  ==========================================================
constant                  value       chooses
========================  ==========  ==========================================================
ROW_BLOCK_BYTES           128 KiB     FWHT row kernel: a row up to this size in one piece (stays in
                                      the private L2 cache); longer rows split as N = R * C
TILE_BYTES                32 KiB      FWHT column kernel: a tile (length x width) fits the L1 cache
MIN_TILE_WIDTH            8           FWHT column kernel: narrowest tile, one 64-byte line of float64
PARALLEL_MIN_ELEMENTS     2^15        FWHT: serial below, Numba threads above (per call)
PARALLEL_MIN_PAIRS        2^16        evaluate_walsh: serial below, threads above (points x support)
SEARCH_BLOCK              2^22        sparse_wht sample-optimal search: float64 entries held at once
                                      (a memory bound, not a speed cut-over)
========================  ==========  ==========================================================
"""

__all__ = ["MIN_TILE_WIDTH", "PARALLEL_MIN_ELEMENTS", "PARALLEL_MIN_PAIRS", "ROW_BLOCK_BYTES", "SEARCH_BLOCK",
           "TILE_BYTES"]

ROW_BLOCK_BYTES = 1 << 17
TILE_BYTES = 1 << 15
MIN_TILE_WIDTH = 8
PARALLEL_MIN_ELEMENTS = 1 << 15
PARALLEL_MIN_PAIRS = 1 << 16
SEARCH_BLOCK = 1 << 22
