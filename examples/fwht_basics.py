"""
Walsh-Hadamard transform basics
===============================

The Walsh-Hadamard transform expands a vector of length ``N = 2**k`` in the Walsh functions
``w_k(m) = (-1)**popcount(m & k)``, the rows of ``scipy.linalg.hadamard(N)``.  This example
checks the transform against the dense matrix, compresses a piecewise-constant signal by
keeping its largest Walsh coefficients, and compares the cost of ``fwht`` (``N log N``
additions) with the dense product (``N**2`` multiply-adds).
"""

import pathlib
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg

from linalgkit.transforms import fwht, ifwht

rng = np.random.default_rng(0)

# %%
# The transform equals the dense Sylvester-Hadamard matrix product, and is its own inverse
# up to the factor ``N`` (``normalize=True`` makes it orthonormal).
n = 1024
x = rng.standard_normal(n)
dense = scipy.linalg.hadamard(n) @ x
print("max |fwht(x) - H x| =", np.max(np.abs(fwht(x) - dense)))
print("max |ifwht(fwht(x)) - x| =", np.max(np.abs(ifwht(fwht(x)) - x)))

# %%
# Piecewise-constant signals on dyadic intervals have sparse Walsh spectra: keeping the 5% largest
# coefficients reconstructs this one almost exactly.
signal = np.repeat(rng.standard_normal(16), n // 16) + 0.05 * rng.standard_normal(n)
coefficients = fwht(signal, normalize=True)
keep = np.argsort(np.abs(coefficients))[-n // 20 :]
compressed = np.zeros_like(coefficients)
compressed[keep] = coefficients[keep]
approximation = fwht(compressed, normalize=True)
print("relative error with 5% of the coefficients:",
      np.linalg.norm(approximation - signal) / np.linalg.norm(signal))

# %%
# Cost against the dense product (best of five calls each).
sizes = 2 ** np.arange(6, 13)
fast, slow = [], []
for size in sizes:
    batch = rng.standard_normal((64, size))
    hadamard = scipy.linalg.hadamard(size).astype(np.float64)
    for timings, run in ((fast, lambda: fwht(batch)), (slow, lambda: batch @ hadamard)):
        run()
        best = np.inf
        for _ in range(5):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        timings.append(best)

figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
left.plot(signal, lw=0.8, label="signal")
left.plot(approximation, lw=0.8, label="5% of Walsh coefficients")
left.set_xlabel("m")
left.legend()
left.set_title("Compression in the Walsh basis")
right.loglog(sizes, fast, "o-", label="fwht")
right.loglog(sizes, slow, "s-", label="dense H @ x")
right.set_xlabel("N")
right.set_ylabel("seconds for 64 vectors")
right.legend()
right.set_title("Cost")
figure.tight_layout()
output = pathlib.Path(__file__).with_suffix(".png") if "__file__" in globals() else pathlib.Path("fwht_basics.png")
figure.savefig(output, dpi=100)
