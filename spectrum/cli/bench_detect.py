"""``spectrum bench-detect``: detection quality on the scenario library (see spectrum.detect.benchmark)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-detect", help="detection quality on every scenario, and false events on clean hours",
                       description="Render every scenario afresh, replay and score it; then measure false events on clean scenes and on noise.")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each scenario (default 10 s)")
    p.add_argument("--seed", type=int, default=1000, help="seed for the renders (default 1000, not one used in tuning)")
    p.add_argument("--clean-minutes", type=float, default=6.0, help="extra minutes of clean scenes (default 6)")
    p.add_argument("--noise-hours", type=float, default=6.0, help="hours of noise rows from the statistical model (default 6)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from spectrum.detect.benchmark import run_bench_detect
    from spectrum.errors import ConfigError

    if args.seconds < 3:
        raise ConfigError(f"--seconds {args.seconds}: scenarios need at least 3 s (1.5 s of baseline before the jammer)")
    return run_bench_detect(args.seconds, args.seed, args.clean_minutes, args.noise_hours)
