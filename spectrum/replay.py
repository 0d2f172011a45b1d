"""Replay: a capture file through the front end and one detector per tuned band.

Source blocks → SpectralFrontEnd (kernels) → BandDetector → events. A capture with several
segments at different centre frequencies gets one detector (and baseline) per frequency; its
event times count from the start of the first segment at that frequency (a frequency revisited
later in the capture continues its rows as if there were no gap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from spectrum.detect.band_baseline import Baseline
from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.detector import BandDetector
from spectrum.events import Event
from spectrum.detect.spectral_frontend import SpectralFrontEnd

BLOCK_SAMPLES = 1 << 20  # ~0.4 s at 2.4 MS/s; memory stays a few MB whatever the capture length


@dataclass
class ReplayResult:
    """Events of a replay and what the detectors knew when it ended."""

    events: list[Event] = field(default_factory=list)
    detectors: dict[float, BandDetector] = field(default_factory=dict)
    samples: int = 0


def replay_events(
    reader,
    config: DetectorConfig | None = None,
    baseline: Baseline | None = None,
    site: str | None = None,
    sensor: str | None = None,
    progress: Callable[[int], None] | None = None,
    fft_backend: str = "auto",
    result: ReplayResult | None = None,
    on_rows: Callable[[BandDetector, object], None] | None = None,
) -> Iterator[Event]:
    """Yield events (ongoing ones as they open, each again when it closes) from a capture.

    Parameters
    ----------
    reader : captures.reader.CaptureReader
        An open capture.
    config : DetectorConfig, optional
    baseline : Baseline, optional
        A baseline learned earlier, for the capture's (first) centre frequency.
    progress : callable, optional
        Called with the number of samples done after each block.
    result : ReplayResult, optional
        Filled with the detectors and sample count, for callers that want the baselines.
    on_rows : callable, optional
        ``on_rows(detector, rows)`` with each batch of :class:`kernels.psd.PowerRows`, before the
        detector sees it (e.g. a :class:`spectrum.sinks.waterfall_sink.WaterfallSink`). Must not modify them.
    """
    config = config or DetectorConfig()
    if baseline is None and reader.duration_s < config.learn_s:
        config = config.for_short_capture()  # no baseline will be learned: finer rows for the rest
    result = result if result is not None else ReplayResult()
    start: datetime | None = reader.start_time
    frontends: dict[float, SpectralFrontEnd] = {}
    for block in reader.blocks(BLOCK_SAMPLES):
        freq = float(block.center_freq_hz)
        if freq not in result.detectors:
            detector = BandDetector(
                config, reader.sample_rate_hz, freq,
                baseline=baseline if not result.detectors else None,
                session_start=start, site=site, sensor=sensor,
                start_offset_s=block.sample_start / reader.sample_rate_hz,
            )
            result.detectors[freq] = detector
            frontends[freq] = SpectralFrontEnd(
                reader.datatype, config.fft_size, detector.frames_per_row, fft_backend=fft_backend
            )
        detector = result.detectors[freq]
        for rows, clipped in frontends[freq].process(block.samples):
            if on_rows is not None:
                on_rows(detector, rows)
            for event in detector.process(rows, clipped):
                yield event
        result.samples += block.num_samples
        if progress is not None:
            progress(result.samples)
    for detector in result.detectors.values():
        yield from detector.finish()
    for detector in result.detectors.values():
        result.events.extend(detector.events)
