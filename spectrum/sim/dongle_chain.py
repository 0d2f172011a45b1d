"""The RTL-SDR chain of `spectrum.sim.impairments` fused into one pass, for the randomised scenes.

`Impairments.apply` followed by `to_cu8` makes five passes over complex128 temporaries; a
randomised benchmark renders billions of samples, so this module does the same steps (scale,
tuner gain drift, LO offset, IQ imbalance, DC offset, 8-bit quantisation with clipping) in one
numba loop and counts the clipped rails on the way. The steps and their conventions are those
of `spectrum.sim.impairments` (tests compare the two); the LO rotation is advanced by a
recurrence, re-anchored exactly every 1024 samples, so it stays a function of the absolute
index to ~1e-12.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from spectrum.sim.impairments import CU8_SCALE, Impairments

_ANCHOR = 1024


def finish_cu8(x: NDArray[np.complex128], first_index: int, sample_rate_hz: float, center_freq_hz: float,
               scale: float, impairments: Impairments) -> tuple[NDArray[np.uint8], int]:
    """Scale, impair and quantise samples; return (interleaved cu8 bytes, clipped rail count).

    Parameters
    ----------
    x : numpy.ndarray of complex128
        Ideal baseband samples, contiguous, for absolute indices ``first_index ...``.
    first_index : int
        Absolute index of ``x[0]``.
    sample_rate_hz, center_freq_hz : float
        Tuning, in Hz.
    scale : float
        Amplitude factor applied first (sets the noise floor's level in full-scale units).
    impairments : Impairments
        The dongle.

    Returns
    -------
    codes : numpy.ndarray of uint8
        ``I0, Q0, I1, Q1, ...`` as `spectrum.sim.impairments.to_cu8` writes them.
    clipped : int
        Number of I/Q values at code 0 or 255.
    """
    imp = impairments
    half_gain = 10 ** (imp.iq_gain_db / 40)
    skew = math.radians(imp.iq_phase_deg) / 2
    coef = np.array([half_gain * math.cos(skew), half_gain * math.sin(skew),
                     math.cos(skew) / half_gain, math.sin(skew) / half_gain])
    out = np.empty(2 * x.size, np.uint8)
    lo_cps = imp.lo_shift_hz(center_freq_hz) / sample_rate_hz if imp.ppm else 0.0
    drift_cps = 1.0 / (sample_rate_hz * imp.drift_period_s)
    clipped = _finish(np.ascontiguousarray(x), int(first_index), float(scale), float(imp.drift_db), drift_cps,
                      lo_cps, coef, imp.dc_offset.real, imp.dc_offset.imag, out)
    return out, int(clipped)


@numba.njit(cache=True, nogil=True)
def _finish(x, first, scale, drift_db, drift_cps, lo_cps, coef, dc_re, dc_im, out):  # pragma: no cover - compiled
    clipped = 0
    rot_re, rot_im, step_re, step_im = 1.0, 0.0, 1.0, 0.0
    gain = scale
    for i in range(x.size):
        n = first + i
        if i % _ANCHOR == 0:
            c = n * lo_cps
            c -= math.floor(c)
            rot_re, rot_im = math.cos(2 * math.pi * c), math.sin(2 * math.pi * c)
            step_re, step_im = math.cos(2 * math.pi * lo_cps), math.sin(2 * math.pi * lo_cps)
        if drift_db != 0.0 and i % 64 == 0:
            p = n * drift_cps
            p -= math.floor(p)
            gain = scale * 10 ** (drift_db * math.sin(2 * math.pi * p) / 20)
        re = x[i].real * gain
        im = x[i].imag * gain
        re, im = re * rot_re - im * rot_im, re * rot_im + im * rot_re
        rot_re, rot_im = rot_re * step_re - rot_im * step_im, rot_re * step_im + rot_im * step_re
        i_out = coef[0] * re - coef[1] * im + dc_re
        q_out = coef[2] * im - coef[3] * re + dc_im
        for k, v in ((0, i_out), (1, q_out)):
            code = round(v * CU8_SCALE + CU8_SCALE)
            if code <= 0:
                code = 0
                clipped += 1
            elif code >= 255:
                code = 255
                clipped += 1
            out[2 * i + k] = code
    return clipped
