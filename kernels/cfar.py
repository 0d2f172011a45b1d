"""Ordered-statistic CFAR across frequency (Rohling's OS-CFAR) on one spectrum.

Each bin (the cell under test) is compared with ``alpha`` times the ``rank``-th smallest of
``2·cells_per_side`` reference cells around it. Between them and the cell sit ``guard_bins``
on each side, and the reference cells are taken every ``stride`` bins. Why both: the Hann
window makes a bin's power correlate with its neighbour's (about 0.44), and only 0.03 with
the bin two away. Stride 2 therefore gives nearly independent cells, which is what the exact
false-alarm formula assumes (spectrum.detect.narrowband_cfar). Near the band edges the window keeps its
size: the cells missing on one side are taken further out on the other side.

The ordered statistic is why it is OS- and not CA-CFAR: up to ``2·cells_per_side − rank``
reference cells may hold other emitters without raising the threshold.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def _reference_cells(i, n, guard_bins, cells_per_side, stride, out):
    """Fill ``out`` with the reference bins of cell ``i``, keeping 2·cells_per_side of them."""
    want = 2 * cells_per_side
    first = guard_bins + 1
    left = 0
    while left < cells_per_side and i - first - stride * left >= 0:
        left += 1
    right = 0
    while right < cells_per_side and i + first + stride * right < n:
        right += 1
    # borrow from the other side what one side lacks
    extra_right = cells_per_side - left
    extra_left = cells_per_side - right
    count = 0
    j = 0
    while j < left + extra_left and count < want and i - first - stride * j >= 0:
        out[count] = i - first - stride * j
        count += 1
        j += 1
    j = 0
    while j < right + extra_right and count < want and i + first + stride * j < n:
        out[count] = i + first + stride * j
        count += 1
        j += 1
    return count


@njit(cache=True, nogil=True)
def _kth_smallest(values, count, k):
    """The k-th smallest (1-based) of values[:count], by partial selection sort from below."""
    for a in range(k):
        smallest = a
        for b in range(a + 1, count):
            if values[b] < values[smallest]:
                smallest = b
        values[a], values[smallest] = values[smallest], values[a]
    return values[k - 1]


@njit(cache=True, nogil=True)
def _block_minima(power, stride, length):
    """Minimum of the ``length`` cells p, p + stride, … for every start p that fits."""
    n = power.shape[0]
    span = stride * (length - 1)
    out = np.full(n, np.inf, power.dtype)
    for p in range(n - span):
        m = power[p]
        for j in range(1, length):
            m = min(m, power[p + stride * j])
        out[p] = m
    return out


@njit(cache=True, nogil=True)
def _os_cfar(power, alpha, rank, guard_bins, cells_per_side, stride, out):
    n = power.shape[0]
    index = np.empty(2 * cells_per_side, np.int64)
    values = np.empty(2 * cells_per_side, power.dtype)
    # A cheap lower bound of the ordered statistic settles most cells without sorting. The
    # reference cells form four blocks (two per side); with m₁ ≤ … ≤ m₄ their minima, fewer
    # than (j − 1)·block cells lie below m_j, so the rank-th smallest is at least m_j for
    # the largest j with (j − 1)·block < rank.
    block = cells_per_side // 2
    j_bound = min(4, (rank + block - 1) // block)
    minima = _block_minima(power, stride, block)
    first = guard_bins + 1
    reach = first + stride * (cells_per_side - 1)  # the farthest reference cell
    for i in range(n):
        out[i] = 0.0
        if i - reach >= 0 and i + reach < n and cells_per_side % 2 == 0:
            a, b = minima[i - first - stride * (block - 1)], minima[i - reach]
            c, d = minima[i + first], minima[i + first + stride * block]
            a, b = min(a, b), max(a, b)  # a sorting network of four: np.sort costs more here
            c, d = min(c, d), max(c, d)
            a, c = min(a, c), max(a, c)
            b, d = min(b, d), max(b, d)
            b, c = min(b, c), max(b, c)
            bound = a if j_bound == 1 else b if j_bound == 2 else c if j_bound == 3 else d
            if power[i] <= alpha * bound:
                continue
        count = _reference_cells(i, n, guard_bins, cells_per_side, stride, index)
        if count < rank:
            continue  # a band too narrow for the window: no test
        for c in range(count):
            values[c] = power[index[c]]
        # the rank-th smallest is the (count - rank + 1)-th largest; select from the short end
        if rank <= count // 2:
            level = _kth_smallest(values, count, rank)
        else:
            for c in range(count):
                values[c] = -values[c]
            level = -_kth_smallest(values, count, count - rank + 1)
        if level > 0.0:
            out[i] = power[i] / (alpha * level)


def os_cfar(
    power: NDArray[np.float32], alpha: float, rank: int, guard_bins: int, cells_per_side: int, stride: int = 2,
) -> NDArray[np.float32]:
    """Return ``power / (alpha · level)`` per bin, where ``level`` is the ``rank``-th smallest
    reference cell; a bin is detected where this exceeds 1. Bins that cannot be detected
    (their power is under ``alpha`` times a lower bound of ``level``) get 0: the ordered
    statistic is not computed for them."""
    power = np.ascontiguousarray(power, dtype=np.float32)
    if not 1 <= rank <= 2 * cells_per_side:
        raise ValueError(f"rank must be within 1..{2 * cells_per_side}, got {rank}")
    out = np.empty_like(power)
    _os_cfar(power, np.float32(alpha), int(rank), int(guard_bins), int(cells_per_side), int(stride), out)
    return out
