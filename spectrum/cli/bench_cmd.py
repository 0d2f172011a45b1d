"""``spectrum bench``: throughput against peers, in one run on the same data (see bench module)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure throughput against scipy.signal.welch and plain NumPy",
                       description="Measure MS/s of the PSD kernel and the full replay against peers, same data, one run.")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the synthetic capture (default 20 s at 2.4 MS/s)")
    p.add_argument("--repeat", type=int, default=3, help="best of N runs per contender (default 3)")
    p.add_argument("--memory", action="store_true", help="also show peak memory of replaying 1- and 10-minute captures")
    archive = p.add_argument_group("archive replay (instead of the throughput bench)")
    archive.add_argument("--archive", action="store_true",
                         help="replay an archive one process per capture, in one process, with --jobs and on Dask")
    archive.add_argument("--archive-captures", type=int, default=200, metavar="N", help="captures (default 200)")
    archive.add_argument("--archive-seconds", default="5,60", metavar="MIN,MAX", help="capture lengths (default 5,60)")
    archive.add_argument("--jobs", type=int, default=2, metavar="N", help="local processes and Dask workers (default 2)")
    p.add_argument("--soak", type=float, metavar="HOURS", default=None,
                   help="instead: run a live sensor this long against a desk that goes down and up, and "
                        "report its memory, CPU, queue and delivery (see spectrum/evaluate/soak.py)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.archive:
        from spectrum.errors import ConfigError
        from spectrum.evaluate.archive_bench import run_archive_bench

        try:
            min_s, max_s = (float(v) for v in args.archive_seconds.split(","))
        except ValueError:
            raise ConfigError(f"--archive-seconds {args.archive_seconds}: expected MIN,MAX in seconds, e.g. 5,60") from None
        return run_archive_bench(args.archive_captures, min_s, max_s, args.jobs)
    if args.soak is not None:
        return _soak(args.soak)
    from spectrum.evaluate.throughput import run_bench

    return run_bench(args.seconds, args.repeat, args.memory)


def _soak(hours: float) -> int:
    import sys

    from spectrum.errors import ConfigError
    from spectrum.evaluate.soak import run_soak

    if not 0 < hours <= 48:
        raise ConfigError(f"--soak {hours}: give hours between 0 and 48 (e.g. 2, or 0.5 for 30 minutes)")
    report = run_soak(hours, progress=lambda line: print(line, file=sys.stderr, flush=True))
    for line in report.lines():
        print(line)
    ok = report.exit_code == 0 and report.missing == 0 and report.duplicates == 0
    return 0 if ok else 1
