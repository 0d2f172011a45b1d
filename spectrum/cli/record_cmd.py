"""``spectrum record --source SRC --seconds S --out FILE.h5|FILE.sigmf-meta``.

Records raw IQ from any source (:func:`spectrum.sources.open_source`) while computing the
waterfall and detecting events on the fly.

* HDF5 output: IQ, waterfall rows and closed events are appended as they come and the file is
  flushed every ``--flush-s`` seconds; it is written as ``NAME.partial.h5`` and renamed to
  ``NAME.h5`` with its hashes when the recording ends. A killed recorder leaves the
  ``.partial.h5``, readable (``replay``, ``plot``, ``convert``) up to its last flush.
* SigMF output: IQ, with the events as annotations, via :class:`captures.SigMFWriter`; every
  ``--flush-s`` seconds it checkpoints ``NAME.partial.sigmf-meta`` (pointing at the data being
  written, with the sample count on disk), so a killed recorder leaves a recording readable
  up to its last checkpoint; the complete ``NAME.sigmf-meta`` appears only at the end.

Ctrl-C ends the recording early and still finishes the file. The stderr summary reports the
CPU time spent per second of signal (``time.process_time``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from spectrum.cli.options import add_fft_size_option, fft_size, hertz

BLOCK_SAMPLES = 1 << 18  # ~0.1 s at 2.4 MS/s


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="record a source to HDF5 or SigMF, with waterfall and events",
                       description="Record IQ from a source, computing the waterfall and detecting "
                       "events as it goes.")
    p.add_argument("--source", required=True, metavar="SRC",
                   help="rtlsdr:INDEX|SERIAL, rtltcp://HOST:PORT, file:PATH or sim:SCENARIO")
    p.add_argument("--seconds", type=float, required=True, metavar="S", help="duration to record")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.h5 (or .hdf5) or FILE.sigmf-meta")
    p.add_argument("--freq", type=hertz, metavar="HZ", help="centre frequency (dongle, rtl_tcp)")
    p.add_argument("--rate", type=hertz, metavar="HZ", help="sample rate (default 2.4M for a dongle)")
    p.add_argument("--gain", type=float, metavar="DB", help="tuner gain, dB (default automatic)")
    p.add_argument("--ppm", type=int, default=0, help="frequency correction, ppm")
    p.add_argument("--site", help="site id (file metadata and events)")
    p.add_argument("--sensor", help="sensor id")
    p.add_argument("--lat", type=float, help="sensor latitude, degrees")
    p.add_argument("--lon", type=float, help="sensor longitude, degrees")
    add_fft_size_option(p, "waterfall and detector bins")
    p.add_argument("--compression", choices=["none", "gzip", "lzf"], default="none", help="HDF5 IQ compression")
    p.add_argument("--flush-s", type=float, default=5.0, metavar="S",
                   help="seconds between flushes: a killed recorder leaves a readable file up to the last one (default 5)")
    p.add_argument("--fast", action="store_true", help="do not pace file/sim sources in real time")
    p.add_argument("--json", action="store_true", help="print closed events as JSON lines on stdout")
    p.set_defaults(run=run)


class Recorder:
    """The record loop: source blocks → writer, front end → waterfall and detector → events.

    Parameters
    ----------
    source : IQSource
        An open source.
    writer : captures.hdf5.HDF5Writer or captures.SigMFWriter
    config : DetectorConfig
    site, sensor : str, optional
    flush_s : float
        Seconds of wall time between flushes (HDF5 writers).
    emit : callable, optional
        Called with each closed :class:`~spectrum.events.Event`.
    """

    def __init__(self, source: Any, writer: Any, config: Any, site: str | None = None,
                 sensor: str | None = None, flush_s: float = 5.0, emit: Any = None) -> None:
        from spectrum.sinks.waterfall_sink import WaterfallSink

        self.source = source
        self.writer = writer
        self.config = config
        self.site, self.sensor = site, sensor
        self.flush_s = flush_s
        self.emit = emit
        self.is_hdf5 = hasattr(writer, "add_rows")
        self.sink = WaterfallSink(writer=writer, keep=False) if self.is_hdf5 else None
        self.bands: dict[float, tuple[Any, Any]] = {}
        self.events: list[Any] = []
        self.samples = 0
        self.dropped = 0
        self.session_start: datetime | None = None
        self._freq: float | None = None
        self._next_index = 0

    def _band(self, freq: float) -> tuple[Any, Any]:
        from spectrum.detect.detector import BandDetector
        from spectrum.detect.spectral_frontend import SpectralFrontEnd

        if freq not in self.bands:
            detector = BandDetector(self.config, self.source.sample_rate_hz, freq,
                                    session_start=self.session_start, site=self.site, sensor=self.sensor)
            frontend = SpectralFrontEnd(self.source.datatype, self.config.fft_size, detector.frames_per_row)
            self.bands[freq] = (frontend, detector)
        return self.bands[freq]

    def _event(self, event: Any) -> None:
        if event.ongoing:
            return
        self.events.append(event)
        if self.is_hdf5:
            self.writer.add_event(event.to_dict())
        if self.emit is not None:
            self.emit(event)

    def run(self, num_samples: int) -> None:
        """Record ``num_samples`` samples (fewer if the source ends or Ctrl-C is pressed)."""
        from spectrum.sources.source_base import EndOfStream

        last_flush = time.monotonic()
        try:
            while self.samples < num_samples:
                try:
                    block = self.source.read_block(min(BLOCK_SAMPLES, num_samples - self.samples))
                except EndOfStream:
                    break
                freq = float(block.center_freq_hz)
                when = datetime.fromtimestamp(block.timestamp_s, timezone.utc)
                if self.session_start is None:
                    self.session_start = when
                    self.writer.new_segment(freq, when)
                elif freq != self._freq or block.sample_index != self._next_index:
                    self.dropped += max(0, block.sample_index - self._next_index)
                    self.writer.new_segment(freq, when)
                self._freq, self._next_index = freq, block.sample_index + block.num_samples
                self.writer.write(block.samples)
                frontend, detector = self._band(freq)
                for rows, clipped in frontend.process(block.samples):
                    if self.sink is not None:
                        self.sink(detector, rows)
                    for event in detector.process(rows, clipped):
                        self._event(event)
                self.samples += block.num_samples
                if time.monotonic() - last_flush >= self.flush_s:
                    # HDF5 flushes in place; SigMF writes a NAME.partial.sigmf-meta checkpoint
                    self.writer.flush() if self.is_hdf5 else self.writer.checkpoint()
                    last_flush = time.monotonic()
        except KeyboardInterrupt:
            print("spectrum record: interrupted; finishing the file", file=sys.stderr)
        for _, detector in self.bands.values():
            for event in detector.finish():
                self._event(event)


def run(args: argparse.Namespace) -> int:
    from captures import CaptureError, SigMFWriter
    from captures.evidence_clips import event_annotation
    from captures.hdf5 import HDF5Writer
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.errors import ConfigError
    from spectrum.sources import open_source

    if not (math.isfinite(args.seconds) and args.seconds > 0):
        raise ConfigError(f"--seconds {args.seconds}: must be a positive number")
    args.fft_size = fft_size(args.fft_size)
    if not args.flush_s > 0:
        raise ConfigError(f"--flush-s {args.flush_s}: must be positive")
    out = Path(args.out)
    is_hdf5 = out.name.lower().endswith((".h5", ".hdf5"))
    if not is_hdf5 and not out.name.endswith((".sigmf-meta", ".sigmf-data")):
        raise ConfigError(f"--out {out}: name it FILE.h5 (HDF5) or FILE.sigmf-meta (SigMF)")
    if out.is_dir() or not out.parent.is_dir():
        raise CaptureError(f"--out {out}: directory {out.parent} does not exist (or OUT is a directory)")
    config = DetectorConfig(fft_size=args.fft_size)
    realtime = False if args.fast else None
    with open_source(args.source, sample_rate_hz=args.rate, center_freq_hz=args.freq,
                     gain_db=args.gain, ppm=args.ppm, realtime=realtime) as source:
        fs, fc = source.sample_rate_hz, source.center_freq_hz
        if is_hdf5:
            provenance = config.provenance()
            attrs = {"gain_db": args.gain, "ppm": args.ppm, "site": args.site, "sensor": args.sensor,
                     "latitude_deg": args.lat, "longitude_deg": args.lon, "source": args.source,
                     "detector_version": provenance["version"],
                     "detector_config_hash": provenance["config_hash"],
                     "description": f"spectrum record --source {args.source}"}
            writer: Any = HDF5Writer(out, source.datatype, fs, fc, None, attrs=attrs,
                                     compression=None if args.compression == "none" else args.compression)
        else:
            extra = {"core:geolocation": {"type": "Point", "coordinates": [args.lon, args.lat]}} \
                if args.lat is not None and args.lon is not None else None
            writer = SigMFWriter(out, source.datatype, fs, fc, None,
                                 description=f"spectrum record --source {args.source}", extra_global=extra)
        emit = (lambda e: print(e.to_json(), flush=True)) if args.json else None
        recorder = Recorder(source, writer, config, args.site, args.sensor, args.flush_s, emit)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        try:
            recorder.run(int(round(args.seconds * fs)))
            if not is_hdf5:
                for event in recorder.events:
                    writer.add_annotation(**event_annotation(event.to_dict(), fs, 0.0, writer.num_samples))
            if recorder.samples == 0:
                raise CaptureError(f"{args.source}: delivered no samples; nothing recorded")
        except BaseException:
            writer.abort()
            raise
        writer.close()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    signal_s = recorder.samples / fs
    where = writer.path if is_hdf5 else writer.meta_path
    drops = f", {recorder.dropped} samples dropped" if recorder.dropped else ""
    print(f"{where}: {signal_s:.2f} s at {fs / 1e6:.3f} MS/s, {len(recorder.events)} event(s){drops}; "
          f"CPU {cpu:.2f} s in {wall:.2f} s = {100 * cpu / max(signal_s, 1e-9):.1f} % of one core "
          f"per second of signal", file=sys.stderr)
    if not args.json:  # with --json, stdout carries only events
        print(where)
    return 0
