"""``spectrum bench``: throughput against peers, in one run on the same data (see bench module)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure throughput against scipy.signal.welch and plain NumPy",
                       description="Measure MS/s of the PSD kernel and the full replay against peers, same data, one run.")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the synthetic capture (default 20 s at 2.4 MS/s)")
    p.add_argument("--repeat", type=int, default=3, help="best of N runs per contender (default 3)")
    p.add_argument("--memory", action="store_true", help="also show peak memory of replaying 1- and 10-minute captures")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from spectrum.evaluate.throughput import run_bench

    return run_bench(args.seconds, args.repeat, args.memory)
