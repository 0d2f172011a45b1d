"""The evidence a band track's kind is decided on, as one vector of named, physical features.

Each feature means the same at any sample rate and FFT size (widths in Hz and as a share of
the band, statistics normalised by their spread under noise), so a model fitted on scenes of
some resolutions holds at others. The hand rules' own verdict (spectrum.detect.classify) is
among them: a model fitted on top of the rules learns where they go wrong, and needs fewer
examples than one learning every boundary afresh.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from spectrum.detect.classify import classify, line_sk, noise_sk_sigmas
from spectrum.detect.tracks import Track

RULE_KINDS = ("wideband_noise", "tone", "swept", "pulsed", "new_emitter")
FEATURE_NAMES = (
    "log10_width_hz",  # the track's union width
    "log10_row_width_hz",  # the median row's width: a drifting line stays narrow row by row
    "share_of_band",
    "log10_bin_hz",  # the resolution: how many bins a line's main lobe fills
    "spectral_kurtosis",  # ≈1 noise, ≫1 impulsive (pulses, a sweep passing), <1 constant envelope
    "sk_sigmas",  # its distance from noise's 1 in standard errors (signed, bounded)
    "line_sk_margin",  # SK above what a CW line of this rise would have
    "envelope_kurtosis",  # 1 constant envelope (sweep, FM), 2 noise, more: noise in pulses
    "log10_pulsing",  # frame-power modulation against the quiet baseline's
    "row_modulation",  # rows' own excess, std over mean: on and off over rows
    "concentration",  # share of bins holding half the excess: small for a comb of lines
    "centroid_wander",  # std of the row centres over the span
    "row_width_over_span",  # a sweep's rows are narrow against the band it covers
    "same_direction",  # share of successive centre steps in one direction (1/3 for random)
    "mean_rise_db",
    "occupancy",  # share of rows it was seen in
    "clipped_share",  # share of its rows with the ADC clipping
    "sidebands",
    "log10_hits",
    *(f"rule={kind}" for kind in RULE_KINDS),
)
SK_SIGMAS_MAX = 50.0  # beyond this the distance says nothing more


def _same_direction(centroids: NDArray) -> float:
    steps = np.diff(centroids)
    steps = steps[np.abs(steps) > 1.0]
    if len(steps) < 2:
        return 1.0 / 3.0  # no evidence either way: what independent positions give
    return float(np.mean(np.sign(steps[1:]) == np.sign(steps[:-1])))


def kind_features(track: Track, bin_hz: float, fft_size: int, frames_per_row: int | None) -> NDArray[np.float64]:
    """The features of ``track`` in the order of FEATURE_NAMES."""
    width_bins = track.hi_bin - track.lo_bin + 1
    widths = np.asarray(track.widths, dtype=float)
    centroids = np.asarray(track.centroids, dtype=float)
    row_width_bins = float(np.median(widths)) if len(widths) else float(width_bins)
    extent_lo, extent_hi = track.extent()
    span_bins = max(extent_hi - extent_lo + 1, 1)
    sk = float(track.mean_sk)
    sigmas = noise_sk_sigmas(track, frames_per_row) if frames_per_row else 0.0
    rule = classify(track, bin_hz, frames_per_row)
    return np.array([
        math.log10(width_bins * bin_hz),
        math.log10(max(row_width_bins, 1.0) * bin_hz),
        width_bins / fft_size,
        math.log10(bin_hz),
        sk,
        float(np.clip(sigmas, -SK_SIGMAS_MAX, SK_SIGMAS_MAX)),
        sk - line_sk(track.mean_rise_db),
        float(track.mean_envelope_kurtosis),
        math.log10(max(track.mean_pulsing, 1e-3)),
        float(track.row_modulation),
        float(track.mean_concentration),
        float(np.std(centroids)) / span_bins if len(centroids) else 0.0,
        row_width_bins / span_bins,
        _same_direction(centroids),
        float(track.mean_rise_db),
        float(track.occupancy),
        track.clip_rows / max(track.last_row - track.first_row + 1, 1),
        float(len(track.sidebands)),
        math.log10(max(track.hits, 1)),
        *(float(rule == kind) for kind in RULE_KINDS),
    ])
