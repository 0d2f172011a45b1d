"""Per-bin learned baseline: robust level and spread in dB, following slow drift.

Learning: the median (level) and 1.4826·MAD (spread) over the first rows of each bin, so
bursty legitimate carriers set their own, wider spread instead of raising alarms. The
spread never goes below what averaging M exponential powers gives for pure noise:
std of 10·log10 of a Gamma(M, 1/M) variable = (10/ln 10)·sqrt(ψ₁(M)).
Tracking: afterwards each quiet bin moves toward its new level with time constant τ,
innovations clipped at ±3 spreads (a burst cannot drag the baseline); bins under a
detection are frozen so a jammer is never learned as normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import kernels.baseline
from spectrum.detect.gamma_functions import trigamma  # not scipy.special: see that module
from spectrum.detect.learned_bursts import LearnedBursts
from spectrum.errors import DetectorError

DB_PER_NEPER = 10.0 / math.log(10.0)
FILE_VERSION = 1


def noise_spread_db(frames: int) -> float:
    """Std (dB) of the Welch average of ``frames`` exponential powers."""
    return DB_PER_NEPER * math.sqrt(trigamma(frames))


@dataclass
class Baseline:
    """Learned per-bin level (dB) and spread (dB), plus the tuning it was learned at."""

    level_db: NDArray[np.float32]
    spread_db: NDArray[np.float32]
    center_freq_hz: float
    sample_rate_hz: float
    frames_per_row: int
    box_std: NDArray[np.float32] | None = None  # std of the box-mean z per (K, W), learned
    known_lines: NDArray[np.bool_] | None = None  # bins of the lines seen while learning (CFAR)
    bursts: LearnedBursts | None = None  # bursty traffic seen while learning (spectrum.detect.learned_bursts)
    skew_db: NDArray[np.float32] | None = None  # mean over median of the learning rows, ≥ 0 (see `skew_of`)
    source: str = "learned baseline"  # where it came from, for error messages

    @classmethod
    def learn(cls, rows_db: NDArray[np.float32], center_freq_hz: float, sample_rate_hz: float, frames_per_row: int) -> "Baseline":
        """Learn from ``(rows, bins)`` of Welch levels in dB (at least 8 rows)."""
        if rows_db.shape[0] < 8:
            raise DetectorError(f"a baseline needs at least 8 rows, got {rows_db.shape[0]}")
        level = np.median(rows_db, axis=0)
        mad = np.median(np.abs(rows_db - level), axis=0)
        spread = np.maximum(1.4826 * mad, noise_spread_db(frames_per_row))
        return cls(level.astype(np.float32), spread.astype(np.float32), center_freq_hz, sample_rate_hz, frames_per_row)

    @staticmethod
    def skew_of(rows_db: NDArray[np.float32], level_db: NDArray[np.float32]) -> NDArray[np.float32]:
        """Per bin, how far the mean of the learning rows (dB) lies above their median, the level.

        The box test averages rows, so it compares a mean with the level; where the rows are
        skewed upwards (bursty traffic: a quiet median, loud bursts now and then) the mean of
        many rows lies over the median even when nothing changed, and long boxes, whose noise
        is small, would call that a rise. The excess is measured over level + skew instead.
        Noise-only bins skew slightly downwards (the log of a Gamma average): 0 there.

        The smaller of the two halves' skews: steady bursty traffic skews both, a jammer that
        came on during learning only the later half, and must not hide behind its own skew.
        """
        half = len(rows_db) // 2
        skew = np.minimum(rows_db[:half].mean(axis=0), rows_db[half:].mean(axis=0)) - level_db
        return np.maximum(skew, 0.0).astype(np.float32)

    def follow(self, row_db: NDArray[np.float32], frozen: NDArray[np.bool_], alpha_per_row: float,
               ceiling_db: NDArray[np.float32] | None = None) -> None:
        """Move quiet bins toward one row's levels by ``alpha_per_row`` of the (clipped) innovation,
        never above ``ceiling_db`` (see `ceiling`)."""
        kernels.baseline.follow(self.level_db, self.spread_db, row_db.astype(np.float32, copy=False), frozen,
                                min(1.0, alpha_per_row))
        if ceiling_db is not None:
            np.minimum(self.level_db, ceiling_db, out=self.level_db)

    def ceiling(self, wander_spreads: float, min_rise_db: float) -> NDArray[np.float32]:
        """Highest level (dB) each bin may follow up to from this baseline as it is now:
        ``wander_spreads`` of its spread over its level, at least ``min_rise_db``."""
        return (self.level_db + np.maximum(wander_spreads * self.spread_db, min_rise_db)).astype(np.float32)

    def check_fits(self, center_freq_hz: float, sample_rate_hz: float, fft_size: int, frames_per_row: int) -> None:
        """Raise DetectorError unless this baseline was learned at the same tuning and resolution."""
        problems = []
        if self.level_db.shape[0] != fft_size:
            problems.append(f"{self.level_db.shape[0]} bins, the capture is analysed with {fft_size}")
        elif self.known_lines is not None and self.known_lines.shape != self.level_db.shape:
            problems.append(f"{self.known_lines.shape[0]} known-line bins for {fft_size} level bins (a damaged file)")
        if not math.isclose(self.center_freq_hz, center_freq_hz, abs_tol=1.0):
            problems.append(f"centre {self.center_freq_hz:.0f} Hz, the capture is at {center_freq_hz:.0f} Hz")
        if not math.isclose(self.sample_rate_hz, sample_rate_hz, rel_tol=1e-6):
            problems.append(f"rate {self.sample_rate_hz:.0f} S/s, the capture is at {sample_rate_hz:.0f} S/s")
        if self.frames_per_row != frames_per_row:
            problems.append(f"{self.frames_per_row} frames per row, the detector uses {frames_per_row}")
        if problems:
            raise DetectorError(f"{self.source}: baseline does not fit this capture: " + "; ".join(problems))

    def save(self, path: str | Path) -> None:
        """Write to an ``.npz`` file."""
        np.savez(
            Path(path),
            file_version=FILE_VERSION,
            level_db=self.level_db,
            spread_db=self.spread_db,
            center_freq_hz=self.center_freq_hz,
            sample_rate_hz=self.sample_rate_hz,
            frames_per_row=self.frames_per_row,
            box_std=self.box_std if self.box_std is not None else np.zeros((0, 0), np.float32),
            known_lines=self.known_lines if self.known_lines is not None else np.zeros(0, bool),
            **({} if self.skew_db is None else {"skew_db": self.skew_db}),
            **({} if self.bursts is None else {
                "burst_threshold_db": self.bursts.threshold_db, "burst_duty": self.bursts.duty,
                "burst_peak_db": self.bursts.peak_db, "burst_learn_rows": self.bursts.learn_rows}),
        )

    @classmethod
    def load(cls, path: str | Path) -> "Baseline":
        """Read a file written by `save`; DetectorError if it is not one."""
        try:
            with np.load(Path(path)) as data:
                if int(data["file_version"]) != FILE_VERSION:
                    raise DetectorError(f"{path}: baseline file version {int(data['file_version'])}, expected {FILE_VERSION}")
                box_std = data["box_std"]
                # files from before the narrowband CFAR have none: the detector finds the
                # lines of the learned level instead
                lines = data["known_lines"] if "known_lines" in data.files else np.zeros(0, bool)
                # files from before burst learning have none: the next learning rows add them
                bursts = None
                if "burst_duty" in data.files:
                    bursts = LearnedBursts(data["burst_threshold_db"].astype(np.float32),
                                           data["burst_duty"].astype(np.float32),
                                           data["burst_peak_db"].astype(np.float32), int(data["burst_learn_rows"]))
                return cls(
                    data["level_db"].astype(np.float32),
                    data["spread_db"].astype(np.float32),
                    float(data["center_freq_hz"]),
                    float(data["sample_rate_hz"]),
                    int(data["frames_per_row"]),
                    box_std.astype(np.float32) if box_std.size else None,
                    lines.astype(bool) if lines.size else None,
                    bursts=bursts,
                    skew_db=data["skew_db"].astype(np.float32) if "skew_db" in data.files else None,
                    source=str(path),
                )
        except FileNotFoundError:
            raise DetectorError(f"{path}: no such baseline file") from None
        except (OSError, ValueError, KeyError) as exc:
            raise DetectorError(f"{path}: not a baseline file written by --save-baseline ({exc})") from None
