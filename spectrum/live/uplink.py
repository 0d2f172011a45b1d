"""Store-and-forward uplink from a sensor to the central service.

Every event, heartbeat and spectrum is first written to an on-disk queue (SQLite, WAL,
``synchronous=FULL``), then a background thread posts it and deletes it only once the
service has answered 2xx. So nothing is lost when the link drops, the service restarts or
the sensor itself restarts, and nothing is duplicated: the service is idempotent by event
id and spectrum id, and an item re-sent after a crash between "stored" and "deleted" is a
no-op there.

Queue rules:

- events are sent first, then the heartbeat, then spectra; first in, first out within each;
- a newer state of an event that is still waiting replaces the waiting one (so a long
  outage does not pile up thousands of states of one ongoing event);
- only the newest heartbeat waits (the desk only needs the latest health);
- the queue is capped on disk (``max_events`` for events and heartbeats, ``max_spectra``
  for spectra); beyond a cap the oldest items of that kind are dropped and counted in
  :attr:`Uplink.stats` (``dropped``), a count kept across restarts;
- an item the service refuses as invalid (422/413 on its own) cannot succeed by retrying:
  it is moved to a ``rejected`` table in the queue file (kept for inspection) and counted.

Retries use exponential backoff with jitter: the n-th consecutive failure waits a random
time in ``[d/2, d]`` with ``d = min(backoff_max_s, backoff_min_s * 2**n)``, so sensors that
lost the desk together do not all come back in the same second.

Example
-------
>>> up = Uplink("http://127.0.0.1:8000", token, "uplink-queue.db")   # doctest: +SKIP
>>> up.send_events([event.to_dict()])                                 # doctest: +SKIP
>>> up.close(timeout_s=5)                                             # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from spectrum.errors import ConfigError

log = logging.getLogger("spectrum.live.uplink")

KINDS = ("event", "heartbeat", "spectrum")  # in sending priority
_PATHS = {"event": "/api/v1/events", "heartbeat": "/api/v1/heartbeats", "spectrum": "/api/v1/spectra"}
_BATCH_KEYS = {"event": "events", "spectrum": "spectra"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                                   key TEXT, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_outbox_kind ON outbox(kind, seq);
CREATE INDEX IF NOT EXISTS ix_outbox_key ON outbox(key);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (seq INTEGER PRIMARY KEY, kind TEXT, body TEXT, status INTEGER,
                                     reason TEXT, at REAL);
"""


