"""Per-row baseline updates: the common-mode gain offset and the slow follow of quiet bins."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def _quiet_median_offset(level_db, baseline_db, excluded, stride, min_count):
    values = np.empty(level_db.shape[0] // stride + 1, np.float32)
    n = 0
    for k in range(0, level_db.shape[0], stride):
        if not excluded[k]:
            values[n] = level_db[k] - baseline_db[k]
            n += 1
    if n < min_count:
        return np.nan
    return np.median(values[:n])


def quiet_median_offset(
    level_db: NDArray[np.float32], baseline_db: NDArray[np.float32], excluded: NDArray[np.bool_], stride: int = 4,
    min_count: int = 16,
) -> float:
    """Median of ``level_db - baseline_db`` over every ``stride``-th bin not excluded (dB).

    Returns NaN when fewer than ``min_count`` such bins are left (too few for a median).
    """
    if level_db.shape != baseline_db.shape or level_db.shape != excluded.shape or level_db.ndim != 1:
        raise ValueError("level_db, baseline_db and excluded must be 1-D arrays of one length")
    if stride < 1:
        raise ValueError(f"stride must be ≥ 1, got {stride}")
    return float(_quiet_median_offset(level_db, baseline_db, excluded, stride, max(min_count, 1)))


@njit(cache=True, nogil=True, fastmath=True)
def _follow(level_db, spread_db, row_db, frozen, step):
    for k in range(level_db.shape[0]):
        if not frozen[k]:
            limit = 3.0 * spread_db[k]
            innovation = min(max(row_db[k] - level_db[k], -limit), limit)
            level_db[k] += step * innovation


def follow(
    level_db: NDArray[np.float32], spread_db: NDArray[np.float32], row_db: NDArray[np.float32],
    frozen: NDArray[np.bool_], step: float,
) -> None:
    """Move ``level_db`` toward ``row_db`` by ``step`` of the innovation, in place.

    Innovations are clipped to ±3 ``spread_db`` (a burst cannot drag the baseline); frozen
    bins (under a detection) do not move.
    """
    if not (level_db.shape == spread_db.shape == row_db.shape == frozen.shape) or level_db.ndim != 1:
        raise ValueError("level_db, spread_db, row_db and frozen must be 1-D arrays of one length")
    if level_db.dtype != np.float32:
        raise ValueError(f"level_db must be float32 (updated in place), got {level_db.dtype}")
    _follow(level_db, spread_db, row_db, frozen, np.float32(step))
