"""Draw the jammer (or new emitter) of a randomised scene: kind, level, band, timing.

The ranges are the issue's (see `spectrum.sim.random_scenes` for the list and the physical
limits). Everything is drawn from the scene's generator, so a seed gives one scene.
"""

from __future__ import annotations

import math

import numpy as np

from spectrum.sim.scene_components import FmVoiceRandom, Gsm, Lines, NoiseBand, Sweep

KIND_WEIGHTS = {"wideband_noise": 0.22, "tone": 0.2, "swept": 0.22, "pulsed": 0.22, "new_emitter": 0.14}
RAMP_SHARE = 0.2
FRAME_SAMPLES = 2048  # the reference FFT frame (random_scenes.REFERENCE_FFT_SIZE)
EDGE = 0.48  # band-limited signals stay inside ±EDGE · sample rate


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def draw_jammer(rng: np.random.Generator, fs: float, duration_s: float):
    """Draw one jammer (several emitters for several CW lines) and its schedule.

    Parameters
    ----------
    rng : numpy.random.Generator
        The scene's generator.
    fs : float
        Sample rate in Hz.
    duration_s : float
        Scene duration drawn so far, in seconds (a ramp may lengthen it).

    Returns
    -------
    emitters : list of Emitter
    duration_s : float
    """
    from spectrum.sim.random_scenes import MAX_DURATION_S, Emitter

    kinds = list(KIND_WEIGHTS)
    kind = kinds[rng.choice(len(kinds), p=list(KIND_WEIGHTS.values()))]
    jnr = float(rng.uniform(-6.0, 30.0))
    ramp_rate, ramp_start = 0.0, 0.0
    if kind != "new_emitter" and rng.random() < RAMP_SHARE:
        start = float(rng.uniform(-15.0, -6.0))
        start = min(start, jnr - 3.0)
        ramp_rate = _log_uniform(rng, 0.2, 5.0)
        ramp_s = min((jnr - start) / ramp_rate, 25.0)
        jnr = start + ramp_rate * ramp_s
        ramp_start = start - jnr
        on = float(rng.uniform(2.5, 4.0))
        off = on + ramp_s + float(rng.uniform(3.0, 6.0))
        duration_s = min(off + float(rng.uniform(0.5, 2.0)), MAX_DURATION_S)
        windows = ((on, min(off, duration_s)),)
    else:
        windows = _windows(rng, duration_s, stays=kind == "new_emitter" and rng.random() < 0.6)
    parts = _DRAW[kind](rng, fs, jnr, duration_s)
    return [Emitter(what, kind, component, windows, ramp_rate, ramp_start,
                    {**params, "ramp_db_per_s": round(ramp_rate, 3)})
            for what, component, params in parts], duration_s


def _windows(rng: np.random.Generator, duration_s: float, stays: bool) -> tuple[tuple[float, float], ...]:
    """On-windows: one (70 %), two (20 %) or three (10 %), each 1–5 s, gaps of 1–4 s."""
    start = float(rng.uniform(2.5, max(3.0, duration_s - 4.0)))
    if stays:
        return ((start, duration_s),)
    count = int(rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1]))
    windows = []
    for _ in range(count):
        off = min(start + float(rng.uniform(1.0, 5.0)), duration_s)
        windows.append((start, off))
        start = off + float(rng.uniform(1.0, 4.0))
        if start > duration_s - 1.0:
            break
    if rng.random() < 0.2:  # still on when the capture ends
        windows[-1] = (windows[-1][0], duration_s)
    return tuple(windows)


def _place(rng: np.random.Generator, fs: float, width_hz: float) -> float:
    """A centre offset that keeps ``±width_hz / 2`` inside ``±EDGE · fs``."""
    room = EDGE * fs - width_hz / 2
    return float(rng.uniform(-room, room)) if room > 0 else 0.0


def _barrage(rng, fs, jnr, duration_s):
    width = _log_uniform(rng, 12.5e3, 2 * fs)
    if width >= 2 * EDGE * fs:
        return [("barrage", NoiseBand(0.0, None, jnr), {"width_hz": fs, "wider_than_band": True})]
    return [("barrage", NoiseBand(_place(rng, fs, width), width, jnr), {"width_hz": round(width), "wider_than_band": False})]


