"""Multi-scale excess test over a (time × frequency) grid of per-bin z-scores.

For each new row and each pair of scales (K rows, W bins) the mean z over the K-row ×
W-bin box centred on a bin is compared with a threshold in units of that box mean's
standard deviation; the mean level excess (dB) over the same box must also clear a floor.
A wide, weak barrage wins at large W and K = 1; a weak tone at W = 1 and large K.

Boxes wider than 8 bins are evaluated every W/8 bins (their neighbours overlap by 7/8), and
a hit marks the step's bins; likewise boxes of K rows are evaluated every K/8 rows. The K-row sums are running sums the caller keeps between calls (``sums_z``, ``sums_e``):
each new row is added and the row K back subtracted, so the cost per row does not grow
with the longest K.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True, fastmath=True)
def _update_bin(cz, ce, k, lo, w, z_scale, rise_needed, z_threshold, hot_row, score_row):
    """Mark bin k if its box (bins lo … lo+w−1) passes both tests, without branching."""
    s = (cz[lo + w] - cz[lo]) * z_scale
    ok = (s > z_threshold) & (ce[lo + w] - ce[lo] > rise_needed)
    hot_row[k] |= ok
    score_row[k] = max(score_row[k], s if ok else np.float32(0.0))  # scores are never negative


@njit(cache=True, nogil=True, fastmath=True)
def _test_boxes(cz, ce, ce_state, sums_e_row, n, w, z_scale, rise_needed, z_threshold, hot_row, score_row):
    """Test the W-bin box around every bin (every W/8 bins for wide boxes) of one K.

    The level test needs prefix sums of the excess too; they are built in the first block
    of positions with a box that passes the z test (``ce_state[0]``), so quiet rows never pay for them.
    """
    lo_off = w // 2
    step = max(1, w // 8)  # wide boxes move in steps of w/8: neighbours overlap by 7/8
    # nearly every box of a quiet row fails: a first, branch-free pass (which vectorises) over
    # a block of positions finds whether any passes, so the loop below runs only for the blocks
    # holding a detection (a jammer covers part of the band: the other blocks stay cheap)
    block = step * 64
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        best = np.float32(-np.inf)
        for k0 in range(b0, b1, step):
            k = min(k0 + step // 2, n - 1)
            lo = min(max(k - lo_off, 0), n - w)
            best = max(best, (cz[lo + w] - cz[lo]) * z_scale)
        if not best > z_threshold:
            continue
        if ce_state[0] == 0:  # the first block with a passing box: build the excess prefix sums
            ce[0] = 0.0
            for j in range(n):
                ce[j + 1] = ce[j] + sums_e_row[j]
            ce_state[0] = 1
        if step == 1:
            # one bin per box: a branch-free update (a jammer passes most boxes of its blocks)
            for k in range(b0, b1):
                _update_bin(cz, ce, k, min(max(k - lo_off, 0), n - w), w, z_scale, rise_needed, z_threshold, hot_row,
                            score_row)
            continue
        for k0 in range(b0, b1, step):
            k = min(k0 + step // 2, n - 1)
            lo = min(max(k - lo_off, 0), n - w)
            s = (cz[lo + w] - cz[lo]) * z_scale
            if s > z_threshold and ce[lo + w] - ce[lo] > rise_needed:
                hot_row[k0 : min(k0 + step, n)] = True
                np.maximum(score_row[k0 : min(k0 + step, n)], s, score_row[k0 : min(k0 + step, n)])


@njit(cache=True, nogil=True, fastmath=True)
def _multiscale(z_hist, e_hist, first_new, valid_before, time_scales, freq_scales, inv_std, z_threshold,
                min_rise_db, sums_z, sums_e, hot, score):
    num_hist, n = z_hist.shape
    # float32 prefix sums: box sums of at most 64 rows × 2048 bins of unit-scale z keep
    # ~1e-2 absolute resolution against box stds of several units
    cz = np.empty(n + 1, np.float32)
    ce = np.empty(n + 1, np.float32)
    ce_state = np.zeros(1, np.int64)
    for i in range(num_hist - first_new):
        h = first_new + i
        valid = valid_before + i + 1  # baseline-normalised rows up to and including h
        hot[i, :] = False
        score[i, :] = 0.0
        for a in range(time_scales.shape[0]):
            kk = time_scales[a]
            if valid > kk:  # the row K back leaves the window
                for k in range(n):
                    sums_z[a, k] += z_hist[h, k] - z_hist[h - kk, k]
                    sums_e[a, k] += e_hist[h, k] - e_hist[h - kk, k]
            else:
                for k in range(n):
                    sums_z[a, k] += z_hist[h, k]
                    sums_e[a, k] += e_hist[h, k]
            if valid < kk:
                continue  # not enough rows yet for this K
            if valid % max(1, kk // 8) != 0:
                continue  # a K-row mean moves by 1/K a row: long boxes are tested every K/8 rows
            # prefix sums of the K-row sums; the 1/K and 1/W go into the thresholds
            cz[0] = 0.0
            for k in range(n):
                cz[k + 1] = cz[k] + sums_z[a, k]
            ce_state[0] = 0
            for b in range(freq_scales.shape[0]):
                w = freq_scales[b]
                if w > n or inv_std[a, b] == 0.0:  # 0 marks a (K, W) pair the caller skips
                    continue
                _test_boxes(cz, ce, ce_state, sums_e[a], n, w, np.float32(inv_std[a, b] / (w * kk)),
                            np.float32(min_rise_db * w * kk), z_threshold, hot[i], score[i])


def multiscale_excess(
    z_hist: NDArray[np.float32],
    excess_db_hist: NDArray[np.float32],
    num_new: int,
    valid_before: int,
    time_scales: NDArray[np.int64],
    freq_scales: NDArray[np.int64],
    inv_std: NDArray[np.float32],
    z_threshold: float,
    min_rise_db: float,
    sums_z: NDArray[np.float32],
    sums_e: NDArray[np.float32],
) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
    """Flag bins whose box-averaged excess is significant at any (K rows, W bins) scale.

    Parameters
    ----------
    z_hist, excess_db_hist : NDArray[np.float32]
        ``(rows, bins)``: per-bin z-scores and level excess in dB over the baseline; the last
        ``num_new`` rows are tested, and at least ``max(time_scales)`` rows before them must be
        present once that many valid rows exist (they are subtracted from the running sums).
    valid_before : int
        Baseline-normalised rows fed before these ``num_new`` (0 for the first call).
    time_scales, freq_scales : NDArray[np.int64]
        K and W values; ``time_scales`` ascending.
    inv_std : NDArray[np.float32]
        ``(len(time_scales), len(freq_scales))``: 1 / std of the box-mean z under noise alone;
        0 skips that (K, W) pair.
    z_threshold : float
        Threshold on the normalised box mean.
    min_rise_db : float
        The box's mean excess must also exceed this (slow drift stays below it).
    sums_z, sums_e : NDArray[np.float32]
        ``(len(time_scales), bins)`` running K-row sums, zero before the first call; updated
        in place (the caller keeps them, the kernel keeps nothing; float32 rounding gathers
        slowly, so a long-running caller recomputes them from the rows now and then).

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
    time_scales = np.asarray(time_scales, np.int64)
    # (checks written for the few-element arrays they see: this runs once per detector row)
    if (time_scales[1:] <= time_scales[:-1]).any():
        raise ValueError(f"time_scales must be strictly ascending, got {list(time_scales)}")
    needed_back = min(valid_before, int(time_scales[-1]))
    if z_hist.shape[0] - num_new < needed_back:
        raise ValueError(f"the history holds {z_hist.shape[0] - num_new} earlier rows, the running sums need {needed_back}")
    inv_std = np.ascontiguousarray(inv_std, dtype=np.float32)
    if inv_std.shape != (len(time_scales), len(freq_scales)):
        raise ValueError("inv_std must have shape (len(time_scales), len(freq_scales))")
    if sums_z.shape != (len(time_scales), z_hist.shape[1]) or sums_e.shape != sums_z.shape:
        raise ValueError("sums_z and sums_e must have shape (len(time_scales), bins)")
    if sums_z.dtype != np.float32 or sums_e.dtype != np.float32:
        raise ValueError("sums_z and sums_e must be float32 (updated in place)")
    hot = np.empty((num_new, z_hist.shape[1]), np.bool_)
    score = np.empty((num_new, z_hist.shape[1]), np.float32)
    _multiscale(
        z_hist, excess_db_hist, z_hist.shape[0] - num_new, valid_before, time_scales,
        np.asarray(freq_scales, np.int64), inv_std, np.float32(z_threshold), np.float32(min_rise_db),
        sums_z, sums_e, hot, score,
    )
    return hot, score

