"""Plain NumPy references for the kernels: slow, obvious, and the yardstick of the tests."""

from __future__ import annotations

import numpy as np

from kernels.convert import DC_STRIDE, SCALING


def naive_convert(raw: np.ndarray, datatype: str, window: np.ndarray, num_frames: int) -> tuple[np.ndarray, int]:
    offset, scale, lo, hi = SCALING[datatype]
    n = window.size
    vals = raw[: 2 * n * num_frames].astype(np.float64)
    x = (vals[0::2] - offset) * scale + 1j * (vals[1::2] - offset) * scale
    x = x - x[::DC_STRIDE].mean()  # the kernel's DC estimate: every DC_STRIDE-th sample
    frames = x.reshape(num_frames, n) * window
    at_rail = int(np.count_nonzero((vals <= lo) | (vals >= hi)))
    return frames, at_rail


def naive_power_rows(frames: np.ndarray, frames_per_row: int, window: np.ndarray):
    p = np.abs(np.fft.fftshift(np.fft.fft(frames, axis=1), axes=1)) ** 2 / window.sum() ** 2
    rows = p.reshape(-1, frames_per_row, p.shape[1])
    enbw = window.size * np.sum(window**2) / window.sum() ** 2
    return rows.mean(axis=1), (rows**2).sum(axis=1), rows.max(axis=1), p.sum(axis=1) / enbw
