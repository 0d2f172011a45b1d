"""Archive replay throughput (``spectrum bench --archive``): the same captures replayed four ways
in one run, and the start-up time of ``spectrum replay``.

Ways, each a fresh ``spectrum`` process started from this one (so start-up is paid as a user
pays it):
- one process per capture, one after the other (a shell loop: the way before archive replay);
- one process for all captures;
- one process with ``--jobs N`` local worker processes;
- one process with ``--dask ADDRESS`` on a Dask ``LocalCluster`` of N single-threaded workers
  (started before the clock starts, as a cluster would already be running).

The captures: a few distinct scenes (clean busy GSM-900, and jammed ones) rendered at 2.4 MS/s
with lengths spread over the asked range, repeated under other names (symbolic links) up to the
asked count, so 200 captures need only the disk of the distinct ones. Every way must give the
same events (ids aside); the bench says so.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENES = ("clean_busy", "barrage_wide", "pulsed_50pct", "tone", "chirp_slow", "clean_gsm", "jammer_over_carrier",
          "clean_pmr")
STARTUP_RUNS = 5


def run_archive_bench(captures: int, min_s: float, max_s: float, jobs: int) -> int:
    """Print wall time and total MS/s of each way, and the replay start-up time (median of 5)."""
    from spectrum.errors import ConfigError

    if captures < 1 or not 0 < min_s <= max_s or jobs < 1:
        raise ConfigError("--archive-captures must be ≥ 1, --archive-seconds MIN,MAX with 0 < MIN ≤ MAX, --jobs ≥ 1")
    with tempfile.TemporaryDirectory(prefix="spectrum-archive-bench-") as tmp:
        root = Path(tmp)
        folder, samples = _make_archive(root, captures, min_s, max_s)
        print(f"archive: {captures} captures of {min_s:g}-{max_s:g} s at 2.4 MS/s "
              f"({samples / 2.4e6 / 60:.1f} min of IQ; {min(captures, len(SCENES))} distinct scenes)", file=sys.stderr)
        paths = sorted(str(p) for p in folder.glob("*.sigmf-meta"))
        results = {"one process per capture": _per_file(paths)}
        results["one process"] = _spectrum(["replay", str(folder), "--json"])
        results[f"one process, --jobs {jobs}"] = _spectrum(["replay", str(folder), "--json", "--jobs", str(jobs)])
        dask = _on_dask(folder, jobs)
        if dask is not None:
            results[f"Dask LocalCluster, {jobs} workers"] = dask
        _report(results, samples)
        startup = _startup(root)
    print(f"\nstart-up: `spectrum replay` of a 0.1 s capture, median of {STARTUP_RUNS}: {startup:.2f} s")
    return 0


def _make_archive(root: Path, captures: int, min_s: float, max_s: float) -> tuple[Path, int]:
    from spectrum.cli.simulate_cmd import write_scenario
    from spectrum.sim.scenarios import get_scenario

    distinct = min(captures, len(SCENES))
    lengths = [min_s + (max_s - min_s) * i / max(1, distinct - 1) for i in range(distinct)]
    (root / "scenes").mkdir()
    sources = []
    for i, (name, seconds) in enumerate(zip(SCENES, lengths)):
        meta, _ = write_scenario(get_scenario(name), root / "scenes" / f"{i}_{name}", seconds, seed=100 + i)
        sources.append((meta, round(seconds * 2.4e6)))
    folder = root / "archive"
    folder.mkdir()
    samples = 0
    for k in range(captures):
        meta, n = sources[k % distinct]
        base = folder / f"site{k:04d}"
        os.symlink(meta, f"{base}.sigmf-meta")
        os.symlink(meta.with_suffix(".sigmf-data"), f"{base}.sigmf-data")
        samples += n
    return folder, samples


def _spectrum(args: list[str]) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "spectrum", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"spectrum {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed, [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _per_file(paths: list[str]) -> tuple[float, list[dict]]:
    total, events = 0.0, []
    for path in paths:
        elapsed, found = _spectrum(["replay", path, "--json"])
        total += elapsed
        events.extend({**e, "file": path} for e in found)
    return total, events


def _on_dask(folder: Path, workers: int) -> tuple[float, list[dict]] | None:
    try:
        from dask.distributed import LocalCluster
    except ImportError:
        print("Dask is not installed (pip install 'spectrum-watch[dask]'): its row is left out", file=sys.stderr)
        return None
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        return _spectrum(["replay", str(folder), "--json", "--dask", cluster.scheduler_address])


def _report(results: dict[str, tuple[float, list[dict]]], samples: int) -> None:
    base_s = results["one process per capture"][0]
    reference = _comparable(results["one process per capture"][1])
    print(f"{'way':<36} {'wall s':>9} {'MS/s':>8} {'× per-capture':>14}  same events")
    for way, (elapsed, events) in results.items():
        same = "yes" if _comparable(events) == reference else "NO"
        print(f"{way:<36} {elapsed:>9.1f} {samples / elapsed / 1e6:>8.1f} {base_s / elapsed:>14.2f}  {same}")


def _comparable(events: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "id"} for e in events]


def _startup(root: Path) -> float:
    from spectrum.cli.simulate_cmd import write_scenario
    from spectrum.sim.scenarios import get_scenario

    meta, _ = write_scenario(get_scenario("clean_quiet"), root / "tiny", 0.1, seed=1)
    _spectrum(["replay", str(meta), "--json"])  # warm the JIT cache, as a user's second run finds it
    return statistics.median(_spectrum(["replay", str(meta), "--json"])[0] for _ in range(STARTUP_RUNS))
