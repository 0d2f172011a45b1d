"""``spectrum plot FILE [--out PNG]``: a waterfall picture of a capture with its events boxed.

For an HDF5 capture the stored waterfall and events are drawn; for SigMF/raw the capture is
replayed (its events are the replay's, or the stored ``spectrum:`` event annotations of an
evidence clip when it has them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from spectrum.cli.options import add_fft_size_option, add_raw_format_options, fft_size as resolve_fft_size


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="draw a capture's waterfall with its events (PNG)",
                       description="Draw the waterfall of a SigMF, HDF5 or raw capture, with time "
                       "and frequency axes, a dB colour bar and boxes around the events.")
    p.add_argument("path", metavar="FILE", help="capture (.h5, .sigmf-meta, raw)")
    p.add_argument("--out", metavar="PNG", help="output picture (default: FILE with .png)")
    add_raw_format_options(p)
    add_fft_size_option(p, "bins when replaying")
    p.add_argument("--title", help="picture title (default: the file name)")
    p.set_defaults(run=run)


def default_png(path: str) -> Path:
    """``x.sigmf-meta`` / ``x.h5`` / ``x.cu8`` → ``x.png``."""
    p = Path(path)
    name = p.name
    for ext in (".sigmf-meta", ".sigmf-data"):
        name = name.removesuffix(ext)
    return p.with_name(Path(name).stem + ".png" if name == p.name else name + ".png")


def capture_waterfall(reader: Any, fft_size: int | None = None, max_rows: int = 4096) -> tuple[Any, list[dict]]:
    """Waterfall sink and events of an open capture (stored ones if the file has them).

    Returns
    -------
    sink : spectrum.sinks.waterfall_sink.WaterfallSink
        ``sink.arrays()`` gives ``(power_dbfs, times_s, freqs_hz)``.
    events : list of dict
        Contract-shaped events.
    """
    from captures.evidence_clips import annotation_event
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.replay import ReplayResult, replay_events
    from spectrum.sinks.waterfall_sink import WaterfallSink

    fft_size = resolve_fft_size(fft_size)
    sink = WaterfallSink(max_rows=max_rows)
    if getattr(reader, "has_waterfall", False):
        for piece in reader.iter_waterfall():
            for freq in np.unique(piece.center_freq_hz):
                sel = piece.center_freq_hz == freq
                linear = 10.0 ** (piece.power_dbfs[sel] / 10.0)
                times = piece.time_s[sel]
                # stored rows are back to back per band: add them in runs with one start time
                sink.add(linear, float(times[0]), piece.row_s, float(freq),
                         reader.sample_rate_hz, piece.frames_per_row)
        return sink, list(reader.events)
    config = DetectorConfig(fft_size=fft_size)
    result = ReplayResult()
    for _ in replay_events(reader, config, result=result, on_rows=sink):
        pass
    clip_offset = float((reader.global_info or {}).get("spectrum:clip_offset_s", 0.0) or 0.0)
    stored = [e for e in (annotation_event(a, reader.sample_rate_hz, clip_offset)
                          for a in reader.annotations) if e is not None]
    if stored:  # an evidence clip: its events, on the clip's own clock
        for e in stored:
            e["offset_start_s"] -= clip_offset
            if e.get("offset_end_s") is not None:
                e["offset_end_s"] -= clip_offset
        return sink, stored
    return sink, [e.to_dict() for e in result.events]


def run(args: argparse.Namespace) -> int:
    from captures import CaptureError, open_capture
    from spectrum.sinks.waterfall_png import save_waterfall_png

    out = Path(args.out) if args.out else default_png(args.path)
    if out.is_dir() or not out.parent.exists():
        raise CaptureError(f"--out {out}: not a writable file path (directory missing or a directory)")
    with open_capture(args.path, fmt=args.fmt, sample_rate_hz=args.rate, center_freq_hz=args.freq) as reader:
        sink, events = capture_waterfall(reader, args.fft_size)
        power, times, freqs = sink.arrays()
        if power.shape[0] == 0:
            raise CaptureError(f"{args.path}: too short for a waterfall row")
        title = args.title or f"{Path(args.path).name}: {len(events)} event(s)"
        if sink.skipped_rows:
            title += f" (first tuning, {sink.center_freq_hz / 1e6:.3f} MHz, only)"
        try:
            save_waterfall_png(out, power, times, freqs, events, title=title, row_s=sink.kept_row_s)
        except OSError as exc:
            raise CaptureError(f"--out {out}: cannot write: {exc.strerror or exc}") from exc
    print(f"{out}: {power.shape[0]} rows × {power.shape[1]} bins, {len(events)} event(s)", file=sys.stderr)
    print(out)
    return 0
