"""Fitting the event confidence and measuring its calibration (``spectrum bench-detect
--fit-confidence SEEDS`` / ``--reliability SEEDS``).

Each near-threshold scene (``spectrum.sim.near_threshold``) is rendered at every seed and
replayed; every report of an event is kept as a snapshot — when it opens, when its kind or
severity changes, when it closes — and judged against the labels. Snapshots at opening matter
as much as final ones: that is when a watcher decides whether to act.

A confidence is calibrated when, among reports given confidence near c, a share c is correct.
The reliability table shows this per confidence bin; the expected calibration error (ECE) is
the bin-weighted mean of |share correct − mean confidence|, and the Brier score the mean
squared error of the confidence against the outcome (0 is perfect).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from spectrum.detect import confidence as model
from spectrum.detect.detector_config import DetectorConfig
from spectrum.evaluate.scoring import event_correct
from spectrum.errors import DetectorError

BIN_EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


@dataclass
class Snapshot:
    scene: str
    seed: int
    stage: str  # "open", "update" or "final"
    event: dict
    correct: bool


def collect(seeds: list[int], seconds: float, config: DetectorConfig, progress=print,
            names: list[str] | None = None) -> list[Snapshot]:
    """Render and replay every near-threshold scene (or those ``names``) at every seed; return
    judged snapshots."""
    from captures import open_capture
    from spectrum.cli.simulate_cmd import write_scenario
    from spectrum.evaluate.randomized_bench import resolution_hz
    from spectrum.replay import ReplayResult, replay_events
    from spectrum.sim.near_threshold import near_threshold_scenarios

    snapshots: list[Snapshot] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for name, scene in near_threshold_scenarios().items():
                if names is not None and name not in names:
                    continue
                progress(f"  {name}, seed {seed} …")
                meta, _ = write_scenario(scene, Path(tmp) / name, seconds, seed)
                labels_path = meta.with_name(meta.name.removesuffix(".sigmf-meta") + ".labels.json")
                labels = json.loads(labels_path.read_text())["labels"]
                resolution = resolution_hz(scene.sample_rate_hz, config)  # a line's label is a point
                seen: set[str] = set()
                with open_capture(meta) as reader:
                    for event in replay_events(reader, config, result=ReplayResult()):
                        e = event.to_dict()
                        stage = "update" if e["id"] in seen else "open"
                        if e["offset_end_s"] is not None and "merged_into" not in e:
                            stage = "final"
                        seen.add(e["id"])
                        snapshots.append(Snapshot(name, seed, stage, e, event_correct(e, labels, resolution)))
                for path in Path(tmp).glob(f"{name}*"):
                    path.unlink()
    return snapshots


def reliability_rows(confidences: np.ndarray, correct: np.ndarray) -> list[tuple[str, int, float, float]]:
    """(bin, reports, mean confidence, share correct) for each non-empty confidence bin."""
    rows = []
    index = np.clip(np.searchsorted(BIN_EDGES, confidences, side="right") - 1, 0, len(BIN_EDGES) - 2)
    for b in range(len(BIN_EDGES) - 1):
        sel = index == b
        if sel.any():
            rows.append((f"{BIN_EDGES[b]:.2f}–{BIN_EDGES[b + 1]:.2f}", int(sel.sum()),
                         float(confidences[sel].mean()), float(correct[sel].mean())))
    return rows


def calibration_error(confidences: np.ndarray, correct: np.ndarray) -> float:
    """Expected calibration error over the reliability bins."""
    rows = reliability_rows(confidences, correct)
    return sum(n * abs(share - mean) for _, n, mean, share in rows) / max(len(confidences), 1)


def brier(confidences: np.ndarray, correct: np.ndarray) -> float:
    return float(np.mean((confidences - correct) ** 2)) if len(confidences) else float("nan")


def modelled(snapshots: list[Snapshot], config: DetectorConfig) -> tuple[np.ndarray, np.ndarray, list[Snapshot]]:
    """Feature matrix and outcomes of the snapshots the model covers (band events)."""
    kept, rows = [], []
    for s in snapshots:
        x = model.event_features(s.event, config.z_threshold)
        if x is not None:
            kept.append(s)
            rows.append(x)
    return np.array(rows), np.array([s.correct for s in kept]), kept


def fit_and_save(snapshots: list[Snapshot], seeds: list[int], seconds: float, config: DetectorConfig,
                 model_out: str) -> np.ndarray:
    x, y, kept = modelled(snapshots, config)
    if len(kept) == 0:
        raise DetectorError(f"no events to fit the confidence on in the scenes at seeds {seeds} of {seconds:g} s")
    weights = model.fit(x, y)
    model.save_model(weights, {
        "scenes": "spectrum.sim.near_threshold", "seeds": seeds, "seconds": seconds,
        "reports": len(kept), "correct": int(y.sum()), "date": date.today().isoformat(),
        "command": f"spectrum bench-detect --fit-confidence {','.join(map(str, seeds))} --seconds {seconds:g}"
                   f" --model-out FILE",
    }, model_out)
    return weights


def print_reliability(snapshots: list[Snapshot], title: str, out) -> None:
    from rich.table import Table

    groups = {
        "all reports": snapshots,
        "at opening": [s for s in snapshots if s.stage == "open"],
        "final": [s for s in snapshots if s.stage == "final"],
    }
    for label, group in groups.items():
        if not group:
            continue
        conf = np.array([s.event["confidence"] for s in group], dtype=float)
        correct = np.array([s.correct for s in group], dtype=float)
        table = Table(title=f"{title}: {label} ({len(group)}, {int(correct.sum())} correct)")
        for column in ("confidence", "reports", "mean confidence", "share correct"):
            table.add_column(column, justify="right")
        for name, n, mean, share in reliability_rows(conf, correct):
            table.add_row(name, str(n), f"{mean:.3f}", f"{share:.3f}")
        out.print(table)
        out.print(f"ECE {calibration_error(conf, correct):.3f} · Brier {brier(conf, correct):.3f}")
    wrong = [s for s in snapshots if not s.correct and s.stage != "update"]
    for s in wrong:
        out.print(f"  wrong ({s.stage}): {s.scene} seed {s.seed} → {s.event['kind']} "
                  f"confidence {s.event['confidence']:.2f}")


def run(fit_seeds: list[int] | None, check_seeds: list[int] | None, seconds: float, model_out: str = "") -> int:
    from rich.console import Console

    err = Console(stderr=True)
    out = Console(width=150)
    config = DetectorConfig()
    progress = lambda text: err.print(text)  # noqa: E731
    if fit_seeds:
        snapshots = collect(fit_seeds, seconds, config, progress)
        weights = fit_and_save(snapshots, fit_seeds, seconds, config, model_out)
        out.print("fitted " + ", ".join(f"{n} {w:+.3f}" for n, w in zip(model.FEATURES, weights))
                  + f" → {model_out}")
        config = DetectorConfig(confidence_model=model_out)  # measure the model just fitted
    if check_seeds:
        snapshots = collect(check_seeds, seconds, config, progress)
        print_reliability(snapshots, f"confidence on seeds {','.join(map(str, check_seeds))}", out)
    return 0
