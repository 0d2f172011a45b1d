"""Signal generators for synthetic RTL-SDR captures.

Every generator is a pure function of **absolute sample indices** ``n`` (``int64``, sample 0 is
the start of the capture). Generating samples ``[0, N)`` in one call or in any number of
consecutive pieces gives the same signal, phase-continuous across the joins: nothing is carried
between calls except the indices themselves.

* Deterministic signals (tones, chirps, FM) evaluate their phase directly at ``n``.
* Random signals draw their white noise from fixed blocks of ``NOISE_BLOCK_SAMPLES`` samples, each
  block seeded by ``(seed, stream, block index)``, so the noise at index ``n`` never depends on
  how the capture is cut. Band-limited noise is that white noise through a linear-phase FIR; a
  call regenerates the ``len(taps) - 1`` input samples before ``n[0]`` instead of keeping filter
  state, which makes it seamless without state.

Levels are in full-scale units: an amplitude of 1.0 reaches the clip level of each rail, and a
``power`` is the mean of ``|x|**2``. Frequencies are offsets from the tuner's centre frequency in
Hz, within ``[-sample_rate_hz / 2, sample_rate_hz / 2]``.

Functions taking noise (``white_noise``, ``bandlimited_noise``, ``ofdm_like``, ``tdma_gmsk``)
need ``n`` to be one contiguous ascending run, e.g. ``np.arange(start, stop)``; the others accept
any index array.

Speed (rendering must run several times faster than real time at 2.4 MS/s): phases are reduced
to cycles in ``[0, 1)`` in float64 and only then turned into a phasor with numpy's SIMD float32
``cos``/``sin`` (`phasor`); white noise is drawn in float32; band-limited noise uses a batched
overlap-save FFT; the GMSK phase is computed by a numba kernel. Each of these is a per-sample
function of ``n`` (the FFT's rounding, ~1e-16, aside), so results stay seamless across splits.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sp_fft
from scipy import signal as sps
from scipy import special
from scipy.integrate import cumulative_trapezoid

NOISE_BLOCK_SAMPLES = 2**14
"""White noise is drawn in blocks of this many samples, each with its own seed."""

_BLOCK_KEY_OFFSET = 2**40  # keeps block keys non-negative for the filter history before n = 0

# GSM air interface (3GPP TS 45.002 / 45.004).
GSM_SYMBOL_RATE_HZ = 1625e3 / 6
"""GSM symbol rate, 270.833 kBd."""
GSM_SLOT_S = 15e-3 / 26
"""GSM timeslot, 576.9 µs."""
GSM_SLOTS_PER_FRAME = 8
"""Timeslots in one TDMA frame of 4.615 ms."""
GSM_BURST_SYMBOLS = 148
"""Symbols in a normal burst; the remaining 8.25 symbols of a slot are the guard period."""
_GMSK_BT = 0.3  # Gaussian filter bandwidth-time product of GSM
_GMSK_SPAN_SYMBOLS = 2  # neighbours on each side whose frequency pulse still moves the phase
_BURST_RAMP_SYMBOLS = 2.0  # raised-cosine power ramp at each end of a burst


def _as_indices(n: ArrayLike) -> NDArray[np.int64]:
    indices = np.asarray(n)
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"sample indices must be a 1-D integer array, got {indices.dtype} "
                         f"with shape {indices.shape}")
    return indices.astype(np.int64, copy=False)


def _as_run(n: ArrayLike) -> NDArray[np.int64]:
    indices = _as_indices(n)
    if indices.size > 1 and np.any(np.diff(indices) != 1):
        raise ValueError("sample indices must be one contiguous ascending run, "
                         "e.g. np.arange(start, stop)")
    return indices


def _cycles(n: NDArray[np.int64], cycles_per_sample: float) -> NDArray[np.float64]:
    """Phase in cycles, reduced to [0, 1), of a constant frequency at absolute indices ``n``."""
    cycles = n * cycles_per_sample
    cycles -= np.floor(cycles)  # = np.mod(cycles, 1.0), several times faster
    return cycles


def phasor(cycles: NDArray[np.floating]) -> NDArray[np.complex128]:
    """``exp(2j * pi * cycles)`` for phases given in cycles, a few of them at most.

    The angle is formed in float64 and evaluated with float32 ``cos``/``sin`` (numpy's SIMD
    loops, an order of magnitude faster than complex ``exp``): about 1e-7 of error, far below
    the 8-bit ADC's resolution. Reduce large phases first (see `_cycles`): float32 keeps the
    angle accurate only while it is small.
    """
    angle = (2 * np.pi * np.asarray(cycles, np.float64)).astype(np.float32)
    out = np.empty(angle.shape, np.complex128)
    out.real = np.cos(angle)
    out.imag = np.sin(angle)
    return out


def _check_band(sample_rate_hz: float, offset_hz: float, bandwidth_hz: float) -> None:
    if not 0 < bandwidth_hz < sample_rate_hz:
        raise ValueError(f"bandwidth_hz={bandwidth_hz:g} must lie in (0, sample_rate_hz="
                         f"{sample_rate_hz:g})")
    if abs(offset_hz) + bandwidth_hz / 2 > sample_rate_hz / 2:
        raise ValueError(f"band {offset_hz:g} Hz ± {bandwidth_hz / 2:g} Hz leaves the captured "
                         f"band ±{sample_rate_hz / 2:g} Hz and would alias")


def tone(n: ArrayLike, sample_rate_hz: float, offset_hz: float, amplitude: float,
         phase_rad: float = 0.0) -> NDArray[np.complex128]:
    """Continuous-wave carrier.

    Parameters
    ----------
    n : array of int
        Absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    offset_hz : float
        Frequency offset from the centre frequency in Hz.
    amplitude : float
        Amplitude in full-scale units; the power is ``amplitude**2``.
    phase_rad : float, optional
        Phase at sample 0 in radians.

    Returns
    -------
    numpy.ndarray of complex128
        ``amplitude * exp(1j * (2 pi offset_hz n / sample_rate_hz + phase_rad))``.
    """
    indices = _as_indices(n)
    out = phasor(_cycles(indices, offset_hz / sample_rate_hz) + phase_rad / (2 * np.pi))
    out *= amplitude
    return out


def white_noise(n: ArrayLike, power: float, seed: int, stream: int = 0) -> NDArray[np.complex128]:
    """Circular complex white Gaussian noise, a fixed function of the absolute index.

    Parameters
    ----------
    n : array of int
        One contiguous ascending run of absolute sample indices (may start below 0).
    power : float
        Mean power ``E|x|**2`` in full-scale units (1e-3 is -30 dBFS).
    seed : int
        Non-negative seed of the capture.
    stream : int, optional
        Non-negative id that gives independent noise to each signal of one capture.

    Returns
    -------
    numpy.ndarray of complex128
        Noise samples; the sample at index ``k`` is the same whatever run it is drawn in.
    """
    indices = _as_run(n)
    out = np.empty(indices.size, np.complex128)
    if indices.size == 0:
        return out
    start = int(indices[0])
    done = 0
    while done < indices.size:  # copy the overlap with each noise block, scaled, into place
        block, skip = divmod(start + done, NOISE_BLOCK_SAMPLES)
        take = min(NOISE_BLOCK_SAMPLES - skip, indices.size - done)
        np.multiply(_noise_block(seed, stream, block)[skip:skip + take], np.sqrt(power),
                    out=out[done:done + take])
        done += take
    return out


@functools.lru_cache(maxsize=64)
def _noise_block(seed: int, stream: int, block: int) -> NDArray[np.complex64]:
    """Unit-power complex noise of one block, drawn in float32 (about twice as fast).

    Cached (read-only), since neighbouring render blocks and the filter history of
    `bandlimited_noise` ask for the same block again; 64 blocks are 8 MiB.
    """
    rng = np.random.default_rng([seed, stream, block + _BLOCK_KEY_OFFSET])
    rails = rng.standard_normal(2 * NOISE_BLOCK_SAMPLES, dtype=np.float32)
    rails *= np.float32(np.sqrt(0.5))
    samples = rails.view(np.complex64)  # interleaved rails: I0, Q0, I1, Q1, ...
    samples.setflags(write=False)
    return samples


@functools.lru_cache(maxsize=64)
def _lowpass_taps(sample_rate_hz: float, bandwidth_hz: float) -> NDArray[np.float64]:
    """Kaiser-window low-pass, 60 dB stop band, unity gain at 0 Hz, -6 dB at ``bandwidth_hz / 2``."""
    transition_hz = min(max(0.04 * bandwidth_hz, 2e3), 50e3)  # a flat top, at most ~4k taps
    numtaps, beta = sps.kaiserord(60.0, transition_hz / (sample_rate_hz / 2))
    taps = sps.firwin(numtaps | 1, bandwidth_hz / 2, window=("kaiser", beta), fs=sample_rate_hz)
    taps.setflags(write=False)
    return taps


def noise_bandwidth_hz(sample_rate_hz: float, bandwidth_hz: float) -> float:
    """Equivalent noise bandwidth of the filter behind `bandlimited_noise`.

    Band-limited noise of total power ``P`` has a pass-band power spectral density of
    ``P / noise_bandwidth_hz(...)`` per Hz. It is within a few percent of ``bandwidth_hz``.

    Parameters
    ----------
    sample_rate_hz : float
        Complex sample rate in Hz.
    bandwidth_hz : float
        Nominal (-6 dB) width of the band in Hz.

    Returns
    -------
    float
        Equivalent noise bandwidth in Hz.
    """
    taps = _lowpass_taps(float(sample_rate_hz), float(bandwidth_hz))
    return float(sample_rate_hz * np.sum(taps**2))  # taps sum to 1: pass-band gain is 1


def bandlimited_noise(n: ArrayLike, sample_rate_hz: float, offset_hz: float, bandwidth_hz: float,
                      power: float, seed: int, stream: int = 0) -> NDArray[np.complex128]:
    """Gaussian noise with a flat-topped spectrum of a given width around an offset.

    White noise (see `white_noise`) through a linear-phase Kaiser FIR, then shifted to
    ``offset_hz``. The pass band is flat to a small fraction of a dB; the edges fall to -6 dB at
    ``offset_hz ± bandwidth_hz / 2`` and to -60 dB a few percent of the width further out.

    Parameters
    ----------
    n : array of int
        One contiguous ascending run of absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    offset_hz : float
        Centre of the band, offset from the centre frequency, in Hz.
    bandwidth_hz : float
        Nominal width of the band in Hz.
    power : float
        Total mean power ``E|x|**2`` in full-scale units. The pass-band power spectral density is
        ``power / noise_bandwidth_hz(sample_rate_hz, bandwidth_hz)`` per Hz.
    seed : int
        Non-negative seed of the capture.
    stream : int, optional
        Independent-noise id, see `white_noise`.

    Returns
    -------
    numpy.ndarray of complex128

    Raises
    ------
    ValueError
        If the band does not fit inside ``±sample_rate_hz / 2``.
    """
    indices = _as_run(n)
    _check_band(sample_rate_hz, offset_hz, bandwidth_hz)
    if indices.size == 0:
        return np.zeros(0, np.complex128)
    taps = _lowpass_taps(float(sample_rate_hz), float(bandwidth_hz))
    history = np.arange(indices[0] - (taps.size - 1), indices[-1] + 1)
    filtered = _fir_valid(white_noise(history, 1.0, seed, stream),
                          float(sample_rate_hz), float(bandwidth_hz))
    filtered *= np.sqrt(power / np.sum(taps**2))
    filtered *= phasor(_cycles(indices, offset_hz / sample_rate_hz))
    return filtered


@functools.lru_cache(maxsize=64)
def _taps_spectrum(sample_rate_hz: float, bandwidth_hz: float) -> NDArray[np.complex128]:
    """FFT of the `_lowpass_taps`, zero-padded to the overlap-save size (a power of 2)."""
    taps = _lowpass_taps(sample_rate_hz, bandwidth_hz)
    nfft = max(2048, 1 << int(np.ceil(np.log2(4 * taps.size))))  # >= 3/4 of each FFT is output
    spectrum = sp_fft.fft(taps, nfft)
    spectrum.setflags(write=False)
    return spectrum


def _fir_valid(x: NDArray[np.complex128], sample_rate_hz: float,
               bandwidth_hz: float) -> NDArray[np.complex128]:
    """``scipy.signal.convolve(x, taps, mode="valid")`` by overlap-save, all FFTs in one call."""
    taps_size = _lowpass_taps(sample_rate_hz, bandwidth_hz).size
    spectrum = _taps_spectrum(sample_rate_hz, bandwidth_hz)
    nfft = spectrum.size
    step = nfft - (taps_size - 1)  # valid outputs per FFT
    count = x.size - (taps_size - 1)
    frames = -(-count // step)
    padded = np.zeros(frames * step + taps_size - 1, np.complex128)
    padded[:x.size] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, nfft)[::step]
    filtered = sp_fft.ifft(sp_fft.fft(windows, axis=1) * spectrum, axis=1, overwrite_x=True)
    return filtered[:, taps_size - 1:].reshape(-1)[:count]


def ofdm_like(n: ArrayLike, sample_rate_hz: float, offset_hz: float, power: float, seed: int,
              stream: int = 0, bandwidth_hz: float = 1.08e6) -> NDArray[np.complex128]:
    """A continuously transmitted OFDM carrier, modelled as flat-topped Gaussian noise.

    Many independently modulated subcarriers add up to a Gaussian, flat-topped band; the default
    1.08 MHz is the occupied width of an LTE 1.4 MHz carrier (72 subcarriers of 15 kHz).

    Parameters
    ----------
    n, sample_rate_hz, offset_hz, power, seed, stream
        As for `bandlimited_noise`.
    bandwidth_hz : float, optional
        Occupied width in Hz.

    Returns
    -------
    numpy.ndarray of complex128
    """
    return bandlimited_noise(n, sample_rate_hz, offset_hz, bandwidth_hz, power, seed, stream)


def chirp(n: ArrayLike, sample_rate_hz: float, center_hz: float, span_hz: float, period_s: float,
          amplitude: float) -> NDArray[np.complex128]:
    """Linear frequency sweep repeating as a sawtooth, phase-continuous across every reset.

    The instantaneous frequency rises from ``center_hz - span_hz / 2`` to ``center_hz + span_hz /
    2`` in each period, then jumps back. A sweep that leaves ``±sample_rate_hz / 2`` is attenuated
    by the tuner's anti-alias filter, modelled as a raised-cosine roll-off of the amplitude from
    90 % to 100 % of ``sample_rate_hz / 2`` and zero beyond: a sweep wider than the captured band
    appears as periodic pulses, without aliases. The period may be shorter than an FFT frame.

    Parameters
    ----------
    n : array of int
        Absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    center_hz : float
        Centre of the sweep, offset from the centre frequency, in Hz.
    span_hz : float
        Width of the sweep in Hz.
    period_s : float
        Duration of one sweep in seconds.
    amplitude : float
        Amplitude in full-scale units while in band.

    Returns
    -------
    numpy.ndarray of complex128
    """
    indices = _as_indices(n)
    time_s = indices / sample_rate_hz
    sweep = np.floor(time_s / period_s)
    into_sweep_s = time_s - sweep * period_s
    start_hz = center_hz - span_hz / 2
    rate_hz_per_s = span_hz / period_s
    # One full sweep advances the phase by center_hz * period_s cycles.
    cycles = (np.mod(sweep * np.mod(center_hz * period_s, 1.0), 1.0)
              + start_hz * into_sweep_s + 0.5 * rate_hz_per_s * into_sweep_s**2)
    instantaneous_hz = start_hz + rate_hz_per_s * into_sweep_s
    edge_hz = sample_rate_hz / 2
    beyond = np.clip((np.abs(instantaneous_hz) - 0.9 * edge_hz) / (0.1 * edge_hz), 0.0, 1.0)
    out = phasor(cycles - np.floor(cycles))
    out *= amplitude * np.cos(0.5 * np.pi * beyond) ** 2
    return out


def nbfm(n: ArrayLike, sample_rate_hz: float, offset_hz: float, amplitude: float,
         deviation_hz: float = 5e3, tones_hz: tuple[float, ...] = (350.0, 910.0, 2130.0),
         ) -> NDArray[np.complex128]:
    """Narrowband FM carrier modulated by a voice-like sum of audio tones.

    The tones share the peak deviation (weights 0.5, 0.3, 0.2 for the default three), so the
    instantaneous frequency stays within ``offset_hz ± deviation_hz``; the envelope is constant.

    Parameters
    ----------
    n : array of int
        Absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    offset_hz : float
        Carrier offset from the centre frequency in Hz.
    amplitude : float
        Amplitude in full-scale units; the power is ``amplitude**2``.
    deviation_hz : float, optional
        Peak frequency deviation in Hz (5 kHz: 25 kHz channels; 2.5 kHz: 12.5 kHz channels).
    tones_hz : tuple of float, optional
        Modulating audio frequencies in Hz.

    Returns
    -------
    numpy.ndarray of complex128
    """
    indices = _as_indices(n)
    weights = np.linspace(1.0, 0.4, len(tones_hz))
    weights /= weights.sum()
    # The modulation (a few radians at most) in float32, so numpy's SIMD sin evaluates it.
    modulation_rad = np.zeros(indices.size, np.float32)
    for weight, audio_hz, start_rad in zip(weights, tones_hz, (0.0, 1.3, 4.1, 2.2, 5.0)):
        modulation_index = weight * deviation_hz / audio_hz
        audio_rad = (2 * np.pi * _cycles(indices, audio_hz / sample_rate_hz)).astype(np.float32)
        audio_rad += np.float32(start_rad)
        modulation_rad += np.float32(modulation_index) * np.sin(audio_rad)
    out = phasor(_cycles(indices, offset_hz / sample_rate_hz) + modulation_rad / (2 * np.pi))
    out *= amplitude
    return out


def pulse_gate(n: ArrayLike, sample_rate_hz: float, period_s: float, duty: float,
               delay_s: float = 0.0) -> NDArray[np.float64]:
    """On/off gate of a pulsed emitter: 1.0 for the first ``duty`` of each period, else 0.0.

    Parameters
    ----------
    n : array of int
        Absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    period_s : float
        Pulse repetition period in seconds.
    duty : float
        Fraction of each period that is on, in [0, 1].
    delay_s : float, optional
        Time of the first rising edge in seconds.

    Returns
    -------
    numpy.ndarray of float64
        Gate values, 0.0 or 1.0.
    """
    if not 0.0 <= duty <= 1.0:
        raise ValueError(f"duty={duty} must lie in [0, 1]")
    indices = _as_indices(n)
    phase = np.mod((indices / sample_rate_hz - delay_s) / period_s, 1.0)
    return (phase < duty).astype(np.float64)


@functools.lru_cache(maxsize=1)
def _gmsk_phase_pulse() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Integrated GMSK frequency pulse, 0 -> 1, against time in symbols from the symbol centre."""
    x_symbols = np.linspace(-_GMSK_SPAN_SYMBOLS - 0.5, _GMSK_SPAN_SYMBOLS + 0.5, 2001)
    sigma_symbols = np.sqrt(np.log(2)) / (2 * np.pi * _GMSK_BT)
    frequency_pulse = (special.ndtr((x_symbols + 0.5) / sigma_symbols)
                       - special.ndtr((x_symbols - 0.5) / sigma_symbols))
    phase_pulse = cumulative_trapezoid(frequency_pulse, x_symbols, initial=0.0)
    return x_symbols, phase_pulse / phase_pulse[-1]


