"""RTL-SDR receiver impairments and 8-bit quantisation for synthetic captures.

The chain follows the hardware: tuner gain (with slow drift) -> local-oscillator error (a
frequency offset) -> IQ mixer imbalance -> DC offset -> 8-bit ADC (`to_cu8`). Like the signal
generators, every step is a function of absolute sample indices, so chunked processing is
seamless.

Full scale is 1.0 per rail: `to_cu8` maps ``v`` to ``round(v * 127.5 + 127.5)`` clipped to
[0, 255], the inverse of the usual ``(byte - 127.5) / 127.5`` used to read RTL-SDR samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectrum.sim.signals import phasor

CU8_SCALE = 127.5
"""Codes per full-scale unit (and the mid-scale code) of the RTL2832U's 8-bit samples."""


def gain_drift_db(n: ArrayLike, sample_rate_hz: float, drift_db: float,
                  period_s: float) -> NDArray[np.float64]:
    """Slow sinusoidal tuner gain drift, as a gain in dB at each sample.

    Parameters
    ----------
    n : array of int
        Absolute sample indices.
    sample_rate_hz : float
        Complex sample rate in Hz.
    drift_db : float
        Peak deviation from nominal gain in dB (the gain swings over ``±drift_db``).
    period_s : float
        Period of the drift in seconds; the gain starts at nominal and rises first.

    Returns
    -------
    numpy.ndarray of float64
        Gain in dB.
    """
    periods = np.asarray(n, dtype=np.int64) / (sample_rate_hz * period_s)
    periods -= np.floor(periods)  # reduced, so float32 sin (SIMD, fast) is accurate
    return drift_db * np.sin((2 * np.pi * periods).astype(np.float32)).astype(np.float64)


def frequency_offset(x: NDArray[np.complexfloating], n: ArrayLike, sample_rate_hz: float,
                     offset_hz: float) -> NDArray[np.complex128]:
    """Shift a signal in frequency by a rotation evaluated at absolute sample indices.

    Parameters
    ----------
    x : numpy.ndarray of complex
        Samples.
    n : array of int
        Absolute index of each sample.
    sample_rate_hz : float
        Complex sample rate in Hz.
    offset_hz : float
        Shift in Hz (positive moves signals up).

    Returns
    -------
    numpy.ndarray of complex128
    """
    cycles = np.asarray(n, dtype=np.int64) * (offset_hz / sample_rate_hz)
    cycles -= np.floor(cycles)
    return x * phasor(cycles)


def iq_imbalance(x: NDArray[np.complexfloating], gain_db: float,
                 phase_deg: float) -> NDArray[np.complex128]:
    """Gain and phase mismatch between the I and Q rails of the mixer.

    The mismatch is split evenly between the rails (I gains ``gain_db / 2``, Q loses it; the
    rails are skewed by ``±phase_deg / 2``), so the power of a circular signal is unchanged and
    the only effect is a mirror image at ``-f``, weaker by the image rejection ratio, about
    ``10 log10(4 / (g**2 + p**2))`` dB for a gain error ``g`` (linear, ``ln(10) gain_db / 20``)
    and a phase error ``p`` in radians.

    Parameters
    ----------
    x : numpy.ndarray of complex
        Samples.
    gain_db : float
        I-to-Q amplitude ratio in dB.
    phase_deg : float
        Deviation of the I-Q angle from 90 degrees, in degrees.

    Returns
    -------
    numpy.ndarray of complex128
    """
    half_gain = 10 ** (gain_db / 40)
    half_skew_rad = np.deg2rad(phase_deg) / 2
    out = np.empty(x.shape, np.complex128)
    out.real = (half_gain * np.cos(half_skew_rad)) * x.real
    out.real -= (half_gain * np.sin(half_skew_rad)) * x.imag
    out.imag = (np.cos(half_skew_rad) / half_gain) * x.imag
    out.imag -= (np.sin(half_skew_rad) / half_gain) * x.real
    return out


