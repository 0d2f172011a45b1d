"""Power spectra of FFT frames reduced to rows: Welch mean, Σ|X|⁴ for spectral kurtosis,
max-hold, and per-frame total power for time-domain features (pulses, bursts).

Bins come out in frequency order (index 0 is -fs/2, index N/2 is the centre), so no
separate fftshift pass is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True, fastmath=True)
def _accumulate_rows(spectra_f32, frames_per_row, power_scale, mean, s2, peak, frame_power):
    num_frames, width = spectra_f32.shape
    n = width // 2
    half = n // 2
    # accumulate in the FFT's natural bin order (one straight loop per frame, vectorised);
    # the fftshift happens once per row when the results are written
    acc1 = np.zeros(n, dtype=np.float32)  # float32 is exact enough for M ≤ a few hundred
    acc2 = np.zeros(n, dtype=np.float32)
    mx = np.zeros(n, dtype=np.float32)
    for r in range(num_frames // frames_per_row):
        acc1[:] = 0.0
        acc2[:] = 0.0
        mx[:] = 0.0
        for j in range(frames_per_row):
            f = r * frames_per_row + j
            x = spectra_f32[f]
            total = np.float32(0.0)
            for k in range(n):
                p = (x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1]) * power_scale
                acc1[k] += p
                acc2[k] += p * p
                mx[k] = max(mx[k], p)
                total += p
            frame_power[f] = total
        inv_m = np.float32(1.0 / frames_per_row)
        for k in range(n):
            dst = k + half if k < half else k - half
            mean[r, dst] = acc1[k] * inv_m
            s2[r, dst] = acc2[k]
            peak[r, dst] = mx[k]


@dataclass
class RawRows:
    """The raw IQ behind a batch of rows (a view of the source's block, not a copy), for the
    few features that need the signal itself (spectrum.detect.carrier_envelope)."""

    values: NDArray  # interleaved I,Q of the rows, in the capture's datatype
    datatype: str
    window: NDArray[np.float32]  # the analysis window the rows were made with

    def row(self, r: int, samples_per_row: int) -> "RawRows":
        """Row ``r`` alone."""
        return RawRows(self.values[2 * r * samples_per_row : 2 * (r + 1) * samples_per_row], self.datatype,
                       self.window)


@dataclass
class PowerRows:
    """Per-row reductions of ``frames_per_row`` consecutive power spectra (bins in frequency order).

    Power is tone-calibrated: a complex exponential of amplitude A centred in a bin reads A²
    (0 dBFS at full scale). ``frame_power`` is the mean power per sample of each frame
    (white noise of variance σ² reads σ²).
    """

    mean: NDArray[np.float32]  # (rows, bins) Welch average Σp/M
    s2: NDArray[np.float32]  # (rows, bins) Σp² over the row's frames (spectral kurtosis)
    peak: NDArray[np.float32]  # (rows, bins) max-hold
    frame_power: NDArray[np.float32]  # (frames,) mean power per sample of each frame
    frames_per_row: int
    envelope_kurtosis: NDArray[np.float32] | None = None  # (rows,) see kernels.envelope
    raw: RawRows | None = None  # the IQ they came from, while its block is at hand


def window_gains(window: NDArray[np.floating]) -> tuple[float, float]:
    """Return (tone scale, ENBW in bins) of a window.

    The tone scale ``1/(Σw)²`` makes a bin-centred tone read its power; the equivalent noise
    bandwidth ``N·Σw²/(Σw)²`` converts summed bin power back to sample power.
    """
    w = np.asarray(window, dtype=np.float64)
    coherent = w.sum() ** 2
    return 1.0 / coherent, len(w) * float(np.sum(w * w)) / coherent


def power_rows(spectra: NDArray[np.complex64], frames_per_row: int, window: NDArray[np.floating]) -> PowerRows:
    """Reduce FFT frames to rows of Welch mean, Σp², max-hold and per-frame features.

    Parameters
    ----------
    spectra : NDArray[np.complex64]
        FFT output, shape ``(num_frames, fft_size)``, natural (unshifted) bin order.
    frames_per_row : int
        Frames averaged into one row (M in the spectral-kurtosis formulas);
        ``num_frames`` must be a multiple of it.
    window : NDArray
        The window the frames were taken with (sets the power calibration).

    Returns
    -------
    PowerRows
        Rows in frequency order.

    Raises
    ------
    ValueError
        For a non-2-D or non-complex64 input, or frames not a multiple of ``frames_per_row``.
    """
    if spectra.dtype != np.complex64 or spectra.ndim != 2:
        raise ValueError(f"spectra must be a 2-D complex64 array, got {spectra.dtype} {spectra.shape}")
    num_frames, fft_size = spectra.shape
    if fft_size % 2:
        raise ValueError(f"fft_size must be even, got {fft_size}")
    if frames_per_row < 1 or num_frames % frames_per_row:
        raise ValueError(f"{num_frames} frames do not split into rows of {frames_per_row}")
    tone_scale, enbw_bins = window_gains(window)
    num_rows = num_frames // frames_per_row
    mean = np.empty((num_rows, fft_size), np.float32)
    s2 = np.empty((num_rows, fft_size), np.float32)
    peak = np.empty((num_rows, fft_size), np.float32)
    frame_power = np.empty(num_frames, np.float32)
    spectra_f32 = np.ascontiguousarray(spectra).view(np.float32)
    _accumulate_rows(spectra_f32, frames_per_row, np.float32(tone_scale), mean, s2, peak, frame_power)
    frame_power /= np.float32(enbw_bins)
    return PowerRows(mean, s2, peak, frame_power, frames_per_row)
