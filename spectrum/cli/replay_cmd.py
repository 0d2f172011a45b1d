"""``spectrum replay PATH [PATH ...]``: the events in recorded captures.

One capture: a table or JSON lines, with evidence clips, a waterfall plot and the baseline on
request. Several (files, folders, globs): one process pays the start-up once and replays them
serially, in ``--jobs`` local processes or on a Dask cluster (``--dask``), giving one JSON-lines
stream in which each event names its ``file`` (or one file per capture with ``--out-dir``); a
capture that fails is reported on stderr and the rest go on.
"""

from __future__ import annotations

import argparse
import sys
import time

from spectrum.cli.options import add_fft_size_option, add_raw_format_options, fft_size

PROGRESS_MIN_SAMPLES = 50_000_000  # show a bar for captures longer than ~20 s at 2.4 MS/s


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="detect jamming and interference in recorded captures",
                       description="Replay SigMF recordings, HDF5 captures or raw IQ files through the detector and list their events.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help=".sigmf-meta/.sigmf-data, .h5, a raw .cu8/.cs8/.cs16/.cf32/.bin file, a folder or a glob")
    add_raw_format_options(p)
    p.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    p.add_argument("--baseline", metavar="FILE", help="use a baseline saved earlier instead of learning one from the capture")
    p.add_argument("--save-baseline", metavar="FILE", help="save the learned baseline (.npz) for later runs")
    p.add_argument("--site", help="site id stamped on events")
    p.add_argument("--sensor", help="sensor id stamped on events")
    p.add_argument("--evidence", metavar="DIR", help="write a SigMF clip (and a waterfall PNG) around each event")
    p.add_argument("--evidence-severity", choices=["info", "warning", "critical"], default="warning",
                   help="least severity that gets a clip (default warning)")
    p.add_argument("--evidence-pre", type=float, default=1.0, metavar="S", help="seconds kept before an event (default 1)")
    p.add_argument("--evidence-post", type=float, default=1.0, metavar="S", help="seconds kept after an event (default 1)")
    p.add_argument("--plot", metavar="PNG", help="save a waterfall of the capture with the events boxed")
    add_fft_size_option(p)
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")
    archive = p.add_argument_group("archives (several captures)")
    archive.add_argument("--jobs", type=int, default=1, metavar="N", help="replay in N local processes (default 1)")
    archive.add_argument("--dask", metavar="ADDRESS", help="replay on a Dask cluster, e.g. tcp://127.0.0.1:8786")
    archive.add_argument("--out-dir", metavar="DIR", help="write one NAME.events.jsonl per capture instead of stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from spectrum.archive_replay import find_captures

    paths = find_captures(args.paths)
    if len(paths) > 1 or args.jobs != 1 or args.dask or args.out_dir:
        from spectrum.cli.archive_output import run_archive

        return run_archive(paths, args)
    args.path = paths[0]
    return _run_one(args)


def _run_one(args: argparse.Namespace) -> int:
    from captures import open_capture
    from spectrum.detect.band_baseline import Baseline
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.live.evidence_keeper import FeedingReader
    from spectrum.replay import ReplayResult, replay_events
    from spectrum.sinks.waterfall_sink import WaterfallSink

    config = DetectorConfig(fft_size=fft_size(args.fft_size))
    baseline = Baseline.load(args.baseline) if args.baseline else None
    started = time.perf_counter()
    with open_capture(args.path, fmt=args.fmt, sample_rate_hz=args.rate, center_freq_hz=args.freq) as reader:
        result = ReplayResult()
        keeper = _evidence_keeper(reader, args)
        sink = WaterfallSink() if args.plot else None
        source = FeedingReader(reader, keeper) if keeper else reader
        with _progress(reader, args) as progress:
            for event in replay_events(source, config, baseline, args.site, args.sensor, progress, result=result,
                                       on_rows=sink):
                if keeper:
                    keeper.on_event(event.to_dict())
                # final events only: ongoing updates and sidebands folded into another are for live use
                if args.json and not event.ongoing and "merged_into" not in event.extra:
                    print(event.to_json(), flush=False)
        elapsed = time.perf_counter() - started
        if keeper:
            keeper.close()
            print(keeper.summary(), file=sys.stderr)
        if sink:
            _save_plot(sink, result, args.plot, reader)
        _summary(reader, result, elapsed)
        if args.save_baseline:
            _save_baseline(result, args.save_baseline)
    if not args.json:
        _table(result.events)
    sys.stdout.flush()
    return 0


def _evidence_keeper(reader, args):
    if not args.evidence:
        return None
    from spectrum.live.evidence_keeper import EvidenceKeeper

    return EvidenceKeeper(args.evidence, reader.datatype, reader.sample_rate_hz, pre_s=args.evidence_pre,
                          post_s=args.evidence_post, min_severity=args.evidence_severity,
                          start_time=reader.start_time)


def _save_plot(sink, result, path: str, reader) -> None:
    from captures.capture_errors import CaptureError
    from spectrum.sinks.waterfall_png import save_waterfall_png

    power_db, times_s, freqs_hz = sink.arrays()
    try:
        save_waterfall_png(path, power_db, times_s, freqs_hz, [e.to_dict() for e in result.events],
                           title=str(reader.path.name if reader.path else "capture"), row_s=sink.kept_row_s)
    except OSError as exc:
        raise CaptureError(f"--plot {path}: cannot write the PNG: {exc.strerror or exc}") from None
    print(f"waterfall saved to {path}", file=sys.stderr)


def _summary(reader, result, elapsed_s: float) -> None:
    rate = result.samples / elapsed_s / 1e6 if elapsed_s > 0 else float("inf")
    notes = []
    for detector in result.detectors.values():
        if not detector.has_baseline:
            notes.append(
                f"{detector.center_freq_hz / 1e6:.3f} MHz: capture shorter than the {detector.config.learn_s:g} s "
                "needed to learn a baseline; only the baseline-free detectors ran, in rows of "
                f"{detector.frames_per_row} frames (ADC overload; pulsed: wide, impulsive and periodic; "
                "swept: an impulsive band sliding across the spectrum). Pass --baseline FILE for the rest"
            )
    print(
        f"{reader.path}: {result.samples / reader.sample_rate_hz:.2f} s at {reader.sample_rate_hz / 1e6:.3f} MS/s, "
        f"{len(result.events)} events, {elapsed_s:.2f} s ({rate:.0f} MS/s)",
        file=sys.stderr,
    )
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _save_baseline(result, path: str) -> None:
    from spectrum.errors import DetectorError

    learned = [d for d in result.detectors.values() if d.has_baseline]
    if not learned:
        raise DetectorError(f"--save-baseline {path}: the capture was too short to learn a baseline")
    learned[0].baseline.save(path)
    print(f"baseline saved to {path}", file=sys.stderr)


def _table(events) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=120)
    if not events:
        console.print("no jamming or interference detected")
        return
    table = Table(title=f"{len(events)} event(s)")
    for column in ("kind", "start s", "end s", "from MHz", "to MHz", "rise dB", "peak dBFS", "severity", "conf."):
        table.add_column(column, justify="left" if column in ("kind", "severity") else "right")
    for e in sorted(events, key=lambda e: e.offset_start_s):
        table.add_row(
            e.kind, f"{e.offset_start_s:.2f}", f"{e.offset_end_s:.2f}", f"{e.freq_low_hz / 1e6:.4f}",
            f"{e.freq_high_hz / 1e6:.4f}", f"{e.rise_db:.1f}", f"{e.peak_dbfs:.1f}", e.severity, f"{e.confidence:.2f}",
        )
    console.print(table)


class _progress:
    """A rich progress bar on stderr when it is a terminal and the capture is long."""

    def __init__(self, reader, args) -> None:
        self.total = reader.num_samples
        self.enabled = not args.no_progress and sys.stderr.isatty() and self.total >= PROGRESS_MIN_SAMPLES
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
        from rich.text import Text

        class SampleRate(ProgressColumn):
            def render(self, task) -> Text:
                return Text("" if task.speed is None else f"{task.speed / 1e6:.0f} MS/s")

        self.bar = Progress(TextColumn("replay"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                            SampleRate(), TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("replay", total=self.total)
        return lambda done: self.bar.update(task, completed=done)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
