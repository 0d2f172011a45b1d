"""Detection that needs no baseline: for clips too short to learn one (a 50 ms evidence clip)
and for the first seconds of a capture while the baseline is being learned.

Without a baseline nothing says which signals are normal, and legitimate traffic is bursty
(TDMA carriers, ADS-B, on/off-keyed sensors are all impulsive to spectral kurtosis). So this
path only claims what legitimate signals rarely look like: impulsive power (spectral kurtosis
above its upper threshold) over a wide contiguous band, whose total power is periodic in time
— a pulsed jammer's PRF, or a sweep wider than the band coming round each period.

Statistics: a W-bin box is impulsive when the mean SK of its bins exceeds 1 + 5·σ_W, with
σ_W the std of that mean under noise: the exact SK std (spectrum.detect.kurtosis) over
sqrt(W/1.5) — adjacent Hann bins are correlated, about 1.5 bins per independent value — and
5σ rather than a Gaussian's 4.3σ for 1e-5, since the SK distribution is right-skewed. Periodicity is the
largest normalised autocorrelation of the frame-power sequence over 4 rows, summed over two
adjacent lags (a period that is not a whole number of frames splits between them).
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.typing import NDArray

import math

from spectrum.detect.kurtosis import sk_moments
from spectrum.detect.tracks import Region

MIN_SHARE_OF_BAND = 0.3  # the impulsive band must cover this share of the captured band
BOX_BINS = 16
BOX_SIGMAS = 5.0
PERIODIC = 0.4  # autocorrelation (two adjacent lags) of frame power that counts as periodic
# (white noise over 4 rows of ~60 frames: each lag pair has std ≈ 0.09, the max of ~100 ≈ 0.3)
ROWS_FOR_PERIOD = 4


class BaselineFreeDetector:
    """Per-row test for wide, impulsive, periodic interference (no baseline needed)."""

    def __init__(self, fft_size: int, frames_per_row: int, dc_slice: slice) -> None:
        self.fft_size = fft_size
        self.frames_per_row = frames_per_row
        _, variance, _ = sk_moments(frames_per_row)
        self.box_threshold = 1.0 + BOX_SIGMAS * math.sqrt(variance) / math.sqrt(BOX_BINS / 1.5)
        self.dc_slice = dc_slice
        self._frame_power: deque[NDArray[np.float32]] = deque(maxlen=ROWS_FOR_PERIOD)

    def row(self, row: int, sk: NDArray[np.float32], frame_power: NDArray[np.float32], level_db: NDArray[np.float32],
            kappa: float) -> Region | None:
        """Return a region when this row shows wide periodic impulsive interference."""
        self._frame_power.append(frame_power)
        sk = sk.astype(np.float32).copy()
        sk[self.dc_slice] = np.median(sk)  # the emptied DC bins must not split a band
        box = np.convolve(sk, np.ones(BOX_BINS) / BOX_BINS, mode="same")
        hot = np.flatnonzero(box > self.box_threshold)
        if hot.size < MIN_SHARE_OF_BAND * self.fft_size:
            return None
        runs = np.split(hot, np.flatnonzero(np.diff(hot) > 1) + 1)
        widest = max(runs, key=len)
        if len(widest) < MIN_SHARE_OF_BAND * self.fft_size or len(self._frame_power) < ROWS_FOR_PERIOD:
            return None
        periodicity = _periodicity(np.concatenate(self._frame_power))
        if periodicity < PERIODIC:
            return None
        lo, hi = int(widest[0]), int(widest[-1])
        sl = slice(lo, hi + 1)
        return Region(
            start_row=row - ROWS_FOR_PERIOD + 1,  # the periodicity was seen over these rows
            row=row, lo_bin=lo, hi_bin=hi, score=float(periodicity), rise_db=0.0,
            level_db=float(level_db[sl].max()), sk_mean=float(np.mean(sk[sl])), centroid_bin=(lo + hi) / 2,
            pulsing=float(frame_power.std() / max(frame_power.mean(), 1e-20)), unreliable=False,
            envelope_kurtosis=kappa, row_significance=float(periodicity),
        )


def _periodicity(power: NDArray[np.float32]) -> float:
    x = power.astype(np.float64) - power.mean()
    energy = float(np.dot(x, x))
    if energy <= 0:
        return 0.0
    n = len(x)
    spectrum = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[: n // 2] / energy
    return float(np.max(ac[2:-1] + ac[3:])) if len(ac) > 4 else 0.0
