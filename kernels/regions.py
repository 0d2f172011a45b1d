"""Per-region kernels of the detector: the runs of hot bins, a run's occupied band, and the
sums a region's features are made of.

They run for every detection of every row while a jammer is on, where a dozen small NumPy
calls per region cost more than the work itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def occupied_band(e_rows, z_rows, lo, hi, z_scale, dc_lo, dc_hi, min_significance, floor_share, tail, power):
    """Occupied bandwidth of bins lo … hi over the rows given: the span holding all but ``tail``
    of the excess power on each side (ITU-R SM.328), counting only bins whose significance
    (``z_scale`` × their 4-bin box-mean z) reaches ``min_significance`` and whose power is at
    least ``floor_share`` of the 90th percentile of those. Bins dc_lo … dc_hi−1 never count.
    ``power`` (float64, at least hi − lo + 1 long) receives the counted bins' box-mean excess
    power ratio from bin lo on, 0 for the bins not counted (the caller looks for separate lines).

    One pass over the bins instead of a dozen whole-array NumPy steps (this runs for every
    detection of every row). The row means and the box are those of ``numpy.convolve(…,
    np.ones(4) / 4, mode="same")`` over the band: bins i−2 … i+1, zero outside it.
    Returns (first, last) as offsets from lo, or (−1, −1) when no bin is significant.
    """
    k, n = e_rows.shape
    a, b = max(lo - 2, 0), min(hi + 2, n)  # the boxes of lo … hi reach these bins
    # sums of the k rows over bins a … b−1 (float32, added row by row like NumPy's mean)
    se = e_rows[0, a:b].copy()
    sz = z_rows[0, a:b].copy()
    for r in range(1, k):
        se += e_rows[r, a:b]
        sz += z_rows[r, a:b]
    # excess power ratio and z of the row means, with 2 zero bins on each side (outside the band)
    ratio = np.zeros(b - a + 4)
    z = np.zeros(b - a + 4)
    for j in range(b - a):
        mean_db = se[j] / np.float32(k)
        ratio[j + 2] = max(np.float32(10.0) ** (mean_db / np.float32(10.0)) - np.float32(1.0), np.float32(0.0))
        z[j + 2] = sz[j] / np.float32(k)
    power[: hi - lo + 1] = 0.0
    strong = np.empty(hi - lo + 1)  # the nonzero powers
    count = 0
    for i in range(lo, hi + 1):
        c = i - a + 2  # bin i in ratio and z; its box is bins i−2 … i+1
        box_z = z[c - 2] * 0.25 + z[c - 1] * 0.25 + z[c] * 0.25 + z[c + 1] * 0.25
        if box_z * z_scale >= min_significance and not dc_lo <= i < dc_hi:
            p = ratio[c - 2] * 0.25 + ratio[c - 1] * 0.25 + ratio[c] * 0.25 + ratio[c + 1] * 0.25
            if p > 0.0:
                power[i - lo] = p
                strong[count] = p
                count += 1
    if count == 0:
        return -1, -1
    # a jammer's weak sidebands (a fast sweep's comb past its span) are not its band
    kth = int(0.9 * (count - 1))
    p90 = np.partition(strong[:count], kth)[kth]
    total = 0.0
    for i in range(hi - lo + 1):
        if power[i] < floor_share * p90:
            power[i] = 0.0
        total += power[i]
    # the first bins at which the cumulative share reaches tail and 1 − tail
    cumulative = 0.0
    first = -1
    for i in range(hi - lo + 1):
        cumulative += power[i]
        if first < 0 and cumulative / total >= tail:
            first = i
        if cumulative / total >= 1.0 - tail:
            return first, i
    return first, hi - lo


@njit(cache=True, nogil=True, fastmath=True)  # fastmath: the sums may be vectorised (reordered)
def region_sums(ratio, z_hist, e_hist, row, lo, hi, weights):
    """The sums a region's features are made of, in one pass over its bins lo … hi (float64).

    ``ratio`` holds the excess power ratio of the row's bins lo … hi; ``weights`` is filled
    with their excess over 1 (never negative). Returns the sums over the bins of the ratio,
    of the weights and of weight × bin, then of z in row ``row`` of ``z_hist``, in its last
    4 rows and in its last 16 rows (fewer at the start), and of the excess e in its last 4.
    """
    ratio_sum = 0.0
    weight_sum = 0.0
    moment = 0.0
    for i in range(lo, hi + 1):
        w = max(ratio[i - lo] - np.float32(1.0), np.float32(0.0))
        weights[i - lo] = w
        ratio_sum += ratio[i - lo]
        weight_sum += w
        moment += w * i
    z_row = 0.0
    z4 = 0.0
    z16 = 0.0
    e4 = 0.0
    for r in range(max(row - 15, 0), row + 1):
        s = 0.0
        for i in range(lo, hi + 1):
            s += z_hist[r, i]
        z16 += s
        if r > row - 4:
            z4 += s
            for i in range(lo, hi + 1):
                e4 += e_hist[r, i]
        if r == row:
            z_row = s
    return ratio_sum, weight_sum, moment, z_row, z4, z16, e4


@njit(cache=True, nogil=True)
def merged_runs(mask, max_step):
    """First and last index of each run of True in ``mask``, where True values at most
    ``max_step`` indices apart are in one run. Returns (starts, ends) as int64 arrays."""
    starts = np.empty(mask.shape[0], np.int64)
    ends = np.empty(mask.shape[0], np.int64)
    count = 0
    for i in range(mask.shape[0]):
        if mask[i]:
            if count == 0 or i - ends[count - 1] > max_step:
                starts[count] = i
                count += 1
            ends[count - 1] = i
    return starts[:count], ends[:count]


@njit(cache=True, nogil=True)
def first_reaching(values, target):
    """Index of the first running sum of ``values`` (added in order, in their own precision,
    as ``numpy.cumsum``) that reaches ``target``; ``len(values)`` if none does. For values that
    are never negative this is ``numpy.searchsorted(numpy.cumsum(values), target)``, without
    summing past the point."""
    total = values.dtype.type(0)
    for i in range(values.shape[0]):
        total += values[i]
        if total >= target:
            return i
    return values.shape[0]
