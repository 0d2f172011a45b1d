"""The recent rows of excess (dB over the baseline) and z-score, with running K-row sums.

The multi-scale test (kernels.multiscale) reads box means over the last K rows; the region
features, the occupied bandwidth and the onset search read the same history. The running
sums are float32 and updated by the kernel as rows arrive; `resync` recomputes them exactly
from the history, which bounds the rounding error a long session gathers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from spectrum.detect.history import RowHistory


class ExcessHistory:
    """The last ``keep`` rows of z and excess, and the running sums over each time scale."""

    def __init__(self, keep: int, fft_size: int, time_scales: NDArray[np.int64]) -> None:
        self.keep = keep  # rows kept for K-row means and onset estimates
        self.time_scales = time_scales
        self._z = RowHistory(keep, fft_size, np.float32)
        self._e = RowHistory(keep, fft_size, np.float32)
        self.valid_rows = 0  # baseline-normalised rows in the history (at most its length)
        self.sums_z = np.zeros((len(time_scales), fft_size), np.float32)  # running K-row sums
        self.sums_e = np.zeros_like(self.sums_z)

    @property
    def z(self) -> NDArray[np.float32]:
        """Kept z rows, oldest first (a view, valid until the next push)."""
        return self._z.rows

    @property
    def e(self) -> NDArray[np.float32]:
        """Kept excess rows (dB), oldest first (a view, valid until the next push)."""
        return self._e.rows

    def __len__(self) -> int:
        return len(self._z)

    def push(self, z: NDArray[np.float32], excess: NDArray[np.float32]) -> None:
        """Append rows of z and excess (2-D, one row per time step)."""
        self._z.append(z)
        self._e.append(excess)
        self.valid_rows = min(self.valid_rows + len(z), len(self._z))

    def resync(self) -> None:
        """Recompute the running K-row sums from the kept rows."""
        for a, k in enumerate(self.time_scales):
            k = min(int(k), self.valid_rows)
            self.sums_z[a] = self.z[-k:].sum(axis=0)
            self.sums_e[a] = self.e[-k:].sum(axis=0)
