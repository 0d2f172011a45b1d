"""The band detector: rows of power statistics in, events out. Stateful per band, no I/O.

Per row of ``M`` frames it computes each bin's level ``L`` (dB), its excess over the learned
baseline ``e = L − level`` (less the common-mode gain, spectrum.detect.gain_tracker) and
z-score ``z = e / spread``, then runs the multi-scale excess test (kernels.multiscale) over
boxes of K rows × W bins, which covers both a −3 dB barrage over 1 MHz (wide W, one row) and
a 0 dB-in-1-kHz tone (one bin, many rows), and the narrowband CFAR. Hot bins are grouped into
regions (spectrum.detect.region_features), given onsets (spectrum.detect.onset_search) and
handed to the track book, which turns them into events with hysteresis
(spectrum.detect.event_builder). ADC clipping is its own event (spectrum.detect.overload_track);
while it lasts, only the culprit (the run of strong bins that drives the ADC into its rails)
may open a track, cut to those bins and kept apart from what was on before: a jammer strong
enough to clip is still named by its kind, flagged ``overload``. Elsewhere detections are
marked unreliable and open nothing (clipping spurs would multiply them), unless the band
already clipped through most of its learning rows: then the
clipping (a strong legitimate carrier) and its spread are part of the learned baseline, and a
jammer arriving later is still found and classified behind it (the overload event stays), if
it stands within ``CLIP_PRODUCTS_DBC`` of the strongest signal: the clipping's harmonics and
intermodulation lines move with the carrier's modulation and weaker detections cannot be told
from them.
The baseline is learned from the first rows (spectrum.detect.baseline_learning), with the
bursty traffic a median leaves out (spectrum.detect.learned_bursts): detections that are only
that traffic again are dropped before they reach the tracks. What the baseline
learned is normal: the baseline-free tracks of the learning rows wait until it is learned, and
those that were there from its first half are dropped (a TDD downlink on from the first row
is the band's traffic); a clip too short to learn a baseline reports them at its end.

A new emitter is reported only once it has stayed on: a transmitter that came on the air
(a voice over, a carrier) is seen in most rows for at least ``EMITTER_MIN_S``; packets, hops
and keyed bursts are seen in a few of the rows they span, and are traffic, not news. Tracks
that look like new emitters wait (unannounced) until they qualify, or vanish. Any other track
waits until it has lasted ``JAMMER_MIN_S`` from its onset to its last row: a jammer that
denies a service stays on for seconds, while most false events on legitimate bursty traffic
(packets, TDMA bursts, OFDM blocks) last a few rows. It costs a median latency of about 0.3 s
(the target is 0.5 s). A track seen in fewer than half of its rows (pulses slower than a row,
or sporadic bursts that the hold time bridges) waits further, until the rows it shows in
recur at a steady interval (`Track.hits_recur_steadily`): a pulsed jammer is a clock, packets
and interrogation replies arrive at random. Measured effects are in the commits that made them.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from kernels.kurtosis import spectral_kurtosis
from kernels.multiscale import multiscale_excess
from kernels.psd import PowerRows
from spectrum.detect.band_baseline import Baseline
from spectrum.detect.baseline_free import BaselineFreeDetector
from spectrum.detect.baseline_learning import box_weights, learn_band
from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.classify import classify
from spectrum.detect.event_builder import EventBuilder
from spectrum.detect.excess_history import ExcessHistory
from spectrum.detect.gain_tracker import GainTracker
from spectrum.detect.learned_bursts import RECENT_ROWS
from spectrum.detect.narrowband_cfar import NarrowbandCfar, known_lines_of_level
from spectrum.detect.onset_search import mark_onsets
from spectrum.detect.overload_track import OverloadTracker
from spectrum.detect.region_features import RegionFinder
from spectrum.detect.tracks import Track, TrackBook
from spectrum.events import Event

TINY_POWER = 1e-20  # keeps log10 finite for all-zero bins (a dead input)
RESYNC_ROWS = 4096  # the running box sums are recomputed exactly this often (~100 s)
RECLASSIFY_S = 1.0  # ongoing events are re-classified this often, and re-sent if changed
NEIGHBOURHOOD_HZ = 25e3  # weaker spurs this close to a jammer (a channel) count as its own
CLIP_PRODUCTS_DBC = 40.0  # a clipping signal's harmonics and intermodulation lie within this of it (dB)
MERGE_GAP_BINS = 10  # hot runs and tracks this many bins apart or closer are one signal
EMITTER_MIN_S = 1.0  # a new emitter has stayed on this long …
EMITTER_MIN_OCCUPANCY = 0.5  # … seen in at least this share of the rows it spans
JAMMER_MIN_S = 0.3  # any other event is announced once it has lasted this long (module docstring) …
SPARSE_OCCUPANCY = 0.5  # … and, if seen in fewer of its rows than this share, once they recur steadily


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
        # runs this close are one region, whatever the resolution (the DC guard, wider in bins at
        # low rates, is bridged on its own: spectrum.detect.region_features)
        self.merge_gap_bins = MERGE_GAP_BINS
        self.baseline = baseline
        if baseline is not None:
            baseline.check_fits(center_freq_hz, sample_rate_hz, self.fft_size, self.frames_per_row)
            if baseline.known_lines is None:
                baseline.known_lines = known_lines_of_level(baseline.level_db, self.learn_rows * self.frames_per_row)
        self.cfar = NarrowbandCfar(self.fft_size, self.frames_per_row, config.cfar_pfa, config.min_rise_db,
                                   config.z_threshold)
        self._learn: list[NDArray[np.float32]] = []
        self._learn_pulsing: list[float] = []
        self._learn_clipping = 0  # learning rows that clipped
        self._clipping_learned = False  # the band clipped through most of its learning rows
        self._pulsing_ref = 1.0
        self._inv_box_std = None if baseline is None or baseline.box_std is None else self._box_weights(baseline.box_std)
        # the baseline may wander only so far up from where it was learned or loaded
        self._ceiling_db = None if baseline is None else baseline.ceiling(config.baseline_wander_spreads,
                                                                           config.min_rise_db)
        self.history = ExcessHistory(int(self.time_scales.max()) + 16, self.fft_size, self.time_scales)
        self._rows_detected = 0  # baseline-normalised rows ever (for the periodic resync)
        self.rows_done = 0
        self.regions = RegionFinder(self.history, self.fft_size, self.dc_slice, self.merge_gap_bins,
                                    self._refine_boxes(), config.image_rejection_db, self.frames_per_row)
        self._make_books()
        self.overload = OverloadTracker(config.overload_fraction, config.confirm_rows, self.hold_rows, self.fft_size)
        self.gain = GainTracker(config.gain_slew_db_per_s * self.row_s, self.dc_slice, self.fft_size,
                                config.gain_range_db)
        self._frozen = np.zeros(self.fft_size, bool)  # bins under detections (last batch)
        self.builder = EventBuilder(center_freq_hz, self.bin_hz, self.fft_size, self.row_s, start_offset_s,
                                    config.z_threshold, session_start, site, sensor, self.provenance,
                                    config.confidence_model, self.frames_per_row, config.kind_model)
        self.events: list[Event] = []  # every event closed so far, in order of closing
        self._free_waiting: list[Track] = []  # baseline-free tracks closed while learning (see _settle_learning)

    def _refine_boxes(self) -> list:
        """(K rows, (K, W) index of the 4-bin box) of the profiles that refine a run's edges."""
        return [(k, (min(int(np.searchsorted(self.time_scales, k)), len(self.time_scales) - 1),
                     min(int(np.searchsorted(self.freq_scales, 4)), len(self.freq_scales) - 1)))
                for k in (4, 16)]

    def _make_books(self) -> None:
        """The track books of the baseline-relative and the baseline-free detections."""
        config = self.config
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

    # ---------------------------------------------------------------- public
    @property
    def _z_hist(self) -> NDArray[np.float32]:
        return self.history.z

    @property
    def _e_hist(self) -> NDArray[np.float32]:
        return self.history.e

    @property
    def _sums_z(self) -> NDArray[np.float32]:
        return self.history.sums_z

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
                raw_row = rows.raw.row(r, self.fft_size * self.frames_per_row) if rows.raw is not None else None
                updates += self._detect_row(row, rows.mean[r], level_db[r], lambda r=r: sk_rows()[r], pulsing[r],
                                            clipping, float(kappa[r]), float(clip_share[r]), raw_row)
            else:
                updates += self._learn_row(level_db[r], float(pulsing[r]), bool(clipping))
            self.rows_done += 1
        return updates

    def _detect_row(self, row, power, level_db, sk_row, pulsing, clipping, kappa, clip_share=0.0,
                    raw_row=None) -> list[Event]:
        """The baseline-relative detectors on one row (``raw_row``: its IQ, when at hand)."""
        baseline = self.baseline
        gain_db = self.gain.update(level_db, baseline.level_db, self._frozen)
        excess = (level_db - baseline.level_db - gain_db)[None, :]
        if baseline.skew_db is not None:  # bursty bins: a mean of rows lies over the median level
            excess = excess - baseline.skew_db
        hot, score = self._hot_bins(power, excess, excess / baseline.spread_db)
        regions = []
        if hot.any():
            hist_row = len(self.history) - 1
            regions = self.regions.find(row, hist_row, hot, score, level_db, sk_row(), pulsing / self._pulsing_ref,
                                        clipping, kappa, self._inv_box_std, raw_row)
            regions = self._without_learned_bursts(regions)
            if clipping and self._clipping_learned:
                regions = self._above_clipping_products(regions, level_db)
            regions = mark_onsets(regions, self.book.tracks, self.history, row, hist_row, self.merge_gap_bins)
        # clipping comes and goes from row to row under a strong transmitter: while the
        # overload event lasts believe nothing new but the culprit (TrackBook.update)
        overloaded = (clipping or self.overload.track is not None) and not self._clipping_learned
        opened, closed = self.book.update(row, regions, overloaded=overloaded, culprit=self.overload.culprit())
        if clipping:  # the events say that the ADC clipped while they lasted, and how much
            for track in self.book.tracks + opened + closed:
                track.note_clipping(row, clip_share)
        # opened tracks wait unannounced until they qualify (_reportable); asked of the book's
        # tracks each row, since a waiting track may have been absorbed into another
        ready = [t for t in self.book.tracks if t.opened and t.announced is None and self._reportable(t)]
        updates = [self._announce(t, row) for t in ready]
        updates += [self._close(t) for t in closed if t.announced is not None]
        updates += self._drain_merged(row)
        if row % self.reclassify_rows == 0:
            updates += self._reannounce_changed()
        frozen = hot.copy()
        for track in self.book.tracks:
            frozen[max(track.lo_bin - self.merge_gap_bins, 0) : track.hi_bin + self.merge_gap_bins + 1] = True
        self._frozen = frozen
        baseline.follow(level_db - gain_db, frozen, self.alpha_per_row, self._ceiling_db)
        return updates

    def _without_learned_bursts(self, regions: list) -> list:
        """Regions that are not the bursty traffic seen while learning (spectrum.detect.learned_bursts)."""
        bursts = self.baseline.bursts
        if bursts is None or not regions:
            return regions
        recent = self.history.e[-min(RECENT_ROWS, self.history.valid_rows):]
        return [r for r in regions if not bursts.explains(recent, r.lo_bin, r.hi_bin, self.config.min_rise_db)]

    def _above_clipping_products(self, regions: list, level_db: NDArray[np.float32]) -> list:
        """Regions of a clipping row that stand above the clipping's own products: a signal
        driven into the converter's rails makes harmonics and intermodulation lines that move
        with its modulation, within ``CLIP_PRODUCTS_DBC`` of its level; weaker detections cannot
        be told from them."""
        floor_db = float(level_db.max()) - CLIP_PRODUCTS_DBC
        return [r for r in regions if r.level_db >= floor_db]

    def _hot_bins(self, power, excess, z) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
        """One row through the multi-scale excess test and the narrowband CFAR: its hot bins
        and their scores (the history takes the row)."""
        valid_before = self.history.valid_rows
        self.history.push(z, excess)
        hot, score = multiscale_excess(
            self._z_hist, self._e_hist, 1, valid_before, self.time_scales, self.freq_scales,
            self._inv_box_std, self.config.z_threshold, self.config.min_rise_db, self.history.sums_z,
            self.history.sums_e,
        )
        hot, score = hot[0], score[0]
        lines, line_score = self.cfar.row(power, excess[0], self.baseline.known_lines,
                                          lambda: self._e_hist[-4:].mean(axis=0))
        if lines.any():
            hot |= lines
            np.maximum(score, line_score, out=score)
        hot[self.dc_slice] = False
        self._rows_detected += 1
        if self._rows_detected % RESYNC_ROWS == 0:  # after the kernel has added this row
            self._resync_sums()
        return hot, score

    def _reportable(self, track: Track) -> bool:
        """Whether an opened band track may be announced: a jammer once it has lasted
        ``JAMMER_MIN_S``, a new emitter once it has stayed on (module docstring)."""
        # the persistence gate asks the hand rules (what the kind model was fitted behind): a
        # fitted kind decides what an event is called, not whether a narrow carrier is reported
        if classify(track, self.bin_hz, self.frames_per_row) != "new_emitter":
            # lasted since its onset: the baseline may have been learned, or a long box
            # filled, while it was already on (spectrum.detect.onset_search)
            onset = track.first_row if track.onset_row is None else min(track.onset_row, track.first_row)
            lasted_s = (track.last_row - onset + 1) * self.row_s
            return lasted_s >= JAMMER_MIN_S and (track.occupancy >= SPARSE_OCCUPANCY or track.hits_recur_steadily)
        span_rows = track.last_row - track.first_row + 1
        return span_rows * self.row_s >= EMITTER_MIN_S and track.occupancy >= EMITTER_MIN_OCCUPANCY

    def finish(self) -> list[Event]:
        """Close every ongoing event at the end of the data; return them."""
        announced = [t for t in self.book.close_all() if t.announced is not None]
        waited, self._free_waiting = self._free_waiting, []  # a clip too short to learn a baseline
        closed = [self._close(t) for t in announced + waited + self.free_book.close_all()]
        overload = self.overload.finish()
        if overload is not None:
            closed.append(self._close(overload))
        return closed

    def _baseline_free_row(self, row, mean, s2, frame_power, level_db, kappa, clipping) -> list[Event]:
        """The baseline-free detectors (spectrum.detect.baseline_free) on one row. While the
        baseline is being learned their tracks wait: the learned baseline decides which were
        the band's traffic (`_settle_learning`); a clip too short to learn one gets them at its end."""
        regions = self.baseline_free.row(row, mean, s2, frame_power, level_db, kappa)
        opened, closed = self.free_book.update(row, regions, overloaded=clipping)
        if not self.has_baseline:
            self._free_waiting += closed
            return []
        return [self._event(t, ongoing=True) for t in opened] + [self._close(t) for t in closed]

    def _overload_row(self, row: int, clip_share: float, level_db: NDArray[np.float32]) -> list[Event]:
        """ADC clipping as its own event (spectrum.detect.overload_track)."""
        opened, closed = self.overload.row(row, clip_share, level_db)
        if opened is not None:
            return [self._event(opened, ongoing=True)]
        if closed is not None:
            return [self._close(closed)]
        return []

    # --------------------------------------------------------------- learning
    def _learn_row(self, level_db: NDArray[np.float32], pulsing: float, clipping: bool = False) -> list[Event]:
        """Collect one learning row; learn the baseline once exactly ``learn_rows`` are in (and
        settle the baseline-free tracks of the learning rows)."""
        self._learn.append(level_db)
        self._learn_pulsing.append(pulsing)
        self._learn_clipping += clipping
        if len(self._learn) < self.learn_rows:
            return []
        # clipping through most of the learning rows is this band's normal state
        self._clipping_learned = self._learn_clipping >= len(self._learn) / 2
        learned = learn_band(self._learn, self._learn_pulsing, self.baseline, self.center_freq_hz,
                             self.sample_rate_hz, self.frames_per_row, self.config.cfar_pfa, self.time_scales,
                             self.freq_scales, self.dc_slice)
        self.baseline = learned.baseline
        if learned.gain_db is not None:
            self.gain.gain_db = learned.gain_db
        self.gain.reference_db = self.gain.gain_db
        self._pulsing_ref = learned.pulsing_ref
        self._inv_box_std = self._box_weights(self.baseline.box_std)
        if self._ceiling_db is None:
            self._ceiling_db = self.baseline.ceiling(self.config.baseline_wander_spreads, self.config.min_rise_db)
        self._learn = []
        return self._settle_learning()

    def _settle_learning(self) -> list[Event]:
        """Decide the baseline-free tracks of the learning rows, now that the baseline is learned.
        Those that began in its first half are dropped: the baseline (a median over the learning
        rows) took them in as normal, so the baseline-relative detectors would not report them
        either. The others are reported now: closed ones as closed, ongoing ones as ongoing."""
        first_row = self.rows_done + 1 - self.learn_rows

        def learned(track: Track) -> bool:
            onset = track.onset_row if track.onset_row is not None else track.first_row
            return onset - first_row < self.learn_rows // 2

        out = [self._close(t) for t in self._free_waiting if not learned(t)]
        self._free_waiting = []
        for track in list(self.free_book.tracks):
            if learned(track):
                self.free_book.tracks.remove(track)
            elif track.opened:
                out.append(self._event(track, ongoing=True))
        return out

    def _box_weights(self, box_std: NDArray[np.float32]) -> NDArray[np.float32]:
        return box_weights(box_std, self.time_scales, self.freq_scales)

    def _resync_sums(self) -> None:
        """Recompute the running K-row sums from the history (float32 running sums gather
        rounding error over a long session; this bounds it)."""
        self.history.resync()

    # ---------------------------------------------------------------- events
    def _announce(self, track: Track, row: int) -> Event:
        track.opened_row = row  # a track that waited (a new emitter) had its evidence only now
        event = self._event(track, ongoing=True)
        track.announced = (event.kind, event.severity)
        return event

    def _reannounce_changed(self) -> list[Event]:
        """Ongoing events whose kind or severity changed as evidence grew (an event opens on
        a few rows; its classification settles over the next second): report them again."""
        out = []
        for track in self.book.tracks:
            if track.announced is not None:
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
            if weak.announced is None:
                continue  # never reported: nothing to take back
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
        return self.builder.event(track, ongoing)
