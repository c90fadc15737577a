"""Reductions whose summation order never depends on the batch size.

numpy's ``sum``, ``einsum`` and BLAS ``matmul`` may add the same terms in a different
order for different array shapes (pairwise summation when the reduced axis is
contiguous, gemv versus gemm kernels). Floating-point addition is not associative, so
a walker simulated alone could then differ from the same walker in a batch by a few
ulp, which contact events can amplify. The hot path therefore reduces over small
axes with these helpers, which add the terms one by one in index order.
"""

from __future__ import annotations

import numpy as np


def seq_sum(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sum over ``axis`` adding the slices in index order (a new array)."""
    axis = axis % a.ndim
    lead = (slice(None),) * axis
    n = a.shape[axis]
    if n == 1:
        return a[lead + (0,)].copy()
    out = a[lead + (0,)] + a[lead + (1,)]
    for k in range(2, n):  # loop over a small element axis, never over walkers
        out += a[lead + (k,)]
    return out


def padded_index(rows: list[list[int]], pad: int) -> np.ndarray:
    """(n, K) index table from ragged rows, padded with ``pad`` (an index of a zero row)."""
    width = max(len(r) for r in rows)
    return np.array([r + [pad] * (width - len(r)) for r in rows], dtype=np.intp)


def gather_sum(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``out[i] = sum_k x_ext[index[i, k]]`` with ``x_ext`` = x plus one zero row at the end.

    x: (P, B); index: (n, K) built by ``padded_index(..., pad=P)``. Returns (n, B).
    """
    ext = np.concatenate([x, np.zeros((1,) + x.shape[1:])], axis=0)
    return seq_sum(ext[index], axis=1)
