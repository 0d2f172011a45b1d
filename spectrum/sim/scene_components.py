"""Signals of the randomised scenes: jammers and legitimate emitters that look like interference.

Each component renders itself at absolute sample indices (one contiguous run) at its *full*
level; the scene applies on/off windows and ramps. Levels follow `spectrum.sim.scenarios`:
``level_db`` is a power over the noise floor's power in a reference bandwidth (the floor is
``NOISE_POWER`` spread over the sample rate); the reference is the component's own band for
noise-like signals (so ``level_db`` is the ratio of power spectral densities), 1 kHz for a CW
line, the swept span for a sweep, the occupied band for FM, FSK and OOK, and 200 kHz for a GSM
burst. Pulsed signals hold their level while on.

The burst schedules of the legitimate emitters (packets, OFDM bursts, aviation pulses) are drawn
when the scene is drawn and stored in the component as sample indices, so rendering stays a
pure function of the indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from spectrum.sim import signals
from spectrum.sim.random_signals import drifting_tone, pulse_train, sweep
from spectrum.sim.scenarios import NOISE_POWER, _power

TONE_REFERENCE_BW_HZ = 1e3
"""Reference bandwidth of a CW line's level: its power over the noise in 1 kHz."""
GSM_REFERENCE_BW_HZ = 200e3


@dataclass(frozen=True)
class NoiseBand:
    """Gaussian noise over ``offset_hz ± bandwidth_hz / 2`` (inside the band), optionally pulsed.

    ``bandwidth_hz=None`` is white noise over the whole captured band (a barrage wider than it).
    With ``period_s`` the noise is on for ``duty`` of each period, starting at ``delay_s``.
    """

    offset_hz: float
    bandwidth_hz: float | None
    level_db: float
    period_s: float | None = None
    duty: float = 1.0
    delay_s: float = 0.0

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        if self.bandwidth_hz is None:
            return (-sample_rate_hz / 2, sample_rate_hz / 2)
        return (self.offset_hz - self.bandwidth_hz / 2, self.offset_hz + self.bandwidth_hz / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        if self.bandwidth_hz is None:
            out = signals.white_noise(n, 10 ** (self.level_db / 10) * NOISE_POWER, seed, stream)
        else:
            enbw_hz = signals.noise_bandwidth_hz(sample_rate_hz, self.bandwidth_hz)
            out = signals.bandlimited_noise(n, sample_rate_hz, self.offset_hz, self.bandwidth_hz,
                                            _power(self.level_db, enbw_hz, sample_rate_hz), seed, stream)
        if self.period_s is not None:
            out *= signals.pulse_gate(n, sample_rate_hz, self.period_s, self.duty, self.delay_s)
        return out


@dataclass(frozen=True)
class Lines:
    """One or more CW lines, each drifting linearly; ``level_db`` per line, over 1 kHz of noise."""

    offsets_hz: tuple[float, ...]
    level_db: float
    drift_hz_per_s: float = 0.0

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (min(self.offsets_hz), max(self.offsets_hz))

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, TONE_REFERENCE_BW_HZ, sample_rate_hz))
        out = np.zeros(len(n), np.complex128)
        for k, offset_hz in enumerate(self.offsets_hz):
            out += drifting_tone(n, sample_rate_hz, offset_hz, self.drift_hz_per_s, amplitude,
                                 phase_rad=1.7 * k + 0.3 * stream)
        return out


@dataclass(frozen=True)
class Sweep:
    """Linear sweep (sawtooth or triangle); ``level_db`` is its power over the noise in its span."""

    center_hz: float
    span_hz: float
    period_s: float
    level_db: float
    shape: str = "sawtooth"

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.center_hz - self.span_hz / 2, self.center_hz + self.span_hz / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, self.span_hz, sample_rate_hz))
        return sweep(n, sample_rate_hz, self.center_hz, self.span_hz, self.period_s, amplitude, self.shape)


@dataclass(frozen=True)
class FmVoiceRandom:
    """NBFM voice-like carrier; ``level_db`` over the noise in its Carson bandwidth."""

    offset_hz: float
    level_db: float
    deviation_hz: float
    tones_hz: tuple[float, ...]

    def occupied_hz(self) -> float:
        return 2 * (self.deviation_hz + max(self.tones_hz))  # Carson's rule

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        half = self.occupied_hz() / 2
        return (self.offset_hz - half, self.offset_hz + half)

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, self.occupied_hz(), sample_rate_hz))
        return signals.nbfm(n, sample_rate_hz, self.offset_hz, amplitude, self.deviation_hz, self.tones_hz)


@dataclass(frozen=True)
class Gsm:
    """GSM-like TDMA carrier bursting in ``busy_slots``; ``level_db`` over 200 kHz during a burst."""

    offset_hz: float
    level_db: float
    busy_slots: tuple[int, ...]

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.offset_hz - 100e3, self.offset_hz + 100e3)

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, GSM_REFERENCE_BW_HZ, sample_rate_hz))
        return signals.tdma_gmsk(n, sample_rate_hz, self.offset_hz, amplitude, self.busy_slots, seed, stream)


