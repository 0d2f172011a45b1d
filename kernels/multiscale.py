"""Multi-scale excess test over a (time × frequency) grid of per-bin z-scores.

For each new row and each pair of scales (K rows, W bins) the mean z over the K-row ×
W-bin box centred on a bin is compared with a threshold in units of that box mean's
standard deviation; the mean level excess (dB) over the same box must also clear a floor.
A wide, weak barrage wins at large W and K = 1; a weak tone at W = 1 and large K.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def _multiscale(z_hist, e_hist, first_new, valid_rows, time_scales, freq_scales, inv_std, z_threshold, min_rise_db, hot, score):
    num_hist, n = z_hist.shape
    zk = np.empty(n, np.float32)
    ek = np.empty(n, np.float32)
    cz = np.empty(n + 1, np.float64)
    ce = np.empty(n + 1, np.float64)
    for i in range(num_hist - first_new):
        h = first_new + i
        hot[i, :] = False
        score[i, :] = 0.0
        zk[:] = 0.0
        ek[:] = 0.0
        # walk back one row at a time; when the running sums span K rows, test scale K
        # (time_scales ascending), so all K cost one pass over the longest
        a = 0
        for depth in range(1, time_scales[-1] + 1):
            j = h - depth + 1
            if j < 0 or depth > valid_rows - (num_hist - 1 - h):
                break  # no more baseline-normalised rows
            for k in range(n):
                zk[k] += z_hist[j, k]
                ek[k] += e_hist[j, k]
            if depth != time_scales[a]:
                continue
            cz[0] = 0.0
            ce[0] = 0.0
            for k in range(n):
                cz[k + 1] = cz[k] + zk[k] / depth
                ce[k + 1] = ce[k] + ek[k] / depth
            for b in range(freq_scales.shape[0]):
                w = freq_scales[b]
                if w > n:
                    continue
                lo_off = w // 2
                for k in range(n):
                    lo = k - lo_off
                    if lo < 0:
                        lo = 0
                    hi = lo + w
                    if hi > n:
                        hi = n
                        lo = n - w
                    s = (cz[hi] - cz[lo]) / w * inv_std[a, b]
                    if s > z_threshold and (ce[hi] - ce[lo]) / w > min_rise_db:
                        hot[i, k] = True
                        if s > score[i, k]:
                            score[i, k] = s
            a += 1
            if a == time_scales.shape[0]:
                break


def multiscale_excess(
    z_hist: NDArray[np.float32],
    excess_db_hist: NDArray[np.float32],
    num_new: int,
    valid_rows: int,
    time_scales: NDArray[np.int64],
    freq_scales: NDArray[np.int64],
    inv_std: NDArray[np.float32],
    z_threshold: float,
    min_rise_db: float,
) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
    """Flag bins whose box-averaged excess is significant at any (K rows, W bins) scale.

    Parameters
    ----------
    z_hist, excess_db_hist : NDArray[np.float32]
        ``(rows, bins)``: per-bin z-scores and level excess in dB over the baseline; the last
        ``num_new`` rows are tested, earlier ones serve as history for the K-row means.
    valid_rows : int
        How many of the last rows of the history hold baseline-normalised data.
    time_scales, freq_scales : NDArray[np.int64]
        K and W values; ``time_scales`` ascending.
    inv_std : NDArray[np.float32]
        ``(len(time_scales), len(freq_scales))``: 1 / std of the box-mean z under noise alone.
    z_threshold : float
        Threshold on the normalised box mean.
    min_rise_db : float
        The box's mean excess must also exceed this (slow drift stays below it).

    Returns
    -------
    hot : NDArray[np.bool_]
        ``(num_new, bins)``: bins at the centre of a significant box.
    score : NDArray[np.float32]
        ``(num_new, bins)``: the largest normalised statistic seen at each bin (0 if none).
    """
    z_hist = np.ascontiguousarray(z_hist, dtype=np.float32)
    excess_db_hist = np.ascontiguousarray(excess_db_hist, dtype=np.float32)
    if z_hist.shape != excess_db_hist.shape or z_hist.ndim != 2:
        raise ValueError("z_hist and excess_db_hist must be 2-D arrays of one shape")
    if not 0 <= num_new <= z_hist.shape[0]:
        raise ValueError(f"num_new={num_new} does not fit a history of {z_hist.shape[0]} rows")
    inv_std = np.ascontiguousarray(inv_std, dtype=np.float32)
    if np.any(np.diff(time_scales) <= 0):
        raise ValueError(f"time_scales must be strictly ascending, got {list(time_scales)}")
    if inv_std.shape != (len(time_scales), len(freq_scales)):
        raise ValueError("inv_std must have shape (len(time_scales), len(freq_scales))")
    hot = np.empty((num_new, z_hist.shape[1]), np.bool_)
    score = np.empty((num_new, z_hist.shape[1]), np.float32)
    _multiscale(
        z_hist, excess_db_hist, z_hist.shape[0] - num_new, valid_rows,
        np.asarray(time_scales, np.int64), np.asarray(freq_scales, np.int64), inv_std,
        np.float32(z_threshold), np.float32(min_rise_db), hot, score,
    )
    return hot, score
