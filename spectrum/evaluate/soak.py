"""``spectrum bench --soak HOURS``: a long day of one sensor, measured from outside.

A real ``spectrum monitor`` process watches a simulated site (``sim:pulsed_50pct``, paced in
real time; its 10 s loop switches a pulsed jammer on at 4 s and off at 8 s, so a jammer comes
and goes six times a minute) and uplinks to a real ``spectrum serve`` process that is killed
(SIGKILL) and restarted on the same port and database every ``desk_cycle_s``, staying down for
``desk_down_s`` each time. Every ``sample_s`` the soak reads the monitor's resident memory and
CPU time from ``/proc`` and its status line (``--status-json``: the queue size). At the end the
monitor is stopped with SIGINT (it closes open events and flushes its queue) and every event
id it printed is looked for at the desk.

Figures: resident memory after warm-up, at the end, the largest, and its growth per hour (a
least-squares line over the samples after warm-up); CPU share of one core per interval (mean
and spread); the largest queue; events printed, delivered, missing and stored twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from service.auth import create_token
from service.db import Database
from spectrum.evaluate.bench_processes import free_port, process_cpu_s, process_status_mb

WARMUP_S = 120.0  # memory growth is measured after this (numba caches, the loop render, SQLite pages)


@dataclass
class SoakReport:
    """What a soak measured (seconds, MB, percent of one core)."""

    hours: float
    samples: list[tuple[float, float, float, int]] = field(default_factory=list)  # t, rss MB, cpu %, queue
    desk_outages: int = 0
    printed: int = 0
    delivered: int = 0
    missing: int = 0
    duplicates: int = 0
    exit_code: int | None = None

    def rss_growth_mb_per_h(self) -> float:
        """Least-squares slope of resident memory over the second half of the run (after warm-up),
        so the settling of the first minutes (allocator, caches) does not pass for growth."""
        start = max(WARMUP_S, self.samples[-1][0] / 2) if self.samples else WARMUP_S
        pts = [(t, rss) for t, rss, _, _ in self.samples if t >= start]
        if len(pts) < 3:
            return float("nan")
        t, rss = np.array(pts).T
        return float(np.polyfit(t / 3600.0, rss, 1)[0])

    def lines(self) -> list[str]:
        warm = [s for s in self.samples if s[0] >= WARMUP_S] or self.samples
        rss = [s[1] for s in warm]
        cpu = [s[2] for s in warm]
        queue = [s[3] for s in self.samples]
        return [
            f"soak: {self.hours * 60:.1f} min of `spectrum monitor` on sim:pulsed_50pct (real time), "
            f"desk killed and restarted {self.desk_outages} times",
            f"resident memory: {rss[0]:.1f} MB after warm-up, {rss[-1]:.1f} MB at the end, max {max(rss):.1f} MB, "
            f"growth {self.rss_growth_mb_per_h():+.2f} MB/h (least squares over the second half)",
            f"CPU: {np.mean(cpu):.1f} % of one core (sd {np.std(cpu):.1f}, min {min(cpu):.1f}, max {max(cpu):.1f}) "
            f"per {self.samples[1][0] - self.samples[0][0]:.0f} s interval" if len(self.samples) > 1 else "CPU: -",
            f"uplink queue: at most {max(queue) if queue else 0} items",
            f"events: {self.printed} printed, {self.delivered} at the desk, {self.missing} missing, "
            f"{self.duplicates} stored twice; monitor exit code {self.exit_code}",
        ]


class _Desk:
    """``spectrum serve`` in a subprocess that can be killed and restarted on its port."""

    def __init__(self, db_url: str, port: int, log_path: Path, env: dict) -> None:
        self.db_url, self.port, self.log_path, self.env = db_url, port, log_path, env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "spectrum", "serve", "--db", self.db_url,
                                      "--port", str(self.port), "--log-level", "warning"],
                                     env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the desk did not start; see {self.log_path}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _read_status(stream, last: dict) -> None:
    for line in stream:
        if line.startswith("{"):
            try:
                last.update(json.loads(line))
            except ValueError:
                pass


def _desk_ids(url: str, token: str) -> list[str]:
    ids, cursor = [], None
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/events", params=params).json()
            ids += [e["id"] for e in page["events"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return ids


def run_soak(hours: float, desk_cycle_s: float = 360.0, desk_down_s: float = 90.0, sample_s: float = 30.0,
             progress=print) -> SoakReport:
    """Run the soak (see the module docstring) and return its figures."""
    workdir = Path(tempfile.mkdtemp(prefix="spectrum-soak-"))
    db_url = f"sqlite:///{workdir / 'desk.db'}"
    db = Database(db_url)
    sensor = create_token(db, "sensor", "SOAK-1", "soak")[0]
    viewer = create_token(db, "viewer")[0]
    db.dispose()
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               SPECTRUM_TOKEN=sensor)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    desk = _Desk(db_url, port, workdir / "desk.log", env)
    desk.start()
    report = SoakReport(hours)
    out = open(workdir / "events.jsonl", "w")
    monitor = subprocess.Popen(
        [sys.executable, "-m", "spectrum", "monitor", "--source", "sim:pulsed_50pct?loop=10", "--json",
         "--site", "SOAK-1", "--sensor", "soak", "--uplink", url, "--queue", str(workdir / "queue.db"),
         "--status-json", "--status-interval", "5", "--flush-timeout", "60"],
        env=env, stdout=out, stderr=subprocess.PIPE, text=True)
    status: dict = {}
    threading.Thread(target=_read_status, args=(monitor.stderr, status), daemon=True).start()
    progress(f"soak: {hours * 60:.0f} min; monitor pid {monitor.pid}, desk {url}; files in {workdir}")
    try:
        _soak_loop(report, monitor, desk, status, hours * 3600.0, desk_cycle_s, desk_down_s, sample_s, progress)
    finally:
        if desk.proc is None or desk.proc.poll() is not None:
            desk.start()
        monitor.send_signal(signal.SIGINT)
        report.exit_code = monitor.wait(180)
        out.close()
    with open(workdir / "samples.csv", "w") as f:  # for a plot: t_s, rss_mb, cpu_percent, queue
        f.write("t_s,rss_mb,cpu_percent,queue\n")
        f.writelines(f"{t:.0f},{rss:.2f},{cpu:.2f},{q}\n" for t, rss, cpu, q in report.samples)
    _count_delivery(report, workdir / "events.jsonl", url, viewer)
    desk.kill()
    return report


def _soak_loop(report: SoakReport, monitor, desk: _Desk, status: dict, total_s: float, cycle_s: float,
               down_s: float, sample_s: float, progress) -> None:
    t0 = time.monotonic()
    cpu_last, t_last = process_cpu_s(monitor.pid), t0
    next_sample, next_kill, restart_at = t0 + sample_s, t0 + cycle_s, None
    while (now := time.monotonic()) - t0 < total_s:
        if monitor.poll() is not None:
            raise RuntimeError(f"the monitor exited early with code {monitor.returncode}")
        if restart_at is None and now >= next_kill:
            desk.kill()
            report.desk_outages += 1
            restart_at, next_kill = now + down_s, next_kill + cycle_s
        elif restart_at is not None and now >= restart_at:
            desk.start()
            restart_at = None
        if now >= next_sample:
            cpu = process_cpu_s(monitor.pid)
            share = 100.0 * (cpu - cpu_last) / (now - t_last)
            cpu_last, t_last = cpu, now
            report.samples.append((now - t0, process_status_mb(monitor.pid), share, int(status.get("uplink_queue", 0))))
            next_sample += sample_s
            if len(report.samples) % 20 == 0:
                t, rss, share, queue = report.samples[-1]
                progress(f"soak: {t / 60:.0f} min, RSS {rss:.1f} MB, CPU {share:.1f} %, queue {queue}")
        time.sleep(1.0)


def _count_delivery(report: SoakReport, events_path: Path, url: str, viewer: str) -> None:
    printed = {json.loads(line)["id"] for line in events_path.read_text().splitlines() if line.startswith("{")}
    stored = _desk_ids(url, viewer)
    report.printed = len(printed)
    report.delivered = len(printed & set(stored))
    report.missing = len(printed - set(stored))
    report.duplicates = len(stored) - len(set(stored))
