"""Fixtures: a real service on a free loopback port over a real database, SQLite or PostgreSQL."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import uvicorn

from service.app import create_app
from service.auth import create_token
from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
# A day before now, on a whole minute: inside the service's accepted window (30 days back)
T0 = (datetime.now(timezone.utc) - timedelta(days=1)).replace(second=0, microsecond=0)


def at(seconds: float, ms: bool = True) -> str:
    """``T0 + seconds`` as the contract's ISO text (``...T07:00:09.000Z``, or ``...T07:00:09Z``)."""
    text = (T0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return text if ms else text.replace(".000Z", "Z")


def make_event(i: int = 0, *, site: str | None = "s1", sensor: str | None = "a", kind: str = "tone",
               severity: str = "warning", start_s: float | None = None, duration_s: float | None = 2.0,
               freq_hz: float = 935e6, event_id: str | None = None, **extra) -> dict:
    """An event in the contract shape (as ``Event.to_dict`` makes it)."""
    start_s = float(i) if start_s is None else start_s
    start = T0 + timedelta(seconds=start_s)
    end = None if duration_s is None else start + timedelta(seconds=duration_s)
    iso = lambda t: None if t is None else t.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    event = {
        "id": event_id or str(uuid.uuid4()), "kind": kind, "start": iso(start), "end": iso(end),
        "offset_start_s": start_s, "offset_end_s": None if duration_s is None else start_s + duration_s,
        "freq_low_hz": freq_hz - 1e5, "freq_high_hz": freq_hz + 1e5, "peak_dbfs": -20.0, "rise_db": 15.0,
        "severity": severity, "confidence": 0.9, "site": site, "sensor": sensor,
        "detector": {"version": "0.1.0", "config_hash": "abc123"},
    }
    event.update(extra)
    return event


@dataclass
class Desk:
    url: str
    db_url: str
    tokens: dict[str, str]
    app: object = None
    extra: dict = field(default_factory=dict)

    def client(self, role: str | None = None, headers: dict | None = None, **kw) -> httpx.Client:
        headers = dict(headers or {})
        if role:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=10, **kw)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with free_socket() as sock:
        return sock.getsockname()[1]


def make_tokens(db_url: str) -> dict[str, str]:
    from service.db import Database

    db = Database(db_url)
    tokens = {
        "sensor": create_token(db, "sensor", "s1", "a")[0],
        "sensor2": create_token(db, "sensor", "s2", "b")[0],
        "viewer": create_token(db, "viewer")[0],
        "admin": create_token(db, "admin")[0],
    }
    db.dispose()
    return tokens


class ThreadServer:
    """uvicorn in a thread, on an already-bound loopback socket (no port race)."""

    def __init__(self, app) -> None:
        self.sock = free_socket()
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="on",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


BACKENDS = ["sqlite", "postgresql"]  # every test on a database runs on both (ids [sqlite], [postgresql])


@pytest.fixture(scope="session")
def pg():
    """One throwaway PostgreSQL server per test process (spectrum/evaluate/pg_cluster.py), started
    when a test first needs it; the tests using it skip, with the reason, where one cannot be started."""
    from spectrum.evaluate.pg_cluster import PgCluster, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    cluster = PgCluster.start()
    yield cluster
    cluster.stop()


@contextmanager
def database_maker(request, folder: Path):
    """Yields ``new()``, which gives the URL of a new, empty database on the backend named by
    ``request.param``: a SQLite file in ``folder``, or a database on this process's PostgreSQL
    server (dropped afterwards, with whatever connections a test left open)."""
    if request.param == "sqlite":
        numbers = itertools.count()
        yield lambda: f"sqlite:///{folder / f'desk{next(numbers)}.db'}"
        return
    cluster = request.getfixturevalue("pg")
    made = []

    def new() -> str:
        made.append(cluster.url())
        return made[-1]

    try:
        yield new
    finally:
        for url in made:
            cluster.drop(url)


@pytest.fixture(params=BACKENDS)
def new_db_url(request, tmp_path):
    """A maker of new, empty databases for this test, on SQLite and on PostgreSQL."""
    with database_maker(request, tmp_path) as new:
        yield new


@pytest.fixture
def db_url(new_db_url) -> str:
    """A new, empty database for this test, on SQLite and on PostgreSQL."""
    return new_db_url()


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(request, tmp_path_factory) -> str:
    """A new, empty database shared by a module's tests, on SQLite and on PostgreSQL."""
    with database_maker(request, tmp_path_factory.mktemp("db")) as new:
        yield new()


@pytest.fixture
def desk_factory(new_db_url, monkeypatch):
    """Start a threaded server with given settings overrides, each on a new database; stopped at teardown."""
    # On PostgreSQL, stopping waits for the stream's listener to look at its stop flag: every
    # 0.5 s in service, which would add a quarter of a second to each of some 150 tests
    monkeypatch.setattr("service.pg_fanout.POLL_S", 0.05)
    started = []

    def start(**overrides) -> Desk:
        db_url = new_db_url()
        tokens = make_tokens(db_url)
        settings = Settings(db_url=db_url, **overrides)
        app = create_app(settings)
        server = ThreadServer(app).__enter__()
        started.append(server)
        return Desk(url=f"http://127.0.0.1:{server.port}", db_url=db_url, tokens=tokens, app=app)

    yield start
    for server in started:
        server.__exit__()


@pytest.fixture
def desk(desk_factory) -> Desk:
    return desk_factory(status_check_s=0.2, sse_heartbeat_s=0.3)


class ProcessServer:
    """``python -m spectrum serve`` in a subprocess (for SIGKILL and restart, or several workers)."""

    def __init__(self, db_url: str, port: int, log_path: Path, workers: int = 1) -> None:
        self.db_url, self.port, self.log_path, self.workers = db_url, port, log_path, workers
        self.proc: subprocess.Popen | None = None

    def start(self) -> ProcessServer:
        return self.launch().wait_ready()

    def launch(self) -> ProcessServer:
        """Start the process; :meth:`wait_ready` waits for it to answer (start several, then wait)."""
        env = dict(os.environ, PYTHONPATH=str(REPO))
        log = open(self.log_path, "ab")
        workers = ["--workers", str(self.workers)] if self.workers != 1 else []
        self.proc = subprocess.Popen([sys.executable, "-m", "spectrum", "serve", "--db", self.db_url,
                                      "--port", str(self.port), "--log-level", "warning", *workers],
                                     cwd=REPO, env=env, stdout=log, stderr=log)
        return self

    def wait_ready(self) -> ProcessServer:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: no shutdown handlers run
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class StreamReader:
    """Reads an SSE stream in a thread, collecting ``(event, data)`` pairs and comment lines."""

    def __init__(self, url: str, token: str) -> None:
        self.messages: list[tuple[str, dict]] = []
        self.comments: list[str] = []
        self.status_code: int | None = None
        self.ended = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=5))
        self._args = (f"{url}/api/v1/stream", {"Authorization": f"Bearer {token}"})
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        url, headers = self._args
        try:
            with self._client.stream("GET", url, headers=headers) as r:
                self.status_code = r.status_code
                kind = None
                for line in r.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line)
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        self.messages.append((kind, json.loads(line[6:])))
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def wait_for(self, predicate, timeout_s: float = 5.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"not seen in {timeout_s} s; got {self.messages}")

    def close(self) -> None:
        self._client.close()

    def wait_for_comment(self, text: str, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if f": {text}" in self.comments:
                return
            time.sleep(0.02)
        raise AssertionError(f"comment {text!r} not seen in {timeout_s} s (status {self.status_code})")
