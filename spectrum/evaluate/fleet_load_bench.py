"""Fleet load benchmark (issue 16, scale-out): many sensors against a real desk, one backend after
the other in one run — SQLite with one worker, PostgreSQL with 1, 2 and 4 workers.

Per backend: a fresh database with one sensor token per sensor (made in one transaction) and a
few viewer tokens; ``spectrum serve`` on a free loopback port (``--workers N`` only when N > 1,
so a server without that option still runs the one-worker rows); the viewers' live streams in
one child process (:mod:`spectrum.evaluate.fleet_viewers`), the sensors in another
(:mod:`spectrum.evaluate.fleet_sensors`, traffic from :mod:`spectrum.evaluate.fleet_traffic`).
While the sensors run, the server's process tree is sampled from ``/proc``. Afterwards the
database is read back: every acknowledged event must be there exactly once in its last state,
every sensor's last heartbeat stored, every spectrum stored once.

PostgreSQL runs on a throwaway cluster (:mod:`spectrum.evaluate.pg_cluster`) with its default
durability (fsync on), as SQLite runs with ``synchronous=FULL``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from spectrum.evaluate.fleet_report import BackendFigures, FleetReport, StreamFigures
from spectrum.evaluate.fleet_sensors import percentile
from spectrum.evaluate.fleet_traffic import FleetPlan, sensor_name, site_name
from spectrum.evaluate.bench_processes import free_port, tree_cpu_s, tree_rss_bytes

BACKENDS = {"sqlite": 1, "pg1": 1, "pg2": 2, "pg4": 4}  # name -> API workers
DRAIN_S = 3.0  # after the last post, the streams get this long to deliver
START_TIMEOUT_S = 120.0  # a loaded host may take a while to import the server
DAY_S = 86_400.0
REPO = Path(__file__).resolve().parents[2]


class BackendUnavailable(Exception):
    """This backend cannot run here (no PostgreSQL, or the server refused its options)."""


def run_fleet_bench(plan: FleetPlan, backends: list[str], viewers: int = 3, drain_s: float = DRAIN_S,
                    progress=print) -> FleetReport:
    """Run ``plan`` against each of ``backends`` (names of :data:`BACKENDS`) in turn."""
    report = FleetReport(sensors=plan.sensors, interval_s=plan.interval_s, minutes=plan.duration_s / 60,
                         viewers=viewers, cpu_count=os.cpu_count() or 1, load_before=os.getloadavg())
    workdir = Path(tempfile.mkdtemp(prefix="spectrum-fleet-"))
    progress(f"work directory {workdir}")
    pg = ClusterInBackground(progress) if any(name != "sqlite" for name in backends) else None
    failed = False
    try:
        for name in backends:
            workers = BACKENDS[name]
            try:
                if name == "sqlite":
                    db_url, db_pid = f"sqlite:///{workdir / 'fleet.db'}", None
                else:
                    cluster, missing = pg.get()
                    if missing:
                        raise BackendUnavailable(missing)
                    db_url, db_pid = cluster.url(), cluster.server_pid()
                progress(f"{name}: {plan.sensors} sensors for {plan.duration_s:g} s against {workers} worker(s) ...")
                figures = run_backend(name, workers, db_url, db_pid, plan, viewers, workdir, drain_s,
                                      before_load=pg.get if pg else None)
            except (BackendUnavailable, RuntimeError) as exc:  # one backend's failure is its row, not the run's end
                failed = failed or not isinstance(exc, BackendUnavailable)
                progress(f"{name}: not available: {exc}")
                figures = BackendFigures(name=name, workers=workers, unavailable=str(exc))
            report.backends.append(figures)
    finally:
        if pg is not None and pg.get()[0] is not None:
            pg.get()[0].stop()
    if failed:
        progress(f"logs kept in {workdir}")
    else:  # the databases, and the tokens in the children's configs
        shutil.rmtree(workdir, ignore_errors=True)
    report.load_after = os.getloadavg()
    return report


class ClusterInBackground:
    """The throwaway PostgreSQL cluster, started in a thread: initdb takes seconds, which then
    pass while the first backend's server starts. :meth:`get` waits for it."""

    def __init__(self, progress) -> None:
        self.cluster, self.missing = None, None
        self._progress = progress
        self._thread = threading.Thread(target=self._start, daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self.cluster, self.missing = _start_cluster(self._progress)
        except Exception as exc:  # noqa: BLE001 - said in the PostgreSQL rows instead
            self.missing = f"the throwaway PostgreSQL cluster did not start: {exc}"

    def get(self):
        """(cluster, None) once it runs, or (None, why it cannot)."""
        self._thread.join()
        return self.cluster, self.missing


def _start_cluster(progress):
    from spectrum.evaluate.pg_cluster import PgCluster, unavailable_reason

    reason = unavailable_reason()
    if reason:
        return None, reason
    progress("starting a throwaway PostgreSQL cluster ...")
    try:
        return PgCluster.start(durable=True), None
    except RuntimeError as exc:
        return None, f"the throwaway PostgreSQL cluster did not start: {exc}"


def run_backend(name: str, workers: int, db_url: str, db_pid: int | None, plan: FleetPlan, viewers: int,
                workdir: Path, drain_s: float = DRAIN_S, before_load=None) -> BackendFigures:
    """One backend: set up, serve, load, read back. ``before_load`` is called just before the
    load starts (to wait for anything else still busy). Raises BackendUnavailable if the server
    does not start."""
    from service.auth import create_sensor_tokens, create_token
    from service.db import Database
    from service.db_growth import table_bytes

    db = Database(db_url)
    tokens = create_sensor_tokens(db, [(site_name(k), sensor_name(k)) for k in range(plan.sensors)])
    viewer_tokens = [create_token(db, "viewer", label=f"fleet viewer {i}")[0] for i in range(viewers)]
    bytes_before = sum(table_bytes(db).values())
    db.dispose()

    server, url = start_server(db_url, workers, workdir / f"{name}-server.log")
    children: list[subprocess.Popen] = []
    sampler = None
    try:
        viewer_out, sensor_out = workdir / f"{name}-streams.json", workdir / f"{name}-sensors.json"
        watchers = _child("fleet_viewers", {"url": url, "tokens": viewer_tokens}, viewer_out, workdir, name)
        fleet = _child("fleet_sensors", {"url": url, "tokens": tokens, "plan": plan.as_dict()},
                       sensor_out, workdir, name)
        children += [watchers, fleet]  # the sensors wait for "go" on stdin
        _wait_ready(watchers, workdir / f"{name}-fleet_viewers.log")
        if before_load is not None:
            before_load()
        sampler = Sampler(server.pid)
        cpu_before_s, db_cpu_before_s = tree_cpu_s(server.pid), tree_cpu_s(db_pid) if db_pid else 0.0
        started_s = time.monotonic()
        fleet.stdin.write(b"go\n")
        fleet.stdin.flush()
        if fleet.wait(plan.duration_s + 600) != 0:
            raise RuntimeError(f"the load generator failed; see {workdir / f'{name}-fleet_sensors.log'}")
        busy_s = time.monotonic() - started_s
        server_cpu_s = tree_cpu_s(server.pid) - cpu_before_s
        db_cpu_s = tree_cpu_s(db_pid) - db_cpu_before_s if db_pid else None
        sampler.stop()
        time.sleep(drain_s)
        watchers.stdin.close()
        if watchers.wait(60) != 0:
            raise RuntimeError(f"the stream viewers failed; see {workdir / f'{name}-fleet_viewers.log'}")
    finally:
        if sampler is not None:
            sampler.stop()
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
        stop_server(server)
    sent, streams = json.loads(sensor_out.read_text()), json.loads(viewer_out.read_text())

    figures = BackendFigures(name=name, workers=workers, run_s=sent["end_s"] - sent["start_s"])
    _fill_requests(figures, sent)
    db = Database(db_url, create=False)
    try:
        _check_database(figures, sent, db)
        figures.db_bytes_added = sum(table_bytes(db).values()) - bytes_before
    finally:
        db.dispose()
    _fill_streams(figures, sent, streams)
    sampler.fill(figures)
    figures.server_cpu_s_per_s = server_cpu_s / busy_s
    figures.database_cpu_s_per_s = None if db_cpu_s is None else db_cpu_s / busy_s
    sensor_days = plan.sensors * plan.duration_s / DAY_S
    figures.db_mb_per_sensor_day = figures.db_bytes_added / 1e6 / sensor_days
    return figures


def _fill_requests(f: BackendFigures, sent: dict) -> None:
    f.requests, f.retries, f.given_up = sent["requests"], sent["retries"], sent["given_up"]
    f.failures = sent["failures"]
    f.refused = sent["refused"]
    f.latency_ms = {kind: {"p50": percentile(v, 50), "p99": percentile(v, 99)} for kind, v in sent["latency_ms"].items()}
    f.events_sent = len({i for i, _closed, _t in sent["first_sent_s"]})
    f.event_states_posted = sent["event_states_posted"]
    f.events_acked = len(sent["events_acked"])
    f.updates_stored = sent["answers"].get("updated", 0)
    f.unchanged_answers = sent["answers"].get("unchanged", 0) + sent["spectra_answers"].get("unchanged", 0)
    f.resent = sent["resent"]
    f.spectra_acked = len(sent["spectra_acked"])
    f.beats_sent, f.beats_acked = sent["beats_sent"], sent["beats_acked"]
    f.generator_lag_ms_p99 = sent["loop_lag_ms"]["p99"]
    f.generator_cpu_s_per_s = sent["cpu_s"] / (sent["end_s"] - sent["start_s"])
    f.jammers, f.droppers = sent["jammers"], sent["droppers"]


def _check_database(f: BackendFigures, sent: dict, db) -> None:
    """Every acknowledged event stored once in its last state; spectra once; last heartbeats."""
    from sqlalchemy import select

    from service.models import EventRow, SensorRow, SpectrumRow

    with db.read() as session:
        stored = session.execute(select(EventRow.id, EventRow.closed)).all()
        spectra = Counter(session.scalars(select(SpectrumRow.id)))
        beats = dict(session.execute(select(SensorRow.sensor, SensorRow.heartbeat)).all())
    copies = Counter(i for i, _closed in stored)
    closed = {i: bool(c) for i, c in stored}
    acked: dict[str, bool] = sent["events_acked"]
    posted = {i for i, _closed, _t in sent["first_sent_s"]}
    f.events_stored = len(copies)
    f.events_lost = sum(1 for i in acked if i not in copies)
    f.events_stored_twice = sum(n - 1 for n in copies.values())
    f.events_unexpected = sum(1 for i in copies if i not in posted)
    f.events_wrong_state = sum(1 for i, was_closed in acked.items() if was_closed and not closed.get(i, True))
    f.spectra_stored = len(spectra)
    if any(n > 1 for n in spectra.values()) or set(spectra) != set(sent["spectra_acked"]):
        f.refused.append(f"spectra: {len(set(sent['spectra_acked']) - set(spectra))} acknowledged, not stored; "
                         f"{sum(n - 1 for n in spectra.values())} stored twice")
    last = sent["last_beat_acked"]
    f.sensors_with_last_beat = sum(1 for sensor, session_s in last.items()
                                   if beats.get(sensor) and json.loads(beats[sensor]).get("session_s") == session_s)


def _fill_streams(f: BackendFigures, sent: dict, streams: list[dict]) -> None:
    """Delays from each event state's first post (and from the desk's answer to it) to its first
    arrival on each stream."""
    acked = sent["events_acked"]
    posted_s = {(i, closed): t for i, closed, t in sent["first_sent_s"] if i in acked}
    answered_s = {(i, closed): t for i, closed, t in sent["first_answered_s"]}
    from_post_ms, from_answer_ms = [], []
    for stream in streams:
        seen_s = {(i, closed): t for i, closed, t in stream["events"]}
        delays_ms = [(seen_s[key] - t) * 1e3 for key, t in posted_s.items() if key in seen_s]
        from_post_ms += delays_ms
        from_answer_ms += [(seen_s[key] - t) * 1e3 for key, t in answered_s.items() if key in seen_s]
        f.streams.append(StreamFigures(delivered=len(delays_ms), missing=len(posted_s) - len(delays_ms),
                                       delay_ms_p50=percentile(delays_ms, 50), delay_ms_p99=percentile(delays_ms, 99),
                                       notice=stream["notice"], error=stream["error"]))
    f.stream_delay_ms_p50, f.stream_delay_ms_p99 = percentile(from_post_ms, 50), percentile(from_post_ms, 99)
    f.stream_after_answer_ms_p50 = percentile(from_answer_ms, 50)
    f.stream_after_answer_ms_p99 = percentile(from_answer_ms, 99)


class Sampler:
    """Once a second, in a thread until stopped: the server tree's resident size, and the host's
    load average (other jobs on the machine show there)."""

    def __init__(self, pid: int, every_s: float = 1.0) -> None:
        self.pid, self.every_s = pid, every_s
        self.rss_bytes: list[int] = []
        self.load: list[float] = []
        self._stop = threading.Event()
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        self.rss_bytes.append(tree_rss_bytes(self.pid))
        self.load.append(os.getloadavg()[0])

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def fill(self, f: BackendFigures) -> None:
        f.server_rss_mb_mean = sum(self.rss_bytes) / len(self.rss_bytes) / 1e6
        f.server_rss_mb_peak = max(self.rss_bytes) / 1e6
        f.host_load_mean, f.host_load_max = sum(self.load) / len(self.load), max(self.load)


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _child(module: str, config: dict, out: Path, workdir: Path, name: str) -> subprocess.Popen:
    """``python -m spectrum.evaluate.MODULE CONFIG OUT``, stdin a pipe, stderr to a log."""
    config_path = workdir / f"{name}-{module}.config.json"
    config_path.write_text(json.dumps(config))
    with open(workdir / f"{name}-{module}.log", "wb") as log:
        return subprocess.Popen([sys.executable, "-m", f"spectrum.evaluate.{module}", str(config_path), str(out)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=_env())


def _wait_ready(watchers: subprocess.Popen, log: Path) -> None:
    line = watchers.stdout.readline()  # the viewers time out on their own if the streams do not open
    if line.strip() != b"ready":
        raise RuntimeError(f"the stream viewers did not connect: {_tail(log)}")


def start_server(db_url: str, workers: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    """``spectrum serve`` on a free loopback port, answering ``/healthz``; ``--workers`` only
    for more than one, so a server without the option still runs one worker."""
    port = free_port()
    command = [sys.executable, "-m", "spectrum", "serve", "--db", db_url, "--port", str(port), "--log-level", "warning"]
    if workers > 1:
        command += ["--workers", str(workers)]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env=_env(), stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while server.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise BackendUnavailable(f"spectrum serve{' --workers ' + str(workers) if workers > 1 else ''} did not start "
                             f"(exit {server.returncode}): {_tail(log_path)}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no output"
