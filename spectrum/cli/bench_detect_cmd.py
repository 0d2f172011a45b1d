"""``spectrum bench-detect``: detection quality on the scenario library (see spectrum.evaluate.bench_detect)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-detect", help="detection quality on every scenario, and false events on clean hours",
                       description="Render every scenario afresh, replay and score it; then measure false events on clean scenes and on noise.")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each scenario (default 10 s)")
    p.add_argument("--seed", type=int, default=1000, help="seed for the renders (default 1000, not one used in tuning)")
    p.add_argument("--clean-minutes", type=float, default=6.0, help="extra minutes of clean scenes (default 6)")
    p.add_argument("--noise-hours", type=float, default=6.0, help="hours of noise rows from the statistical model (default 6)")
    p.add_argument("--fit-confidence", metavar="SEEDS", type=_seeds,
                   help="fit the event confidence on the near-threshold scenes rendered at these seeds "
                        "(comma-separated) and save the model to --model-out; skips the scenario benchmark")
    p.add_argument("--model-out", metavar="FILE", default="",
                   help="where --fit-confidence writes the model (JSON; never into the installed package). "
                        "Use it with DetectorConfig(confidence_model=FILE)")
    p.add_argument("--reliability", metavar="SEEDS", type=_seeds,
                   help="measure the confidence's calibration on the near-threshold scenes at these seeds "
                        "(use seeds not fitted on); skips the scenario benchmark")
    p.set_defaults(run=run)


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integer seeds") from None
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed")
    return seeds


def run(args: argparse.Namespace) -> int:
    from spectrum.evaluate.bench_detect import run_bench_detect
    from spectrum.errors import ConfigError

    if args.seconds < 3:
        raise ConfigError(f"--seconds {args.seconds}: scenarios need at least 3 s (1.5 s of baseline before the jammer)")
    if args.fit_confidence or args.reliability:
        from spectrum.evaluate.reliability import run as run_reliability

        if args.fit_confidence and args.reliability and set(args.fit_confidence) & set(args.reliability):
            raise ConfigError("--reliability must use seeds the confidence was not fitted on")
        if args.fit_confidence and not args.model_out:
            raise ConfigError("--fit-confidence needs --model-out FILE: the fitted model is written there")
        return run_reliability(args.fit_confidence, args.reliability, args.seconds, args.model_out)
    return run_bench_detect(args.seconds, args.seed, args.clean_minutes, args.noise_hours)