def tdma_gmsk(n: ArrayLike, sample_rate_hz: float, offset_hz: float, amplitude: float,
              busy_slots: tuple[int, ...], seed: int, stream: int = 0) -> NDArray[np.complex128]:
    """Bursty GSM-like TDMA carrier: GMSK bursts in the busy timeslots of every frame.

    Each busy timeslot (576.9 µs, 8 per 4.615 ms frame) carries one normal burst of 148 random
    symbols at 270.833 kBd, GMSK with BT = 0.3 (constant envelope, about 200 kHz wide), with
    raised-cosine power ramps of 2 symbols at each end; the guard period between bursts is
    silent. Slot timing starts at sample 0. A carrier with all 8 slots busy behaves like a GSM
    BCCH carrier, continuously on apart from the guard gaps.

    Parameters
    ----------
    n : array of int
        One contiguous ascending run of absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    offset_hz : float
        Carrier offset from the centre frequency in Hz.
    amplitude : float
        Amplitude during a burst in full-scale units (burst power ``amplitude**2``).
    busy_slots : tuple of int
        Timeslot numbers, 0 to 7, that carry bursts in every frame.
    seed : int
        Non-negative seed of the capture.
    stream : int, optional
        Independent-noise id, see `white_noise`.

    Returns
    -------
    numpy.ndarray of complex128

    References
    ----------
    3GPP TS 45.004, "Modulation", section 2 (GMSK, BT = 0.3); 3GPP TS 45.002, section 4
    (timeslot of 15/26 ms, 8 per TDMA frame).
    """
    indices = _as_run(n)
    if indices.size == 0:
        return np.zeros(0, np.complex128)
    samples_per_slot = GSM_SLOT_S * sample_rate_hz
    busy = np.isin(np.arange(GSM_SLOTS_PER_FRAME), busy_slots)

    # Random symbols of every slot touched: row = slot, column = symbol + span (the frequency
    # pulses of the span symbols on each side of the burst still move the phase), plus one
    # column for the burst's starting phase. Drawn from the block noise, so each slot's symbols
    # depend only on (seed, stream, slot).
    span = _GMSK_SPAN_SYMBOLS
    width = GSM_BURST_SYMBOLS + 2 * span + 1
    first_slot = math.floor(indices[0] / samples_per_slot)
    last_slot = math.floor(indices[-1] / samples_per_slot)
    draws = white_noise(np.arange(first_slot * width, (last_slot + 1) * width), 1.0, seed, stream)
    draws = draws.reshape(-1, width)
    symbols = np.where(draws[:, :-1].real >= 0, 1.0, -1.0)
    start_cycles = np.angle(draws[:, -1]) / (2 * np.pi)
    # settled[r, k]: sum of the symbols before padded column k (their pulses are complete).
    settled = np.concatenate([np.zeros((symbols.shape[0], 1)), np.cumsum(symbols, axis=1)], axis=1)
    # pattern[r, k]: the 2 * span + 1 symbols around burst symbol k as bits (see _gmsk_partials).
    ones = (symbols > 0).astype(np.int64)
    pattern = sum(ones[:, bit:bit + GSM_BURST_SYMBOLS] << bit for bit in range(2 * span + 1))

    cycles = np.empty(indices.size)
    envelope = np.empty(indices.size)
    _gmsk_kernel(int(indices[0]), samples_per_slot, GSM_SYMBOL_RATE_HZ / sample_rate_hz, busy,
                 first_slot, pattern, settled, start_cycles, _gmsk_partials(),
                 offset_hz / sample_rate_hz, amplitude, cycles, envelope)
    out = phasor(cycles)
    out *= envelope
    return out


