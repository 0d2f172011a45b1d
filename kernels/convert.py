"""Raw interleaved IQ → windowed float32 frames, with DC removal and clip counting.

The first stage of the fused front end: one pass over the raw bytes writes the frames the FFT
reads, so the samples are touched once before the transform.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

# Datatype → (offset, scale, rail_low, rail_high): value_fs = (raw - offset) * scale.
# Full scale is 1.0 per rail; a raw value at or beyond a rail counts as clipped.
# cf32 has no hard rails: |I| or |Q| >= 1.0 is taken as full scale (a converter's limit).
SCALING: dict[str, tuple[float, float, float, float]] = {
    "cu8": (127.5, 1.0 / 127.5, 0.0, 255.0),
    "ci8": (0.0, 1.0 / 128.0, -128.0, 127.0),
    "ci16_le": (0.0, 1.0 / 32768.0, -32768.0, 32767.0),
    "cf32_le": (0.0, 1.0, -1.0, 1.0),
}

RAW_DTYPES: dict[str, type] = {
    "cu8": np.uint8,
    "ci8": np.int8,
    "ci16_le": np.int16,
    "cf32_le": np.float32,
}


@njit(cache=True, nogil=True, fastmath=True)
def _sums_iq(raw):
    # starts as int64: integer data sums exactly (and vectorises); float data unifies to float64
    acc_i = 0
    acc_q = 0
    for k in range(raw.shape[0] // 2):
        acc_i += raw[2 * k]
        acc_q += raw[2 * k + 1]
    return acc_i, acc_q


@njit(cache=True, nogil=True, fastmath=True)
def _convert_frames(raw, bias2, scaled_window2, rail_lo, rail_hi, out):
    num_frames, width = out.shape  # width = 2 * fft_size (interleaved I, Q)
    at_rail = 0
    for f in range(num_frames):
        base = f * width
        for k in range(width):
            v = raw[base + k]
            at_rail += (v <= rail_lo) | (v >= rail_hi)
            out[f, k] = (np.float32(v) - bias2[k]) * scaled_window2[k]
    return at_rail


def convert_frames(
    raw: NDArray,
    datatype: str,
    window: NDArray[np.float32],
    out: NDArray[np.complex64],
    remove_dc: bool = True,
) -> int:
    """Convert raw interleaved IQ into windowed complex64 frames, in place in `out`.

    Parameters
    ----------
    raw : NDArray
        Interleaved I,Q samples in the capture's native type (uint8 for cu8, int8 for ci8,
        int16 for ci16_le, float32 for cf32_le); length at least ``2 * out.size``.
    datatype : str
        SigMF datatype name: ``cu8``, ``ci8``, ``ci16_le`` or ``cf32_le``.
    window : NDArray[np.float32]
        Window of length ``fft_size`` (``out.shape[1]``).
    out : NDArray[np.complex64]
        Frames to fill, shape ``(num_frames, fft_size)``, C-contiguous.
    remove_dc : bool
        Subtract the mean of the samples converted (the tuner's DC offset) before windowing.

    Returns
    -------
    int
        Number of I or Q values at a converter rail (clipping); a sample with both I and Q
        at a rail counts twice, so divide by ``2 * out.size`` for the clipped fraction.

    Raises
    ------
    ValueError
        If shapes, dtypes or the datatype do not fit.
    """
    if datatype not in SCALING:
        raise ValueError(f"unknown datatype {datatype!r}; expected one of {sorted(SCALING)}")
    if raw.dtype != RAW_DTYPES[datatype]:
        raise ValueError(f"raw samples are {raw.dtype}, datatype {datatype} needs {np.dtype(RAW_DTYPES[datatype])}")
    if out.dtype != np.complex64 or out.ndim != 2 or not out.flags.c_contiguous:
        raise ValueError("out must be a C-contiguous complex64 array of shape (num_frames, fft_size)")
    num_frames, fft_size = out.shape
    if window.shape != (fft_size,):
        raise ValueError(f"window has shape {window.shape}, frames need ({fft_size},)")
    needed = 2 * num_frames * fft_size
    if raw.ndim != 1 or raw.shape[0] < needed:
        raise ValueError(f"raw holds {raw.size} values, {num_frames} frames of {fft_size} need {needed}")
    raw = np.ascontiguousarray(raw[:needed])
    offset, scale, rail_lo, rail_hi = SCALING[datatype]
    # value_fs = (raw - offset)*scale - dc  ==  (raw - bias)*scale  with bias = offset + dc/scale
    bias_i = bias_q = offset
    if remove_dc:
        sum_i, sum_q = _sums_iq(raw)
        bias_i, bias_q = sum_i / (needed // 2), sum_q / (needed // 2)
    bias2 = np.empty(2 * fft_size, np.float32)
    bias2[0::2], bias2[1::2] = bias_i, bias_q
    scaled_window2 = np.repeat(np.asarray(window, dtype=np.float32) * np.float32(scale), 2)
    return int(_convert_frames(raw, bias2, scaled_window2, rail_lo, rail_hi, out.view(np.float32)))
