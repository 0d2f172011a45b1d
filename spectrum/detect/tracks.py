"""Event lifecycle: per-row detections (regions) → tracks → events.

A track opens when regions overlapping in frequency are seen in ``confirm_rows`` rows, grows
to the union of their extents, and ends once nothing has matched it for ``hold_s`` (so a
pulsed jammer is one event, not one per pulse). Tracks that come to overlap are merged.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

SATELLITE_DB = 10.0  # a region this much weaker than a nearby track is its sideband or spur
SIDEBAND_DB = 3.0  # … and this much weaker, if it came on with the track
ECHO_DB = 3.0  # after a track closes, weaker regions at its place are long-box echoes of it
STRONG_ROW_SIGNIFICANCE = 3.0  # a row shows the signal on its own when its excess is this clear
RECENT_SIGNIFICANCE = 4.0  # … or 4 (16) rows together do
STEADY_MIN_GAPS = 6  # gaps between the bursts of a sparse track, before they can be judged …
STEADY_SHARE = 0.8  # … steady: this share of them of two adjacent lengths (rows)


@dataclass
class Region:
    """One row's contiguous detection, with the features the classifier needs."""

    row: int
    lo_bin: int
    hi_bin: int  # inclusive
    score: float  # largest normalised statistic in the region
    rise_db: float  # mean level excess over the baseline across the region
    level_db: float  # strongest per-bin level (dBFS, tone-calibrated)
    sk_mean: float  # mean spectral kurtosis across the region's bins
    centroid_bin: float  # excess-weighted centre
    pulsing: float  # frame-power modulation of the row relative to the quiet baseline
    unreliable: bool  # the row was clipping
    refined: bool = True  # extent fitted to significant bins (else only a long box still sees it)
    peak_bin: float = 0.0  # interpolated fractional bin of the strongest level
    concentration: float = 1.0  # share of bins holding half the excess power (small: lines)
    envelope_kurtosis: float = 2.0  # the row's short-window envelope kurtosis (1 constant, 2 noise)
    row_significance: float = 0.0  # the region's excess in this row alone, in noise stds
    recent_significance: list = field(default_factory=list)  # (rows, significance) over recent spans
    start_row: int | None = None  # change-point estimate of the onset (first region only)
    stale: bool = False  # its excess already died away (only a long box still remembers it)
    recent_excess_db: float = 0.0  # mean level excess over its bins and the last 4 rows
    sweep: bool = False  # a baseline-free region whose impulsive band slid across rows


