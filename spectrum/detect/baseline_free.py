"""Detection that needs no baseline: for clips too short to learn one (a 50 ms evidence clip)
and for the first seconds of a capture while the baseline is being learned.

Without a baseline nothing says which signals are normal. Legitimate traffic is bursty:
TDMA carriers, ADS-B and on/off-keyed sensors are all impulsive to spectral kurtosis. So this
path only claims two patterns that legitimate signals in these bands rarely show.

* **Pulsed**: impulsive power over a wide contiguous band whose total power is periodic in
  time. That is a pulsed jammer's PRF, or a sweep wider than the band coming round each period.
  Impulsive: with SK from the sums of the last 4 rows, 16-bin boxes whose mean SK exceeds
  1 + 2·σ₁₆ outline a band (gaps of up to 16 bins bridged). The mean SK over that band of
  W bins must then exceed 1 + 5·σ_W. σ_W is the std of a W-bin mean under noise: the exact
  SK std (spectrum.detect.sk_stats) over sqrt(W/1.5), because adjacent Hann bins are
  correlated (about 1.5 bins per independent value). We use 5σ and not a Gaussian's 4.3σ
  for 1e-5, since SK is right-skewed. Testing the whole band's mean is what makes a sweep
  wider than the band visible: it passes every bin in nearly every frame, so each bin is
  only mildly impulsive.
  Periodic: some lag L of at least 2 frames has a normalised autocorrelation of the frame
  powers over 0.5 that is also 4 of its noise stds (1/sqrt(n − L) for n frames).
  Up to 128 frames are used, and at least 32. Flat: half the band's power lies in at least
  a fifth of its bins. A pulsed noise jammer is flat. An on/off-keyed carrier is periodic
  and splatters wide when keyed, but its power stays in its line.
* **Swept** (time–frequency tracking): in each single row, a chirp slower than a row puts
  its power into each bin it passes for a frame or two. The bins of its row are impulsive,
  and from row to row that impulsive band slides across the spectrum. This is reported when
  the widest impulsive run (≥ 16 bins) of 4 consecutive rows moves the same way each row, by
  at least half its (mean) width and at most twice it plus 16 bins (a sweep is continuous,
  a hop is not), for at least two widths in all. A bursty carrier's impulsive bins or an FM
  broadcast's modulation move too, but within their channel: they do not travel.

Sweeps faster than a frame look constant in each frame (a comb of lines). The baseline
detectors find them, and this path does not claim them.
"""

from __future__ import annotations

import math
from collections import deque
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from kernels.kurtosis import spectral_kurtosis
from kernels.regions import first_reaching
from spectrum.detect.sk_stats import sk_moments
from spectrum.detect.tracks import Region

MIN_SHARE_OF_BAND = 0.3  # a pulsed band must cover this share of the captured band (a GSM carrier is 8 %)
BOX_BINS = 16
BOX_SIGMAS = 5.0
OUTLINE_SIGMAS = 2.0
SK_ROWS = 4  # rows summed for the pulsed test's SK
PERIOD_FRAMES = 128  # frame powers searched for a period, at most …
MIN_PERIOD_FRAMES = 32  # … and at least
PERIODIC = 0.5  # autocorrelation of the frame powers that counts as periodic …
PERIODIC_SIGMAS = 4.0  # … when it is also this many of its noise stds
FLAT_SHARE = 0.2  # a pulsed band holds half its power in at least this share of its bins
SWEEP_ROWS = 4
SWEEP_MIN_BINS = 16
SWEEP_TRAVEL_WIDTHS = 2.0  # the band must travel this many of its widths over SWEEP_ROWS rows


@lru_cache(maxsize=64)
def box_threshold(frames: int, bins: int = BOX_BINS, sigmas: float = BOX_SIGMAS) -> float:
    """Mean SK over ``bins`` bins of ``frames``-frame SK values that noise exceeds with the
    tail probability of ``sigmas`` (5: ~1e-5, the skew included)."""
    _, variance, _ = sk_moments(frames)
    return 1.0 + sigmas * math.sqrt(variance) / math.sqrt(max(bins, 1) / 1.5)


