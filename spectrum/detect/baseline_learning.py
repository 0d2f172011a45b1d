"""Learning a band's baseline from its first rows, and calibrating the box test on them.

The learning rows are freed of their own gain changes (each row's median is brought to the
mean), the per-bin level and spread are learned (spectrum.detect.band_baseline), so is the
bursty traffic the median leaves out (spectrum.detect.learned_bursts), and the
noise std of every box mean of the multi-scale test is measured on the same rows: adjacent
bins of a windowed FFT are correlated, so a W-bin mean is noisier than 1/sqrt(W) would say.
To that the row-to-row common-mode swings of broadband bursty traffic are added (the gain
tracker follows slow drift only, so the detector sees them; `common_mode_swing_db`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spectrum.detect.band_baseline import Baseline
from spectrum.detect.learned_bursts import LearnedBursts
from spectrum.detect.narrowband_cfar import known_lines

CALIBRATION_VALUES = 16384  # box means per (K, W) for the spread: the MAD's std is then ~1 %


@dataclass
class LearnedBand:
    """What the learning rows gave: the baseline (learned, or the one passed in and completed),
    the gain offset the tracker starts from (None: keep the tracker's), and the frame-power
    pulsing of quiet rows."""

    baseline: Baseline
    gain_db: float | None
    pulsing_ref: float


def learn_band(rows: list[NDArray[np.float32]], pulsing: list[float], baseline: Baseline | None,
               center_freq_hz: float, sample_rate_hz: float, frames_per_row: int, cfar_pfa: float,
               time_scales: NDArray[np.int64], freq_scales: NDArray[np.int64], dc_slice: slice) -> LearnedBand:
    """Learn (or complete) the baseline from the learning rows' levels (dB) and pulsing."""
    rows_db = np.asarray(rows, np.float32)
    # learn the spectrum's shape without the gain changes of the learning rows (each row's
    # median brought to the mean); the gain tracker starts from the end of their straight-line
    # trend (a tuner drifts slowly), not from the last row's own offset, which in a band of
    # broadband bursty traffic is mostly that row's swing
    row_gain = np.median(rows_db, axis=1)
    index = np.arange(len(row_gain), dtype=np.float64)
    slope, intercept = np.polyfit(index, row_gain, 1) if len(row_gain) > 2 else (0.0, float(row_gain.mean()))
    trend = slope * index + intercept
    swing_db = common_mode_swing_db(row_gain - trend)
    rows_db = rows_db - (row_gain - row_gain.mean())[:, None]
    gain_db = None
    if baseline is None:
        baseline = Baseline.learn(rows_db, center_freq_hz, sample_rate_hz, frames_per_row)
        gain_db = float(trend[-1] - trend.mean())
    pulsing_ref = max(float(np.median(pulsing)), 1e-3)
    if baseline.known_lines is None:
        baseline.known_lines = known_lines(10.0 ** (rows_db / 10.0), frames_per_row, cfar_pfa)
    if baseline.skew_db is None:
        baseline.skew_db = Baseline.skew_of(rows_db, baseline.level_db)
    if baseline.bursts is None:
        # over level + skew: the excess the detector measures later (spectrum.detect.detector)
        baseline.bursts = LearnedBursts.learn(rows_db, baseline.level_db + baseline.skew_db, baseline.spread_db)
    box_std = calibrate_box_std(rows_db, baseline, time_scales, freq_scales, dc_slice)
    # the detector's gain tracker follows slow drift only, so it also sees the rows' common-mode
    # swings, the same in every bin of a box (no averaging down over bins), averaged over K rows
    swing_z = swing_db / float(np.median(baseline.spread_db))
    baseline.box_std = np.sqrt(box_std**2 + (swing_z**2 / time_scales.astype(np.float64))[:, None]).astype(np.float32)
    return LearnedBand(baseline, gain_db, pulsing_ref)


def common_mode_swing_db(offsets_db: NDArray[np.float64]) -> float:
    """Std (dB) of the row-to-row common-mode swings in the rows' offsets from their drift, from
    the robust spread of consecutive differences (/√2): traffic that lifts the whole band in
    scattered rows swings every row anew, while a jammer switching on and off during learning is
    a few steps, which the median of the differences ignores (it must not deafen the test)."""
    if len(offsets_db) < 3:
        return 0.0
    steps = np.diff(offsets_db)
    return float(1.4826 * np.median(np.abs(steps - np.median(steps))) / math.sqrt(2.0))


def box_weights(box_std: NDArray[np.float32], time_scales: NDArray[np.int64],
                freq_scales: NDArray[np.int64]) -> NDArray[np.float32]:
    """1/std per (K rows, W bins), with 0 for pairs not worth testing: up to 4 rows need
    no 1-bin boxes and single rows no 2-bin boxes (a line strong enough to show that fast
    fills a wider box too), and 64-row boxes no boxes over 16 bins (a band that weak is
    found by 16 rows first)."""
    weights = (1.0 / box_std).astype(np.float32)
    for a, k in enumerate(time_scales):
        for b, w in enumerate(freq_scales):
            if (k <= 4 and w == 1) or (k == 1 and w == 2) or (k >= 64 and w > 16):
                weights[a, b] = 0.0
    return weights


def calibrate_box_std(rows_db: NDArray[np.float32], baseline: Baseline, time_scales: NDArray[np.int64],
                      freq_scales: NDArray[np.int64], dc_slice: slice) -> NDArray[np.float32]:
    """Robust std of the box-mean z for every (K, W), measured on the learning rows."""
    fft_size = rows_db.shape[1]
    z = (rows_db - baseline.level_db) / baseline.spread_db
    keep = np.ones(fft_size, bool)
    keep[dc_slice] = False
    out = np.empty((len(time_scales), len(freq_scales)), np.float32)
    longest = len(z) // 2  # longer boxes are extrapolated as independent rows: std ∝ 1/sqrt(K)
    ck = np.cumsum(np.vstack([np.zeros((1, z.shape[1])), z]), axis=0)
    for a, k in enumerate(time_scales):
        if k > longest and a > 0:
            out[a] = out[a - 1] * math.sqrt(time_scales[a - 1] / k)
            continue
        k = min(int(k), len(z))
        zk = (ck[k:] - ck[:-k]) / k
        cw = np.cumsum(np.hstack([np.zeros((zk.shape[0], 1)), zk]), axis=1)
        for b, w in enumerate(freq_scales):
            out[a, b] = _box_spread(cw, keep, int(w), fft_size, int(time_scales[a]))
    return out


def _box_spread(cw: NDArray[np.float64], keep: NDArray[np.bool_], w: int, fft_size: int, k_rows: int) -> float:
    """Robust std of the W-bin means of K-row means (``cw``: their cumulative sums over bins)."""
    # every other bin at least (neighbours are correlated), every W/8 for wide
    # boxes as in the test itself: the same spread for a fraction of the sorting.
    # Only the boxes at those bins are computed (box j spans bins j … j+w−1).
    centre_ok = keep[w // 2 : w // 2 + fft_size + 1 - w]
    cols = np.flatnonzero(centre_ok)[:: max(2, w // 8)]
    vals = ((cw[:, cols + w] - cw[:, cols]) / w).ravel().astype(np.float32)
    vals = vals[:: max(1, vals.size // CALIBRATION_VALUES)]  # a robust std needs no more
    spread = 1.4826 * np.median(np.abs(vals - np.median(vals)))
    # never below the independent-sample value: the learning run is short
    return max(spread, 1.0 / math.sqrt(w * k_rows) / 1.5)