class Uplink:
    """Durable, non-blocking sender of events, heartbeats and spectra to the service.

    Parameters
    ----------
    url : str
        Service base URL, e.g. ``http://127.0.0.1:8000`` (a trailing ``/api/v1`` is accepted).
    token : str
        A ``sensor`` bearer token for this site and sensor.
    queue_path : str or Path
        SQLite file of the queue; created if missing, resumed if present.
    max_events : int
        Cap on waiting events + heartbeats; beyond it the oldest events are dropped (counted).
    max_spectra : int
        Cap on waiting spectra (about 8 kB each at 1024 bins); the oldest are dropped.
    batch_events : int
        Most events per request.
    timeout_s : float
        Per-request timeout.
    backoff_min_s, backoff_max_s : float
        Retry delay bounds (see the module docstring).
    start : bool
        Start the sender thread now (tests may start it later with :meth:`start`).
    transport : httpx.BaseTransport, optional
        For tests: a transport that injects failures.

    Raises
    ------
    ConfigError
        The URL is not http(s), or the queue file cannot be opened.
    """

    def __init__(self, url: str, token: str, queue_path: str | Path, *, max_events: int = 500_000,
                 max_spectra: int = 2_000, batch_events: int = 500, timeout_s: float = 10.0,
                 backoff_min_s: float = 0.5, backoff_max_s: float = 60.0, start: bool = True,
                 transport: httpx.BaseTransport | None = None) -> None:
        base = url.rstrip("/")
        if base.endswith("/api/v1"):
            base = base[: -len("/api/v1")]
        if not base.startswith(("http://", "https://")):
            raise ConfigError(f"--uplink {url!r}: expected an http:// or https:// URL of the service")
        if not token:
            raise ConfigError("--token: a sensor token is needed to send to the service")
        self.url = base
        self.queue_path = Path(queue_path)
        self.max_events = max_events
        self.max_spectra = max_spectra
        self.batch_events = batch_events
        self.timeout_s = timeout_s
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._transport = transport
        self._lock = threading.Lock()  # guards the connection and the counters below
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        try:
            self._db = sqlite3.connect(self.queue_path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # an enqueued item survives a power cut
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"uplink queue {str(self.queue_path)!r}: cannot open ({exc})") from exc
        self._size = {k: 0 for k in KINDS}
        for kind, n in self._db.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind"):
            self._size[kind] = n
        counters = dict(self._db.execute("SELECT name, value FROM counters"))
        self._dropped = {k: counters.get(f"dropped_{k}", 0) for k in KINDS}
        self._rejected = counters.get("rejected", 0)
        self._sent = {k: 0 for k in KINDS}
        self._retries = 0
        self._failures_in_row = 0
        self._last_error: str | None = None
        self._last_success_s: float | None = None
        self._retry_at_s: float | None = None
        self._batch_limit = batch_events  # halved while the service refuses a batch as invalid
        if start:
            self.start()

    # ---- producer side (the pipeline's thread): durable, quick, never waits on the network ----

    def send_events(self, events: list[dict[str, Any]]) -> None:
        """Queue events (contract dicts with an ``id``); a waiting older state of one is replaced."""
        rows = []
        for event in events:
            if not event.get("id"):
                raise ValueError("an event without an id cannot be sent idempotently")
            rows.append((str(event["id"]), json.dumps(event, separators=(",", ":"))))
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for key, body in rows:
                    gone = self._db.execute("DELETE FROM outbox WHERE key = ? AND kind = 'event'", (key,)).rowcount
                    self._size["event"] -= gone
                    self._db.execute("INSERT INTO outbox(kind, key, body) VALUES ('event', ?, ?)", (key, body))
                    self._size["event"] += 1
                self._enforce_caps()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._recount()
                raise
        self._wake.set()

    def send_heartbeat(self, heartbeat: dict[str, Any]) -> None:
        """Queue a heartbeat; an older one still waiting is replaced. ``queue_size`` and
        ``queue_dropped`` are filled in if absent."""
        beat = dict(heartbeat)
        beat.setdefault("queue_size", self.queue_size)
        beat.setdefault("queue_dropped", sum(self._dropped.values()))
        body = json.dumps(beat, separators=(",", ":"))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM outbox WHERE kind = 'heartbeat'")
            self._db.execute("INSERT INTO outbox(kind, key, body) VALUES ('heartbeat', NULL, ?)", (body,))
            self._db.execute("COMMIT")
            self._size["heartbeat"] = 1
        self._wake.set()

    def send_spectrum(self, spectrum: dict[str, Any]) -> None:
        """Queue one spectrum (``band``, ``time``, ``freq_start_hz``, ``freq_step_hz``,
        ``power_dbfs``); an ``id`` is added so a retry is not stored twice."""
        item = dict(spectrum)
        item.setdefault("id", str(uuid.uuid4()))
        body = json.dumps(item, separators=(",", ":"))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT INTO outbox(kind, key, body) VALUES ('spectrum', ?, ?)", (item["id"], body))
            self._size["spectrum"] += 1
            self._enforce_caps()
            self._db.execute("COMMIT")
        self._wake.set()

    def _enforce_caps(self) -> None:
        """Drop the oldest items beyond the caps (inside the caller's transaction)."""
        over = self._size["spectrum"] - self.max_spectra
        if over > 0:
            self._drop("spectrum", over)
        over = self._size["event"] + self._size["heartbeat"] - self.max_events
        if over > 0:
            self._drop("event", over)

    def _drop(self, kind: str, n: int) -> None:
        gone = self._db.execute("DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE kind = ? "
                                "ORDER BY seq LIMIT ?)", (kind, n)).rowcount
        self._size[kind] -= gone
        self._dropped[kind] += gone
        self._db.execute("INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                         "value = excluded.value", (f"dropped_{kind}", self._dropped[kind]))
        log.warning("uplink queue full: dropped the %d oldest %s item(s) (%d in all)", gone, kind,
                    self._dropped[kind])

    def _recount(self) -> None:
        self._size = {k: 0 for k in KINDS}
        for kind, n in self._db.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind"):
            self._size[kind] = n

    # ---- state -----------------------------------------------------------------------------------

    @property
    def queue_size(self) -> int:
        """Items waiting on disk (events, heartbeat, spectra)."""
        return sum(self._size.values())

    @property
    def stats(self) -> dict[str, Any]:
        """Counters for a status line: waiting, sent, dropped (never zero silently), rejected, retries."""
        with self._lock:
            return {
                "queued": self.queue_size, "queued_by_kind": dict(self._size), "sent": dict(self._sent),
                "dropped": dict(self._dropped), "rejected": self._rejected, "retries": self._retries,
                "failures_in_row": self._failures_in_row, "last_error": self._last_error,
                "last_success_s": self._last_success_s,
                "retry_in_s": None if self._retry_at_s is None else max(0.0, self._retry_at_s - time.monotonic()),
            }

    def status_line(self) -> str:
        """One short line, e.g. ``uplink: 12 queued, 340 sent, retrying in 4 s (connection refused)``."""
        s = self.stats
        parts = [f"uplink: {s['queued']} queued", f"{sum(s['sent'].values())} sent"]
        dropped = sum(s["dropped"].values())
        if dropped:
            parts.append(f"{dropped} DROPPED (queue full)")
        if s["rejected"]:
            parts.append(f"{s['rejected']} rejected")
        if s["retry_in_s"] is not None:
            parts.append(f"retrying in {s['retry_in_s']:.0f} s ({s['last_error']})")
        return ", ".join(parts)

    # ---- sender thread ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background sender (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="spectrum-uplink", daemon=True)
            self._thread.start()

    def close(self, timeout_s: float = 5.0) -> int:
        """Try to deliver what is waiting for up to ``timeout_s``, then stop.

        What is still waiting stays on disk and goes out on the next start. Safe to call twice.

        Returns
        -------
        int
            Items still waiting.
        """
        if self._thread is not None:
            self._deadline = time.monotonic() + timeout_s
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout_s + self.timeout_s + 1.0)
            self._thread = None
        left = self.queue_size
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None  # type: ignore[assignment]
        return left

    def __enter__(self) -> Uplink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=self.timeout_s, transport=self._transport,
                          headers=self._headers) as client:
            while True:
                if self._stop.is_set() and (self.queue_size == 0 or time.monotonic() >= (self._deadline or 0)):
                    return
                batch = self._peek()
                if batch is None:
                    self._wake.wait(1.0)
                    self._wake.clear()
                    continue
                kind, seqs, bodies = batch
                if self._post(client, kind, seqs, bodies):
                    continue
                self._backoff()

    def _peek(self) -> tuple[str, list[int], list[str]] | None:
        with self._lock:
            for kind in KINDS:
                if self._size[kind] <= 0:
                    continue
                limit = self._batch_limit if kind == "event" else (1 if kind == "heartbeat" else 20)
                rows = self._db.execute("SELECT seq, body FROM outbox WHERE kind = ? ORDER BY seq LIMIT ?",
                                        (kind, limit)).fetchall()
                if rows:
                    return kind, [r[0] for r in rows], [r[1] for r in rows]
        return None

    def _post(self, client: httpx.Client, kind: str, seqs: list[int], bodies: list[str]) -> bool:
        """Send one batch; True when it left the queue (delivered or rejected for good)."""
        key = _BATCH_KEYS.get(kind)
        content = bodies[0] if key is None else '{"' + key + '":[' + ",".join(bodies) + "]}"
        try:
            response = client.post(_PATHS[kind], content=content.encode("utf-8"))
        except httpx.HTTPError as exc:
            self._failed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            return False
        status = response.status_code
        if 200 <= status < 300:
            self._delete(kind, seqs)
            with self._lock:
                self._sent[kind] += len(seqs)
                self._failures_in_row = 0
                self._retry_at_s = None
                self._last_success_s = time.time()
                self._batch_limit = self.batch_events
            return True
        if status in (413, 422):  # invalid: retrying the same bytes cannot help
            if len(seqs) > 1:
                with self._lock:  # find the bad item by halving the batch
                    self._batch_limit = max(1, len(seqs) // 2)
                return True
            self._reject(kind, seqs[0], bodies[0], status, response.text[:2000])
            return True
        self._failed(f"HTTP {status}: {response.text[:200]}")  # 401/403 (fix the token), 429, 5xx
        return False

    def _delete(self, kind: str, seqs: list[int]) -> None:
        with self._lock:
            if self._db is None:
                return
            marks = ",".join("?" * len(seqs))
            gone = self._db.execute(f"DELETE FROM outbox WHERE seq IN ({marks})", seqs).rowcount
            self._size[kind] -= gone

    def _reject(self, kind: str, seq: int, body: str, status: int, reason: str) -> None:
        log.error("uplink: the service refused a %s for good (HTTP %d): %s; kept in %s, table rejected",
                  kind, status, reason[:200], self.queue_path)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR REPLACE INTO rejected VALUES (?, ?, ?, ?, ?, ?)",
                             (seq, kind, body, status, reason, time.time()))
            gone = self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,)).rowcount
            self._size[kind] -= gone
            self._rejected += 1
            self._db.execute("INSERT INTO counters(name, value) VALUES ('rejected', ?) ON CONFLICT(name) "
                             "DO UPDATE SET value = excluded.value", (self._rejected,))
            self._db.execute("COMMIT")

    def _failed(self, reason: str) -> None:
        with self._lock:
            self._failures_in_row += 1
            self._retries += 1
            self._last_error = reason
        log.info("uplink: send failed (%s); will retry", reason)

    def _backoff(self) -> None:
        n = min(self._failures_in_row, 30)
        delay_s = min(self.backoff_max_s, self.backoff_min_s * 2 ** (n - 1)) * random.uniform(0.5, 1.0)
        if self._deadline is not None:
            delay_s = max(0.0, min(delay_s, self._deadline - time.monotonic()))
        self._retry_at_s = time.monotonic() + delay_s
        if self._stop.is_set():  # closing: one more try before the deadline, no early wake-up
            time.sleep(delay_s)
        else:
            self._stop.wait(delay_s)