def _runs(mask: NDArray[np.bool_], bridge_bins: int = BOX_BINS) -> list[tuple[int, int]]:
    """(first, last) bins of the runs of True, bridging gaps of up to ``bridge_bins`` (a box
    mean near its threshold dips under it here and there)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.view(np.int8), [0]])))
    runs: list[tuple[int, int]] = []
    for a, b in zip(edges[::2], edges[1::2]):
        if runs and a - runs[-1][1] - 1 <= bridge_bins:
            runs[-1] = (runs[-1][0], int(b) - 1)
        else:
            runs.append((int(a), int(b) - 1))
    return runs


def half_power_share(power: NDArray) -> float:
    """Share of the bins that hold half the power: about 0.4 for a flat band of noise, small
    for a line with skirts (an on/off-keyed carrier splatters wide, but its power stays in
    its line)."""
    if power.size == 0 or power.sum() <= 0:
        return 0.0
    ordered = np.sort(power)[::-1]
    # powers are never negative: the running sum rises, and a loop may stop at half the total
    return float(first_reaching(ordered, 0.5 * ordered.sum()) + 1) / power.size


def periodicity(power: NDArray[np.float32]) -> float:
    """Largest normalised autocorrelation of ``power`` at a lag of 2 frames or more that also
    stands PERIODIC_SIGMAS of its noise std above zero (0 when none does)."""
    x = power.astype(np.float64) - power.mean()
    n = len(x)
    energy = float(np.dot(x, x)) / n
    if energy <= 0 or n < 8:
        return 0.0
    spectrum = np.fft.rfft(x, 2 * n)
    lags = np.arange(2, n // 2 + 1)
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[lags] / (n - lags) / energy  # unbiased
    significant = (ac >= PERIODIC) & (ac * np.sqrt(n - lags) >= PERIODIC_SIGMAS)
    return float(ac[significant].max()) if significant.any() else 0.0


class BaselineFreeDetector:
    """Per-row tests for pulsed and swept interference (no baseline needed)."""

    def __init__(self, fft_size: int, frames_per_row: int, dc_slice: slice) -> None:
        self.fft_size = fft_size
        self.frames_per_row = frames_per_row
        self.dc_slice = dc_slice
        self._sums: deque[tuple[NDArray, NDArray]] = deque(maxlen=SK_ROWS)  # (S1, S2) per row
        self._frame_power: deque[float] = deque(maxlen=max(PERIOD_FRAMES, frames_per_row))
        self._runs: deque[tuple[int, int, int]] = deque(maxlen=SWEEP_ROWS)  # (row, lo, hi)

    def row(self, row: int, mean: NDArray[np.float32], s2: NDArray[np.float32], frame_power: NDArray[np.float32],
            level_db: NDArray[np.float32], kappa: float) -> list[Region]:
        """Return this row's regions of pulsed or swept interference."""
        m = self.frames_per_row
        self._sums.append((mean.astype(np.float64) * m, s2.astype(np.float64)))
        self._frame_power.extend(frame_power.tolist())
        regions = []
        pulsed = self._pulsed(row, level_db, kappa, frame_power)
        if pulsed is not None:
            regions.append(pulsed)
        swept = self._swept(row, spectral_kurtosis(mean, s2, m), level_db, kappa, frame_power)
        if swept is not None:
            regions.append(swept)
        return regions

    def _boxed(self, sk: NDArray[np.float32]) -> NDArray[np.float32]:
        sk = sk.astype(np.float32).copy()
        sk[self.dc_slice] = np.median(sk)  # the emptied DC bins must not split a band
        return np.convolve(sk, np.ones(BOX_BINS) / BOX_BINS, mode="same")

    def _pulsed(self, row: int, level_db, kappa: float, frame_power) -> Region | None:
        if len(self._frame_power) < MIN_PERIOD_FRAMES:
            return None
        frames = self.frames_per_row * len(self._sums)
        s1 = sum(s for s, _ in self._sums)
        s2 = sum(q for _, q in self._sums)
        sk = spectral_kurtosis((s1 / frames).astype(np.float32), s2.astype(np.float32), frames)
        # boxes at 2σ only outline the band; the test is the mean SK over all of it
        hot = self._boxed(sk) > box_threshold(frames, BOX_BINS, OUTLINE_SIGMAS)
        if hot.sum() < 0.5 * MIN_SHARE_OF_BAND * self.fft_size:
            return None
        lo, hi = max(_runs(hot), key=lambda r: r[1] - r[0])
        width = hi - lo + 1
        if width < MIN_SHARE_OF_BAND * self.fft_size or half_power_share(s1[lo : hi + 1]) < FLAT_SHARE:
            return None
        if sk[lo : hi + 1].mean() <= box_threshold(frames, width, BOX_SIGMAS):
            return None
        period_score = periodicity(np.asarray(self._frame_power, np.float32))
        if period_score <= 0:
            return None
        rows_seen = math.ceil(len(self._frame_power) / self.frames_per_row)
        return self._region(row, row - min(rows_seen, SK_ROWS) + 1, lo, hi, period_score, level_db, sk, kappa,
                            frame_power)

    def _swept(self, row: int, sk, level_db, kappa: float, frame_power) -> Region | None:
        hot = self._boxed(sk) > box_threshold(self.frames_per_row)
        runs = [r for r in _runs(hot) if r[1] - r[0] + 1 >= SWEEP_MIN_BINS]
        if not runs:
            self._runs.clear()
            return None
        lo, hi = max(runs, key=lambda r: r[1] - r[0])
        if self._runs and self._runs[-1][0] != row - 1:
            self._runs.clear()  # not consecutive rows
        self._runs.append((row, lo, hi))
        if len(self._runs) < SWEEP_ROWS:
            return None
        centres = np.array([(a + b) / 2 for _, a, b in self._runs])
        widths = np.array([b - a + 1 for _, a, b in self._runs])
        steps = np.diff(centres)
        width = widths.mean()
        slides = ((np.abs(steps) >= width / 2) & (np.abs(steps) <= 2 * width + 16)).all()
        one_way = (steps > 0).all() or (steps < 0).all()
        if not (slides and one_way and abs(centres[-1] - centres[0]) >= SWEEP_TRAVEL_WIDTHS * width):
            return None
        span_lo = min(a for _, a, _ in self._runs)
        span_hi = max(b for _, _, b in self._runs)
        region = self._region(row, self._runs[0][0], span_lo, span_hi, 1.0, level_db, sk, kappa, frame_power)
        region.sweep = True
        return region

    def _region(self, row, start_row, lo, hi, score, level_db, sk, kappa, frame_power) -> Region:
        sl = slice(lo, hi + 1)
        return Region(
            start_row=start_row, row=row, lo_bin=lo, hi_bin=hi, score=float(score), rise_db=0.0,
            level_db=float(level_db[sl].max()), sk_mean=float(np.mean(sk[sl])), centroid_bin=(lo + hi) / 2,
            pulsing=float(frame_power.std() / max(frame_power.mean(), 1e-20)), unreliable=False,
            envelope_kurtosis=kappa, row_significance=float(score),
        )
