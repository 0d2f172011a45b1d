"""The band detector: rows of power statistics in, events out. Stateful per band, no I/O.

Per row of ``M`` frames it computes each bin's level ``L`` (dB), its excess over the learned
baseline ``e = L − level`` and z-score ``z = e / spread``, then runs the multi-scale excess
test (kernels.multiscale) over boxes of K rows × W bins, which covers both a −3 dB barrage
over 1 MHz (wide W, one row) and a 0 dB-in-1-kHz tone (one bin, many rows). Hot bins are
grouped into regions per row, refined to their half-excess edges, described (level, rise,
spectral kurtosis, centroid, pulsing) and handed to the track book, which turns them into
events with hysteresis. ADC clipping is its own event; detections while clipping are marked
unreliable and open no new events (clipping spurs would multiply them).
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from kernels.baseline import quiet_median_offset
from kernels.kurtosis import spectral_kurtosis
from kernels.multiscale import multiscale_excess
from kernels.regions import merged_runs, occupied_band, region_sums
from kernels.psd import PowerRows
from spectrum.detect.band_baseline import Baseline
from spectrum.detect.baseline_free import BaselineFreeDetector, half_power_share
from spectrum.detect.narrowband_cfar import NarrowbandCfar, known_lines, known_lines_of_level
from spectrum.detect.classify import classify, severity
from spectrum.detect.confidence import calibrated_confidence
from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.history import RowHistory
from spectrum.detect.tracks import Region, Track, TrackBook
from spectrum.events import Event

TINY_POWER = 1e-20  # keeps log10 finite for all-zero bins (a dead input)
TONE_HALF_WIDTH_HZ = 500.0
RESYNC_ROWS = 4096  # the running box sums are recomputed exactly this often (~100 s)
RECLASSIFY_S = 1.0  # ongoing events are re-classified this often, and re-sent if changed
NEIGHBOURHOOD_HZ = 25e3  # weaker spurs this close to a jammer (a channel) count as its own
OVERLOAD_CULPRIT_DB = 20.0
REFINE_SIGNIFICANCE = 4.0
REFINE_PAD = 8  # bins around a run searched for its refined edges
QUIET_ROWS = 16  # a stretch this long under a quarter of a region's level is "before" it
CALIBRATION_VALUES = 16384  # box means per (K, W) for the spread: the MAD's std is then ~1 %
ESTABLISHED_HITS = 8  # a track with this many rows needs no onset search for its regions
STALE_SHARE = 0.3  # a region whose recent excess fell under this share of its past is a memory
OBW_TAIL = 0.005  # occupied bandwidth leaves this share of the power out on each side
OBW_FLOOR = 0.15  # bins under this share (−8 dB) of the region's strong bins do not count  # per-bin significance (in box stds) for a bin to count in an extent


def _half_power_share(excess: NDArray, total: float) -> float:
    """Share of a region's bins that hold half its excess power: ~0.4 for flat noise, small
    for a comb of lines (a sweep faster than one frame puts its power on lines 1/period apart).
    Too few bins or no excess (``total``, the caller's sum of ``excess``) say nothing (1)."""
    if excess.size < 8 or total <= 0:
        return 1.0
    return half_power_share(excess)


def _interpolated_peak(level_db: NDArray[np.float32], k: int) -> float:
    """Fractional bin of the strongest bin ``k`` of a region: parabola through the dB levels of
    the peak and its neighbours (for a Hann window this is within ~0.1 bin of a tone's frequency)."""
    if k == 0 or k == len(level_db) - 1:
        return float(k)
    a, b, c = (float(v) for v in level_db[k - 1 : k + 2])
    denom = a - 2 * b + c
    return float(k) if denom >= 0 else k + 0.5 * (a - c) / denom


class _Lazy:
    """Compute a value on first call, then return it (spectral kurtosis only for rows that
    need it)."""

    def __init__(self, make) -> None:
        self._make = make
        self._value = None

    def __call__(self):
        if self._value is None:
            self._value = self._make()
        return self._value


class BandDetector:
    """Detect jamming and interference in one tuned band.

    Parameters
    ----------
    config : DetectorConfig
    sample_rate_hz, center_freq_hz : float
        Tuning of the band (absolute RF for the events).
    baseline : Baseline, optional
        A baseline learned earlier (``--baseline``); otherwise one is learned from the first
        ``config.learn_s`` of signal.
    session_start : datetime, optional
        Wall-clock time of the capture's or session's start, for the events' ISO times.
    start_offset_s : float
        Seconds from that start to this band's row 0 (a capture segment starting later).
    keep_events : bool
        Keep every closed event in :attr:`events` (replay); off for endless live sessions.
    """

    def __init__(
        self,
        config: DetectorConfig,
        sample_rate_hz: float,
        center_freq_hz: float,
        baseline: Baseline | None = None,
        session_start: datetime | None = None,
        site: str | None = None,
        sensor: str | None = None,
        start_offset_s: float = 0.0,
        keep_events: bool = True,
    ) -> None:
        self.config = config
        self.keep_events = keep_events  # a live monitor streams events and keeps none
        self.start_offset_s = start_offset_s  # where row 0 lies in the capture or session (s)
        self.sample_rate_hz = sample_rate_hz
        self.center_freq_hz = center_freq_hz
        self.fft_size = config.fft_size
        self.frames_per_row = config.frames_per_row(sample_rate_hz)
        self.row_s = self.fft_size * self.frames_per_row / sample_rate_hz
        self.bin_hz = sample_rate_hz / self.fft_size
        self.session_start = session_start
        self.site = site
        self.sensor = sensor
        self.provenance = config.provenance()
        self.time_scales = np.asarray(config.time_scales, np.int64)
        self.freq_scales = np.asarray([w for w in config.freq_scales if w <= self.fft_size], np.int64)
        self.learn_rows = max(8, math.ceil(config.learn_s / self.row_s))
        self.hold_rows = max(1, math.ceil(config.hold_s / self.row_s))
        self.alpha_per_row = self.row_s / config.baseline_tau_s
        guard = int(math.ceil(config.dc_guard_hz / self.bin_hz))
        self.dc_slice = slice(self.fft_size // 2 - guard, self.fft_size // 2 + guard + 1)
        self.merge_gap_bins = 2 * guard + 4
        # (K rows, (K, W) index of the 4-bin box) of the profiles that refine a run's edges
        self._refine_boxes = [(k, (min(int(np.searchsorted(self.time_scales, k)), len(self.time_scales) - 1),
                                   min(int(np.searchsorted(self.freq_scales, 4)), len(self.freq_scales) - 1)))
                              for k in (4, 16)]
        self.baseline = baseline
        if baseline is not None:
            baseline.check_fits(center_freq_hz, sample_rate_hz, self.fft_size, self.frames_per_row)
            if baseline.known_lines is None:
                baseline.known_lines = known_lines_of_level(baseline.level_db, self.learn_rows * self.frames_per_row)
        self.cfar = NarrowbandCfar(self.fft_size, self.frames_per_row, config.cfar_pfa, config.min_rise_db,
                                   config.z_threshold)
        self._learn: list[NDArray[np.float32]] = []
        self._learn_pulsing: list[float] = []
        self._pulsing_ref = 1.0
        self._inv_box_std = None if baseline is None or baseline.box_std is None else self._box_weights(baseline.box_std)
        keep = int(self.time_scales.max())
        self._z_history = RowHistory(keep + 16, self.fft_size, np.float32)  # K-row means, onsets
        self._e_history = RowHistory(keep + 16, self.fft_size, np.float32)
        self._valid_rows = 0  # baseline-normalised rows in the history (at most its length)
        self._rows_detected = 0  # baseline-normalised rows ever (for the periodic resync)
        self._sums_z = np.zeros((len(self.time_scales), self.fft_size), np.float32)  # running K-row sums
        self._sums_e = np.zeros_like(self._sums_z)
        self._hist_keep = keep + 16  # rows kept for K-row means and onset estimates
        self.rows_done = 0
        # sidebands of a jammer that came on with it: weak lines need up to ~0.5 s of boxes to
        # show, and their onset estimates jitter, so "together" means within a second
        self.reclassify_rows = max(1, math.ceil(RECLASSIFY_S / self.row_s))
        self.book = TrackBook(config.confirm_rows, self.hold_rows, tolerance_bins=self.merge_gap_bins,
                              memory_rows=int(self.time_scales.max()) + self.hold_rows,
                              co_onset_rows=max(1, math.ceil(1.0 / self.row_s)),
                              neighbourhood_bins=math.ceil(NEIGHBOURHOOD_HZ / self.bin_hz))
        self.baseline_free = BaselineFreeDetector(self.fft_size, self.frames_per_row, self.dc_slice)
        self.free_book = TrackBook(max(config.confirm_rows, 3), self.hold_rows, tolerance_bins=self.fft_size,
                                   kind_hint="baseline_free")
        self._overload: Track | None = None
        self._gain_db = 0.0  # common-mode gain offset against the baseline (see _track_gain)
        self._frozen = np.zeros(self.fft_size, bool)  # bins under detections (last batch)
        self.events: list[Event] = []  # every event closed so far, in order of closing

    # ---------------------------------------------------------------- public
    @property
    def _z_hist(self) -> NDArray[np.float32]:
        return self._z_history.rows

    @property
    def _e_hist(self) -> NDArray[np.float32]:
        return self._e_history.rows

    @property
    def has_baseline(self) -> bool:
        return self.baseline is not None and self._inv_box_std is not None

    def process(self, rows: PowerRows, clipped_per_row: NDArray[np.int64]) -> list[Event]:
        """Feed a batch of rows; return events that opened (ongoing), changed or closed in it.

        Rows are handled one after another, so the results do not depend on how the rows
        were batched (a capture read in other block sizes gives the same events).
        """
        if rows.frames_per_row != self.frames_per_row or rows.mean.shape[1] != self.fft_size:
            raise ValueError("rows were not made with this detector's fft_size and frames_per_row")
        level_db = (10.0 * np.log10(rows.mean + np.float32(TINY_POWER))).astype(np.float32)
        fp = rows.frame_power.reshape(-1, self.frames_per_row)
        pulsing = fp.std(axis=1) / np.maximum(fp.mean(axis=1), TINY_POWER)
        clip_share = clipped_per_row / (2.0 * self.fft_size * self.frames_per_row)
        kappa = rows.envelope_kurtosis if rows.envelope_kurtosis is not None else np.full(len(fp), 2.0, np.float32)
        sk_rows = _Lazy(lambda: spectral_kurtosis(rows.mean, rows.s2, self.frames_per_row))
        updates: list[Event] = []
        for r in range(len(level_db)):
            row = self.rows_done
            clipping = clip_share[r] > self.config.overload_fraction
            if not self.has_baseline or self.free_book.tracks:
                updates += self._baseline_free_row(row, rows.mean[r], rows.s2[r], fp[r], level_db[r], float(kappa[r]),
                                                   clipping)
            updates += self._overload_row(row, clip_share[r], level_db[r])
            if self.has_baseline:
                updates += self._detect_row(row, rows.mean[r], level_db[r], lambda r=r: sk_rows()[r], pulsing[r],
                                            clipping, float(kappa[r]))
            else:
                self._learn_row(level_db[r], float(pulsing[r]))
            self.rows_done += 1
        return updates

    def _detect_row(self, row, power, level_db, sk_row, pulsing, clipping, kappa) -> list[Event]:
        """The baseline-relative detectors on one row."""
        baseline = self.baseline
        gain_db = self._track_gain(level_db)
        excess = (level_db - baseline.level_db - gain_db)[None, :]
        z = excess / baseline.spread_db
        valid_before = self._valid_rows
        self._push_history(z, excess)
        hot, score = multiscale_excess(
            self._z_hist, self._e_hist, 1, valid_before, self.time_scales, self.freq_scales,
            self._inv_box_std, self.config.z_threshold, self.config.min_rise_db, self._sums_z, self._sums_e,
        )
        hot, score = hot[0], score[0]
        lines, line_score = self.cfar.row(power, excess[0], baseline.known_lines,
                                          lambda: self._e_hist[-4:].mean(axis=0))
        if lines.any():
            hot |= lines
            np.maximum(score, line_score, out=score)
        hot[self.dc_slice] = False
        self._rows_detected += 1
        if self._rows_detected % RESYNC_ROWS == 0:  # after the kernel has added this row
            self._resync_sums()
        regions: list[Region] = []
        if hot.any():
            regions = self._regions(row, len(self._z_history) - 1, hot, score, level_db, sk_row(),
                                    pulsing / self._pulsing_ref, clipping, kappa)
        # clipping comes and goes from row to row under a strong transmitter: believe nothing
        # new while the overload event lasts
        overloaded = clipping or self._overload is not None
        opened, closed = self.book.update(row, regions, overloaded=overloaded)
        updates = [self._announce(t) for t in opened]
        updates += [self._close(t) for t in closed]
        updates += self._drain_merged(row)
        if row % self.reclassify_rows == 0:
            updates += self._reannounce_changed()
        frozen = hot.copy()
        for track in self.book.tracks:
            frozen[max(track.lo_bin - self.merge_gap_bins, 0) : track.hi_bin + self.merge_gap_bins + 1] = True
        self._frozen = frozen
        baseline.follow(level_db - gain_db, frozen, self.alpha_per_row)
        return updates

    def finish(self) -> list[Event]:
        """Close every ongoing event at the end of the data; return them."""
        closed = [self._close(t) for t in self.book.close_all() + self.free_book.close_all()]
        if self._overload is not None:
            closed.append(self._close(self._overload))
            self._overload = None
        return closed

    def _baseline_free_row(self, row, mean, s2, frame_power, level_db, kappa, clipping) -> list[Event]:
        """The baseline-free detectors (spectrum.detect.baseline_free) on one row."""
        regions = self.baseline_free.row(row, mean, s2, frame_power, level_db, kappa)
        opened, closed = self.free_book.update(row, regions, overloaded=clipping)
        return [self._event(t, ongoing=True) for t in opened] + [self._close(t) for t in closed]

    # --------------------------------------------------------------- learning
    def _track_gain(self, level_db: NDArray[np.float32]) -> np.float32:
        """Common-mode gain offset (dB) of a row: the median over quiet bins of the level
        against the baseline, followed at no more than ``gain_slew_db_per_s``.

        A tuner's gain drift moves every bin at once and slowly; a jammer switches on within
        a row and is soon frozen out of the median (its bins are under a detection), so the
        slew limit keeps it from being taken for gain in the rows before that.
        """
        excluded = self._frozen.copy()
        excluded[self.dc_slice] = True
        measured = quiet_median_offset(level_db, self.baseline.level_db, excluded, stride=4,
                                       min_count=self.fft_size // 128)
        if np.isnan(measured):  # nearly the whole band is under detections: hold
            return np.float32(self._gain_db)
        slew = self.config.gain_slew_db_per_s * self.row_s
        self._gain_db += min(max(measured - self._gain_db, -slew), slew)
        return np.float32(self._gain_db)

    def _learn_row(self, level_db: NDArray[np.float32], pulsing: float) -> None:
        """Collect one learning row; learn the baseline once exactly ``learn_rows`` are in."""
        self._learn.append(level_db)
        self._learn_pulsing.append(pulsing)
        if len(self._learn) < self.learn_rows:
            return
        rows_db = np.asarray(self._learn, np.float32)
        # learn the spectrum's shape without the gain drift of the learning rows; the gain
        # tracker starts from the last row's offset
        row_gain = np.median(rows_db, axis=1)
        rows_db = rows_db - (row_gain - row_gain.mean())[:, None]
        if self.baseline is None:
            self.baseline = Baseline.learn(rows_db, self.center_freq_hz, self.sample_rate_hz, self.frames_per_row)
            self._gain_db = float(row_gain[-1] - row_gain.mean())
        self._pulsing_ref = max(float(np.median(self._learn_pulsing)), 1e-3)
        if self.baseline.known_lines is None:
            self.baseline.known_lines = known_lines(10.0 ** (rows_db / 10.0), self.frames_per_row, self.config.cfar_pfa)
        self.baseline.box_std = self._calibrate_box_std(rows_db)
        self._inv_box_std = self._box_weights(self.baseline.box_std)
        self._learn = []

    def _box_weights(self, box_std: NDArray[np.float32]) -> NDArray[np.float32]:
        """1/std per (K rows, W bins), with 0 for pairs not worth testing: up to 4 rows need
        no 1-bin boxes and single rows no 2-bin boxes (a line strong enough to show that fast
        fills a wider box too), and 64-row boxes no boxes over 16 bins (a band that weak is
        found by 16 rows first)."""
        weights = (1.0 / box_std).astype(np.float32)
        for a, k in enumerate(self.time_scales):
            for b, w in enumerate(self.freq_scales):
                if (k <= 4 and w == 1) or (k == 1 and w == 2) or (k >= 64 and w > 16):
                    weights[a, b] = 0.0
        return weights

    def _calibrate_box_std(self, rows_db: NDArray[np.float32]) -> NDArray[np.float32]:
        """Robust std of the box-mean z for every (K, W), measured on the learning rows.

        Measured rather than assumed: adjacent bins of a windowed FFT are correlated, so a
        W-bin mean is noisier than 1/sqrt(W) would say.
        """
        z = (rows_db - self.baseline.level_db) / self.baseline.spread_db
        keep = np.ones(self.fft_size, bool)
        keep[self.dc_slice] = False
        out = np.empty((len(self.time_scales), len(self.freq_scales)), np.float32)
        longest = len(z) // 2  # longer boxes are extrapolated as independent rows: std ∝ 1/sqrt(K)
        ck = np.cumsum(np.vstack([np.zeros((1, z.shape[1])), z]), axis=0)
        for a, k in enumerate(self.time_scales):
            if k > longest and a > 0:
                out[a] = out[a - 1] * math.sqrt(self.time_scales[a - 1] / k)
                continue
            k = min(int(k), len(z))
            zk = (ck[k:] - ck[:-k]) / k
            cw = np.cumsum(np.hstack([np.zeros((zk.shape[0], 1)), zk]), axis=1)
            for b, w in enumerate(self.freq_scales):
                # every other bin at least (neighbours are correlated), every W/8 for wide
                # boxes as in the test itself: the same spread for a fraction of the sorting.
                # Only the boxes at those bins are computed (box j spans bins j … j+w−1).
                centre_ok = keep[w // 2 : w // 2 + self.fft_size + 1 - w]
                cols = np.flatnonzero(centre_ok)[:: max(2, w // 8)]
                vals = ((cw[:, cols + w] - cw[:, cols]) / w).ravel().astype(np.float32)
                vals = vals[:: max(1, vals.size // CALIBRATION_VALUES)]  # a robust std needs no more
                spread = 1.4826 * np.median(np.abs(vals - np.median(vals)))
                # never below the independent-sample value: the learning run is short
                out[a, b] = max(spread, 1.0 / math.sqrt(w * self.time_scales[a]) / 1.5)
        return out

    # ----------------------------------------------------------------- rows
    def _push_history(self, z: NDArray[np.float32], excess: NDArray[np.float32]) -> None:
        self._z_history.append(z)
        self._e_history.append(excess)
        self._valid_rows = min(self._valid_rows + len(z), len(self._z_history))

    def _resync_sums(self) -> None:
        """Recompute the running K-row sums from the history: float32 running sums gather
        rounding error over a long session; this bounds it."""
        for a, k in enumerate(self.time_scales):
            k = min(int(k), self._valid_rows)
            self._sums_z[a] = self._z_hist[-k:].sum(axis=0)
            self._sums_e[a] = self._e_hist[-k:].sum(axis=0)

    def _regions(self, row, hist_row, hot, score, level_db, sk, pulsing, unreliable, kappa) -> list[Region]:
        # split into runs, merging across small gaps (and across the DC guard)
        starts, ends = merged_runs(hot, self.merge_gap_bins)
        regions = []
        for lo, hi in zip(starts.tolist(), ends.tolist()):
            lo, hi, refined = self._refine(hist_row, lo, hi)
            sl = slice(lo, hi + 1)
            n = hi - lo + 1
            row_ratio = 10.0 ** (self._e_hist[hist_row, sl] / 10.0)
            weights = np.empty(n, np.float32)
            # one kernel pass for the sums below (each was a NumPy call of ~5 µs: this runs for
            # every detection of every row); float64 sums, so the means differ from NumPy's
            # float32 ones by rounding only
            ratio_sum, total, moment, z_row, z4, z16, e4 = region_sums(row_ratio, self._z_hist, self._e_hist, hist_row,
                                                                        lo, hi, weights)
            rows4, rows16 = min(4, hist_row + 1), min(16, hist_row + 1)
            # this row alone: mean z over the region, in units of its std under noise
            # (adjacent Hann bins are correlated: about 1.5 bins per independent value)
            row_significance = z_row / n * math.sqrt(n / 1.5)
            # (rows, significance) over the last 4 and 16 rows
            recent_significance = [(rows, z / (rows * n) * math.sqrt(rows * n / 1.5))
                                   for rows, z in ((rows4, z4), (rows16, z16))]
            centroid = moment / total if total > 0 else (lo + hi) / 2
            peak = lo + int(np.argmax(level_db[sl]))
            regions.append(Region(
                concentration=_half_power_share(weights, total), envelope_kurtosis=kappa,
                row_significance=row_significance, recent_significance=recent_significance,
                row=row, lo_bin=lo, hi_bin=hi, score=float(score[sl].max()),
                rise_db=float(10 * math.log10(max(ratio_sum / n, 1e-3))),
                level_db=float(level_db[peak]), sk_mean=float(sk[sl].sum() / n),
                centroid_bin=centroid, pulsing=float(pulsing), unreliable=bool(unreliable), refined=refined,
                peak_bin=_interpolated_peak(level_db, peak), recent_excess_db=e4 / (rows4 * n),
            ))
        regions = self._drop_images(regions)
        for region in regions:
            owner = next((t for t in self.book.tracks if t.hits >= ESTABLISHED_HITS
                          and t.overlaps(region.lo_bin, region.hi_bin, self.merge_gap_bins)), None)
            if owner is None:
                region.start_row, region.stale = self._onset(row, hist_row, region)
            else:
                # part of an established event: only ask whether it is still there (the
                # change-point search over the whole history is for new events)
                region.stale = region.recent_excess_db < STALE_SHARE * owner.peak_recent_excess_db
        # a long box keeps "seeing" a signal for K rows after it ended: such memories are no
        # evidence of anything now (they would stretch the event and smear its features)
        return [region for region in regions if not region.stale]

    def _refine(self, hist_row: int, lo: int, hi: int) -> tuple[int, int, bool]:
        """Fit a run to its occupied bandwidth: the span holding 99 % of the excess power of
        its significant bins (ITU-R SM.328's definition, 0.5 % left out on each side), counting
        only bins within 8 dB of its strong ones. Power and significance are those of the last
        4 rows' mean, smoothed over 4 bins (the box the significance is calibrated for); of
        the last 16 rows' when nothing is significant at 4.

        Bursty legitimate carriers nearby have large excess ratios in single rows but low
        significance (their learned spread is wide), so significance gates the power. After a
        jammer stops only long boxes still see it; then nothing is significant at 4 or 16 rows
        and the run is kept as detected but marked unrefined (it does not widen the event).
        """
        a, b = max(lo - REFINE_PAD, 0), min(hi + REFINE_PAD, self.fft_size - 1)
        for k_rows, box in self._refine_boxes:
            if k_rows > self._valid_rows:
                break
            rows = slice(max(hist_row - k_rows + 1, 0), hist_row + 1)
            first, last = occupied_band(self._e_hist[rows], self._z_hist[rows], a, b, self._inv_box_std[box],
                                        self.dc_slice.start, self.dc_slice.stop, REFINE_SIGNIFICANCE, OBW_FLOOR,
                                        OBW_TAIL)
            if first >= 0:
                return a + first, a + last, True
        return lo, hi, False

    def _drop_images(self, regions: list[Region]) -> list[Region]:
        """Drop regions that are the IQ-imbalance image of a much stronger one."""
        n = self.fft_size
        kept = []
        for region in regions:
            mirror_lo, mirror_hi = n - region.hi_bin, n - region.lo_bin
            image = any(
                other is not region
                and other.lo_bin <= mirror_hi and other.hi_bin >= mirror_lo
                and other.level_db - region.level_db >= self.config.image_rejection_db
                for other in regions
            )
            if not image:
                kept.append(region)
        return kept

    def _onset(self, row: int, hist_row: int, region: Region) -> tuple[int, bool]:
        """CUSUM change point of the region's mean excess over the recent rows, and whether
        the excess has already died away (a long box still remembering a signal that ended)."""
        first = max(0, hist_row - self._valid_rows + 1, hist_row - self._hist_keep)
        m = self._e_hist[first : hist_row + 1, region.lo_bin : region.hi_bin + 1].mean(axis=1)
        if len(m) < 2:
            return row, False
        recent = m[-min(4, len(m)) :]
        c = 0.5 * float(np.mean(recent))
        # search after the last quiet stretch only: an earlier burst at the same place (an
        # intermittent jammer) must not pull the onset back to itself
        search = m
        if len(m) > QUIET_ROWS:
            window = np.convolve(m, np.ones(QUIET_ROWS) / QUIET_ROWS, mode="valid")
            quiet = np.flatnonzero(window < 0.5 * c)
            if quiet.size:
                search = m[quiet[-1] :]
        tail_sums = np.cumsum((search - c)[::-1])[::-1]
        onset = row - (len(search) - 1 - int(np.argmax(tail_sums)))
        # stale: the last rows hold under STALE_SHARE of the strongest 4-row stretch seen
        strongest = float(np.max(np.convolve(m, np.ones(4) / 4, mode="valid"))) if len(m) >= 4 else float(np.max(m))
        stale = strongest > 0 and float(np.mean(recent)) < STALE_SHARE * strongest
        return onset, stale

    def _overload_row(self, row: int, clip_share: float, level_db: NDArray[np.float32]) -> list[Event]:
        """Track ADC clipping as its own event; its band is the culprit's (bins ≥ 20 dB over
        the row's median level), or the whole band when no single signal stands out."""
        out: list[Event] = []
        if clip_share > self.config.overload_fraction:
            culprit = np.flatnonzero(level_db >= np.median(level_db) + OVERLOAD_CULPRIT_DB)
            lo, hi = (int(culprit[0]), int(culprit[-1])) if culprit.size else (0, self.fft_size - 1)
            if self._overload is None:
                self._overload = Track("overload", row, row, lo, hi)
                self._overload.onset_row = row
            t = self._overload
            t.hits += 1
            t.last_row = row
            t.lo_bin, t.hi_bin = min(t.lo_bin, lo), max(t.hi_bin, hi)
            t.level_max_db = max(t.level_max_db, float(level_db.max()))
            t.score_max = max(t.score_max, clip_share)  # the worst row's clipped share
            if t.hits == self.config.confirm_rows:
                t.opened = True
                t.opened_row = row
                out.append(self._event(t, ongoing=True))
        elif self._overload is not None and row - self._overload.last_row >= self.hold_rows:
            if self._overload.opened:
                out.append(self._close(self._overload))
            self._overload = None
        return out

    # ---------------------------------------------------------------- events
    def _announce(self, track: Track) -> Event:
        event = self._event(track, ongoing=True)
        track.announced = (event.kind, event.severity)
        return event

    def _reannounce_changed(self) -> list[Event]:
        """Ongoing events whose kind or severity changed as evidence grew (an event opens on
        a few rows; its classification settles over the next second): report them again."""
        out = []
        for track in self.book.tracks:
            if track.opened:
                event = self._event(track, ongoing=True)
                if (event.kind, event.severity) != track.announced:
                    track.announced = (event.kind, event.severity)
                    out.append(event)
        return out

    def _drain_merged(self, row: int) -> list[Event]:
        """Close announced events that turned out to be sidebands of a stronger one: a live
        listener gets the close (``merged_into``); replay results leave them out."""
        out = []
        for weak, strong in self.book.merged:
            event = self._event(weak, ongoing=False)
            event.offset_end_s = max(self.start_offset_s + (row + 1) * self.row_s, event.offset_start_s)
            event.extra["merged_into"] = strong.id
            out.append(event)
        self.book.merged.clear()
        return out

    def _close(self, track: Track) -> Event:
        event = self._event(track, ongoing=False)
        if self.keep_events:
            self.events.append(event)
        return event

    def _event(self, track: Track, ongoing: bool) -> Event:
        start_row = track.onset_row if track.onset_row is not None else track.first_row
        lo_bin, hi_bin = track.extent()
        lo_hz = self.center_freq_hz + (lo_bin - self.fft_size / 2 - 0.5) * self.bin_hz
        hi_hz = self.center_freq_hz + (hi_bin - self.fft_size / 2 + 0.5) * self.bin_hz
        share = (hi_bin - lo_bin + 1) / self.fft_size
        detected_row = track.opened_row if track.opened_row is not None else track.last_row
        if track.kind_hint == "baseline_free":
            # a sliding impulsive band is a sweep; a periodic one a pulsed jammer, unless its
            # envelope is constant (a sweep wider than the band, entering as pulses)
            swept = track.sweep_rows >= track.hits / 2 or track.mean_envelope_kurtosis <= 1.5
            kind = "swept" if swept else "pulsed"
            rise = 0.0
            extra = {"spectral_kurtosis": round(track.mean_sk, 3), "baseline": "none", "periodicity": round(track.score_max, 3)}
            conf = float(np.clip(track.score_max, 0.0, 1.0))
        elif track.kind_hint == "overload":
            kind, rise = "overload", 0.0
            extra = {"clip_share": round(float(track.score_max), 6)}
            conf = 1.0
            duration_s = (track.last_row - start_row + 1) * self.row_s
        else:
            kind = classify(track, self.bin_hz)
            rise = track.mean_rise_db
            if kind == "tone" and track.peak_bins:
                # a CW line has no width: report its interpolated frequency ± half the 1 kHz
                # reference bandwidth in which tone SNR is quoted
                tone_hz = self.center_freq_hz + (float(np.median(track.peak_bins)) - self.fft_size / 2) * self.bin_hz
                lo_hz, hi_hz = tone_hz - TONE_HALF_WIDTH_HZ, tone_hz + TONE_HALF_WIDTH_HZ
            extra = {
                "spectral_kurtosis": round(track.mean_sk, 3),
                "unreliable": track.unreliable_rows > 0,
                "sidebands": len(track.sidebands),
                "envelope_kurtosis": round(track.mean_envelope_kurtosis, 3),
                "pulsing": round(track.mean_pulsing, 2),
                "row_modulation": round(track.row_modulation, 2),
                "z_max": round(float(track.score_max), 2),  # the strongest test statistic (threshold: z_threshold)
                "hits": track.hits,  # row detections (a row outlined in pieces counts each)
            }
            conf = calibrated_confidence(kind, track.score_max, self.config.z_threshold, track.hits,
                                         track.mean_envelope_kurtosis)
        extra["detected_offset_s"] = round(self.start_offset_s + (detected_row + 1) * self.row_s, 4)
        return Event(
            id=track.id,
            kind=kind,
            offset_start_s=self.start_offset_s + start_row * self.row_s,
            offset_end_s=None if ongoing else self.start_offset_s + (track.end_row + 1) * self.row_s,
            freq_low_hz=lo_hz,
            freq_high_hz=hi_hz,
            peak_dbfs=float(track.level_max_db),
            rise_db=float(rise),
            severity=severity(kind, rise, share) if kind != "overload" else ("warning" if duration_s >= 2.0 else "info"),
            confidence=conf,
            session_start=self.session_start,
            site=self.site,
            sensor=self.sensor,
            detector=self.provenance,
            extra=extra,
        )
