"""When did a region's signal start, and is it still there?

A new region's onset is the CUSUM change point of its mean excess over the recent rows,
searched after the last quiet stretch only (an earlier burst at the same place, an
intermittent jammer, must not pull the onset back to itself). A region whose recent excess
is a small share of its strongest stretch is *stale*: a long box still remembering a signal
that ended, no evidence of anything now.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from spectrum.detect.excess_history import ExcessHistory
from spectrum.detect.tracks import Region, Track

QUIET_ROWS = 16  # a stretch this long under a quarter of a region's level is "before" it
STALE_SHARE = 0.3  # a region whose recent excess fell under this share of its past is a memory
ESTABLISHED_HITS = 8  # a track with this many rows needs no onset search for its regions


def mark_onsets(regions: list[Region], tracks: list[Track], history: ExcessHistory, row: int, hist_row: int,
                merge_gap_bins: int) -> list[Region]:
    """Give new regions their onset row and staleness; return those that are not stale."""
    for region in regions:
        owner = next((t for t in tracks if t.hits >= ESTABLISHED_HITS
                      and t.overlaps(region.lo_bin, region.hi_bin, merge_gap_bins)), None)
        if owner is None:
            first = max(0, hist_row - history.valid_rows + 1, hist_row - history.keep)
            m = history.e[first : hist_row + 1, region.lo_bin : region.hi_bin + 1].mean(axis=1)
            region.start_row, region.stale = onset_and_staleness(m, row)
        else:
            # part of an established event: only ask whether it is still there (the
            # change-point search over the whole history is for new events)
            region.stale = region.recent_excess_db < STALE_SHARE * owner.peak_recent_excess_db
    # a long box keeps "seeing" a signal for K rows after it ended: such memories are no
    # evidence of anything now (they would stretch the event and smear its features)
    return [region for region in regions if not region.stale]


def onset_and_staleness(m: NDArray, row: int) -> tuple[int, bool]:
    """Onset row and staleness of a region from ``m``, its mean excess (dB) per row, the
    last entry being ``row``."""
    if len(m) < 2:
        return row, False
    recent = m[-min(4, len(m)) :]
    c = 0.5 * float(np.mean(recent))
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
