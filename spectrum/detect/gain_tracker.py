"""Common-mode gain tracking: the tuner's slow gain drift, told apart from a jammer's step.

A tuner's gain drift moves every bin at once and slowly; a jammer switches on within a row
and is soon frozen out of the median (its bins are under a detection), so a slew limit keeps
it from being taken for gain in the rows before that.

A jammer wider than the band that rises slowly moves every bin at once too. What tells it
from drift is how far it goes: a tuner's gain wanders by a dB or two with temperature, so the
offset is followed only within ``range_db`` of where learning left it. A common-mode rise
beyond that stays in the excess, where the detectors see it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kernels.baseline import quiet_median_offset


class GainTracker:
    """Common-mode gain offset (dB) of each row against the baseline.

    Parameters
    ----------
    slew_db_per_row : float
        Largest change of the offset from one row to the next (dB).
    dc_slice : slice
        Bins around the tuner's DC spike, never used.
    fft_size : int
        Bins per row.
    range_db : float
        Largest excursion of the offset from ``reference_db`` followed (dB).
    """

    def __init__(self, slew_db_per_row: float, dc_slice: slice, fft_size: int, range_db: float = np.inf) -> None:
        self.slew_db_per_row = slew_db_per_row
        self.range_db = range_db
        self.reference_db = 0.0  # the offset when the baseline was learned
        self.dc_slice = dc_slice
        self.min_count = fft_size // 128  # fewer quiet bins than this say nothing
        self.gain_db = 0.0

    def update(self, level_db: NDArray[np.float32], baseline_db: NDArray[np.float32],
               frozen: NDArray[np.bool_]) -> np.float32:
        """Return the offset for this row (dB): the median over quiet (not ``frozen``) bins of
        the level against the baseline, followed at no more than the slew limit."""
        excluded = frozen.copy()
        excluded[self.dc_slice] = True
        measured = quiet_median_offset(level_db, baseline_db, excluded, stride=4, min_count=self.min_count)
        if np.isnan(measured):  # nearly the whole band is under detections: hold
            return np.float32(self.gain_db)
        slew = self.slew_db_per_row
        self.gain_db += min(max(measured - self.gain_db, -slew), slew)
        self.gain_db = min(max(self.gain_db, self.reference_db - self.range_db), self.reference_db + self.range_db)
        return np.float32(self.gain_db)