@dataclass
class Track:
    kind_hint: str  # "band" (baseline detections), "baseline_free", "overload"
    first_row: int
    last_row: int
    lo_bin: int
    hi_bin: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    hits: int = 0
    feature_rows: int = 0  # rows whose spectral features count (all but the onset row)
    score_max: float = 0.0
    rise_max_db: float = -np.inf
    rise_sum_db: float = 0.0
    level_max_db: float = -np.inf
    sk_sum: float = 0.0
    pulsing_sum: float = 0.0
    concentration_sum: float = 0.0
    kappa_sum: float = 0.0
    unreliable_rows: int = 0
    sweep_rows: int = 0
    _feature_row: int = -1  # the row of the last width/centroid entry, and its extent
    _feature_extent: tuple = (0, 0)
    centroids: deque = field(default_factory=lambda: deque(maxlen=512))
    widths: deque = field(default_factory=lambda: deque(maxlen=512))
    peak_bins: deque = field(default_factory=lambda: deque(maxlen=512))
    row_extents: deque = field(default_factory=lambda: deque(maxlen=4096))  # refined (lo, hi) per row
    row_excess: deque = field(default_factory=lambda: deque(maxlen=512))  # each row's own excess power ratio
    opened: bool = False
    announced: tuple[str, str] | None = None  # (kind, severity) last reported while ongoing
    present_rows: int = 0  # distinct rows with a region of it (a row outlined in pieces counts once)
    hit_rows: deque = field(default_factory=lambda: deque(maxlen=64))  # the last of those rows
    _present_row: int = -1
    opened_row: int | None = None  # the row at which the evidence first sufficed (latency)
    onset_row: int | None = None
    sidebands: list = field(default_factory=list)  # (lo, hi) bins of its weaker sidebands
    peak_recent_excess_db: float = 0.0  # the strongest 4-row mean excess of its regions
    last_strong_row: int | None = None  # last row whose own (unsmoothed) rise was clear
    clip_rows: int = 0  # rows in which the ADC clipped while this track was open
    clip_share_max: float = 0.0  # the largest share of I/Q values at a rail in those rows
    _clip_row_noted: int = -1
    clipping_culprit: bool = False  # opened on the signal that drove the ADC into clipping

    def note_clipping(self, row: int, clip_share: float) -> None:
        """Count clipping row ``row`` (once) and keep the largest share of values at a rail."""
        if row != self._clip_row_noted:
            self._clip_row_noted = row
            self.clip_rows += 1
        self.clip_share_max = max(self.clip_share_max, clip_share)

    @property
    def end_row(self) -> int:
        """Last row of the event: multi-row boxes keep seeing a jammer for a while after it
        stops, so the end is the last row that showed it on its own."""
        return self.last_strong_row if self.last_strong_row is not None else self.last_row

    def add(self, region: Region) -> None:
        """Take one row's region: update extent, levels, features and the end estimate."""
        if self.hits == 0 and region.start_row is not None:
            self.onset_row = region.start_row
        # the end of the event is the last row that still showed the signal by itself, or the
        # middle of the last 4 or 16 rows that did together (a weak line is not clear row by row)
        reference_db = self.mean_rise_db if self.hits else region.rise_db
        if region.rise_db >= 0.5 * max(reference_db, 0.0) and region.row_significance >= STRONG_ROW_SIGNIFICANCE:
            self.last_strong_row = region.row
        for span, significance in region.recent_significance:
            if significance >= RECENT_SIGNIFICANCE:
                self.last_strong_row = max(self.last_strong_row or 0, region.row - span // 2)
        self.hits += 1
        if region.row != self._present_row:
            self._present_row = region.row
            self.present_rows += 1
            self.hit_rows.append(region.row)
        self.last_row = region.row
        self.peak_recent_excess_db = max(self.peak_recent_excess_db, region.recent_excess_db)
        if region.refined:
            self.lo_bin = min(self.lo_bin, region.lo_bin)
            self.hi_bin = max(self.hi_bin, region.hi_bin)
            self.peak_bins.append(region.peak_bin)
            self.row_extents.append((region.lo_bin, region.hi_bin))
        self.score_max = max(self.score_max, region.score)
        self.rise_max_db = max(self.rise_max_db, region.rise_db)
        self.rise_sum_db += region.rise_db
        self.level_max_db = max(self.level_max_db, region.level_db)
        self.unreliable_rows += region.unreliable
        self.sweep_rows += region.sweep
        if self.hits == 1:
            return  # the onset row is partly before the signal: its kurtosis and pulsing are transients
        self.feature_rows += 1
        self.sk_sum += region.sk_mean
        self.pulsing_sum += region.pulsing
        self.concentration_sum += region.concentration
        self.kappa_sum += region.envelope_kurtosis
        excess = max(10.0 ** (region.rise_db / 10.0) - 1.0, 0.0)
        if self.widths and self._feature_row == region.row:
            # another piece of this row (a weak band is outlined in fragments): the row's
            # width and centre are those of all its pieces together
            lo, hi = min(self._feature_extent[0], region.lo_bin), max(self._feature_extent[1], region.hi_bin)
            self.widths[-1] = hi - lo + 1
            self.centroids[-1] = (lo + hi) / 2
            self.row_excess[-1] = max(self.row_excess[-1], excess)
        else:
            lo, hi = region.lo_bin, region.hi_bin
            self.centroids.append(region.centroid_bin)
            self.widths.append(hi - lo + 1)
            self.row_excess.append(excess)
        self._feature_row, self._feature_extent = region.row, (lo, hi)

    def absorb(self, other: "Track") -> None:
        """Merge another track into this one (they came to overlap)."""
        self.first_row = min(self.first_row, other.first_row)
        self.last_row = max(self.last_row, other.last_row)
        self.lo_bin = min(self.lo_bin, other.lo_bin)
        self.hi_bin = max(self.hi_bin, other.hi_bin)
        self.hits += other.hits
        self.present_rows += other.present_rows
        self.hit_rows = deque(sorted(set(self.hit_rows) | set(other.hit_rows))[-64:], maxlen=64)
        self.feature_rows += other.feature_rows
        self.score_max = max(self.score_max, other.score_max)
        self.rise_max_db = max(self.rise_max_db, other.rise_max_db)
        self.rise_sum_db += other.rise_sum_db
        self.level_max_db = max(self.level_max_db, other.level_max_db)
        self.sk_sum += other.sk_sum
        self.pulsing_sum += other.pulsing_sum
        self.concentration_sum += other.concentration_sum
        self.kappa_sum += other.kappa_sum
        self.unreliable_rows += other.unreliable_rows
        self.sweep_rows += other.sweep_rows
        self.clip_rows += other.clip_rows
        self.clip_share_max = max(self.clip_share_max, other.clip_share_max)
        self.centroids.extend(other.centroids)
        self.peak_bins.extend(other.peak_bins)
        self.sidebands.extend(other.sidebands)
        self.peak_recent_excess_db = max(self.peak_recent_excess_db, other.peak_recent_excess_db)
        self.row_extents.extend(other.row_extents)
        self.widths.extend(other.widths)
        self.row_excess.extend(other.row_excess)
        self.opened = self.opened or other.opened
        self.clipping_culprit = self.clipping_culprit or other.clipping_culprit
        self.announced = self.announced or other.announced
        if other.opened_row is not None:
            self.opened_row = other.opened_row if self.opened_row is None else min(self.opened_row, other.opened_row)
        if other.last_strong_row is not None:
            self.last_strong_row = max(self.last_strong_row or other.last_strong_row, other.last_strong_row)
        if other.onset_row is not None:
            self.onset_row = other.onset_row if self.onset_row is None else min(self.onset_row, other.onset_row)

    @property
    def hits_recur_steadily(self) -> bool:
        """Whether the rows it was seen in recur like a clock. A burst seen in consecutive rows
        counts once, at its first row; a pulse train slower than a row then shows every k-th or
        (k+1)-th row, so nearly all gaps between bursts take two adjacent values (a pulse missed
        now and then aside): at least ``STEADY_SHARE`` of at least ``STEADY_MIN_GAPS`` gaps.
        Bursts arriving at random (packets, interrogation replies) have gaps spread over many
        values."""
        rows = np.asarray(self.hit_rows, np.int64)
        starts = rows[np.concatenate(([True], np.diff(rows) > 1))]
        gaps = np.diff(starts)
        if gaps.size < STEADY_MIN_GAPS:
            return False
        counts = np.bincount(gaps)
        pairs = counts[:-1] + counts[1:] if counts.size > 1 else counts
        return int(pairs.max()) >= STEADY_SHARE * gaps.size

    @property
    def occupancy(self) -> float:
        """Share of the rows from its first to its last in which it was seen: near 1 for a
        transmitter that stays on, small for packets or hops that the hold time bridges."""
        return self.present_rows / max(self.last_row - self.first_row + 1, 1)

    @property
    def mean_rise_db(self) -> float:
        return self.rise_sum_db / max(self.hits, 1)

    @property
    def mean_sk(self) -> float:
        return self.sk_sum / self.feature_rows if self.feature_rows else 1.0

    @property
    def mean_envelope_kurtosis(self) -> float:
        return self.kappa_sum / self.feature_rows if self.feature_rows else 2.0

    @property
    def mean_concentration(self) -> float:
        return self.concentration_sum / self.feature_rows if self.feature_rows else 1.0

    @property
    def row_modulation(self) -> float:
        """Spread of the rows' own excess power over its mean: near 0 for a jammer that stays
        on, large for one that comes and goes over rows (pulses longer than a row)."""
        if len(self.row_excess) < 8:
            return 0.0
        excess = np.asarray(self.row_excess)
        return float(excess.std() / max(excess.mean(), 1e-9))

    @property
    def mean_pulsing(self) -> float:
        return self.pulsing_sum / self.feature_rows if self.feature_rows else 1.0

    def extent(self) -> tuple[int, int]:
        """Reported band: the 5th percentile of the rows' lower edges to the 95th of their
        upper edges — a sweep's span, but not a stray row's excursion (the union is kept for
        matching, where a wide net is wanted)."""
        if len(self.row_extents) < 5:
            return self.lo_bin, self.hi_bin
        edges = np.asarray(self.row_extents)
        return int(np.floor(np.percentile(edges[:, 0], 5))), int(np.ceil(np.percentile(edges[:, 1], 95)))

    def has_sideband_at(self, lo: int, hi: int, tolerance_bins: int) -> bool:
        return any(lo <= b + tolerance_bins and hi >= a - tolerance_bins for a, b in self.sidebands)

    def overlaps(self, lo: int, hi: int, tolerance_bins: int) -> bool:
        return lo <= self.hi_bin + tolerance_bins and hi >= self.lo_bin - tolerance_bins


class TrackBook:
    """Open tracks of one band; returns tracks as they open and as they close."""

    def __init__(self, confirm_rows: int, hold_rows: int, tolerance_bins: int, memory_rows: int = 0,
                 kind_hint: str = "band", co_onset_rows: int = 40, neighbourhood_bins: int = 0) -> None:
        self.kind_hint = kind_hint
        self.neighbourhood_bins = max(neighbourhood_bins, tolerance_bins)  # the least "nearby" for spurs
        self.co_onset_rows = co_onset_rows
        self.confirm_rows = confirm_rows
        self.hold_rows = hold_rows
        self.tolerance_bins = tolerance_bins
        self.memory_rows = memory_rows
        self.tracks: list[Track] = []
        self.recent: list[Track] = []  # closed tracks the longest box may still remember
        self.merged: list[tuple[Track, Track]] = []  # (announced track, track it joined), to drain

    def update(self, row: int, regions: list[Region], overloaded: bool = False,
               culprit: tuple[int, int, int] | None = None) -> tuple[list[Track], list[Track]]:
        """Feed one row's regions; return (tracks that opened, tracks that closed).

        While the ADC is ``overloaded`` the row's regions are not believed, except those on
        the ``culprit`` (lo bin, hi bin, first row of the overload): the one signal driving the
        ADC into its rails is news of its own (a jammer strong enough to clip is still a jammer
        of some kind), tracked apart from everything that was on before. The clipping's spread
        elsewhere must neither open events nor stretch and merge the ones already open: those
        are held open through the overload and marked unreliable.
        """
        self.recent = [t for t in self.recent if row - t.last_row <= self.memory_rows]
        if overloaded:  # what the clipping hides is unknown: hold every earlier track as it is
            held = self.tracks if culprit is None else [t for t in self.tracks if t.first_row < culprit[2]]
            for track in held:
                track.unreliable_rows += 1
            if culprit is None:
                return [], []
            # the clipping's spread lifts the bins around the culprit too: a region is cut to it
            on_culprit = [replace(r, lo_bin=max(r.lo_bin, culprit[0]), hi_bin=min(r.hi_bin, culprit[1]),
                                  centroid_bin=min(max(r.centroid_bin, culprit[0]), culprit[1]))
                          for r in regions if r.hi_bin >= culprit[0] and r.lo_bin <= culprit[1]]
            self.tracks = [t for t in self.tracks if t.first_row >= culprit[2]]
            try:
                opened, closed = self.update(row, on_culprit)
            finally:
                self.tracks = held + self.tracks
            for track in opened:
                track.clipping_culprit = True
            return opened, closed
        # strongest first, so a jammer's main band claims its track before its sidebands look
        for region in sorted(regions, key=lambda r: -r.rise_db):
            direct = [t for t in self.tracks if t.overlaps(region.lo_bin, region.hi_bin, self.tolerance_bins)]
            if direct:
                # a region bridging tracks joins them
                keep = max(direct, key=lambda t: t.mean_rise_db)
                for other in direct:
                    if other is not keep:
                        keep.absorb(other)
                        self.tracks.remove(other)
                keep.add(region)
                continue
            near = [t for t in self.tracks if t.overlaps(region.lo_bin, region.hi_bin, self._tolerance(t, region))
                    or t.has_sideband_at(region.lo_bin, region.hi_bin, self.tolerance_bins)]
            if near:
                owner = max(near, key=lambda t: t.mean_rise_db)
                owner.last_row = max(owner.last_row, region.row)  # a sideband keeps its jammer alive
                if not owner.has_sideband_at(region.lo_bin, region.hi_bin, self.tolerance_bins):
                    owner.sidebands.append((region.lo_bin, region.hi_bin))
            elif not self._remembered(region):
                track = Track(self.kind_hint, region.row, region.row, region.lo_bin, region.hi_bin)
                track.add(region)
                self.tracks.append(track)
        self._absorb_sidebands()
        opened = []
        for track in self.tracks:
            if not track.opened and track.hits >= self.confirm_rows:
                track.opened = True
                track.opened_row = row
                opened.append(track)
        closed = [t for t in self.tracks if row - t.last_row >= self.hold_rows and t.opened]
        # unconfirmed one-row blips vanish without an event
        self.tracks = [t for t in self.tracks if row - t.last_row < self.hold_rows]
        self.recent += closed
        return opened, closed

    def _tolerance(self, track: Track, region: Region) -> int:
        """Bins of gap across which a region still belongs to a track. A region near a track
        and clearly weaker is its sideband or spur (a fast sweep's comb lines past its span):
        within one track-width when it is far weaker (it may show up any time), within two
        when it came on together with the track."""
        if not track.hits:
            return self.tolerance_bins
        width = max(track.hi_bin - track.lo_bin + 1, self.neighbourhood_bins)
        if region.rise_db < track.mean_rise_db - SATELLITE_DB:
            return width
        onset = region.start_row if region.start_row is not None else region.row
        track_onset = track.onset_row if track.onset_row is not None else track.first_row
        if region.level_db < track.level_max_db - SIDEBAND_DB and abs(onset - track_onset) <= self.co_onset_rows:
            return 2 * width
        return self.tolerance_bins

    def _absorb_sidebands(self) -> None:
        """Fold young tracks that came on with a stronger neighbour (within two of its widths,
        ≥ SIDEBAND_DB weaker) into it: they are its sidebands, not separate emitters. Their
        extent and features stay out of the stronger track's."""
        for strong in sorted(self.tracks, key=lambda t: -t.level_max_db):
            if strong not in self.tracks or not strong.hits:
                continue
            width = strong.hi_bin - strong.lo_bin + 1
            onset = strong.onset_row if strong.onset_row is not None else strong.first_row
            for weak in list(self.tracks):
                # what was on before a signal that clips the ADC is not its sideband: the
                # clipping hid it meanwhile (a jammer on before a stronger arrival stays)
                if weak is strong or not weak.hits or (strong.clipping_culprit and weak.first_row < strong.first_row):
                    continue
                weak_onset = weak.onset_row if weak.onset_row is not None else weak.first_row
                # peak levels, not mean rises: a comb's mean over its troughs understates it
                if (weak.level_max_db < strong.level_max_db - SIDEBAND_DB
                        and abs(weak_onset - onset) <= self.co_onset_rows
                        and strong.overlaps(weak.lo_bin, weak.hi_bin, 2 * width)):
                    strong.last_row = max(strong.last_row, weak.last_row)
                    strong.sidebands.append((weak.lo_bin, weak.hi_bin))
                    self.tracks.remove(weak)
                    if weak.opened:  # it was announced already: say what became of it
                        self.merged.append((weak, strong))

    def _remembered(self, region: Region) -> bool:
        """A region much weaker than a track that just stopped (closed, or in its hold time)
        at its place is that track's echo in the long boxes (skirts, sidebands), not a new signal."""
        stopped = [t for t in self.tracks if t.last_strong_row is not None and region.row - t.last_strong_row > 2]
        return any(
            t.overlaps(region.lo_bin, region.hi_bin, max(self.neighbourhood_bins, t.hi_bin - t.lo_bin + 1))
            and region.rise_db < t.mean_rise_db - ECHO_DB
            for t in self.recent + stopped
        )

    def close_all(self) -> list[Track]:
        closed = [t for t in self.tracks if t.opened]
        self.tracks = []
        return closed
