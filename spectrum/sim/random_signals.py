"""Waveforms the randomised scenes need beyond `spectrum.sim.signals`.

Same conventions as that module: pure functions of absolute sample indices ``n`` (int64),
full-scale units, frequencies as offsets from the tuner's centre in Hz. Phases are reduced to
cycles in float64 before `signals.phasor` turns them into samples, so a long capture keeps
its accuracy.

* `sweep` — a linear chirp, sawtooth or triangle, with the tuner's anti-alias roll-off at the
  band edges (a sweep wider than the band enters it as bursts);
* `drifting_tone` — a CW line whose frequency moves linearly with time;
* `pulse_train` — Gaussian pulses (DME pairs, ADS-B-like chips) at given sample times.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectrum.sim.signals import _as_indices, phasor


def _band_edge_gain(instantaneous_hz: NDArray[np.float64], sample_rate_hz: float) -> NDArray[np.float64]:
    """Raised-cosine roll-off from 90 % to 100 % of Nyquist, zero beyond (as `signals.chirp`)."""
    edge_hz = sample_rate_hz / 2
    beyond = np.clip((np.abs(instantaneous_hz) - 0.9 * edge_hz) / (0.1 * edge_hz), 0.0, 1.0)
    return np.cos(0.5 * np.pi * beyond) ** 2


def sweep(n: ArrayLike, sample_rate_hz: float, center_hz: float, span_hz: float, period_s: float,
          amplitude: float, shape: str = "sawtooth") -> NDArray[np.complex128]:
    """Linear frequency sweep repeating with ``period_s``, phase-continuous.

    Parameters
    ----------
    n : array of int
        Absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    center_hz : float
        Centre of the sweep, offset from the tuner's centre, in Hz.
    span_hz : float
        Swept width in Hz (may exceed the captured band).
    period_s : float
        Repetition period in seconds (a triangle goes up and back down in one period).
    amplitude : float
        Amplitude in full-scale units while inside the band.
    shape : {"sawtooth", "triangle"}
        Sawtooth: up, then a jump back; triangle: up for half the period, down for the other.

    Returns
    -------
    numpy.ndarray of complex128
    """
    if shape not in ("sawtooth", "triangle"):
        raise ValueError(f"shape={shape!r} must be 'sawtooth' or 'triangle'")
    indices = _as_indices(n)
    time_s = indices / sample_rate_hz
    count = np.floor(time_s / period_s)
    u = time_s - count * period_s  # seconds into the current period
    low_hz = center_hz - span_hz / 2
    # every full period advances the phase by center_hz * period_s cycles (both shapes)
    cycles = np.mod(count * np.mod(center_hz * period_s, 1.0), 1.0)
    if shape == "sawtooth":
        rate = span_hz / period_s
        cycles += low_hz * u + 0.5 * rate * u**2
        inst_hz = low_hz + rate * u
    else:
        half = period_s / 2
        rate = span_hz / half
        up = u < half
        v = np.where(up, u, u - half)
        high_hz = low_hz + span_hz
        cycles += np.where(up, low_hz * v + 0.5 * rate * v**2,
                           low_hz * half + 0.5 * rate * half**2 + high_hz * v - 0.5 * rate * v**2)
        inst_hz = np.where(up, low_hz + rate * v, high_hz - rate * v)
    out = phasor(cycles - np.floor(cycles))
    out *= amplitude * _band_edge_gain(inst_hz, sample_rate_hz)
    return out


def drifting_tone(n: ArrayLike, sample_rate_hz: float, offset_hz: float, drift_hz_per_s: float,
                  amplitude: float, phase_rad: float = 0.0) -> NDArray[np.complex128]:
    """CW line at ``offset_hz + drift_hz_per_s * t`` (``t`` from sample 0).

    Parameters
    ----------
    n : array of int
        Absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    offset_hz : float
        Frequency at sample 0, offset from the tuner's centre, in Hz.
    drift_hz_per_s : float
        Linear frequency drift in Hz per second.
    amplitude : float
        Amplitude in full-scale units.
    phase_rad : float, optional
        Phase at sample 0.

    Returns
    -------
    numpy.ndarray of complex128
    """
    indices = _as_indices(n)
    base = indices * (offset_hz / sample_rate_hz)
    base -= np.floor(base)
    time_s = indices / sample_rate_hz
    quad = 0.5 * drift_hz_per_s * time_s**2
    quad -= np.floor(quad)
    out = phasor(base + quad + phase_rad / (2 * np.pi))
    out *= amplitude
    return out


def pulse_train(n: ArrayLike, centres: NDArray[np.float64], width_samples: float) -> NDArray[np.float32]:
    """Sum of Gaussian envelopes (peak 1) centred on ``centres`` (sample times, sorted).

    Pulses further than 4 widths from a sample do not reach it. Used for DME pulse pairs and
    ADS-B-like pulse-position chips.

    Parameters
    ----------
    n : array of int
        Absolute sample indices, ascending.
    centres : array of float
        Pulse centres in samples, ascending.
    width_samples : float
        Standard deviation of each pulse in samples.

    Returns
    -------
    numpy.ndarray of float32
    """
    indices = _as_indices(n)
    out = np.zeros(indices.size, np.float32)
    if indices.size == 0 or len(centres) == 0:
        return out
    reach = 4.0 * width_samples
    lo = np.searchsorted(centres, indices[0] - reach)
    hi = np.searchsorted(centres, indices[-1] + reach)
    for c in centres[lo:hi]:
        a = max(int(np.floor(c - reach)) - int(indices[0]), 0)
        b = min(int(np.ceil(c + reach)) - int(indices[0]) + 1, indices.size)
        if a < b:
            x = (indices[a:b] - c) / width_samples
            out[a:b] += np.exp(-0.5 * x * x).astype(np.float32)
    return out
