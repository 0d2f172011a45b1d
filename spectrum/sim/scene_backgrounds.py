"""Draw the legitimate backgrounds of a randomised scene: signals that look like interference.

GSM TDMA bursts, TDD LTE-like frames, hopping OFDM bursts, NBFM voice, OOK and 2-FSK ISM
packets, ADS-B-like replies and DME-like pulse pairs, each at 5–30 dB over the floor in its
reference band (see `spectrum.sim.scene_components`). All are on from sample 0; the bursty ones
repeat at least every second, so a detector meets them while it learns its baseline. With
``strong`` one more carrier (NBFM or GSM) is set to −12…+3 dBFS, and the 8-bit ADC clips.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from spectrum.sim.scene_components import AviationPulses, FmVoiceRandom, Gsm, KeyedBursts, OfdmBursts, TddOfdm
from spectrum.sim.scene_jammers import EDGE, _log_uniform, _place

# TS 36.211 table 4.2-2: uplink-downlink configurations 0-6 (subframes 0..9)
TDD_PATTERNS = ("DSUUUDSUUU", "DSUUDDSUUD", "DSUDDDSUDD", "DSUUUDDDDD", "DSUUDDDDDD", "DSUDDDDDDD", "DSUUUDSUUD")
LTE_OCCUPIED_HZ = (1.08e6, 2.7e6, 4.5e6)
MAX_BACKGROUND_DBFS = -15.0
"""Ordinary backgrounds stay at or below this power (the receiver's gain is set for them)."""


def draw_backgrounds(rng: np.random.Generator, fs: float, duration_s: float, floor_dbfs: float,
                     strong: bool) -> list:
    """Zero to four legitimate backgrounds (and a clipping carrier when ``strong``).

    Parameters
    ----------
    rng : numpy.random.Generator
    fs : float
        Sample rate in Hz.
    duration_s : float
        Scene duration in seconds (burst schedules cover it).
    floor_dbfs : float
        Noise floor power in dBFS (to set the strong carrier's absolute level).
    strong : bool
        Add a carrier strong enough to clip the ADC.

    Returns
    -------
    list of Emitter
    """
    from spectrum.sim.random_scenes import Emitter

    out = []
    names = list(_DRAW)
    for _ in range(int(rng.integers(0, 5))):
        name = names[int(rng.integers(len(names)))]
        drawn = _DRAW[name](rng, fs, duration_s, float(rng.uniform(5.0, 30.0)))
        if drawn is not None:
            component, params = _below_clipping(drawn, fs, floor_dbfs)
            out.append(Emitter(name, None, component, params={**params, "level_db": round(component.level_db, 1)}))
    if strong:
        power_dbfs = float(rng.uniform(-12.0, 3.0))
        if fs >= 460e3 and rng.random() < 0.5:
            level = power_dbfs - floor_dbfs - 10 * math.log10(200e3 / fs)
            component = Gsm(_place(rng, fs, 200e3), level, tuple(range(8)))
        else:
            fm = FmVoiceRandom(0.0, 0.0, 5e3, (400.0, 1100.0, 2400.0))
            level = power_dbfs - floor_dbfs - 10 * math.log10(fm.occupied_hz() / fs)
            component = FmVoiceRandom(_place(rng, fs, fm.occupied_hz()), level, 5e3, fm.tones_hz)
        out.append(Emitter("strong_carrier", None, component, params={"power_dbfs": round(power_dbfs, 1)}))
    return out


def _below_clipping(drawn, fs: float, floor_dbfs: float):
    """Lower a background's level so its power stays at or under ``MAX_BACKGROUND_DBFS``.

    Only the strong carrier is meant to clip; a receiver's gain is set for its usual signals.
    """
    component, params = drawn
    low, high = component.band_hz(fs)
    reference_hz = min(high - low, fs) if not isinstance(component, Gsm) else 200e3
    power_dbfs = floor_dbfs + component.level_db + 10 * math.log10(reference_hz / fs)
    if power_dbfs > MAX_BACKGROUND_DBFS:
        component = replace(component, level_db=component.level_db - (power_dbfs - MAX_BACKGROUND_DBFS))
    return component, params


def _gsm(rng, fs, duration_s, level):
    if fs < 460e3:
        return None
    slots = tuple(int(s) for s in np.flatnonzero(rng.random(8) < 0.5)) or (int(rng.integers(8)),)
    return Gsm(_place(rng, fs, 200e3), level, slots), {"busy_slots": len(slots)}


def _tdd(rng, fs, duration_s, level):
    fitting = [w for w in LTE_OCCUPIED_HZ if w <= 2 * EDGE * fs]
    width = float(rng.choice(fitting)) if fitting else 2 * EDGE * fs * 0.9
    k = int(rng.integers(len(TDD_PATTERNS)))
    component = TddOfdm(_place(rng, fs, width), width, level, TDD_PATTERNS[k], float(rng.uniform(0.2, 0.85)),
                        float(rng.uniform(0, 10e-3)))
    return component, {"width_hz": round(width), "config": k}


def _ofdm_bursts(rng, fs, duration_s, level):
    width = _log_uniform(rng, fs / 30, 0.6 * fs)
    channels = int(rng.integers(1, 5))
    offsets = tuple(_place(rng, fs, width) for _ in range(channels))
    rate = _log_uniform(rng, 10.0, 300.0)
    starts, stops = _poisson_bursts(rng, fs, duration_s, rate, 0.2e-3, 5e-3)
    channel = rng.integers(0, channels, starts.size)
    return OfdmBursts(offsets, width, level, starts, stops, channel), {"width_hz": round(width), "channels": channels,
                                                                        "bursts_per_s": round(rate, 1)}


def _poisson_bursts(rng, fs, duration_s, rate, shortest_s, longest_s):
    """Non-overlapping bursts at Poisson times, durations log-uniform; (starts, stops) in samples."""
    starts, stops, t = [], [], float(rng.exponential(1 / rate))
    while t < duration_s:
        length = _log_uniform(rng, shortest_s, longest_s)
        starts.append(int(t * fs))
        stops.append(int((t + length) * fs) + 1)
        t += length + float(rng.exponential(1 / rate))
    return np.array(starts, np.int64), np.array(stops, np.int64)


def _nbfm(rng, fs, duration_s, level):
    deviation = float(rng.choice([2.5e3, 5e3]))
    tones = tuple(float(t) for t in np.sort(rng.uniform(300.0, 3000.0, 3)))
    occupied = 2 * (deviation + tones[-1])
    return FmVoiceRandom(_place(rng, fs, occupied), level, deviation, tones), {"deviation_hz": deviation}


def _keyed(rng, fs, duration_s, level):
    modulation = str(rng.choice(["ook", "fsk"]))
    if modulation == "ook":
        bit_rate, deviation = _log_uniform(rng, 1e3, 20e3), 0.0
    else:
        bit_rate, deviation = _log_uniform(rng, 2e3, 50e3), _log_uniform(rng, 5e3, 50e3)
    occupied = 2 * (bit_rate + deviation)
    if occupied > 0.8 * fs:
        return None
    nbits = int(rng.integers(32, 257))
    packet_s = nbits / bit_rate
    period = max(_log_uniform(rng, 0.1, 1.0), 2 * packet_s)
    times = np.arange(float(rng.uniform(0, period)), duration_s, period)
    times = times + rng.uniform(-0.2, 0.2, times.size) * period * 0.5
    starts = np.sort((times * fs).astype(np.int64).clip(0))
    stops = starts + int(packet_s * fs)
    bits = (rng.random((max(starts.size, 1), nbits)) < 0.5).astype(np.int8)
    component = KeyedBursts(modulation, _place(rng, fs, occupied), level, bit_rate, deviation, starts, stops, bits)
    return component, {"modulation": modulation, "bit_rate_hz": round(bit_rate), "period_s": round(period, 3)}


def _aviation(rng, fs, duration_s, level):
    offset = float(rng.uniform(-0.4, 0.4) * fs)
    if rng.random() < 0.5:  # ADS-B-like: 8 µs preamble (4 pulses) + 112 PPM bits, 0.5 µs pulses
        rate = _log_uniform(rng, 10.0, 300.0)
        arrivals = np.cumsum(rng.exponential(1 / rate, int(rate * duration_s * 1.5) + 2))
        arrivals = arrivals[arrivals < duration_s]
        preamble = np.array([0.0, 1.0, 3.5, 4.5])
        centres = []
        for t0 in arrivals:
            bits = rng.random(112) < 0.5
            chips = 8.0 + np.arange(112) + np.where(bits, 0.0, 0.5)
            centres.append(t0 * 1e6 + np.concatenate([preamble, chips]) + 0.25)
        width_s = 0.5e-6 / 2.355
        kind = "adsb"
    else:  # DME-like: Gaussian pulse pairs, 3.5 µs half-amplitude width, 12 or 36 µs apart
        rate = _log_uniform(rng, 100.0, 2700.0)
        arrivals = np.cumsum(rng.exponential(1 / rate, int(rate * duration_s * 1.5) + 2))
        arrivals = arrivals[arrivals < duration_s] * 1e6
        spacing = float(rng.choice([12.0, 36.0]))
        centres = [arrivals, arrivals + spacing]
        width_s = 3.5e-6 / 2.355
        kind = "dme"
    us = np.sort(np.concatenate(centres)) if len(centres) else np.zeros(0)
    return AviationPulses(offset, level, width_s, us * 1e-6 * fs), {"type": kind, "per_s": round(rate, 1)}


_DRAW = {"gsm": _gsm, "tdd_lte": _tdd, "ofdm_bursts": _ofdm_bursts, "nbfm": _nbfm, "ism_packets": _keyed,
         "aviation": _aviation}
