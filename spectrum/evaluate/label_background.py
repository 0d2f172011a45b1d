"""How far a scene's legitimate signals lift the floor under each jammer label: J/(N+I).

A label's ``jnr_db`` is the jammer over the receiver's *noise* in its band
(spectrum.sim.random_scenes). The scene's backgrounds (a TDD downlink, OFDM bursts, an FM
voice carrier, ...) are placed independently of the jammer and may occupy the same band at a
higher level. A jammer under a stronger legitimate signal is hidden by it, in any receiver: a CW
line 13 dB under an LTE carrier's power in the same bins adds 0.2 dB to them. The benchmark
therefore also reports, beside JNR, the jammer over noise *plus* interference in its band:

    J/(N+I) = JNR − 10·log10(1 + I/N),

with I the scene's backgrounds' mean power in the label's band and N the noise's, measured
over up to ``SPAN_S`` of the label's window (its start; its end for a ramp, whose ``jnr_db`` is
its final level) by Welch averaging of the backgrounds rendered alone. The band is the label's,
widened to ``RESOLUTION_BINS`` bins either side of a line. For a pulsed jammer the ratio uses
its level while a pulse is on, as its ``jnr_db`` does. The dongle's impairments (IQ image,
gain drift) are left out: they move both powers alike.
"""

from __future__ import annotations

import math

import numpy as np

from spectrum.sim.random_scenes import add_emitters
from spectrum.sim.scenarios import NOISE_POWER

SPAN_S = 0.5  # seconds of the label's window measured (hundreds of frames at the usual rates)
FFT_SIZE = 2048
RESOLUTION_BINS = 2  # a line's band: its frequency ± half a Hann main lobe


def background_rise_db(scene, label: dict) -> float:
    """10·log10(1 + I/N) in the label's band over its window (module docstring).

    Parameters
    ----------
    scene : spectrum.sim.random_scenes.RandomScene
        The scene the label belongs to (drawn from its seed).
    label : dict
        One of its jammer labels (``start_s``, ``end_s``, ``freq_low_hz``, ``freq_high_hz``,
        ``onset``).
    """
    fs, fc = scene.sample_rate_hz, scene.center_freq_hz
    if all(e.kind is not None for e in scene.emitters):
        return 0.0
    span = min(SPAN_S, label["end_s"] - label["start_s"])
    first_s = label["end_s"] - span if label["onset"] == "ramp" else label["start_s"]
    frames = max(1, int(span * fs) // FFT_SIZE)
    n = np.arange(int(first_s * fs), int(first_s * fs) + frames * FFT_SIZE, dtype=np.int64)
    x = add_emitters(scene, n, np.zeros(n.size, np.complex128), backgrounds_only=True)  # the capture's samples
    window = np.hanning(FFT_SIZE)
    spectrum = np.fft.fftshift(np.fft.fft(x.reshape(frames, FFT_SIZE) * window, axis=1), axes=1)
    background = (np.abs(spectrum) ** 2).mean(axis=0)
    noise = NOISE_POWER * float((window ** 2).sum())  # E|X_k|² of white noise of that power
    shift = scene.impairments.lo_shift_hz(fc)  # labels are as received; the components are not
    bin_hz = fs / FFT_SIZE
    low = math.floor((label["freq_low_hz"] - fc - shift) / bin_hz) + FFT_SIZE // 2
    high = math.ceil((label["freq_high_hz"] - fc - shift) / bin_hz) + FFT_SIZE // 2
    low, high = max(low - RESOLUTION_BINS, 0), min(high + RESOLUTION_BINS, FFT_SIZE - 1)
    interference = float(background[low : high + 1].mean())
    return 10.0 * math.log10(1.0 + interference / noise)
