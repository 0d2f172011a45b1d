"""Bursty legitimate traffic learned per bin, so that its later bursts are not reported.

The baseline's level and spread are a median and a MAD over the learning rows: a signal on
in fewer than half of them (packets every few hundred ms, TDMA slots, hops of a frequency
hopper) leaves no trace in either, and each of its later bursts would look like a new
signal. So learning also keeps, per bin, how often the bin stood clearly over its level
(its *burst duty*: the share of learning rows more than ``BURST_SPREADS`` spreads, and at
least ``BURST_MIN_DB``, over it) and how high it went (the largest excess seen).

A detection is that learned traffic again when, over its bins and the last ``RECENT_ROWS``:

* the bins had bursts while learning;
* the floor did not rise: the median over rows of the region's mean excess stays under the
  smallest reported rise (a jammer that stays on, even a weak one, lifts it; bursts do not);
* the bins burst no more often than they did while learning, beyond binomial chance
  (``DUTY_SIGMAS`` standard errors of the two proportions);
* the bursts are no stronger than the learned ones by more than ``HEADROOM_DB``.

All four are needed: a pulsed jammer on a learned packet channel bursts more often or
stronger, a barrage lifts the floor, and a detection in bins that never burst is news.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

BURST_SPREADS = 4.0  # a row this many spreads over the level is a burst in that bin …
BURST_MIN_DB = 3.0  # … and at least this many dB (half the power again over the floor)
RECENT_ROWS = 40  # rows judged against the learned traffic (1 s at the default 25 ms rows)
DUTY_SIGMAS = 4.0  # bursts this many standard errors more often than learned are not the learned traffic
HEADROOM_DB = 6.0  # bursts this much stronger than the learned ones are not the learned traffic


@dataclass
class LearnedBursts:
    """Per-bin burst threshold (dB over the level), duty (share of learning rows) and peak
    excess (dB) of the learning rows."""

    threshold_db: NDArray[np.float32]
    duty: NDArray[np.float32]
    peak_db: NDArray[np.float32]
    learn_rows: int

    @classmethod
    def learn(cls, rows_db: NDArray[np.float32], level_db: NDArray[np.float32],
              spread_db: NDArray[np.float32]) -> "LearnedBursts":
        """From ``(rows, bins)`` learning levels (dB) and the baseline learned from them."""
        excess = rows_db - level_db
        threshold = np.maximum(BURST_SPREADS * spread_db, BURST_MIN_DB).astype(np.float32)
        duty = (excess > threshold).mean(axis=0).astype(np.float32)
        return cls(threshold, duty, excess.max(axis=0).astype(np.float32), int(rows_db.shape[0]))

    def explains(self, recent_excess_db: NDArray[np.float32], lo: int, hi: int, min_rise_db: float) -> bool:
        """Whether bins ``lo … hi`` over ``recent_excess_db`` (rows × all bins, dB over the
        baseline) show only the traffic learned there (module docstring)."""
        sl = slice(lo, hi + 1)
        learned = float(self.duty[sl].mean())
        if learned <= 0.0:
            return False
        rows = recent_excess_db[:, sl]
        if float(np.median(rows.mean(axis=1))) >= min_rise_db:
            return False
        recent = float((rows > self.threshold_db[sl]).mean())
        k, n = rows.shape[0], self.learn_rows
        p = max((recent * k + learned * n) / (k + n), 1.0 / (k + n))  # pooled, never zero
        if recent - learned > DUTY_SIGMAS * math.sqrt(p * (1 - p) * (1 / k + 1 / n)):
            return False
        return float(rows.max(axis=0).mean()) <= float(self.peak_db[sl].mean()) + HEADROOM_DB
