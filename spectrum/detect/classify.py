"""Kind and severity of a track, from its statistics rather than its width alone.

(Its confidence: spectrum.detect.confidence.)

Barrage noise, a fast sweep and pulsed noise can share one average spectrum; what separates
them is the spectral kurtosis of each bin (≈1 noise-like, ≫1 impulsive, ≪1 constant
envelope), whether the row's total power is modulated (pulses) or steady (a sweep passing
through each bin in turn), and whether the occupied band moves from row to row.

A line is at most a Hann main lobe and a bin of drift wide in each row (``TONE_MAX_BINS``),
whatever the resolution: at fine resolution a 10 kHz FM voice channel spans dozens of bins
and is no line. Narrow signals are modulated carriers (new emitters) unless every bin is as
Gaussian as noise: then it is noise on a channel, a narrow barrage. "As Gaussian as noise" is
the track's mean SK within ``NOISE_SK_SIGMAS`` standard errors of 1, the standard error from
the exact SK variance at the row's frames (spectrum.detect.sk_stats) over the bins and rows
averaged (adjacent Hann bins count as 1/1.5 of an independent value).
"""

from __future__ import annotations

import math

import numpy as np

from spectrum.detect.sk_stats import sk_moments
from spectrum.detect.tracks import Track

TONE_MAX_BINS = 6  # a CW line's row width: its main lobe and a bin of drift, at any resolution
NARROW_EMITTER_MAX_HZ = 60e3  # voice / data channels are 6.25–25 kHz; leave room for FM skirts
SK_IMPULSIVE = 1.3  # region-mean SK above this: impulsive power in each bin
SK_CONSTANT = 0.7  # below this: constant envelope
PULSING = 2.0  # frame-power modulation this many times the quiet baseline's: pulses
LINES = 0.25  # half the excess power in under this share of the bins: a comb of lines
CONSTANT_ENVELOPE = 1.5  # envelope kurtosis below this: constant-envelope bursts (a sweep)
NOISE_PULSES_KAPPA = 2.1  # above Gaussian noise's 2 (its estimate over a row is good to ~0.02): noise in pulses
LINE_SK_MARGIN = 0.4  # a line's region-mean SK sits above the formula (its skirt bins are weaker)
ON_OFF = 0.8  # rows' own excess power varying this much (std over mean): on and off over rows
MOTION = 0.15  # centroid wander as a share of the track's width: a moving (swept) signal
NOISE_SK_SIGMAS = 4.0  # mean SK this close to 1 (in standard errors under noise): Gaussian, noise-like


