"""A library of labelled synthetic RTL-SDR scenarios, deterministic by seed.

Level conventions (the detector's tests rely on them)
-----------------------------------------------------
* Complex baseband, full scale 1.0 per rail; nothing clips except the ``overload`` scenario.
* Thermal noise floor: complex white noise of total power -30 dBFS (``E|x|**2 = 1e-3``) across
  the sample rate, i.e. a power spectral density ``N0 = 1e-3 / sample_rate_hz`` per Hz. After
  8-bit quantisation that is 2.85 LSB rms per rail (4.0 LSB rms of the magnitude).
* Every level is a ratio ``level_db`` to the noise power in a reference bandwidth:
  ``power = 10**(level_db / 10) * N0 * reference_bw_hz``. The reference is, per signal:
  band-limited noise (barrage, pulsed, OFDM-like): its own band, so ``level_db`` is the ratio of
  power spectral densities (the JNR); a tone: 1 kHz; a chirp: its swept span; an FM channel:
  its channel width; a TDMA carrier: 200 kHz, during a burst. A pulsed jammer's level holds
  while a pulse is on.
* Legitimate carriers sit 10-30 dB above the floor.

Timing conventions
------------------
For a capture of ``T`` seconds (default 10 s), a jammer switches on at ``0.4 T`` and off at
``0.8 T`` (4 s and 8 s by default); a new emitter appears at ``0.4 T`` and stays to ``T``; the
intermittent barrage is on from ``0.4 T`` to ``0.55 T`` and again from ``0.7 T`` to ``0.85 T``. The
first ``0.4 T`` is always clean so a detector can learn its baseline. Labels are computed for
the duration asked, and the samples follow the labels exactly: the jammer occupies samples
``round(start_s * sample_rate_hz)`` up to ``round(end_s * sample_rate_hz)``.

Background signals are on throughout (TDMA carriers burst in fixed timeslots of every frame).
Label frequencies are offsets from the centre frequency *as received*, i.e. including the
dongle's LO error (a few kHz, see `Impairments.lo_shift_hz`), clipped to the captured band.

Determinism and streaming
-------------------------
Samples are computed in fixed blocks of ``RENDER_BLOCK_SAMPLES`` aligned to sample 0 and then
re-cut to the requested chunk size, so the output is bit-identical whatever ``chunk_samples``
is, and memory stays bounded by the block and chunk sizes whatever the duration.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from spectrum.errors import ConfigError
from spectrum.sim import signals
from spectrum.sim.impairments import Impairments, to_cu8

NOISE_POWER = 1e-3
"""Total power of the thermal noise floor, ``E|x|**2`` in full-scale units (-30 dBFS)."""
JAM_ON_FRACTION = 0.4
"""Jammers switch on at this fraction of the capture duration."""
JAM_OFF_FRACTION = 0.8
"""Jammers switch off at this fraction of the capture duration."""
RENDER_BLOCK_SAMPLES = 2**16
"""Samples are computed in blocks of this size, aligned to sample 0."""
LABEL_KINDS = frozenset({"wideband_noise", "tone", "swept", "pulsed", "new_emitter", "overload"})
"""The values `Label.kind` may take."""

_RENDER_THREADS = min(4, os.cpu_count() or 1)
_PREFETCH_BLOCKS = 2 * _RENDER_THREADS  # blocks in flight: bounds memory to a few MiB
_TONE_REFERENCE_BW_HZ = 1e3
_TDMA_REFERENCE_BW_HZ = 200e3
_ALL_SLOTS = tuple(range(signals.GSM_SLOTS_PER_FRAME))


def noise_psd_per_hz(sample_rate_hz: float) -> float:
    """Power spectral density of the noise floor, in full-scale units per Hz."""
    return NOISE_POWER / sample_rate_hz


def _power(level_db: float, reference_bw_hz: float, sample_rate_hz: float) -> float:
    return 10 ** (level_db / 10) * noise_psd_per_hz(sample_rate_hz) * reference_bw_hz


# --------------------------------------------------------------------------------------------
# Signal specifications: the data of a scenario. Each renders itself at absolute indices.


class Component(Protocol):
    """A signal in a scenario: its level relative to the noise floor, band and samples."""

    level_db: float

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        """Nominal occupied band, offsets from the centre frequency in Hz.

        It may reach beyond the captured band; labels clip it.
        """
        ...

    def render(self, n: NDArray[np.int64], sample_rate_hz: float, seed: int,
               stream: int) -> NDArray[np.complex128]:
        """Samples at the contiguous absolute indices ``n``."""
        ...


@dataclass(frozen=True)
class Tone:
    """CW carrier at ``offset_hz``; ``level_db`` is its SNR in 1 kHz."""

    offset_hz: float
    level_db: float

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.offset_hz - _TONE_REFERENCE_BW_HZ / 2, self.offset_hz + _TONE_REFERENCE_BW_HZ / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, _TONE_REFERENCE_BW_HZ, sample_rate_hz))
        return signals.tone(n, sample_rate_hz, self.offset_hz, amplitude, phase_rad=0.1 * stream)


@dataclass(frozen=True)
class BandNoise:
    """Flat-topped Gaussian noise band; ``level_db`` is its PSD over the floor's (the JNR).

    With ``period_s`` set, the noise is gated on for ``duty`` of every period (a pulsed jammer);
    ``level_db`` holds while it is on.
    """

    offset_hz: float
    bandwidth_hz: float
    level_db: float
    period_s: float | None = None
    duty: float = 1.0

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.offset_hz - self.bandwidth_hz / 2, self.offset_hz + self.bandwidth_hz / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        enbw_hz = signals.noise_bandwidth_hz(sample_rate_hz, self.bandwidth_hz)
        power = _power(self.level_db, enbw_hz, sample_rate_hz)
        out = signals.bandlimited_noise(n, sample_rate_hz, self.offset_hz, self.bandwidth_hz,
                                        power, seed, stream)
        if self.period_s is not None:
            out *= signals.pulse_gate(n, sample_rate_hz, self.period_s, self.duty)
        return out


def ofdm_block(offset_hz: float, level_db: float, bandwidth_hz: float = 1.08e6) -> BandNoise:
    """An LTE-like OFDM carrier, continuously on: a flat-topped Gaussian band (see `ofdm_like`)."""
    return BandNoise(offset_hz, bandwidth_hz, level_db)


@dataclass(frozen=True)
class Chirp:
    """Sawtooth linear sweep; ``level_db`` is its power over the noise power in its span."""

    center_hz: float
    span_hz: float
    period_s: float
    level_db: float

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.center_hz - self.span_hz / 2, self.center_hz + self.span_hz / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, self.span_hz, sample_rate_hz))
        return signals.chirp(n, sample_rate_hz, self.center_hz, self.span_hz, self.period_s,
                             amplitude)


@dataclass(frozen=True)
class FmVoice:
    """Narrowband FM voice carrier; ``level_db`` is its SNR in its channel."""

    offset_hz: float
    level_db: float
    channel_hz: float = 12.5e3
    deviation_hz: float = 2.5e3

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.offset_hz - self.channel_hz / 2, self.offset_hz + self.channel_hz / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, self.channel_hz, sample_rate_hz))
        return signals.nbfm(n, sample_rate_hz, self.offset_hz, amplitude, self.deviation_hz)


@dataclass(frozen=True)
class TdmaCarrier:
    """GSM-like GMSK carrier bursting in ``busy_slots``; ``level_db`` over 200 kHz in a burst."""

    offset_hz: float
    level_db: float
    busy_slots: tuple[int, ...] = _ALL_SLOTS

    def band_hz(self, sample_rate_hz: float) -> tuple[float, float]:
        return (self.offset_hz - _TDMA_REFERENCE_BW_HZ / 2, self.offset_hz + _TDMA_REFERENCE_BW_HZ / 2)

    def render(self, n, sample_rate_hz, seed, stream):
        amplitude = np.sqrt(_power(self.level_db, _TDMA_REFERENCE_BW_HZ, sample_rate_hz))
        return signals.tdma_gmsk(n, sample_rate_hz, self.offset_hz, amplitude, self.busy_slots,
                                 seed, stream)


# --------------------------------------------------------------------------------------------
# Labels and scenarios


@dataclass(frozen=True)
class Label:
    """Ground truth for one interference event.

    Attributes
    ----------
    kind : str
        One of `LABEL_KINDS`.
    start_s, end_s : float
        Seconds from the start of the capture.
    freq_low_hz, freq_high_hz : float
        Occupied band as received, offsets from the centre frequency in Hz.
    description : str
        What the event is and how ``jnr_db`` is defined for it.
    jnr_db : float or None
        Jammer-to-noise (or SNR) ratio in dB, see the module's level conventions.
    """

    kind: str
    start_s: float
    end_s: float
    freq_low_hz: float
    freq_high_hz: float
    description: str
    jnr_db: float | None


@dataclass(frozen=True)
class Event:
    """A signal that switches on during a scenario, with what its label says about it."""

    kind: str
    component: Component
    description: str
    start_fraction: float = JAM_ON_FRACTION
    end_fraction: float = JAM_OFF_FRACTION


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A labelled synthetic capture: background signals, interference events and a dongle.

    Attributes
    ----------
    name : str
        Key in `SCENARIOS`.
    description : str
        One paragraph for people.
    center_freq_hz : float
        Tuned centre frequency in Hz (scales the LO error; sets the band the scene imitates).
    sample_rate_hz : float
        Complex sample rate in Hz.
    default_duration_s : float
        Duration the labels are usually asked for, in seconds.
    background : tuple of Component
        Signals on for the whole capture.
    events : tuple of Event
        Signals that switch on and off; each gives one label.
    impairments : Impairments
        The dongle's imperfections.
    """

    name: str
    description: str
    center_freq_hz: float
    sample_rate_hz: float = 2.4e6
    default_duration_s: float = 10.0
    background: tuple[Component, ...] = ()
    events: tuple[Event, ...] = ()
    impairments: Impairments = field(default_factory=Impairments)

    @property
    def jammed(self) -> bool:
        """True if the scenario has any labelled event."""
        return bool(self.events)

    def labels(self, duration_s: float) -> list[Label]:
        """Ground-truth labels for a capture of ``duration_s`` seconds (empty when clean).

        Parameters
        ----------
        duration_s : float
            Capture duration in seconds.

        Returns
        -------
        list of Label
        """
        _check_duration(duration_s)
        edge_hz = self.sample_rate_hz / 2
        shift_hz = self.impairments.lo_shift_hz(self.center_freq_hz)
        labels = []
        for event in self.events:
            low_hz, high_hz = event.component.band_hz(self.sample_rate_hz)
            labels.append(Label(
                kind=event.kind,
                start_s=event.start_fraction * duration_s,
                end_s=event.end_fraction * duration_s,
                freq_low_hz=float(np.clip(low_hz + shift_hz, -edge_hz, edge_hz)),
                freq_high_hz=float(np.clip(high_hz + shift_hz, -edge_hz, edge_hz)),
                description=event.description,
                jnr_db=event.component.level_db,
            ))
        return labels

    def generate(self, duration_s: float, seed: int,
                 chunk_samples: int = 2**18) -> Iterator[NDArray[np.complex64]]:
        """Stream the capture as complex64 chunks, impairments applied, before quantisation.

        Parameters
        ----------
        duration_s : float
            Capture duration in seconds; ``round(duration_s * sample_rate_hz)`` samples.
        seed : int
            Non-negative seed; the same seed gives the same samples.
        chunk_samples : int, optional
            Samples per chunk; the last chunk may be shorter. The samples do not depend on it.

        Returns
        -------
        Iterator of numpy.ndarray of complex64
            The chunks, computed lazily. Arguments are checked at the call, not at first use.

        Raises
        ------
        ConfigError
            If the duration, seed or chunk size is not valid.
        """
        _check_duration(duration_s)
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"seed={seed!r} must be a non-negative integer")
        if chunk_samples < 1:
            raise ConfigError(f"chunk_samples={chunk_samples} must be at least 1")
        total = int(round(duration_s * self.sample_rate_hz))
        windows = [(round(label.start_s * self.sample_rate_hz),
                    round(label.end_s * self.sample_rate_hz)) for label in self.labels(duration_s)]
        blocks = _prefetch(lambda start: self._render_block(
            start, min(RENDER_BLOCK_SAMPLES, total - start), windows, int(seed)),
            range(0, total, RENDER_BLOCK_SAMPLES))
        return _rechunk(blocks, chunk_samples)

    def _render_block(self, start: int, count: int, windows: list[tuple[int, int]],
                      seed: int) -> NDArray[np.complex64]:
        fs = self.sample_rate_hz
        n = np.arange(start, start + count, dtype=np.int64)
        x = signals.white_noise(n, NOISE_POWER, seed, stream=0)
        for stream, component in enumerate(self.background, start=1):
            x += component.render(n, fs, seed, stream)
        for stream, (event, (on, off)) in enumerate(zip(self.events, windows), start=1000):
            low, high = max(on, start) - start, min(off, start + count) - start
            if low < high:
                x[low:high] += event.component.render(n[low:high], fs, seed, stream)
        return self.impairments.apply(x, n, fs, self.center_freq_hz)


