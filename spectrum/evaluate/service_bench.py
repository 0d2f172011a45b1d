"""Service benchmark (not a test): ingest rate from concurrent sensors, query latency, memory,
and incidents (ingest with grouping on against off, recompute of every incident).

The server runs as its own process (``spectrum serve`` on a free loopback port, SQLite file)
so its memory can be read from ``/proc`` and the load generator does not share its GIL.

The main server runs with incident grouping off: its events start anywhere in a day, in any
order, which suits the query figures but is no sensor's traffic. The incident figures use
live-like traffic instead: each sensor sends its events in time order, a third of them the
bursts of a pulsed jammer (4 s in every 10 s), to two fresh servers, one with grouping on
and one off, same events, one after the other. The recompute is timed in-process on the
main database once it holds ``stored`` events.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from service.auth import create_token
from service.db import Database
from spectrum.evaluate.bench_processes import free_port, process_cpu_s, process_status_mb

KINDS = ("wideband_noise", "tone", "swept", "pulsed", "new_emitter", "overload", "sensor_fault")
SEVERITIES = ("info", "warning", "critical")
BANDS_HZ = (935e6, 1842e6, 2140e6, 1575.42e6, 460e6, 150e6)
# two days back, on the hour: events spread over the day after it lie inside the desk's
# accepted time window (30 days back by default)
T0 = (datetime.now(timezone.utc) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


@dataclass
class BenchReport:
    sensors: int
    batch_events: int
    ingested_events: int
    ingest_s: float
    stored_events: int
    queries: int
    query_ms: dict[str, float] = field(default_factory=dict)
    query_ms_by_kind: dict[str, float] = field(default_factory=dict)
    ingest_server_cpu_s: float = 0.0  # the server's CPU time (user + system) during the timed ingest
    server_rss_mb: float = 0.0
    server_peak_rss_mb: float = 0.0
    db_mb: float = 0.0
    incident_ingest: dict[str, float] = field(default_factory=dict)  # events/s with grouping "on" and "off"
    incident_cpu_us: dict[str, float] = field(default_factory=dict)  # server CPU µs per event, "on" and "off"
    incident_events: int = 0
    rebuild_s: float = 0.0
    rebuild_incidents: int = 0
    rebuild_events: int = 0

    @property
    def ingest_events_per_s(self) -> float:
        return self.ingested_events / self.ingest_s if self.ingest_s else 0.0

    def lines(self) -> list[str]:
        q = self.query_ms
        return [
            f"ingest: {self.ingested_events} events from {self.sensors} concurrent sensors in batches of "
            f"{self.batch_events}: {self.ingest_s:.1f} s, {self.ingest_events_per_s:,.0f} events/s",
            f"        server CPU during ingest {self.ingest_server_cpu_s:.1f} s: "
            f"{1e6 * self.ingest_server_cpu_s / max(1, self.ingested_events):.0f} µs per event",
            f"query:  {self.queries} GET /events (100 per page, mixed filters and deep cursors) on "
            f"{self.stored_events:,} stored events: p50 {q['p50']:.1f} ms, p99 {q['p99']:.1f} ms, max {q['max']:.1f} ms",
            "        p99 by query: " + ", ".join(f"{k} {v:.1f}" for k, v in self.query_ms_by_kind.items()),
            f"server: RSS {self.server_rss_mb:.0f} MB after the run (peak {self.server_peak_rss_mb:.0f} MB); "
            f"database {self.db_mb:.0f} MB",
        ] + self._incident_lines()

    def _incident_lines(self) -> list[str]:
        lines = []
        if self.incident_ingest:
            on, off = self.incident_ingest["on"], self.incident_ingest["off"]
            lines.append(f"incidents: ingest of {self.incident_events} time-ordered events from {self.sensors} "
                         f"sensors: grouping on {on:,.0f} events/s, off {off:,.0f} events/s (on/off {on / off:.2f})")
            c_on, c_off = self.incident_cpu_us["on"], self.incident_cpu_us["off"]
            lines.append(f"           server CPU per event: on {c_on:.0f} µs, off {c_off:.0f} µs (on/off {c_on / c_off:.2f})")
        if self.rebuild_s:
            lines.append(f"incidents: recompute of every incident from {self.rebuild_events:,} stored events: "
                         f"{self.rebuild_s:.1f} s ({self.rebuild_incidents:,} incidents)")
        return lines


def make_event(rng: random.Random, site: str, sensor: str, n: int) -> dict:
    """A plausible event: start spread over a day, frequency in one of the watched bands."""
    start_s = rng.uniform(0, 86_400)
    dur_s = rng.expovariate(1 / 20)
    centre_hz = rng.choice(BANDS_HZ) + rng.uniform(-5e6, 5e6)
    width_hz = rng.choice((1e3, 2e5, 1e6, 5e6))
    start, end = T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=start_s + dur_s)
    iso = lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "kind": rng.choice(KINDS),
        "start": iso(start), "end": iso(end), "offset_start_s": round(start_s, 6),
        "offset_end_s": round(start_s + dur_s, 6), "freq_low_hz": round(centre_hz - width_hz / 2, 1),
        "freq_high_hz": round(centre_hz + width_hz / 2, 1), "peak_dbfs": round(rng.uniform(-60, 0), 2),
        "rise_db": round(rng.uniform(6, 40), 2), "severity": rng.choice(SEVERITIES),
        "confidence": round(rng.random(), 3), "site": site, "sensor": sensor,
        "detector": {"version": "0.1.0", "config_hash": "bench"},
    }


def make_stream(rng: random.Random, site: str, sensor: str, n: int) -> list[dict]:
    """Live-like traffic of one sensor, in time order: a third of it a pulsed jammer's bursts
    (4 s in every 10 s, one band), the rest events of random kinds, bands and lengths."""
    out = []
    t_s = rng.uniform(0, 60)
    for i in range(n):
        if i % 3 == 0:
            ev = make_event(rng, site, sensor, i)
            start_s, dur_s = t_s, 4.0
            ev.update(kind="pulsed", freq_low_hz=934e6, freq_high_hz=936e6)
        else:
            ev = make_event(rng, site, sensor, i)
            start_s, dur_s = t_s + rng.uniform(0, 10), rng.expovariate(1 / 20)
        start = T0 + timedelta(seconds=start_s)
        iso = lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
        ev.update(start=iso(start), end=iso(start + timedelta(seconds=dur_s)), offset_start_s=round(start_s, 6),
                  offset_end_s=round(start_s + dur_s, 6))
        out.append(ev)
        if i % 3 == 2:
            t_s += 10.0
    return out


def _stream_bodies(rng: random.Random, sensors: int, count: int, batch: int) -> list[list[bytes]]:
    per_sensor: list[list[bytes]] = []
    for k in range(sensors):
        events = make_stream(rng, f"site{k:03d}", f"sensor{k:03d}", count // sensors)
        per_sensor.append([json.dumps({"events": events[i:i + batch]}, separators=(",", ":")).encode()
                           for i in range(0, len(events), batch)])
    return per_sensor


def _start_server(db_url: str, workdir: Path, name: str, extra_env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo) + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra_env)
    with open(workdir / f"{name}.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "spectrum", "serve", "--db", db_url, "--port", str(port),
                                   "--log-level", "warning"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 120  # a loaded host may take a while to import
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError(f"server did not start; see {workdir / f'{name}.log'}")
        time.sleep(0.1)


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


def incident_ingest(workdir: Path, sensors: int, events: int, batch: int,
                    seed: int = 11) -> tuple[dict[str, float], dict[str, float]]:
    """Events/s, and the server's CPU µs per event, of the same time-ordered traffic into a
    fresh server with grouping on, and off."""
    rates, cpu_us = {}, {}
    for mode in ("off", "on"):
        db_url = f"sqlite:///{workdir / f'incidents-{mode}.db'}"
        db = Database(db_url)
        tokens = [create_token(db, "sensor", f"site{k:03d}", f"sensor{k:03d}")[0] for k in range(sensors)]
        db.dispose()
        bodies = _stream_bodies(random.Random(seed), sensors, events, batch)
        server, url = _start_server(db_url, workdir, f"incidents-{mode}",
                                    {"SPECTRUM_INCIDENTS_ENABLED": "true" if mode == "on" else "false"})
        try:
            cpu_before = process_cpu_s(server.pid)
            elapsed = _ingest(url, tokens, bodies)
            cpu_s = process_cpu_s(server.pid) - cpu_before
        finally:
            _stop(server)
        sent = (events // sensors) * sensors
        rates[mode], cpu_us[mode] = sent / elapsed, 1e6 * cpu_s / sent
    return rates, cpu_us


def time_rebuild(db_url: str) -> tuple[float, int, int]:
    """Seconds to recompute every incident from the stored events, how many incidents there
    are, and how many events were stored (counted, not assumed)."""
    from service.incident_store import rebuild_incidents
    from service.incidents import GroupingRules
    from service.store import count_events

    db = Database(db_url)
    try:
        stored = count_events(db)
        started = time.perf_counter()
        count = rebuild_incidents(db, GroupingRules(), int(time.time() * 1e6))
        return time.perf_counter() - started, count, stored
    finally:
        db.dispose()


def _post_all(url: str, token: str, bodies: list[bytes], errors: list[str]) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}",
                                             "Content-Type": "application/json"}, timeout=60) as client:
        for body in bodies:
            for attempt in range(3):  # a batch is idempotent: resending after a timeout is safe
                try:
                    r = client.post("/api/v1/events", content=body)
                    break
                except httpx.TimeoutException:
                    if attempt == 2:
                        errors.append("timed out three times")
                        return
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:200]}")
                return


def _ingest(url: str, tokens: list[str], per_sensor: list[list[bytes]]) -> float:
    errors: list[str] = []
    threads = [threading.Thread(target=_post_all, args=(url, tok, bodies, errors))
               for tok, bodies in zip(tokens, per_sensor)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"ingest failed: {errors[0]}")
    return elapsed


def _bodies(rng: random.Random, sensors: int, count: int, batch: int, offset: int) -> list[list[bytes]]:
    per_sensor: list[list[bytes]] = [[] for _ in range(sensors)]
    each = count // sensors
    for k in range(sensors):
        site, sensor = f"site{k:03d}", f"sensor{k:03d}"
        events = [make_event(rng, site, sensor, offset + i) for i in range(each)]
        for i in range(0, each, batch):
            per_sensor[k].append(json.dumps({"events": events[i:i + batch]}, separators=(",", ":")).encode())
    return per_sensor


def _queries(rng: random.Random, sensors: int, n: int) -> list[tuple[str, dict]]:
    out = []
    for _ in range(n):
        kind = rng.choice(("latest", "site", "sensor", "kind", "severity", "time", "freq", "combo"))
        k = rng.randrange(sensors)
        hour = T0 + timedelta(hours=rng.uniform(0, 23))
        params = {
            "latest": {},
            "site": {"site": f"site{k:03d}"},
            "sensor": {"sensor": f"sensor{k:03d}"},
            "kind": {"kind": rng.choice(KINDS)},
            "severity": {"severity": "critical"},
            "time": {"since": hour.isoformat(), "until": (hour + timedelta(minutes=10)).isoformat()},
            "freq": {"freq_min_hz": 1570e6, "freq_max_hz": 1580e6},
            "combo": {"site": f"site{k:03d}", "kind": rng.choice(KINDS), "severity": rng.choice(SEVERITIES)},
        }[kind]
        out.append((kind, params))
    return out


def run_bench(events: int = 100_000, stored: int = 1_000_000, sensors: int = 50, batch: int = 100,
              queries: int = 2000, db_url: str | None = None, progress=print, incident_events: int = 20_000,
              rebuild: bool = True) -> BenchReport:
    """Run the benchmark; see the module docstring. ``stored`` ≥ ``events`` events end up stored."""
    workdir = Path(tempfile.mkdtemp(prefix="spectrum-bench-"))
    db_url = db_url or f"sqlite:///{workdir / 'bench.db'}"
    db = Database(db_url)
    tokens = [create_token(db, "sensor", f"site{k:03d}", f"sensor{k:03d}")[0] for k in range(sensors)]
    viewer = create_token(db, "viewer")[0]
    db.dispose()
    server, url = _start_server(db_url, workdir, "server", {"SPECTRUM_INCIDENTS_ENABLED": "false"})
    rng = random.Random(7)
    try:
        progress(f"server pid {server.pid} on {url}, db {db_url}")
        progress(f"preparing {events} events ...")
        bodies = _bodies(rng, sensors, events, batch, 0)
        ingested = sum(len(b) for b in bodies) and (events // sensors) * sensors
        progress("ingesting ...")
        cpu_before = process_cpu_s(server.pid)
        ingest_s = _ingest(url, tokens, bodies)
        ingest_cpu_s = process_cpu_s(server.pid) - cpu_before
        del bodies
        total = ingested
        while total < stored:  # fill up to the stored size through the same API, untimed
            chunk = min(200_000, stored - total)
            chunk -= chunk % sensors
            if chunk <= 0:
                break
            progress(f"filling: {total:,} stored, adding {chunk:,} ...")
            _ingest(url, tokens, _bodies(rng, sensors, chunk, 1000, total))
            total += chunk
        progress(f"querying ({queries} requests) ...")
        latencies: dict[str, list[float]] = {}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {viewer}"}, timeout=30) as client:
            for kind, params in _queries(rng, sensors, 50):  # warm-up
                client.get("/api/v1/events", params=params)
            cursor_for: dict[str, str] = {}
            for kind, params in _queries(rng, sensors, queries):
                if kind == "latest" and rng.random() < 0.5 and "latest" in cursor_for:
                    params, kind = {"cursor": cursor_for["latest"]}, "cursor"
                t = time.perf_counter()
                r = client.get("/api/v1/events", params=params)
                latencies.setdefault(kind, []).append((time.perf_counter() - t) * 1e3)
                if r.status_code != 200:
                    raise RuntimeError(f"query failed: {r.status_code} {r.text[:200]}")
                if r.json()["next_cursor"] and kind in ("latest", "cursor"):
                    cursor_for["latest"] = r.json()["next_cursor"]
        every = sorted(v for vs in latencies.values() for v in vs)
        pct = lambda xs, p: xs[min(len(xs) - 1, int(p / 100 * len(xs)))]  # noqa: E731
        report = BenchReport(sensors=sensors, batch_events=batch, ingested_events=ingested, ingest_s=ingest_s,
                             stored_events=total, queries=len(every), ingest_server_cpu_s=ingest_cpu_s)
        report.query_ms = {"p50": statistics.median(every), "p99": pct(every, 99), "max": every[-1]}
        report.query_ms_by_kind = {k: pct(sorted(v), 99) for k, v in sorted(latencies.items())}
        report.server_rss_mb = process_status_mb(server.pid, "VmRSS")
        report.server_peak_rss_mb = process_status_mb(server.pid, "VmHWM")
        db_file = workdir / "bench.db"
        report.db_mb = sum(p.stat().st_size for p in workdir.glob("bench.db*")) / 1e6 if db_file.exists() else 0.0
    finally:
        _stop(server)
    if rebuild:
        progress(f"recomputing every incident from {total:,} stored events ...")
        report.rebuild_s, report.rebuild_incidents, report.rebuild_events = time_rebuild(db_url)
    if incident_events:
        progress(f"incident grouping: {incident_events} time-ordered events into fresh servers, off then on ...")
        report.incident_events = (incident_events // sensors) * sensors
        report.incident_ingest, report.incident_cpu_us = incident_ingest(workdir, sensors, incident_events, batch)
    return report
