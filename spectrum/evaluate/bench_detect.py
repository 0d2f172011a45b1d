"""``spectrum bench-detect``: the detector on the scenario library, or on randomised scenes.

Library mode (the default), each printed:
1. every scenario rendered afresh (a seed not used while tuning), replayed, scored one to one
   against its labels (`spectrum.evaluate.scoring`): detected, kind, latency, start and end
   error, frequency IoU;
2. clean scenes for a chosen number of minutes: false events per hour (with the exact 95 %
   Poisson upper bound).

Randomised mode (``--randomized N --split dev|test``): `run_randomized`, see
`spectrum.evaluate.randomized_bench` and `spectrum.evaluate.randomized_report`.

The former third measurement, noise rows from a statistical model (constant frame power, SK
drawn from a normal), is gone from the benchmark: it was not realistic data. False events per
hour come from rendered clean scenes only. `noise_false_events` stays as a test aid for the
detector's bookkeeping (its statistic is exactly the model's), not as a benchmark claim.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernels.psd import PowerRows
from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.detector import BandDetector
from spectrum.evaluate.scoring import LabelScore, score_labels, summarise


@dataclass
class ScenarioResult:
    name: str
    scores: list[LabelScore]
    false_events: list[dict]
    seconds: float


def run_scenario(name: str, seconds: float, seed: int, workdir: Path, config: DetectorConfig) -> ScenarioResult:
    """Render one scenario, replay it, and score it against its labels."""
    from captures import open_capture
    from spectrum.cli.simulate_cmd import write_scenario
    from spectrum.replay import ReplayResult, replay_events
    from spectrum.sim.scenarios import get_scenario

    meta, _ = write_scenario(get_scenario(name), workdir / f"{name}_{seed}", seconds, seed)
    labels = json.loads(meta.with_name(meta.name.removesuffix(".sigmf-meta") + ".labels.json").read_text())["labels"]
    result = ReplayResult()
    with open_capture(meta) as reader:
        for _ in replay_events(reader, config, result=result):
            pass
    for path in (meta, meta.with_suffix(".sigmf-data")):
        path.unlink(missing_ok=True)
    from spectrum.evaluate.randomized_bench import resolution_hz

    scores, unmatched = score_labels(labels, [e.to_dict() for e in result.events],
                                     resolution_hz(reader.sample_rate_hz, config), capture_end_s=seconds)
    return ScenarioResult(name, scores, unmatched, seconds)


def noise_false_events(hours: float, config: DetectorConfig, seed: int = 5, sample_rate_hz: float = 2.4e6) -> tuple[int, float]:
    """Feed the detector rows of pure noise from the statistical model; return (events, hours run).

    A test aid only (the rows are idealised: constant frame power, SK drawn from a normal), not
    a benchmark: `spectrum bench-detect` measures false events on rendered clean scenes."""
    rng = np.random.default_rng(seed)
    detector = BandDetector(config, sample_rate_hz, 100e6)
    m, n = detector.frames_per_row, config.fft_size
    rows_total = int(hours * 3600 / detector.row_s)
    events = 0
    batch = 64
    floor = 1e-6
    for start in range(0, rows_total, batch):
        r = min(batch, rows_total - start)
        mean = (rng.gamma(m, 1.0 / m, size=(r, n)) * floor).astype(np.float32)
        # Σp² consistent with a spectral kurtosis drawn around 1 (it only feeds classification)
        sk = rng.normal(1.0, 0.25, size=(r, n)).clip(0.2, None)
        s2 = ((mean * m) ** 2 * (1 + (m - 1) / (m + 1) * sk) / m).astype(np.float32)
        frame_power = np.full(r * m, floor * n / 1.5, np.float32)
        rows = PowerRows(mean, s2, mean, frame_power, m, np.full(r, 2.0, np.float32))
        events += sum(1 for e in detector.process(rows, np.zeros(r, np.int64)) if not e.ongoing)
    events += len(detector.finish())
    return events, rows_total * detector.row_s / 3600


def run_bench_detect(seconds: float, seed: int, clean_minutes: float) -> int:
    from rich.console import Console
    from rich.table import Table

    from spectrum.sim.scenarios import SCENARIOS

    err = Console(stderr=True)
    out = Console(width=150)
    config = DetectorConfig()
    results: list[ScenarioResult] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in SCENARIOS:
            err.print(f"  scenario {name} …")
            results.append(run_scenario(name, seconds, seed, Path(tmp), config))
        clean_names = [n for n, s in SCENARIOS.items() if not s.jammed]
        clean_results: list[ScenarioResult] = []
        if clean_minutes > 0:
            per = max(clean_minutes * 60 / len(clean_names), 1.0)
            for i, name in enumerate(clean_names):
                err.print(f"  clean {name}, {per:.0f} s …")
                clean_results.append(run_scenario(name, per, seed + 100 + i, Path(tmp), config))

    table = Table(title=f"bench-detect: scenarios of {seconds:g} s, seed {seed} (jammer on at 0.4 T, off at 0.8 T)")
    for column in ("scenario", "label", "detected as", "latency s", "start err s", "end err s", "freq IoU", "false events"):
        table.add_column(column, justify="left" if column in ("scenario", "label", "detected as") else "right")
    all_scores: list[LabelScore] = []
    for res in results:
        if not res.scores:
            table.add_row(res.name, "(clean)", "-", "", "", "", "", str(len(res.false_events)))
        for s in res.scores:
            all_scores.append(s)
            fmt = lambda v: "" if v is None else f"{v:+.2f}"  # noqa: E731
            table.add_row(res.name, s.kind, s.detected_kind or "MISSED", fmt(s.latency_s), fmt(s.start_error_s),
                          fmt(s.end_error_s), "" if s.freq_iou is None else f"{s.freq_iou:.2f}", str(len(res.false_events)))
    out.print(table)

    summary = summarise(all_scores)
    jammed_false = sum(len(r.false_events) for r in results if r.scores)
    clean_false = sum(len(r.false_events) for r in results if not r.scores) + sum(len(r.false_events) for r in clean_results)
    clean_hours = (sum(r.seconds for r in results if not r.scores) + sum(r.seconds for r in clean_results)) / 3600
    out.print(
        f"Pd {summary['pd']:.3f} over {summary['labels']} labels · class accuracy {summary['class_accuracy']:.3f} · "
        f"median latency {summary['median_latency_s']:.3f} s · median freq IoU {summary['median_freq_iou']:.3f} · "
        f"false events in jammed scenes {jammed_false} (one-to-one matching: fragments and wrong-place events count)"
    )
    from spectrum.evaluate.randomized_report import poisson_upper

    rate = clean_false / clean_hours if clean_hours else float("nan")
    bound = poisson_upper(clean_false, clean_hours)
    out.print(f"clean scenes: {clean_false} false events in {clean_hours * 60:.1f} min → {rate:.2f}/h "
              f"(95 % upper bound {bound:.1f}/h)")
    err.print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


def run_randomized(count: int, split: str, clean_hours: float, jobs: int, png: Path | None,
                   results: Path | None, from_results: Path | None = None,
                   scene_cache: Path | None = None, kind_model: str = "", fit_kinds_out: str | None = None) -> int:
    """``bench-detect --randomized``: ``count`` jammed scenes and ``clean_hours`` of clean ones of a split.

    Records go to ``results`` (JSON lines, one per scene, written as they come) when given;
    ``from_results`` summarises such a file instead of running anything; ``scene_cache`` keeps
    rendered scenes for the next run (`spectrum.evaluate.randomized_bench.cached_scene`).
    ``kind_model`` is the detector's (`DetectorConfig.kind_model`); ``fit_kinds_out``: fit a kind
    model on the records (spectrum.evaluate.kind_fit) and write it there.
    """
    from rich.console import Console

    from spectrum.evaluate.randomized_bench import clean_seeds_for, run_scenes
    from spectrum.evaluate.randomized_report import jam_labels, plot_pd, print_report
    from spectrum.sim.random_scenes import split_seeds

    err = Console(stderr=True)
    out = Console(width=160)
    started = time.perf_counter()
    config = DetectorConfig(kind_model=kind_model)
    if from_results is not None:
        records = [json.loads(line) for line in from_results.read_text().splitlines() if line.strip()]
        title = f"bench-detect: {from_results.name}"
    else:
        seeds = interleave(split_seeds(split, count), clean_seeds_for(clean_hours, split) if clean_hours > 0 else [])
        records = []
        sink = results.open("w") if results else None
        try:
            for record in run_scenes(seeds, jobs, config,
                                     scene_cache=str(scene_cache) if scene_cache else None):
                records.append(record)
                if sink:
                    sink.write(json.dumps(record) + "\n")
                    sink.flush()
                err.print(f"  {len(records)}/{len(seeds)} seed {record['seed']}: {record['events']} events, "
                          f"{len(record['false_events'])} false, render {record['render_s']:.1f} s, "
                          f"replay {record['replay_s']:.1f} s")
        finally:
            if sink:
                sink.close()
        title = f"bench-detect --randomized {count} --split {split} --clean-hours {clean_hours:g}"
    print_report(records, title, out)
    if png is not None:
        plot_pd(jam_labels(records), png, title)
        err.print(f"wrote {png}")
    if fit_kinds_out:
        from spectrum.evaluate.kind_fit import fit_kinds
        from spectrum.sim.random_scenes import split_of

        if any(split_of(r["seed"])[0] != "dev" for r in records):
            from spectrum.errors import ConfigError

            raise ConfigError("--fit-kinds: the records hold scenes outside the development split")
        if any(r.get("kind_model", "rules") != "rules" for r in records):
            from spectrum.errors import ConfigError

            raise ConfigError("--fit-kinds: the records were replayed with a fitted kind model, not the hand rules")
        err.print(fit_kinds(records, fit_kinds_out, {"command": title, "scenes": len(records)}))
    err.print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


def interleave(first: list[int], second: list[int]) -> list[int]:
    """Both lists, merged in proportion (each keeps its order), so a run stopped early has both."""
    keyed = [((i + 0.5) / len(first), 0, s) for i, s in enumerate(first)]
    keyed += [((i + 0.5) / len(second), 1, s) for i, s in enumerate(second)]
    return [s for _, _, s in sorted(keyed)]
