"""Per-band PSD summaries for the desk's waterfalls, from the hops' accumulated rows."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from kernels.psd import window_gains


def _kept_bins(state: Any, dc_guard_hz: float) -> tuple[np.ndarray, np.ndarray, float]:
    """A hop's mean power since the last summary over its kept bins (DC bin interpolated)."""
    hop, band = state.hop, state.hop.band
    p = state.psd_acc / state.psd_rows
    n = p.size
    f = hop.center_freq_hz + (np.arange(n) - n // 2) * band.sample_rate_hz / n
    dc = np.abs(f - hop.center_freq_hz) <= dc_guard_hz
    if dc.any() and (~dc).any():
        p = p.copy()
        p[dc] = np.interp(f[dc], f[~dc], p[~dc])
    keep = (f >= hop.keep_low_hz) & (f < hop.keep_high_hz)
    return f[keep], p[keep], band.sample_rate_hz / n


def spectrum_summaries(states: Iterable[Any], dc_guard_hz: float, spectrum_bins: int,
                       when_iso: str) -> list[dict]:
    """One PSD summary per band from the rows accumulated since the last call (and reset them).

    Each hop's kept bins (DC bin interpolated), in frequency order, averaged in linear power
    over groups of ``k`` adjacent bins so a band has at most ``spectrum_bins``; ``power_dbfs``
    is ``10 log10`` of that (the detector's and the stitcher's scale).

    Parameters
    ----------
    states : iterable of HopState
        The hops, with ``psd_acc`` (summed linear power per bin) and ``psd_rows``.
    dc_guard_hz : float
        Bins this close to a hop's centre are interpolated over.
    spectrum_bins : int
        Most bins per band.
    when_iso : str
        ISO-8601 UTC time stamped on the summaries.

    Returns
    -------
    list of dict
        ``band``, ``time``, ``freq_start_hz``, ``freq_step_hz``, ``power_dbfs``.
    """
    per_band: dict[str, list[tuple]] = {}
    for state in states:
        if state.psd_rows == 0:
            continue
        per_band.setdefault(state.hop.band.name, []).append(_kept_bins(state, dc_guard_hz))
        state.psd_acc[:] = 0.0
        state.psd_rows = 0
    out = []
    for name, parts in per_band.items():
        f = np.concatenate([x[0] for x in parts])
        p = np.concatenate([x[1] for x in parts])
        order = np.argsort(f, kind="stable")
        f, p = f[order], p[order]
        k = max(1, math.ceil(f.size / max(1, spectrum_bins)))
        m = f.size // k
        if m == 0:
            continue
        p = p[: m * k].reshape(m, k).mean(axis=1)
        f = f[: m * k].reshape(m, k).mean(axis=1)
        step = parts[0][2] * k
        out.append({"band": name, "time": when_iso, "freq_start_hz": round(float(f[0]), 1),
                    "freq_step_hz": round(float(step), 3),
                    "power_dbfs": np.round(10 * np.log10(np.maximum(p, 1e-20)), 2).tolist()})
    return out


def spectrum_levels(state: Any, calibration: Any, gain_db: float | None) -> dict:
    """Fields that turn a band's ``power_dbfs`` into dBm/Hz, or say it is uncalibrated.

    ``power_dbfs`` is per-bin power on a tone's scale, so noise of density ``D`` reads
    ``D * ENBW`` in a bin (ENBW: the window's noise bandwidth, Hz). With a calibration,
    ``power_dbfs + dbm_per_hz_offset_db`` is the density at the antenna port in dBm/Hz.

    Parameters
    ----------
    state : HopState
        One of the band's hops (its front end's window, its band's rate and FFT size).
    calibration : Calibration or None
        :class:`~spectrum.live.dongle_calibration.Calibration` of this dongle.
    gain_db : float or None
        Manual gain, dB (None under the AGC: no fixed gain to look the offset up at).

    Returns
    -------
    dict
        ``{"calibrated": False}``, or ``calibrated`` True and ``dbm_per_hz_offset_db``.
    """
    if calibration is None or gain_db is None:
        return {"calibrated": False}
    band = state.hop.band
    enbw_hz = window_gains(state.frontend.window)[1] * band.sample_rate_hz / band.fft_size
    centre_hz = (band.low_hz + band.high_hz) / 2  # the offset moves ~2 dB/GHz: one per band is enough
    offset_db = calibration.offset_db(gain_db, centre_hz) - 10 * math.log10(enbw_hz)
    return {"calibrated": True, "dbm_per_hz_offset_db": round(offset_db, 2)}
