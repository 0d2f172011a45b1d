"""Output of ``spectrum replay`` over several captures: JSON lines (or one file per capture),
a per-capture summary on stderr, and the exit code (0 all replayed, 2 a capture or option was
bad, 1 a capture failed for another reason)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

SINGLE_CAPTURE_OPTIONS = ("evidence", "plot", "save_baseline")


def run_archive(paths: list[str], args: argparse.Namespace) -> int:
    from spectrum.archive_replay import ReplayOptions, replay_archive
    from spectrum.cli.options import fft_size
    from spectrum.errors import ConfigError

    for name in SINGLE_CAPTURE_OPTIONS:
        if getattr(args, name):
            raise ConfigError(f"--{name.replace('_', '-')} takes one capture; {len(paths)} were given")
    out_dir = _out_dir(args.out_dir)
    options = ReplayOptions(fmt=args.fmt, sample_rate_hz=args.rate, center_freq_hz=args.freq,
                            fft_size=fft_size(args.fft_size), baseline_path=args.baseline,
                            site=args.site, sensor=args.sensor)
    started = time.perf_counter()
    samples = events = 0
    failed: list = []
    used_names: set[str] = set()
    for outcome in replay_archive(paths, options, jobs=args.jobs, dask_address=args.dask):
        if outcome.error is not None:
            failed.append(outcome)
            print(f"spectrum replay: {outcome.path}: error: {outcome.error}", file=sys.stderr)
            continue
        samples += outcome.samples
        events += len(outcome.events)
        _write(outcome, out_dir, args.json, used_names)
        print(f"{outcome.path}: {outcome.duration_s:.2f} s, {len(outcome.events)} events, "
              f"{outcome.elapsed_s:.2f} s", file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(f"spectrum replay: {len(paths) - len(failed)} of {len(paths)} captures replayed, {events} events, "
          f"{elapsed:.1f} s ({samples / elapsed / 1e6 if elapsed > 0 else 0:.0f} MS/s)", file=sys.stderr)
    sys.stdout.flush()
    if not failed:
        return 0
    return 2 if all(o.bad_input for o in failed) else 1


def _out_dir(path: str | None) -> Path | None:
    from spectrum.errors import ConfigError

    if path is None:
        return None
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out-dir {path}: cannot create the folder: {exc.strerror or exc}") from None
    return out


def _write(outcome, out_dir: Path | None, as_json: bool, used_names: set[str]) -> None:
    lines = [json.dumps(e, separators=(",", ":")) for e in outcome.events]  # as Event.to_json
    if out_dir is not None:
        (out_dir / _events_file_name(outcome.path, used_names)).write_text("".join(line + "\n" for line in lines))
    elif as_json:
        for line in lines:
            print(line)
    else:
        for e in outcome.events:
            print(f"{outcome.path}\t{e['kind']}\t{e['offset_start_s']:.2f}\t{e['offset_end_s']:.2f}\t"
                  f"{e['freq_low_hz'] / 1e6:.4f}\t{e['freq_high_hz'] / 1e6:.4f}\t{e['severity']}")


def _events_file_name(path: str, used: set[str]) -> str:
    """``NAME.events.jsonl`` for a capture; ``NAME-2...`` when two captures share a name."""
    stem = Path(path).name.removesuffix(".sigmf-meta").removesuffix(".sigmf-data")
    name, n = f"{stem}.events.jsonl", 1
    while name in used:
        n += 1
        name = f"{stem}-{n}.events.jsonl"
    used.add(name)
    return name
