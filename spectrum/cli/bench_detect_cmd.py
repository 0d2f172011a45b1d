"""``spectrum bench-detect``: detection quality on the scenario library or on randomised scenes
(see spectrum.evaluate.bench_detect)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-detect", help="detection quality on every scenario, and false events on clean hours",
                       description="Render every scenario afresh, replay and score it; then measure false events on clean scenes and on noise.")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each scenario (default 10 s)")
    p.add_argument("--seed", type=int, default=1000, help="seed for the renders (default 1000, not one used in tuning)")
    p.add_argument("--clean-minutes", type=float, default=6.0, help="extra minutes of clean scenes (default 6)")
    p.add_argument("--randomized", metavar="N", type=int,
                   help="score N randomised jammed scenes of --split instead of the scenario library")
    p.add_argument("--split", choices=("dev", "test"), default="dev",
                   help="seed range of the randomised scenes: dev (fit and tune) or test (report); default dev")
    p.add_argument("--clean-hours", type=float, default=0.0,
                   help="with --randomized: hours of randomised clean scenes for false events per hour (default 0)")
    p.add_argument("--jobs", type=int, default=1, help="with --randomized: worker processes (default 1)")
    p.add_argument("--png", metavar="FILE", type=Path, help="with --randomized: write a PNG of Pd against JNR")
    p.add_argument("--scene-cache", metavar="DIR", type=Path,
                   help="with --randomized: keep rendered scenes in DIR and reuse them on the next run "
                        "(rendering costs far more than replaying; a changed generator renders afresh)")
    p.add_argument("--results", metavar="FILE", type=Path,
                   help="with --randomized: write one JSON line per scene as it finishes")
    p.add_argument("--write-scenes", metavar="SEEDS", type=_seeds,
                   help="write the randomised scenes of these seeds (comma-separated) as cu8 files with "
                        ".labels.json sidecars into --out DIR, for `spectrum replay`; runs nothing else")
    p.add_argument("--out", metavar="DIR", type=Path, help="folder for --write-scenes")
    p.add_argument("--from-results", metavar="FILE", type=Path,
                   help="summarise a --results file instead of running scenes")
    p.add_argument("--fit-confidence", metavar="SEEDS", type=_seeds,
                   help="fit the event confidence on the near-threshold scenes rendered at these seeds "
                        "(comma-separated) and save the model to --model-out; skips the scenario benchmark")
    p.add_argument("--fit-kinds", action="store_true",
                   help="with --randomized N --split dev (or --from-results FILE of such a run): fit the "
                        "detector's kind model on the events matched to labels, replayed with the hand rules, "
                        "and save it to --model-out")
    p.add_argument("--kind-model", metavar="FILE", default="",
                   help="with --randomized: the kind model the detector uses (a --fit-kinds file, or 'rules' "
                        "for the hand rules alone; default the packaged model)")
    p.add_argument("--model-out", metavar="FILE", default="",
                   help="where --fit-confidence or --fit-kinds writes the model (JSON; never into the installed "
                        "package). Use it with DetectorConfig(confidence_model=FILE) or --kind-model FILE")
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

    if args.write_scenes:
        return _write_scenes(args)
    if args.randomized is not None or args.from_results is not None:
        return _run_randomized(args)
    if args.seconds < 3:
        raise ConfigError(f"--seconds {args.seconds}: scenarios need at least 3 s (1.5 s of baseline before the jammer)")
    if args.fit_confidence or args.reliability:
        from spectrum.evaluate.reliability import run as run_reliability

        if args.fit_confidence and args.reliability and set(args.fit_confidence) & set(args.reliability):
            raise ConfigError("--reliability must use seeds the confidence was not fitted on")
        if args.fit_confidence and not args.model_out:
            raise ConfigError("--fit-confidence needs --model-out FILE: the fitted model is written there")
        return run_reliability(args.fit_confidence, args.reliability, args.seconds, args.model_out)
    return run_bench_detect(args.seconds, args.seed, args.clean_minutes)


def _run_randomized(args: argparse.Namespace) -> int:
    from spectrum.errors import ConfigError
    from spectrum.evaluate.bench_detect import run_randomized

    if args.from_results is not None:
        if not args.from_results.is_file():
            raise ConfigError(f"--from-results {args.from_results}: no such file")
    elif args.randomized < 1:
        raise ConfigError(f"--randomized {args.randomized}: give at least one scene")
    if args.clean_hours < 0:
        raise ConfigError(f"--clean-hours {args.clean_hours}: must not be negative")
    if args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: must be at least 1")
    if args.fit_confidence or args.reliability:
        raise ConfigError("--randomized does not combine with --fit-confidence or --reliability")
    if args.scene_cache is not None and args.scene_cache.exists() and not args.scene_cache.is_dir():
        raise ConfigError(f"--scene-cache {args.scene_cache}: not a folder")
    for option, path in (("--png", args.png), ("--results", args.results)):
        if path is not None and not path.parent.is_dir():
            raise ConfigError(f"{option} {path}: folder {path.parent} does not exist")
    if args.fit_kinds:
        if not args.model_out or not Path(args.model_out).parent.is_dir():
            raise ConfigError(f"--fit-kinds needs --model-out FILE in an existing folder (got {args.model_out!r})")
        if args.split != "dev":
            raise ConfigError("--fit-kinds fits on development seeds only: use --split dev")
        if args.kind_model not in ("", "rules"):
            raise ConfigError("--fit-kinds replays with the hand rules; leave out --kind-model")
        args.kind_model = "rules"
    if args.kind_model not in ("", "rules") and not Path(args.kind_model).is_file():
        raise ConfigError(f"--kind-model {args.kind_model}: no such file")
    return run_randomized(args.randomized or 0, args.split, args.clean_hours, args.jobs, args.png, args.results,
                          args.from_results, args.scene_cache, kind_model=args.kind_model,
                          fit_kinds_out=args.model_out if args.fit_kinds else None)


def _write_scenes(args: argparse.Namespace) -> int:
    import sys

    from spectrum.errors import ConfigError
    from spectrum.sim.random_scenes import draw_scene, split_of, write_scene

    if args.out is None or not args.out.is_dir():
        raise ConfigError(f"--out {args.out}: --write-scenes needs an existing folder")
    for seed in args.write_scenes:
        split_of(seed)  # a seed outside every split is a ConfigError naming the ranges
        data, labels = write_scene(draw_scene(seed), args.out)
        print(data)
        print(f"{data.name}: {len(labels)} label(s): " + ", ".join(l["kind"] for l in labels), file=sys.stderr)
    return 0
