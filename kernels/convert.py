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
# cf32 has no rails: float samples have no full scale (recorders store raw receiver units,
# often far above 1.0), so they never count as clipped (only an infinite value would).
SCALING: dict[str, tuple[float, float, float, float]] = {
    "cu8": (127.5, 1.0 / 127.5, 0.0, 255.0),
    "ci8": (0.0, 1.0 / 128.0, -128.0, 127.0),
    "ci16_le": (0.0, 1.0 / 32768.0, -32768.0, 32767.0),
    "cf32_le": (0.0, 1.0, -np.inf, np.inf),
}

RAW_DTYPES: dict[str, type] = {
    "cu8": np.uint8,
    "ci8": np.int8,
    "ci16_le": np.int16,
    "cf32_le": np.float32,
}


# The DC estimate averages every 16th sample of a row: its error (σ/√3700 at 2.4 MS/s rows)
# is far below the noise, and with a Hann window DC only ever reaches bins 0 and ±1, which
# the detector guards anyway; the strided sum costs 1/16 of a full pass.
DC_STRIDE = 16


@njit(cache=True, nogil=True, fastmath=True)
def _group_bias(raw, first, count, offset, remove_dc):
    if not remove_dc:
        return offset, offset
    sum_i = 0.0
    sum_q = 0.0
    n = 0
    for k in range(first, first + count, 2 * DC_STRIDE):
        sum_i += raw[k]
        sum_q += raw[k + 1]
        n += 1
    return sum_i / n, sum_q / n


@njit(cache=True, nogil=True, fastmath=True)
def _convert_block(raw, bias2, scaled_window2, rail_lo, rail_hi, out):
    # loops bounded by the arrays' own shapes: LLVM vectorises this form (measured 7x faster
    # than the same loop over an offset range)
    num_frames, width = out.shape
    rails = 0
    for f in range(num_frames):
        base = f * width
        for k in range(width):
            v = raw[base + k]
            rails += (v <= rail_lo) | (v >= rail_hi)
            out[f, k] = (np.float32(v) - bias2[k]) * scaled_window2[k]
    return rails


@njit(cache=True, nogil=True)
def _convert_groups(raw, offset, scaled_window2, rail_lo, rail_hi, frames_per_group, remove_dc, out, at_rail):
    num_frames, width = out.shape  # width = 2 * fft_size (interleaved I, Q)
    bias2 = np.empty(width, np.float32)
    for g in range(num_frames // frames_per_group):
        first_frame = g * frames_per_group
        bias_i, bias_q = _group_bias(raw, first_frame * width, frames_per_group * width, offset, remove_dc)
        for k in range(0, width, 2):
            bias2[k] = bias_i
            bias2[k + 1] = bias_q
        first, last = first_frame * width, (first_frame + frames_per_group) * width
        at_rail[g] = _convert_block(raw[first:last], bias2, scaled_window2, rail_lo, rail_hi,
                                    out[first_frame : first_frame + frames_per_group])


def convert_frames(
    raw: NDArray,
    datatype: str,
    window: NDArray[np.float32],
    out: NDArray[np.complex64],
    frames_per_group: int | None = None,
    remove_dc: bool = True,
) -> NDArray[np.int64]:
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
    frames_per_group : int, optional
        Frames that share one DC estimate and one clip count (the detector's rows);
        ``num_frames`` must be a multiple of it. Default: all frames are one group.
    remove_dc : bool
        Subtract each group's mean (the tuner's DC offset) before windowing.

    Returns
    -------
    NDArray[np.int64]
        Per group, the I or Q values at a converter rail (clipping); a sample with both at a
        rail counts twice, so divide by ``2 * fft_size * frames_per_group`` for the share.

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
    group = num_frames if frames_per_group is None else frames_per_group
    if group < 1 or num_frames % group:
        raise ValueError(f"{num_frames} frames do not split into groups of {group}")
    needed = 2 * num_frames * fft_size
    if raw.ndim != 1 or raw.shape[0] < needed:
        raise ValueError(f"raw holds {raw.size} values, {num_frames} frames of {fft_size} need {needed}")
    raw = np.ascontiguousarray(raw[:needed])
    offset, scale, rail_lo, rail_hi = SCALING[datatype]
    rail_lo, rail_hi = raw.dtype.type(rail_lo), raw.dtype.type(rail_hi)  # compare in the raw type
    # value_fs = ((raw - bias) * scale) * window, bias = offset + DC in raw units
    scaled_window2 = np.repeat(np.asarray(window, dtype=np.float32) * np.float32(scale), 2)
    at_rail = np.empty(num_frames // group, np.int64)
    _convert_groups(raw, offset, scaled_window2, rail_lo, rail_hi, group, remove_dc, out.view(np.float32), at_rail)
    return at_rail
