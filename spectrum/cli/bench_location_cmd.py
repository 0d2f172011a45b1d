"""``spectrum bench-location``: jammer location on a simulated field (see spectrum.evaluate.location_bench)."""

from __future__ import annotations

import argparse
import sys


def _numbers(kind: type):
    def parse(text: str) -> list:
        try:
            values = [kind(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {kind.__name__}s") from None
        if not values or any(v <= 0 for v in values):
            raise argparse.ArgumentTypeError(f"{text!r}: give positive values")
        return values
    return parse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-location", help="jammer location error and confidence-region coverage on a simulated field",
                       description="Sites on a jittered lattice, one jammer at a random position, log-distance path "
                                   "loss (exponent 2.5-4) with 4-8 dB log-normal shadowing; the nearest sites hear it. "
                                   "Prints a Markdown table: error against spacing and sensor count, and how often the "
                                   "confidence region holds the true position.")
    p.add_argument("--spacings", type=_numbers(float), default=[0.5, 1.0, 2.0], metavar="KM,...",
                   help="distances between neighbouring sites, km (default 0.5,1,2)")
    p.add_argument("--sensors", type=_numbers(int), default=[3, 4, 6, 10, 20], metavar="N,...",
                   help="sensors that hear the jammer (default 3,4,6,10,20)")
    p.add_argument("--trials", type=int, default=200, help="trials per row (default 200)")
    p.add_argument("--confidence", type=float, default=0.9, help="stated rate of the confidence region (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--uncalibrated", type=float, default=0.0, metavar="DB",
                   help="uncalibrated sensors: dBFS only, with per-dongle offsets of this spread in dB (default 0: dBm)")
    p.add_argument("--shadowing", type=float, metavar="DB",
                   help="shadowing standard deviation, dB (default: drawn from 4-8 dB per trial)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from spectrum.errors import ConfigError
    from spectrum.evaluate.location_bench import TABLE_HEADER, run_row

    if args.trials < 10:
        raise ConfigError(f"--trials {args.trials}: at least 10 for a median and a coverage")
    if not 0 < args.confidence < 1:
        raise ConfigError(f"--confidence {args.confidence}: must be between 0 and 1")
    if args.uncalibrated < 0:
        raise ConfigError(f"--uncalibrated {args.uncalibrated}: a spread in dB, 0 or more")
    if min(args.sensors) < 3 or max(args.sensors) > 100:
        raise ConfigError(f"--sensors {args.sensors}: each between 3 and 100 (the district has 144 sites)")
    if args.shadowing is not None and not 0 <= args.shadowing <= 20:
        raise ConfigError(f"--shadowing {args.shadowing}: a standard deviation in dB, 0-20")
    print(TABLE_HEADER)
    for spacing_km in args.spacings:
        for n in args.sensors:
            row = run_row(spacing_km * 1000, n, args.trials, args.seed, args.confidence, args.uncalibrated,
                          args.shadowing)
            print(row.line(), flush=True)
    print(f"{args.trials} trials a row from seed {args.seed}; confidence region stated at {args.confidence:.0%}; "
          f"{'uncalibrated, dongle offsets ' + format(args.uncalibrated, 'g') + ' dB' if args.uncalibrated else 'calibrated (dBm)'}; "
          f"shadowing {'4-8' if args.shadowing is None else format(args.shadowing, 'g')} dB",
          file=sys.stderr)
    return 0
