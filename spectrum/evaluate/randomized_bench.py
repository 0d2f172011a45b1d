"""Randomised scenes through the detector: one scene is one plain function call.

`run_scene` draws a scene from its seed, renders it to a temporary cu8 file, replays it through
`spectrum.replay` and scores it (`spectrum.evaluate.scoring`); it returns a JSON-ready record
and leaves nothing behind, unless a scene cache is named: rendering costs ten to thirty times
the replay, so a detector change is judged much faster on scenes kept from an earlier run. The
cache keeps scenes in a folder named by a digest of the generator's source (`spectrum/sim`), so
a changed generator never reuses old scenes. `run_scenes` maps it over seeds, serially or on a process pool
(``jobs``), with at most two scenes per worker in flight so memory stays bounded (a scene is
rendered block by block; its file is on disk, not in memory). The pool returns the same
records as the serial loop; records come back in seed order.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from spectrum.detect.detector_config import DetectorConfig

START_TIME = datetime(2026, 5, 3, 7, 0, tzinfo=timezone.utc)
MAIN_LOBE_BINS = 4
"""A Hann window's main lobe is 4 bins wide: the frequency resolution the scorer grants."""


def resolution_hz(sample_rate_hz: float, config: DetectorConfig) -> float:
    """The detector's frequency resolution, in Hz, at a sample rate."""
    return MAIN_LOBE_BINS * sample_rate_hz / config.fft_size


def cached_scene(scene, cache_dir: str | Path) -> tuple[Path, list[dict]]:
    """The scene's cu8 file and labels from ``cache_dir``, rendering them there first if absent.

    A scene is written under a temporary name and renamed when whole, so a run killed while
    rendering leaves no half scene behind.
    """
    from spectrum.detect.detector_config import files_digest
    from spectrum.sim.random_scenes import scene_stem, write_scene

    sim_dir = Path(__file__).resolve().parent.parent / "sim"
    folder = Path(cache_dir) / files_digest({"spectrum/sim": sim_dir})[:12]
    folder.mkdir(parents=True, exist_ok=True)
    stem = scene_stem(scene)
    data, sidecar = folder / f"{stem}.cu8", folder / f"{stem}.labels.json"
    if not (data.exists() and sidecar.exists()):
        partial = folder / f".{stem}.{os.getpid()}"
        written, _ = write_scene(scene, partial)
        os.replace(written, data)
        os.replace(partial.with_name(partial.name + ".labels.json"), sidecar)
    return data, json.loads(sidecar.read_text())["labels"]


