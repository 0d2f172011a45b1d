"""Envelope kurtosis of short windows: constant-envelope (≈1) versus noise-like (≈2) energy.

Within each window of L samples, κ = L·Σ|x|⁴ / (Σ|x|²)² is 1 for a constant envelope (a tone,
FM, a chirp passing through) and 2 for complex Gaussian noise. Per frame the kernel returns
the windows' κ averaged with weights (Σ|x|²)², so the strongest windows — a pulse, a sweep's
pass through the band — decide. This tells a sweep wider than the band (short constant-
envelope bursts) from pulsed noise, which share an averaged spectrum and a pulsing envelope.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from kernels.convert import RAW_DTYPES, SCALING

WINDOW_SAMPLES = 32  # 13 µs at 2.4 MS/s: short against a pulse, long enough to average noise


@njit(cache=True, nogil=True, fastmath=True)
def _envelope_kurtosis(raw, scale, frame_samples, frame_stride, window, out):
    for j in range(out.shape[0]):
        weight = 0.0
        fourth = 0.0
        base = 2 * j * frame_stride * frame_samples
        # the frame's own mean is its DC offset (removed, as the front end does)
        sum_i = 0.0
        sum_q = 0.0
        for n in range(frame_samples):
            sum_i += raw[base + 2 * n]
            sum_q += raw[base + 2 * n + 1]
        bias_i = np.float32(sum_i / frame_samples)
        bias_q = np.float32(sum_q / frame_samples)
        for w0 in range(0, frame_samples, window):
            m2 = np.float32(0.0)
            m4 = np.float32(0.0)
            for n in range(w0, w0 + window):
                xi = (np.float32(raw[base + 2 * n]) - bias_i) * scale
                xq = (np.float32(raw[base + 2 * n + 1]) - bias_q) * scale
                p = xi * xi + xq * xq
                m2 += p
                m4 += p * p
            weight += m2 * m2 / window
            fourth += m4
        out[j] = fourth / weight if weight > 0 else 1.0


def envelope_kurtosis(
    raw: NDArray, datatype: str, frame_samples: int, num_frames: int, frame_stride: int = 1
) -> NDArray[np.float32]:
    """Power-weighted short-window envelope kurtosis of every ``frame_stride``-th frame.

    Parameters
    ----------
    raw : NDArray
        Interleaved I,Q in the capture's native type, at least ``2·frame_samples·num_frames``.
    datatype : str
        ``cu8``, ``ci8``, ``ci16_le`` or ``cf32_le``.
    frame_samples : int
        Samples per frame (a multiple of the 32-sample window).
    num_frames : int
        Frames in ``raw``.
    frame_stride : int
        Analyse frames 0, stride, 2·stride, … (a feature for classification needs no more,
        and the pass costs a quarter at stride 4).

    Returns
    -------
    NDArray[np.float32]
        κ of each analysed frame: 1 constant envelope, 2 Gaussian noise.
    """
    if datatype not in SCALING or raw.dtype != RAW_DTYPES[datatype]:
        raise ValueError(f"raw of dtype {raw.dtype} does not match datatype {datatype!r}")
    if frame_samples % WINDOW_SAMPLES:
        raise ValueError(f"frame_samples {frame_samples} is not a multiple of {WINDOW_SAMPLES}")
    needed = 2 * frame_samples * num_frames
    if raw.ndim != 1 or raw.size < needed:
        raise ValueError(f"raw holds {raw.size} values, {num_frames} frames need {needed}")
    _, scale, _, _ = SCALING[datatype]
    raw = np.ascontiguousarray(raw[:needed])
    if frame_stride < 1:
        raise ValueError(f"frame_stride must be ≥ 1, got {frame_stride}")
    out = np.empty((num_frames + frame_stride - 1) // frame_stride, np.float32)
    _envelope_kurtosis(raw, np.float32(scale), frame_samples, frame_stride, WINDOW_SAMPLES, out)
    return out