_GMSK_GRID = 128  # points per symbol of the tabulated partial phases


@functools.lru_cache(maxsize=1)
def _gmsk_partials() -> NDArray[np.float64]:
    """Phase, in quarter cycles, still being added by the symbols around a sample.

    Row ``p`` is a pattern of the ``2 * span + 1`` symbols ``k - span .. k + span`` around the
    sample's symbol ``k`` (bit ``b`` set: symbol ``k - span + b`` is +1, else -1); column ``j``
    is the sample's offset ``j / _GMSK_GRID`` symbols into symbol ``k``. Linear interpolation
    between columns is accurate to ~1e-5 of a quarter cycle.
    """
    span = _GMSK_SPAN_SYMBOLS
    pulse_x, pulse_g = _gmsk_phase_pulse()
    offsets = np.arange(_GMSK_GRID + 1) / _GMSK_GRID
    table = np.zeros((2 ** (2 * span + 1), offsets.size))
    for pattern in range(table.shape[0]):
        for bit in range(2 * span + 1):
            sign = 1.0 if pattern >> bit & 1 else -1.0
            table[pattern] += sign * np.interp(offsets - (bit - span + 0.5), pulse_x, pulse_g,
                                               left=0.0, right=1.0)
    table.setflags(write=False)
    return table


