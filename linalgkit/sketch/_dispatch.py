r"""The sketch family's one dispatch point: the Numba, CuPy or array-API body of each fast sketch, chosen from ``be``.

NumPy inputs run the Numba kernels of :mod:`linalgkit.sketch._numba` unless ``be.use_numba`` is
False; a CSR matrix reaches them as its three arrays.  CuPy and other array-API inputs run the
transform/sparse-product bodies below (cuBLAS, cuSPARSE and the CUDA FWHT on CuPy).
"""

import numpy as np

from ..transforms.walsh_hadamard import _fwht

__all__ = ["hash_apply", "srht_apply"]


def _numba_operand(backend, X):
    """``(source, layout options)`` of a dense or CSR ``X`` for the Numba kernels."""
    if backend.issparse(X):
        return (X.indptr, X.indices, X.data), {"layout": "csr", "columns": X.shape[1]}
    return X, {}


def _dense(backend, X):
    return X.toarray() if backend.issparse(X) else X


def srht_apply(backend, X, B, signs, rows, padded_rows):
    r"""Unscaled :math:`P H_N D J [X\ B]`: rows ``rows`` of the zero-padded, sign-flipped Walsh-Hadamard transform."""
    if backend.kind == "numpy" and backend.use_numba:
        from ._numba import srht_apply as kernel

        source, layout = _numba_operand(backend, X)
        return kernel(source, np.ascontiguousarray(B), signs, rows, padded_rows, **layout)
    n, k = X.shape
    Z = backend.zeros((padded_rows, k + B.shape[1]), X.dtype)
    Z[:n, :k] = _dense(backend, X) * signs[:, None]
    Z[:n, k:] = B * signs[:, None]
    Z = _fwht(backend, Z, 0, 1.0, out=None if backend.kind == "generic" else Z)
    return backend.xp.take(Z, rows, axis=0)


def hash_apply(backend, S, X, B):
    r""":math:`S[X\ B]` for a hashing sketch ``S`` (``S[rows[i, j], i] = weights[i, j]``), dense or CSR ``X``."""
    if backend.kind == "numpy" and backend.use_numba:
        from ._numba import scatter_rows

        source, layout = _numba_operand(backend, X)
        return scatter_rows(source, np.ascontiguousarray(B), S.rows, S._weights(backend, X.dtype), S.shape[0],
                            **layout)
    matrix = S._matrix(backend, X.dtype)
    return backend.xp.concat([_dense(backend, matrix @ X), matrix @ B], axis=1)