def run_scene(seed: int, config: DetectorConfig | None = None, workdir: str | None = None,
              scene_cache: str | None = None) -> dict:
    """Draw, render, replay and score the randomised scene of ``seed``.

    Parameters
    ----------
    seed : int
        A seed from `spectrum.sim.random_scenes.split_seeds`.
    config : DetectorConfig, optional
    workdir : str, optional
        Directory for the temporary capture (default: the system's).
    scene_cache : str, optional
        Folder of rendered scenes to reuse (and to add this one to); see `cached_scene`.

    Returns
    -------
    dict
        ``seed``, ``clean``, ``sample_rate_hz``, ``duration_s``, ``labels`` (each with its outcome:
        ``detected``, ``detected_kind``, ``latency_s``, ``freq_iou``, ``event``, and a jammer's
        ``jinr_db``: spectrum.evaluate.label_background), ``false_events``,
        ``false_overloads``, ``events`` (count), ``render_s``, ``replay_s`` (wall-clock) and ``cpu_s``
        (this process's CPU time for both: what the scene costs on an idle core).
    """
    from captures.reader import CaptureReader, Segment
    from spectrum.evaluate.label_background import background_rise_db
    from spectrum.evaluate.scoring import score_labels, split_false
    from spectrum.replay import ReplayResult, replay_events
    from spectrum.sim.random_scenes import draw_scene, write_scene

    config = config or DetectorConfig()
    scene = draw_scene(seed)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        started, cpu_started = time.perf_counter(), time.process_time()
        if scene_cache:
            data, labels = cached_scene(scene, scene_cache)
        else:
            data, labels = write_scene(scene, Path(tmp))
        rendered = time.perf_counter()
        result = ReplayResult()
        reader = CaptureReader(data, datatype="cu8", sample_rate_hz=scene.sample_rate_hz,
                               segments=[Segment(0, scene.center_freq_hz, START_TIME)])
        with reader:
            for _ in replay_events(reader, config, result=result):
                pass
        replayed, cpu_done = time.perf_counter(), time.process_time()
    events = [e.to_dict() for e in result.events]
    features = {e.id: e.features for e in result.events if e.features is not None}  # for --fit-kinds
    scores, unmatched = score_labels(labels, events, resolution_hz(scene.sample_rate_hz, config),
                                     capture_end_s=scene.duration_s)
    false_events, false_overloads = split_false(unmatched)
    for score in scores:  # J/(N+I) beside JNR: is the jammer under a stronger legitimate signal?
        if score.label.get("jnr_db") is not None:
            score.label["jinr_db"] = round(score.label["jnr_db"] - background_rise_db(scene, score.label), 2)
    return {
        "seed": seed, "clean": scene.clean, "sample_rate_hz": scene.sample_rate_hz,
        "duration_s": scene.duration_s,
        "backgrounds": [e.what for e in scene.emitters if e.kind is None],
        "labels": [{**s.label, "detected": s.detected, "detected_kind": s.detected_kind, "latency_s": s.latency_s,
                    "freq_iou": s.freq_iou, "event": _brief(s.event, features)} for s in scores],
        "false_events": [_brief(e, features) for e in false_events],
        "false_overloads": len(false_overloads),
        "events": len(events),
        "render_s": rendered - started, "replay_s": replayed - rendered, "cpu_s": cpu_done - cpu_started,
        "config_hash": config.config_hash(), "kind_model": config.kind_model or "packaged",
    }


def _brief(event: dict | None, features: dict[str, list]) -> dict | None:
    """The scored facts of an event, with its kind features when it has them."""
    if event is None:
        return None
    keys = ("kind", "offset_start_s", "offset_end_s", "freq_low_hz", "freq_high_hz", "rise_db", "confidence",
            "detected_offset_s")
    brief = {k: event.get(k) for k in keys}
    if event.get("id") in features:
        brief["features"] = [round(v, 5) for v in features[event["id"]]]
    return brief


def run_scenes(seeds: Iterable[int], jobs: int = 1, config: DetectorConfig | None = None,
               progress: Callable[[dict], None] | None = None, scene_cache: str | None = None) -> Iterator[dict]:
    """`run_scene` over ``seeds`` (in order), on ``jobs`` worker processes (1: in this process).

    Parameters
    ----------
    seeds : iterable of int
    jobs : int, optional
        Worker processes; at most ``2 * jobs`` scenes are in flight.
    config : DetectorConfig, optional
    progress : callable, optional
        Called with each record as it is yielded.
    scene_cache : str, optional
        Folder of rendered scenes to reuse (see `cached_scene`).

    Yields
    ------
    dict
        One record per seed, in the seeds' order.
    """
    seeds = list(seeds)
    if jobs <= 1:
        for seed in seeds:
            record = run_scene(seed, config, scene_cache=scene_cache)
            if progress:
                progress(record)
            yield record
        return
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending = []
        it = iter(seeds)
        for seed in it:
            pending.append(pool.submit(run_scene, seed, config, None, scene_cache))
            if len(pending) >= 2 * jobs:
                break
        while pending:
            record = pending.pop(0).result()
            for seed in it:
                pending.append(pool.submit(run_scene, seed, config, None, scene_cache))
                break
            if progress:
                progress(record)
            yield record


def clean_seeds_for(hours: float, split: str) -> list[int]:
    """The first clean seeds of a split whose scenes add up to at least ``hours``."""
    from spectrum.sim.random_scenes import SPLIT_SIZE, clean_duration_s, split_seeds

    need_s, total, seeds = hours * 3600, 0.0, []
    for seed in split_seeds(split, SPLIT_SIZE, clean=True):
        if total >= need_s:
            break
        total += clean_duration_s(seed)
        seeds.append(seed)
    return seeds