def _check_duration(duration_s: float) -> None:
    if not duration_s > 0:
        raise ConfigError(f"duration_s={duration_s!r} must be a positive number of seconds")


def _prefetch(render: Callable[[int], NDArray[np.complex64]],
              starts: Iterable[int]) -> Iterator[NDArray[np.complex64]]:
    """``map(render, starts)``, computed up to ``_PREFETCH_BLOCKS`` ahead on worker threads.

    Rendering is numpy, scipy.fft and numba work that releases the GIL, so the blocks are
    rendered in parallel on every core; they are yielded in order and each is a pure function of
    its start, so the output does not depend on the threading. Nothing starts before the first
    block is asked for, and at most ``_PREFETCH_BLOCKS`` blocks are in flight.
    """
    starts = iter(starts)
    with ThreadPoolExecutor(_RENDER_THREADS) as pool:
        pending = deque(pool.submit(render, start)
                        for start in itertools.islice(starts, _PREFETCH_BLOCKS))
        try:
            while pending:
                block = pending.popleft().result()
                for start in itertools.islice(starts, 1):
                    pending.append(pool.submit(render, start))
                yield block
        finally:  # the consumer stopped early (or failed): drop the blocks not started yet
            for future in pending:
                future.cancel()


def _rechunk(blocks: Iterable[NDArray[np.complex64]],
             chunk_samples: int) -> Iterator[NDArray[np.complex64]]:
    """Re-cut a stream of arrays into arrays of ``chunk_samples`` (the last may be shorter)."""
    pending: list[NDArray[np.complex64]] = []  # arrays not yet yielded, in order
    pending_size = 0
    for block in blocks:
        pending.append(block)
        pending_size += block.size
        if pending_size < chunk_samples:
            continue
        joined = np.concatenate(pending)
        full = joined.size // chunk_samples * chunk_samples
        for start in range(0, full, chunk_samples):
            chunk = joined[start:start + chunk_samples]
            yield chunk if chunk.size == joined.size else chunk.copy()  # no view keeps joined
        pending = [joined[full:]] if full < joined.size else []
        pending_size = joined.size - full
    if pending_size:
        yield np.concatenate(pending)


