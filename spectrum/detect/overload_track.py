"""ADC overload as its own event: rows whose share of I/Q values at a converter rail exceeds
the configured fraction open it (after ``confirm_rows`` of them); it ends ``hold_rows``
after the last clipping row. Its band is the culprit's (bins ≥ 20 dB over the row's median
level), or the whole band when no single signal stands out."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from spectrum.detect.tracks import Track

OVERLOAD_CULPRIT_DB = 20.0
CULPRIT_GAP_BINS = 10  # strong bins this close to the strongest one's run are still the same signal


class OverloadTracker:
    """The overload track of one band (``track`` is None while the ADC does not clip)."""

    def __init__(self, overload_fraction: float, confirm_rows: int, hold_rows: int, fft_size: int) -> None:
        self.overload_fraction = overload_fraction
        self.confirm_rows = confirm_rows
        self.hold_rows = hold_rows
        self.fft_size = fft_size
        self.track: Track | None = None
        self.culprit_bins = (0, fft_size - 1)  # the clipping signal's bins over this overload

    def row(self, row: int, clip_share: float, level_db: NDArray[np.float32]) -> tuple[Track | None, Track | None]:
        """Feed one row's clipped share; return (the track if it opened now, the track if it
        closed now and had opened)."""
        if clip_share > self.overload_fraction:
            strong = level_db >= np.median(level_db) + OVERLOAD_CULPRIT_DB
            culprit = np.flatnonzero(strong)
            lo, hi = (int(culprit[0]), int(culprit[-1])) if culprit.size else (0, self.fft_size - 1)
            run = _run_around_peak(level_db, strong)
            if self.track is None:
                self.track = Track("overload", row, row, lo, hi)
                self.track.onset_row = row
                self.culprit_bins = run
            else:
                self.culprit_bins = (min(self.culprit_bins[0], run[0]), max(self.culprit_bins[1], run[1]))
            t = self.track
            t.hits += 1
            t.last_row = row
            t.lo_bin, t.hi_bin = min(t.lo_bin, lo), max(t.hi_bin, hi)
            t.level_max_db = max(t.level_max_db, float(level_db.max()))
            t.score_max = max(t.score_max, clip_share)  # the worst row's clipped share
            if t.hits == self.confirm_rows:
                t.opened = True
                t.opened_row = row
                return t, None
        elif self.track is not None and row - self.track.last_row >= self.hold_rows:
            closed = self.track if self.track.opened else None
            self.track = None
            return None, closed
        return None, None

    def culprit(self) -> tuple[int, int, int] | None:
        """(lo bin, hi bin, first row of the overload) of the one signal driving the ADC into
        clipping over the overload so far: the run of strong bins around the strongest (the
        whole band when none stands out, a jammer wider than the band); None while there is no
        overload."""
        return None if self.track is None else (*self.culprit_bins, self.track.first_row)

    def finish(self) -> Track | None:
        """End of data: the track, whatever its state (None if none)."""
        track, self.track = self.track, None
        return track


def _run_around_peak(level_db: NDArray[np.float32], strong: NDArray[np.bool_]) -> tuple[int, int]:
    """The run of ``strong`` bins (gaps up to CULPRIT_GAP_BINS bridged) that holds the strongest
    bin; the whole band when no bin is strong."""
    if not strong.any():
        return 0, len(level_db) - 1
    peak = int(np.argmax(np.where(strong, level_db, -np.inf)))
    idx = np.flatnonzero(strong)
    k = int(np.searchsorted(idx, peak))
    lo = hi = k
    while lo > 0 and idx[lo] - idx[lo - 1] <= CULPRIT_GAP_BINS + 1:
        lo -= 1
    while hi < len(idx) - 1 and idx[hi + 1] - idx[hi] <= CULPRIT_GAP_BINS + 1:
        hi += 1
    return int(idx[lo]), int(idx[hi])
