"""Tracks → events of the contract (spectrum.events.Event): times, absolute frequencies,
kind, rise, severity, confidence and the evidence fields, for the three kinds of track
(baseline-relative bands, baseline-free detections, ADC overload)."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from spectrum.detect.classify import classify, severity
from spectrum.detect.confidence import calibrated_confidence
from spectrum.detect.kind_features import kind_features
from spectrum.detect.kind_model import RULES, load_forest
from spectrum.detect.tracks import Track
from spectrum.events import Event

TONE_HALF_WIDTH_BINS = 2.0  # half a Hann main lobe: the resolution a line's frequency is measured at


class EventBuilder:
    """Build events of one band.

    Parameters
    ----------
    center_freq_hz, bin_hz : float
        Tuning and resolution, for absolute frequencies.
    fft_size : int
    row_s : float
        Seconds per row.
    start_offset_s : float
        Where row 0 lies in the capture or session (s).
    z_threshold : float
        The multi-scale test's threshold (the confidence model reads z_max against it).
    session_start, site, sensor, provenance
        Copied into every event.
    confidence_model : str
        Path of the confidence model ("" for the packaged one).
    kind_model : str
        Path of the kind model ("" for the packaged one, "rules" for the hand rules).
    """

    def __init__(self, center_freq_hz: float, bin_hz: float, fft_size: int, row_s: float, start_offset_s: float,
                 z_threshold: float, session_start: datetime | None, site: str | None, sensor: str | None,
                 provenance: dict[str, str], confidence_model: str = "", frames_per_row: int | None = None,
                 kind_model: str = "") -> None:
        self.frames_per_row = frames_per_row  # the frames behind each row's spectral kurtosis
        self.center_freq_hz = center_freq_hz
        self.bin_hz = bin_hz
        self.fft_size = fft_size
        self.row_s = row_s
        self.start_offset_s = start_offset_s
        self.z_threshold = z_threshold
        self.session_start = session_start
        self.site = site
        self.sensor = sensor
        self.provenance = provenance
        self.confidence_model = confidence_model
        self.kind_model = kind_model

    def event(self, track: Track, ongoing: bool) -> Event:
        """The event of ``track`` now (``ongoing``: no end yet)."""
        start_row = track.onset_row if track.onset_row is not None else track.first_row
        lo_bin, hi_bin = track.extent()
        lo_hz = self.center_freq_hz + (lo_bin - self.fft_size / 2 - 0.5) * self.bin_hz
        hi_hz = self.center_freq_hz + (hi_bin - self.fft_size / 2 + 0.5) * self.bin_hz
        share = (hi_bin - lo_bin + 1) / self.fft_size
        detected_row = track.opened_row if track.opened_row is not None else track.last_row
        if track.kind_hint == "baseline_free":
            kind, rise, extra, conf = self._baseline_free_fields(track)
            sev = severity(kind, rise, share)
        elif track.kind_hint == "overload":
            kind, rise, extra, conf = "overload", 0.0, {"clip_share": round(float(track.score_max), 6)}, 1.0
            duration_s = (track.last_row - start_row + 1) * self.row_s
            sev = "warning" if duration_s >= 2.0 else "info"
        else:
            features = self.features(track)
            kind, rise, extra, conf = self._band_fields(track, features)
            if kind == "tone" and track.peak_bins:
                lo_hz, hi_hz = self._tone_band(track)
            sev = severity(kind, rise, share)
        extra["detected_offset_s"] = round(self.start_offset_s + (detected_row + 1) * self.row_s, 4)
        event = Event(
            id=track.id,
            kind=kind,
            offset_start_s=self.start_offset_s + start_row * self.row_s,
            offset_end_s=None if ongoing else self.start_offset_s + (track.end_row + 1) * self.row_s,
            freq_low_hz=lo_hz,
            freq_high_hz=hi_hz,
            peak_dbfs=float(track.level_max_db),
            rise_db=float(rise),
            severity=sev,
            confidence=conf,
            session_start=self.session_start,
            site=self.site,
            sensor=self.sensor,
            detector=self.provenance,
            extra=extra,
        )
        if track.kind_hint == "band":
            event.features = features.tolist()
        return event

    @staticmethod
    def _baseline_free_fields(track: Track) -> tuple[str, float, dict, float]:
        # a sliding impulsive band is a sweep; a periodic one a pulsed jammer, unless its
        # envelope is constant (a sweep wider than the band, entering as pulses)
        swept = track.sweep_rows >= track.hits / 2 or track.mean_envelope_kurtosis <= 1.5
        kind = "swept" if swept else "pulsed"
        extra = {"spectral_kurtosis": round(track.mean_sk, 3), "baseline": "none",
                 "periodicity": round(track.score_max, 3)}
        return kind, 0.0, extra, float(np.clip(track.score_max, 0.0, 1.0))

    def kind(self, track: Track, features=None) -> str:
        """The kind of a band track: the fitted model's, or the hand rules' (``kind_model="rules"``)."""
        if self.kind_model == RULES:
            return classify(track, self.bin_hz, self.frames_per_row)
        return load_forest(self.kind_model).kind(self.features(track) if features is None else features)

    def features(self, track: Track):
        return kind_features(track, self.bin_hz, self.fft_size, self.frames_per_row)

    def _band_fields(self, track: Track, features) -> tuple[str, float, dict, float]:
        kind = self.kind(track, features)
        extra = {
            "spectral_kurtosis": round(track.mean_sk, 3),
            "unreliable": track.unreliable_rows > 0,
            "sidebands": len(track.sidebands),
            "envelope_kurtosis": round(track.mean_envelope_kurtosis, 3),
            "pulsing": round(track.mean_pulsing, 2),
            "row_modulation": round(track.row_modulation, 2),
            "z_max": round(float(track.score_max), 2),  # the strongest test statistic (threshold: z_threshold)
            "hits": track.hits,  # row detections (a row outlined in pieces counts each)
            "overload": track.clip_rows > 0,  # the ADC clipped while it lasted (an overload event says so too)
        }
        if track.clip_rows:
            extra["clip_share"] = round(track.clip_share_max, 6)
        conf = calibrated_confidence(kind, track.score_max, self.z_threshold, track.hits,
                                     track.mean_envelope_kurtosis, self.confidence_model)
        return kind, track.mean_rise_db, extra, conf

    def _tone_band(self, track: Track) -> tuple[float, float]:
        """A CW line has no width: its interpolated frequency ± half the Hann main lobe, the
        resolution it is measured with (Hz). A fixed width would claim more than was measured at
        fine resolution and less at coarse."""
        tone_hz = self.center_freq_hz + (float(np.median(track.peak_bins)) - self.fft_size / 2) * self.bin_hz
        half_hz = TONE_HALF_WIDTH_BINS * self.bin_hz
        return tone_hz - half_hz, tone_hz + half_hz