def render_cu8(scenario: Scenario, duration_s: float, seed: int,
               chunk_samples: int = 2**18) -> Iterator[NDArray[np.uint8]]:
    """Stream a scenario as interleaved unsigned 8-bit I/Q, as ``rtl_sdr`` writes it.

    Parameters
    ----------
    scenario : Scenario
    duration_s : float
        Capture duration in seconds.
    seed : int
        Non-negative seed.
    chunk_samples : int, optional
        Complex samples per chunk (each chunk has twice as many bytes).

    Yields
    ------
    numpy.ndarray of uint8
    """
    for chunk in scenario.generate(duration_s, seed, chunk_samples):
        yield to_cu8(chunk)


# --------------------------------------------------------------------------------------------
# The library

GSM900_DL_HZ = 942.2e6
"""A GSM-900 downlink frequency."""
UHF_PMR_HZ = 453.0e6
"""A UHF private mobile radio frequency (12.5 kHz channels)."""
ISM433_HZ = 433.92e6
"""The 433 MHz ISM / LPD433 band centre."""
GNSS_L1_HZ = 1575.42e6
"""GPS L1 / Galileo E1."""

_GSM_LIGHT = (  # two carriers at the band edges, clear of the centre where barrages go
    TdmaCarrier(-1000e3, 18.0),                         # BCCH: every slot
    TdmaCarrier(+1000e3, 14.0, busy_slots=(0, 2, 3, 5)),
)
_GSM_BUSY = (
    ofdm_block(-450e3, level_db=15.0),                   # LTE-like 1.08 MHz, refarmed GSM-900
    TdmaCarrier(+300e3, 20.0),                          # BCCH
    TdmaCarrier(+600e3, 12.0, busy_slots=(1, 4, 6)),
    TdmaCarrier(+1000e3, 16.0, busy_slots=(0, 2, 3, 5, 7)),
)
_PMR = (  # FM voice channels on the 12.5 kHz raster, keyed up throughout
    FmVoice(-812.5e3, 25.0),
    FmVoice(-137.5e3, 15.0),
    FmVoice(+687.5e3, 18.0),
)
_LPD433 = (FmVoice(+55e3, 20.0, channel_hz=25e3, deviation_hz=5e3),
           FmVoice(-420e3, 14.0, channel_hz=25e3, deviation_hz=5e3))


