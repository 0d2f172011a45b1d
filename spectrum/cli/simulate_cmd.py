"""``spectrum simulate SCENARIO --out PATH``: a labelled synthetic SigMF cu8 capture."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

SIM_START = datetime(2026, 5, 3, 7, 0, tzinfo=timezone.utc)  # fixed: same seed, same file


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="write a labelled synthetic capture (SigMF cu8)",
                       description="Render a built-in scenario as an RTL-SDR-like SigMF cu8 recording; "
                       "labels go in the SigMF annotations and a .labels.json sidecar.")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario name (see --list)")
    p.add_argument("--out", metavar="PATH", help="output base name (.sigmf-meta/.sigmf-data are added)")
    p.add_argument("--seconds", type=float, help="duration (default: the scenario's, usually 10 s)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from spectrum.errors import ConfigError
    from spectrum.sim.scenarios import SCENARIOS, get_scenario

    if args.list:
        for name, scenario in SCENARIOS.items():
            print(f"{name:24s} {'jammed' if scenario.jammed else 'clean '}  {scenario.description}")
        return 0
    if not args.scenario or not args.out:
        raise ConfigError("simulate needs SCENARIO and --out PATH (or --list)")
    scenario = get_scenario(args.scenario)
    seconds = args.seconds if args.seconds is not None else scenario.default_duration_s
    if not seconds > 0:
        raise ConfigError(f"--seconds {seconds}: must be positive")
    if args.seed < 0:
        raise ConfigError(f"--seed {args.seed}: must be non-negative")
    meta_path, samples = write_scenario(scenario, Path(args.out), seconds, args.seed)
    print(f"{meta_path}: {scenario.name}, {samples} samples, {seconds:g} s, "
          f"{len(scenario.labels(seconds))} label(s)", file=sys.stderr)
    print(meta_path)
    return 0


def write_scenario(scenario, out: Path, seconds: float, seed: int) -> tuple[Path, int]:
    """Render ``scenario`` to ``out`` (.sigmf-meta/.sigmf-data and .labels.json); return (meta path, samples)."""
    from captures import SigMFWriter
    from spectrum.sim.scenarios import render_cu8

    labels = scenario.labels(seconds)
    fs = scenario.sample_rate_hz
    fc = scenario.center_freq_hz
    with SigMFWriter(out, "cu8", fs, fc, SIM_START,
                     description=f"spectrum simulate {scenario.name} --seconds {seconds:g} --seed {seed}: {scenario.description}") as writer:
        for chunk in render_cu8(scenario, seconds, seed, chunk_samples=1 << 20):
            writer.write(chunk)
        for label in labels:
            writer.add_annotation(
                int(round(label.start_s * fs)), int(round((label.end_s - label.start_s) * fs)),
                label=label.kind, comment=label.description,
                freq_lower_edge_hz=fc + label.freq_low_hz, freq_upper_edge_hz=fc + label.freq_high_hz,
            )
        meta_path, samples = writer.meta_path, writer.num_samples
    sidecar = {
        "scenario": scenario.name,
        "seed": seed,
        "duration_s": seconds,
        "sample_rate_hz": fs,
        "center_freq_hz": fc,
        "jammed": bool(labels),
        "labels": [
            {
                "kind": label.kind,
                "start_s": label.start_s,
                "end_s": label.end_s,
                "freq_low_hz": fc + label.freq_low_hz,
                "freq_high_hz": fc + label.freq_high_hz,
                "jnr_db": label.jnr_db,
                "description": label.description,
            }
            for label in labels
        ],
    }
    labels_path = meta_path.with_name(meta_path.name.removesuffix(".sigmf-meta") + ".labels.json")
    labels_path.write_text(json.dumps(sidecar, indent=2) + "\n")
    return meta_path, samples