@dataclass(frozen=True)
class TddOfdm:
    """A TDD LTE-like downlink: an OFDM block (Gaussian, flat-topped) on in downlink subframes.

    ``pattern`` holds the ten 1 ms subframes of a 10 ms frame (3GPP TS 36.211 table 4.2-2):
    ``D`` on, ``U`` off (uplink, from handsets too weak to see), ``S`` on for ``dwpts`` of it.
    """

    offset_hz: float
    bandwidth_hz: float
    level_db: float
    pattern: str
    dwpts: float
    frame_delay_s: float

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.offset_hz - self.bandwidth_hz / 2, self.offset_hz + self.bandwidth_hz / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        enbw_hz = signals.noise_bandwidth_hz(sample_rate_hz, self.bandwidth_hz)
        out = signals.bandlimited_noise(n, sample_rate_hz, self.offset_hz, self.bandwidth_hz,
                                        _power(self.level_db, enbw_hz, sample_rate_hz), seed, stream)
        t_ms = (np.asarray(n) / sample_rate_hz - self.frame_delay_s) * 1e3
        sub = np.floor(t_ms).astype(np.int64) % 10
        into = t_ms - np.floor(t_ms)
        codes = np.frombuffer(self.pattern.encode(), np.uint8)[sub]
        on = (codes == ord("D")) | ((codes == ord("S")) & (into < self.dwpts))
        return out * on


@dataclass(frozen=True, eq=False)
class OfdmBursts:
    """OFDM bursts (Wi-Fi-like packets, drone video) on a few channels: band noise, gated."""

    offsets_hz: tuple[float, ...]
    bandwidth_hz: float
    level_db: float
    starts: NDArray[np.int64] = field(repr=False)
    stops: NDArray[np.int64] = field(repr=False)
    channel: NDArray[np.int64] = field(repr=False)

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (min(self.offsets_hz) - self.bandwidth_hz / 2, max(self.offsets_hz) + self.bandwidth_hz / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        """Noise is computed only over each burst's samples (the filter is seamless, so a
        slice equals the same samples of a whole-block render)."""
        n = np.asarray(n)
        out = np.zeros(n.size, np.complex128)
        if n.size == 0:
            return out
        enbw_hz = signals.noise_bandwidth_hz(sample_rate_hz, self.bandwidth_hz)
        power = _power(self.level_db, enbw_hz, sample_rate_hz)
        first, last = int(n[0]), int(n[-1]) + 1
        lo = np.searchsorted(self.stops, first, side="right")
        hi = np.searchsorted(self.starts, last, side="left")
        for k in range(lo, hi):
            a, b = max(int(self.starts[k]), first) - first, min(int(self.stops[k]), last) - first
            if a < b:
                c = int(self.channel[k])
                out[a:b] = signals.bandlimited_noise(n[a:b], sample_rate_hz, self.offsets_hz[c], self.bandwidth_hz,
                                                     power, seed, 64 * stream + c)
        return out


@dataclass(frozen=True, eq=False)
class KeyedBursts:
    """ISM packets of random bits, on/off keyed (``ook``) or 2-FSK (``fsk``), repeating.

    ``level_db`` is the carrier's power over the noise in ``2 * (deviation + bit rate)``
    (OOK: ``2 * bit rate``), the occupied band.
    """

    modulation: str
    offset_hz: float
    level_db: float
    bit_rate_hz: float
    deviation_hz: float
    starts: NDArray[np.int64] = field(repr=False)
    stops: NDArray[np.int64] = field(repr=False)
    bits: NDArray[np.int8] = field(repr=False)

    def occupied_hz(self) -> float:
        return 2 * (self.bit_rate_hz + (self.deviation_hz if self.modulation == "fsk" else 0.0))

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.offset_hz - self.occupied_hz() / 2, self.offset_hz + self.occupied_hz() / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        n = np.asarray(n)
        amplitude = np.sqrt(_power(self.level_db, self.occupied_hz(), sample_rate_hz))
        k = np.searchsorted(self.starts, n, side="right") - 1
        inside = (k >= 0) & (n < self.stops[np.clip(k, 0, None)])
        out = np.zeros(n.size, np.complex128)
        where = np.flatnonzero(inside)  # work on the packets' samples only
        if where.size == 0:
            return out
        m, burst = n[where], k[where]
        spb = sample_rate_hz / self.bit_rate_hz
        base = m * (self.offset_hz / sample_rate_hz)
        base -= np.floor(base)
        position = np.clip(((m - self.starts[burst]) / spb).astype(np.int64), 0, self.bits.shape[1] - 1)
        if self.modulation == "ook":
            out[where] = signals.phasor(base) * (amplitude * self.bits[burst, position])
            return out
        # 2-FSK, phase-continuous within a packet: the cycles of the whole bits before, plus
        # the current bit's share
        sign = 2.0 * self.bits - 1.0
        per_bit = sign * self.deviation_hz / self.bit_rate_hz
        before = np.concatenate([np.zeros((self.bits.shape[0], 1)), np.cumsum(per_bit, axis=1)], axis=1)
        into = (m - self.starts[burst]) - position * spb
        cycles = base + before[burst, position] + sign[burst, position] * self.deviation_hz * into / sample_rate_hz
        out[where] = signals.phasor(cycles - np.floor(cycles)) * amplitude
        return out


@dataclass(frozen=True, eq=False)
class AviationPulses:
    """ADS-B / Mode S-like pulse-position replies or DME-like Gaussian pulse pairs on a carrier.

    ``centres`` are the pulse centres in samples (drawn with the scene); ``width_s`` the pulse's
    standard deviation. ``level_db`` is the pulse peak power over the noise in ``1 / width_s``.
    """

    offset_hz: float
    level_db: float
    width_s: float
    centres: NDArray[np.float64] = field(repr=False)

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        half = 0.5 / self.width_s
        return (self.offset_hz - half, self.offset_hz + half)

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, 1.0 / self.width_s, sample_rate_hz))
        envelope = pulse_train(n, self.centres, max(self.width_s * sample_rate_hz, 0.5))
        if not envelope.any():
            return np.zeros(len(n), np.complex128)
        return signals.tone(n, sample_rate_hz, self.offset_hz, amplitude) * envelope