def _barrage(name: str, center_freq_hz: float, background: tuple[Component, ...],
             jammer: BandNoise, what: str) -> Scenario:
    low_hz, high_hz = jammer.band_hz(0.0)
    text = (f"Barrage noise jammer {jammer.bandwidth_hz / 1e3:g} kHz wide over "
            f"{low_hz / 1e3:+g}..{high_hz / 1e3:+g} kHz, JNR {jammer.level_db:g} dB (PSD over the "
            f"noise floor's), on at 0.4 T, off at 0.8 T.")
    return Scenario(name=name, description=f"{what} {text}", center_freq_hz=center_freq_hz,
                    background=background, events=(Event("wideband_noise", jammer, text),))


def _single(name: str, center_freq_hz: float, background: tuple[Component, ...], kind: str,
            component: Component, text: str, what: str, end_fraction: float = JAM_OFF_FRACTION,
            impairments: Impairments | None = None) -> Scenario:
    return Scenario(name=name, description=f"{what} {text}", center_freq_hz=center_freq_hz,
                    background=background,
                    events=(Event(kind, component, text, end_fraction=end_fraction),),
                    impairments=impairments or Impairments())


def _library() -> dict[str, Scenario]:
    gsm = "GSM-900 downlink, two TDMA carriers at ±1 MHz."
    pmr = "UHF PMR, three FM voice channels keyed up throughout."
    scenarios = [
        Scenario(name="clean_quiet", center_freq_hz=ISM433_HZ,
                 description="Noise floor and dongle impairments only (DC offset, IQ imbalance, "
                             "3 ppm LO error)."),
        Scenario(name="clean_busy", center_freq_hz=GSM900_DL_HZ, background=_GSM_BUSY,
                 description="GSM-900 downlink: an LTE-like 1.08 MHz OFDM block at -450 kHz "
                             "(15 dB), a BCCH carrier at +300 kHz (20 dB, every slot) and bursty "
                             "TDMA carriers at +600 kHz (12 dB) and +1 MHz (16 dB)."),
        Scenario(name="clean_drift", center_freq_hz=GSM900_DL_HZ,
                 background=(TdmaCarrier(-800e3, 30.0), TdmaCarrier(+400e3, 25.0),
                             TdmaCarrier(+800e3, 12.0, busy_slots=(1, 3, 5))),
                 impairments=Impairments(drift_db=1.5, drift_period_s=10.0),
                 description="Strong GSM carriers (30 and 25 dB BCCH, a 12 dB bursty one) and a "
                             "sinusoidal tuner gain drift of ±1.5 dB with a 10 s period, applied "
                             "to everything including the noise floor."),
        Scenario(name="clean_gsm", center_freq_hz=GSM900_DL_HZ, background=_GSM_LIGHT,
                 description=f"{gsm} The background of the barrage scenarios."),
        Scenario(name="clean_pmr", center_freq_hz=UHF_PMR_HZ, background=_PMR,
                 description=f"{pmr} The background of the tone, chirp, pulsed and new-emitter "
                             "scenarios."),
        Scenario(name="clean_gnss", center_freq_hz=GNSS_L1_HZ,
                 description="GNSS L1: satellite signals are below the noise floor, so only "
                             "noise and impairments."),
        Scenario(name="clean_ism", center_freq_hz=ISM433_HZ, background=_LPD433,
                 description="433 MHz ISM band with two LPD433 FM voice channels (25 kHz)."),
        _barrage("barrage_wide", GSM900_DL_HZ, _GSM_LIGHT, BandNoise(0.0, 1.6e6, 10.0), gsm),
        _barrage("barrage_narrow", GSM900_DL_HZ, _GSM_LIGHT, BandNoise(+200e3, 200e3, 6.0), gsm),
        _barrage("barrage_0db", GSM900_DL_HZ, _GSM_LIGHT, BandNoise(-300e3, 1e6, 0.0), gsm),
        _barrage("barrage_m3db", GSM900_DL_HZ, _GSM_LIGHT, BandNoise(-300e3, 1e6, -3.0), gsm),
        _barrage("gnss_l1_barrage", GNSS_L1_HZ, (), BandNoise(0.0, 2e6, 3.0),
                 "GNSS L1, noise only before the jammer."),
        _single("tone", UHF_PMR_HZ, _PMR, "tone", Tone(+400e3, 30.0),
                "CW jammer at +400 kHz, SNR 30 dB in 1 kHz (label band: that 1 kHz).", pmr),
        _single("tone_weak", UHF_PMR_HZ, _PMR, "tone", Tone(-250e3, 0.0),
                "Weak CW at -250 kHz, SNR 0 dB in 1 kHz (label band: that 1 kHz).", pmr),
        _single("chirp_fast", UHF_PMR_HZ, _PMR, "swept", Chirp(+300e3, 200e3, 20e-6, 10.0),
                "Chirp jammer sweeping +200..+400 kHz every 20 µs (48 samples, shorter than an "
                "FFT frame), JNR 10 dB over its span.", pmr),
        _single("chirp_slow", UHF_PMR_HZ, _PMR, "swept", Chirp(-100e3, 1e6, 50e-3, 10.0),
                "Chirp jammer sweeping -600..+400 kHz every 50 ms, JNR 10 dB over its span.", pmr),
        _single("chirp_wide", GNSS_L1_HZ, (), "swept", Chirp(0.0, 10e6, 1e-3, 10.0),
                "GNSS 'privacy device' chirp sweeping ±5 MHz every 1 ms, JNR 10 dB over its 10 MHz "
                "span; only the captured 2.4 MHz is seen, as a pulse 0.24 ms long each "
                "millisecond, so the label band is the whole captured band.",
                "GNSS L1, noise only before the jammer."),
        _single("pulsed_5pct", UHF_PMR_HZ, _PMR, "pulsed",
                BandNoise(0.0, 1e6, 15.0, period_s=10e-3, duty=0.05),
                "Pulsed noise jammer 1 MHz wide, JNR 15 dB during pulses, 0.5 ms on every 10 ms "
                "(5 % duty).", pmr),
        _single("pulsed_50pct", UHF_PMR_HZ, _PMR, "pulsed",
                BandNoise(0.0, 1e6, 15.0, period_s=2e-3, duty=0.5),
                "Pulsed noise jammer 1 MHz wide, JNR 15 dB during pulses, 1 ms on every 2 ms "
                "(50 % duty).", pmr),
        _single("new_emitter_fm", UHF_PMR_HZ, _PMR, "new_emitter", FmVoice(+112.5e3, 20.0),
                "New FM voice emitter on the 12.5 kHz channel at +112.5 kHz (±2.5 kHz deviation), "
                "SNR 20 dB in its channel, appears at 0.4 T and stays.", pmr,
                end_fraction=1.0),
        Scenario(
            name="barrage_intermittent", center_freq_hz=UHF_PMR_HZ, background=_PMR,
            events=tuple(
                Event("wideband_noise", BandNoise(+200e3, 400e3, 6.0),
                      "Barrage noise jammer 400 kHz wide at +200 kHz, JNR 6 dB, switched on twice: "
                      "0.4 T to 0.55 T and 0.7 T to 0.85 T.", start_fraction=on, end_fraction=on + 0.15)
                for on in (0.4, 0.7)
            ),
            description=f"{pmr} A barrage jammer that comes back at the same place: two events."),
        Scenario(
            name="jammer_over_carrier", center_freq_hz=GSM900_DL_HZ,
            background=(ofdm_block(+300e3, level_db=10.0), TdmaCarrier(-1000e3, 18.0)),
            events=(Event("wideband_noise", BandNoise(+300e3, 1.08e6, 6.0),
                          "Barrage noise jammer laid exactly over the 1.08 MHz LTE-like carrier at "
                          "+300 kHz, JNR 6 dB over the noise floor; the carrier is 10 dB over the "
                          "floor, so the in-band PSD rises from 11 to 15 N0 (+1.3 dB)."),),
            description="GSM-900 band with an LTE-like carrier (10 dB over the floor) at +300 kHz "
                        "and a BCCH at -1 MHz; a barrage of the same width lands on the carrier."),
        _single("overload", ISM433_HZ, _LPD433, "overload", BandNoise(+300e3, 400e3, 35.0),
                "A strong nearby transmitter, 400 kHz of noise-like signal at +300 kHz, 35 dB over "
                "the floor's PSD (about -3 dBFS in total): the 8-bit ADC clips a few percent of "
                "samples.", "433 MHz ISM band with two LPD433 FM channels."),
    ]
    return {scenario.name: scenario for scenario in scenarios}


SCENARIOS: dict[str, Scenario] = _library()
"""Every scenario, by name."""


def get_scenario(name: str) -> Scenario:
    """Look a scenario up by name.

    Parameters
    ----------
    name : str
        A key of `SCENARIOS`.

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        If there is no scenario of that name; the message lists the valid names.
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ConfigError(f"unknown scenario {name!r}; choose one of: "
                          f"{', '.join(sorted(SCENARIOS))}") from None