@dataclass(frozen=True)
class Impairments:
    """The imperfections of one RTL-SDR dongle.

    Attributes
    ----------
    dc_offset : complex
        Constant added to every sample, in full-scale units (0.02 is about 2.5 LSB).
    iq_gain_db : float
        IQ gain imbalance in dB, see `iq_imbalance`.
    iq_phase_deg : float
        IQ phase imbalance in degrees.
    ppm : float
        Local-oscillator error in parts per million; positive means the LO is high, so every
        signal appears ``ppm * 1e-6 * center_freq_hz`` lower (see `lo_shift_hz`).
    drift_db : float
        Peak tuner gain drift in dB, applied to everything including the noise floor.
    drift_period_s : float
        Period of the gain drift in seconds.
    """

    dc_offset: complex = 0.02 + 0.012j
    iq_gain_db: float = 0.3
    iq_phase_deg: float = 1.5
    ppm: float = 3.0
    drift_db: float = 0.0
    drift_period_s: float = 10.0

    def lo_shift_hz(self, center_freq_hz: float) -> float:
        """Apparent frequency shift, in Hz, of every signal caused by the LO error."""
        return -self.ppm * 1e-6 * center_freq_hz

    def apply(self, x: NDArray[np.complexfloating], n: ArrayLike, sample_rate_hz: float,
              center_freq_hz: float) -> NDArray[np.complex64]:
        """Pass samples through the dongle's analogue chain (everything but quantisation).

        Parameters
        ----------
        x : numpy.ndarray of complex
            Ideal baseband samples.
        n : array of int
            Absolute index of each sample.
        sample_rate_hz : float
            Complex sample rate in Hz.
        center_freq_hz : float
            Tuned centre frequency in Hz (scales the LO error).

        Returns
        -------
        numpy.ndarray of complex64
        """
        out = np.asarray(x, dtype=np.complex128)
        if self.drift_db:
            gain_db = gain_drift_db(n, sample_rate_hz, self.drift_db, self.drift_period_s)
            out = out * np.exp((np.log(10) / 20 * gain_db).astype(np.float32))  # 10**(dB/20)
        if self.ppm:
            out = frequency_offset(out, n, sample_rate_hz, self.lo_shift_hz(center_freq_hz))
        if self.iq_gain_db or self.iq_phase_deg:
            out = iq_imbalance(out, self.iq_gain_db, self.iq_phase_deg)
        return (out + self.dc_offset).astype(np.complex64)


def to_cu8(x: NDArray[np.complexfloating]) -> NDArray[np.uint8]:
    """Quantise complex samples to interleaved unsigned 8-bit I/Q, as rtl_sdr writes them.

    Parameters
    ----------
    x : numpy.ndarray of complex
        Samples in full-scale units; rails beyond ±1.0 clip.

    Returns
    -------
    numpy.ndarray of uint8
        ``I0, Q0, I1, Q1, ...``, each ``rint(v * 127.5 + 127.5)`` clipped to [0, 255].
    """
    samples = np.ascontiguousarray(x).ravel()
    if not np.iscomplexobj(samples):
        samples = samples.astype(np.complex128)
    # A contiguous complex array is its interleaved rails; compute in its own precision
    # (float32 for complex64, as rendered), in place on one temporary.
    rails = samples.view(samples.real.dtype) * CU8_SCALE
    rails += CU8_SCALE
    np.rint(rails, out=rails)
    np.clip(rails, 0, 255, out=rails)
    return rails.astype(np.uint8)


def clip_fraction(samples: NDArray[np.uint8] | NDArray[np.complexfloating]) -> float:
    """Fraction of I and Q values at the ADC's end codes (0 or 255).

    Parameters
    ----------
    samples : numpy.ndarray of uint8 or complex
        Interleaved cu8 bytes, or complex samples in full-scale units (quantised with `to_cu8`
        first, so both forms agree).

    Returns
    -------
    float
        Clipped fraction in [0, 1]; 0.0 for no samples.
    """
    codes = samples if samples.dtype == np.uint8 else to_cu8(samples)
    if codes.size == 0:
        return 0.0
    return float(np.count_nonzero((codes == 0) | (codes == 255)) / codes.size)