@numba.njit(cache=True, nogil=True)
def _gmsk_kernel(first_index, samples_per_slot, symbols_per_sample, busy, first_slot, pattern,
                 settled, start_cycles, partials, carrier_cycles_per_sample, amplitude, cycles,
                 envelope):  # pragma: no cover - compiled
    """Phase (in cycles, carrier included, reduced to [0, 1)) and envelope of `tdma_gmsk`.

    Per sample: its slot and position in symbols; silent outside a busy slot's burst; else the
    phase is the settled sum of the earlier symbols plus the partial phase pulses of the
    ``2 * span + 1`` symbols around it, read from the `_gmsk_partials` table.
    """
    grid = partials.shape[1] - 1
    for i in range(cycles.size):
        index = first_index + i
        slot = math.floor(index / samples_per_slot)
        position = (index - slot * samples_per_slot) * symbols_per_sample
        if not busy[slot % GSM_SLOTS_PER_FRAME] or position >= GSM_BURST_SYMBOLS:
            cycles[i] = 0.0
            envelope[i] = 0.0
            continue
        row = slot - first_slot
        symbol = max(math.floor(position), 0)  # max: rounding may put position at -1e-12
        u = min(position - symbol, 1.0) * grid
        j = min(int(u), grid - 1)
        around = pattern[row, symbol]
        partial = partials[around, j] + (u - j) * (partials[around, j + 1] - partials[around, j])
        quarters = settled[row, symbol] + partial  # + the symbols more than `span` before
        # h = 1/2: ±pi/2, a quarter cycle, per symbol.
        phase = 0.25 * quarters + start_cycles[row] + index * carrier_cycles_per_sample
        cycles[i] = phase - math.floor(phase)
        ramp = min(position, GSM_BURST_SYMBOLS - position) / _BURST_RAMP_SYMBOLS
        envelope[i] = amplitude * math.sin(0.5 * math.pi * ramp) ** 2 if ramp < 1.0 else amplitude