def classify(track: Track, bin_hz: float, frames_per_row: int | None = None) -> str:
    """Return the event kind of a band track (see module docstring); without ``frames_per_row``
    a narrow signal is never judged noise-like."""
    width_hz = (track.hi_bin - track.lo_bin + 1) * bin_hz
    centroids = np.asarray(track.centroids, dtype=float)
    widths = np.asarray(track.widths, dtype=float)
    # the rows' 5–95 % extent, not the union: one noisy row of a weak band must not make
    # the others look narrow against it
    extent_lo, extent_hi = track.extent()
    span_bins = extent_hi - extent_lo + 1
    # motion is judged against the span, but never below 2 bins: the centroid of a weak
    # narrow line jitters by about a bin from row to row
    moving = len(centroids) >= 8 and (  # motion needs a few rows to be told from noise
        np.std(centroids) > max(MOTION * span_bins, 2.0) or np.median(widths) < 0.5 * span_bins - 2
    ) and _keeps_direction(centroids)
    # a wide jammer that comes and goes over rows (pulses longer than a row) also leaves
    # narrow scraps in its off rows; a sweep keeps its power from row to row. (Narrow weak
    # signals are left out: their rows' excess is too noisy to tell.)
    on_off = width_hz > NARROW_EMITTER_MAX_HZ and track.row_modulation > ON_OFF
    moving = moving and not on_off
    sk = track.mean_sk
    # a tone's row-by-row width, not the union (a line drifting with the LO widens the union)
    row_width_hz = float(np.median(widths)) * bin_hz if len(widths) else width_hz
    # a strong line fills a Hann window's main lobe, ±2 bins, whatever the bin width
    tone_max_hz = TONE_MAX_BINS * bin_hz
    if row_width_hz <= tone_max_hz and not moving:
        # a CW line over noise has SK = (1+2ρ)/(1+ρ)² ≤ 1 at per-bin SNR ρ; a modulated signal
        # (voice, data) wandering over its bins has SK ≥ 1: a new emitter. Once the rise makes
        # a line's SK clearly lower than the one measured, the signal is not a line; below
        # about 3 dB both are near 1 and a weak narrow line is most likely a tone.
        if sk >= max(SK_CONSTANT, line_sk(track.mean_rise_db) + LINE_SK_MARGIN):
            return "new_emitter"
        return "tone"
    if moving and width_hz > NARROW_EMITTER_MAX_HZ:
        return "swept"
    if width_hz <= NARROW_EMITTER_MAX_HZ:
        # narrow: a modulated carrier (FM wandering over its channel, a TDMA burst) is not
        # Gaussian in its bins; noise on the channel is (a narrow barrage)
        if frames_per_row is not None and _noise_like(track, frames_per_row):
            return "wideband_noise"
        return "new_emitter"
    if sk > SK_IMPULSIVE:
        # impulsive in each bin: pulses of noise, or a sweep visiting each bin in turn; a
        # sweep has a steady total power, or — wider than the band — comes in constant-
        # envelope bursts (envelope kurtosis near 1, noise pulses near 2)
        # (pulses shorter than a frame leave the frame powers steady, but not the envelope:
        # noise pulses raise its kurtosis over Gaussian noise's 2, a constant-envelope sweep
        # lowers it)
        kappa = track.mean_envelope_kurtosis
        if (track.mean_pulsing > PULSING or on_off or kappa > NOISE_PULSES_KAPPA) and kappa > CONSTANT_ENVELOPE:
            return "pulsed"
        return "swept"
    if sk < SK_CONSTANT or (track.mean_concentration < LINES and not on_off):
        return "swept"  # a comb of lines over a band: a sweep faster than one frame
    if track.mean_pulsing > PULSING or on_off:
        # bursts of noise, or — constant-envelope bursts — a sweep wider than the band that is
        # too weak over the noise to look impulsive per bin
        return "pulsed" if track.mean_envelope_kurtosis > CONSTANT_ENVELOPE else "swept"
    return "wideband_noise"


def _keeps_direction(centroids: np.ndarray) -> bool:
    """Whether the centre moves on in one direction more often than jumping about would: for
    positions drawn independently (a hopper's channels, bursts here and there) two successive
    steps share their sign a third of the time; a sweep slower than a row keeps its direction
    for most of a period. Judged on steps of more than a bin, at 3 binomial standard errors."""
    steps = np.diff(centroids)
    steps = steps[np.abs(steps) > 1.0]
    pairs = len(steps) - 1
    if pairs < 4:
        return True  # too few steps to judge: leave the motion test as it was
    same = float(np.mean(np.sign(steps[1:]) == np.sign(steps[:-1])))
    return same > 1 / 3 + 3 * math.sqrt(2 / 9 / pairs)


def _noise_like(track: Track, frames_per_row: int) -> bool:
    """Whether the track's mean SK is within NOISE_SK_SIGMAS standard errors of noise's 1."""
    if track.feature_rows < 8:
        return False  # too few rows to tell
    return abs(noise_sk_sigmas(track, frames_per_row)) <= NOISE_SK_SIGMAS


def noise_sk_sigmas(track: Track, frames_per_row: int) -> float:
    """How far the track's mean SK lies from noise's 1, in standard errors of that mean."""
    bins = np.asarray(track.widths, dtype=float)
    if not len(bins):
        return 0.0
    values = float(np.mean(bins)) / 1.5 * max(track.feature_rows, 1)  # independent SK values averaged
    _, variance, _ = sk_moments(max(frames_per_row, 4))
    return (track.mean_sk - 1.0) / math.sqrt(variance / max(values, 1.0))


def line_sk(rise_db: float) -> float:
    """Spectral kurtosis of a CW line whose power stands ``rise_db`` over the noise in its bin."""
    rho = max(10.0 ** (rise_db / 10.0) - 1.0, 0.0)
    return (1.0 + 2.0 * rho) / (1.0 + rho) ** 2


def severity(kind: str, rise_db: float, share_of_band: float) -> str:
    """``critical`` for strong or wide jamming, ``warning`` for clear rises, else ``info``."""
    if kind == "overload":
        return "warning"
    if kind == "new_emitter":
        return "info" if rise_db < 20 else "warning"
    if rise_db >= 15 or (rise_db >= 6 and share_of_band >= 0.2):
        return "critical"
    if rise_db >= 3 or share_of_band >= 0.2:
        return "warning"
    return "info"
