"""ADC overload as its own event: rows whose share of I/Q values at a converter rail exceeds
the configured fraction open it (after ``confirm_rows`` of them); it ends ``hold_rows``
after the last clipping row. Its band is the culprit's (bins ≥ 20 dB over the row's median
level), or the whole band when no single signal stands out."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from spectrum.detect.tracks import Track

OVERLOAD_CULPRIT_DB = 20.0


class OverloadTracker:
    """The overload track of one band (``track`` is None while the ADC does not clip)."""

    def __init__(self, overload_fraction: float, confirm_rows: int, hold_rows: int, fft_size: int) -> None:
        self.overload_fraction = overload_fraction
        self.confirm_rows = confirm_rows
        self.hold_rows = hold_rows
        self.fft_size = fft_size
        self.track: Track | None = None

    def row(self, row: int, clip_share: float, level_db: NDArray[np.float32]) -> tuple[Track | None, Track | None]:
        """Feed one row's clipped share; return (the track if it opened now, the track if it
        closed now and had opened)."""
        if clip_share > self.overload_fraction:
            culprit = np.flatnonzero(level_db >= np.median(level_db) + OVERLOAD_CULPRIT_DB)
            lo, hi = (int(culprit[0]), int(culprit[-1])) if culprit.size else (0, self.fft_size - 1)
            if self.track is None:
                self.track = Track("overload", row, row, lo, hi)
                self.track.onset_row = row
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

    def finish(self) -> Track | None:
        """End of data: the track, whatever its state (None if none)."""
        track, self.track = self.track, None
        return track