def _pulsed(rng, fs, jnr, duration_s):
    width = _log_uniform(rng, 25e3, 2 * EDGE * fs)
    frame_s = FRAME_SAMPLES / fs
    min_on_s = max(4 / fs, 2 / width)
    for _ in range(100):
        aligned = rng.random() < 1 / 3
        if aligned:
            period = frame_s * 2.0 ** int(rng.integers(-3, 4))
            if not 20e-6 <= period <= 0.2:
                continue
        else:
            period = _log_uniform(rng, 20e-6, 0.2)
        duty = max(_log_uniform(rng, 0.01, 0.8), min_on_s / period)
        if duty <= 0.8:
            break
    delay = float(rng.uniform(0, period))
    params = {"width_hz": round(width), "period_s": period, "duty": round(duty, 4), "frame_aligned": aligned}
    return [("pulsed", NoiseBand(_place(rng, fs, width), width, jnr, period, duty, delay), params)]


def _tone(rng, fs, jnr, duration_s):
    variant = str(rng.choice(["single", "drift", "multi"], p=[0.55, 0.3, 0.15]))
    if variant == "multi":
        count = int(rng.integers(2, 9))
        low = max(5e3, 8 * fs / FRAME_SAMPLES)
        high = 2 * EDGE * fs * 0.9 / count
        spacing = _log_uniform(rng, low, max(high, low * 1.01))
        first = _place(rng, fs, spacing * (count - 1)) - spacing * (count - 1) / 2
        params = {"lines": count, "spacing_hz": round(spacing)}
        return [("multitone", Lines((first + k * spacing,), jnr), params) for k in range(count)]
    drift = 0.0
    if variant == "drift":
        drift = _log_uniform(rng, 10.0, 2000.0) * (1 if rng.random() < 0.5 else -1)
        drift = float(np.clip(drift, -0.5 * EDGE * fs / duration_s, 0.5 * EDGE * fs / duration_s))
    travel = abs(drift) * duration_s
    centre = _place(rng, fs, travel)
    offset = centre - drift * duration_s / 2  # the line's frequency at sample 0
    return [("tone", Lines((offset,), jnr, drift), {"drift_hz_per_s": round(drift, 1)})]


def _swept(rng, fs, jnr, duration_s):
    shape = str(rng.choice(["sawtooth", "triangle"]))
    wide = bool(rng.random() < 0.5)
    for _ in range(200):
        period = _log_uniform(rng, 5e-6, 2.0)
        span = _log_uniform(rng, fs, 10 * fs) if wide else _log_uniform(rng, 20e3, 2 * EDGE * fs)
        if span * period >= 20:
            break
    if wide:
        centre = float(rng.uniform(-(span - fs) / 2, (span - fs) / 2))
    else:
        centre = _place(rng, fs, span)
    params = {"shape": shape, "span_hz": round(span), "period_s": period, "wider_than_band": wide}
    return [("sweep", Sweep(centre, span, period, jnr, shape), params)]


def _new_emitter(rng, fs, jnr, duration_s):
    if fs >= 460e3 and rng.random() < 0.4:
        slots = tuple(int(s) for s in np.flatnonzero(rng.random(8) < 0.6)) or (0,)
        return [("gsm", Gsm(_place(rng, fs, 200e3), jnr, slots), {"busy_slots": len(slots)})]
    deviation = float(rng.choice([2.5e3, 5e3]))
    tones = tuple(float(t) for t in np.sort(rng.uniform(300.0, 3000.0, 3)))
    fm = FmVoiceRandom(0.0, jnr, deviation, tones)
    return [("nbfm", FmVoiceRandom(_place(rng, fs, fm.occupied_hz()), jnr, deviation, tones),
             {"deviation_hz": deviation})]


_DRAW = {"wideband_noise": _barrage, "pulsed": _pulsed, "tone": _tone, "swept": _swept,
         "new_emitter": _new_emitter}


def band_during(component, fs: float, on_s: float, off_s: float) -> tuple[float, float]:
    """The band (offsets, Hz) a component occupies between ``on_s`` and ``off_s``.

    A drifting line covers where it drifted; everything else its nominal band.
    """
    if isinstance(component, Lines):
        freqs = [o + component.drift_hz_per_s * t for o in component.offsets_hz for t in (on_s, off_s)]
        return (min(freqs), max(freqs))
    return component.band_hz(fs)
