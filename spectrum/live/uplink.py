"""Store-and-forward uplink from a sensor to the central service.

Every event, heartbeat and spectrum is first written to an on-disk queue
(:class:`~spectrum.live.uplink_queue.UplinkQueue`: bounded, prioritised, survives power cuts
and full disks), then a background thread posts it and deletes it only once the service has
answered 2xx. So nothing is lost when the link drops, the service restarts or the sensor
itself restarts, and nothing is duplicated: the service is idempotent by event id and
spectrum id, and an item re-sent after a crash between "stored" and "deleted" is a no-op
there.

Sending rules:

- events are sent first, then the heartbeat, then spectra; events first in, first out;
  spectra newest first, so after an outage the desk's waterfall is current while the
  backlog fills in behind it;
- a newer state of an event that is still waiting replaces the waiting one (so a long
  outage does not pile up thousands of states of one ongoing event); only the newest
  heartbeat waits;
- at most ``max_posts_per_s`` requests a second: a sensor catching up after an hour offline
  does so at a bounded rate, and live events and heartbeats still go first;
- 401/403 (the token was revoked or is wrong): the sender stops, with one log line and
  :attr:`Uplink.refused` set; the queue stays on disk (and keeps taking items, bounded) for a
  later start with a good token;
- 409 (an event id owned by another sensor), 413 and 422 (invalid): retrying the same bytes
  cannot help. The batch is halved until the refused item is alone, and that item is set
  aside in ``QUEUE.quarantine.jsonl`` next to the queue file (one JSON line: kind, status,
  the service's reason, the item) and counted; the rest flows;
- anything else (network errors, 429, 5xx) is retried with exponential backoff and jitter:
  the n-th consecutive failure waits a random time in ``[d/2, d]`` with
  ``d = min(backoff_max_s, backoff_min_s * 2**n)``, so sensors that lost the desk together
  do not all come back in the same second.

Every answer of the desk carries its clock (``X-Desk-Time``): the uplink estimates the sensor
clock's offset from it (:mod:`spectrum.live.clock_offset`) and heartbeats carry
``clock_offset_s`` and ``clock_offset_rtt_s``.

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
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from spectrum.errors import ConfigError
from spectrum.live.clock_offset import DESK_TIME_HEADER, ClockOffsetEstimator
from spectrum.live.session_clock import Clock, SystemClock
from spectrum.live.uplink_queue import KINDS, UplinkQueue

log = logging.getLogger("spectrum.live.uplink")

_PATHS = {"event": "/api/v1/events", "heartbeat": "/api/v1/heartbeats", "spectrum": "/api/v1/spectra"}
_BATCH_KEYS = {"event": "events", "spectrum": "spectra"}
SET_ASIDE_STATUSES = (409, 413, 422)  # refused for good: the item, not the link, is the problem
REFUSED_STATUSES = (401, 403)  # the token: stop until a new one is given


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
    max_bytes : int, optional
        Cap on the queue's items, bytes (default: ``free_share`` of the free disk space).
    free_share : float
        See :class:`~spectrum.live.uplink_queue.UplinkQueue`.
    batch_events : int
        Most events per request.
    timeout_s : float
        Per-request timeout.
    backoff_min_s, backoff_max_s : float
        Retry delay bounds (see the module docstring).
    max_posts_per_s : float
        Most requests a second (bounds the catch-up after an outage).
    start : bool
        Start the sender thread now (tests may start it later with :meth:`start`).
    transport : httpx.BaseTransport, optional
        For tests: a transport that injects failures.
    clock : Clock, optional
        The sensor's clock, for the offset against the desk (default the host's; tests skew it).

    Raises
    ------
    ConfigError
        The URL is not http(s), the token is empty, or the queue file cannot be opened.
    """

    def __init__(self, url: str, token: str, queue_path: str | Path, *, max_events: int = 500_000,
                 max_spectra: int = 2_000, max_bytes: int | None = None, free_share: float = 0.3,
                 batch_events: int = 500, timeout_s: float = 10.0, backoff_min_s: float = 0.5,
                 backoff_max_s: float = 60.0, max_posts_per_s: float = 20.0, start: bool = True,
                 transport: httpx.BaseTransport | None = None, clock: Clock | None = None) -> None:
        base = url.rstrip("/")
        if base.endswith("/api/v1"):
            base = base[: -len("/api/v1")]
        if not base.startswith(("http://", "https://")):
            raise ConfigError(f"--uplink {url!r}: expected an http:// or https:// URL of the service")
        if not token:
            raise ConfigError("--token: a sensor token is needed to send to the service")
        if not max_posts_per_s > 0:
            raise ConfigError(f"uplink: max_posts_per_s {max_posts_per_s!r} must be positive")
        self.url = base
        self.queue_path = Path(queue_path)
        self.quarantine_path = self.queue_path.with_name(self.queue_path.stem + ".quarantine.jsonl")
        self.queue = UplinkQueue(self.queue_path, max_bytes=max_bytes, free_share=free_share,
                                 max_events=max_events, max_spectra=max_spectra)
        self.batch_events = batch_events
        self.timeout_s = timeout_s
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.min_post_interval_s = 1.0 / max_posts_per_s
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._transport = transport
        self._clock = clock or SystemClock()
        self.clock_offset = ClockOffsetEstimator()  # from the desk's X-Desk-Time; in heartbeats
        self._lock = threading.Lock()  # guards the counters below
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._sent = {k: 0 for k in KINDS}
        self._retries = 0
        self._failures_in_row = 0
        self._last_error: str | None = None
        self._last_success_s: float | None = None
        self._retry_at_s: float | None = None
        self._next_post_s = 0.0
        self._batch_limit = batch_events  # halved while the service refuses a batch as invalid
        self.refused: str | None = None  # why the desk refused this sensor (401/403); sending stopped
        self.recovered_events = self.queue.close_orphans()  # events a killed run left open, closed now
        if start:
            self.start()

    # ---- producer side (the pipeline's thread): durable, quick, never waits on the network ----

    def send_events(self, events: list[dict[str, Any]]) -> None:
        """Queue events (contract dicts with an ``id``); a waiting older state of one is replaced.

        Never raises for a storage problem (see :attr:`storage_error`).
        """
        items = []
        for event in events:
            if not event.get("id"):
                raise ValueError("an event without an id cannot be sent idempotently")
            items.append((str(event["id"]), json.dumps(event, separators=(",", ":")), event.get("end") is None))
        if items:
            self.queue.put_events(items)
            self._wake.set()

    def send_heartbeat(self, heartbeat: dict[str, Any]) -> None:
        """Queue a heartbeat; an older one still waiting is replaced. ``queue_size``,
        ``queue_dropped`` (and the uplink's troubles, when any) are filled in if absent."""
        beat = dict(heartbeat)
        beat.setdefault("queue_size", self.queue_size)
        beat.setdefault("queue_dropped", sum(self.queue.dropped.values()))
        beat.setdefault("queue_bytes", sum(self.queue.nbytes.values()))
        beat.setdefault("queue_max_bytes", self.queue.max_bytes)
        for key, value in self.clock_offset.fields().items():
            beat.setdefault(key, value)
        if self.queue.storage_error:  # short: the desk takes 2 kB of extra fields per heartbeat
            beat.setdefault("queue_error", self.queue.storage_error[:200])
        self.queue.put_heartbeat(json.dumps(beat, separators=(",", ":")))
        self._wake.set()

    def send_spectrum(self, spectrum: dict[str, Any]) -> None:
        """Queue one spectrum (``band``, ``time``, ``freq_start_hz``, ``freq_step_hz``,
        ``power_dbfs``); an ``id`` is added so a retry is not stored twice."""
        item = dict(spectrum)
        item.setdefault("id", str(uuid.uuid4()))
        self.queue.put_spectrum(item["id"], json.dumps(item, separators=(",", ":")))
        self._wake.set()

    def touch_open_events(self, last_seen_iso: str, last_seen_s: float) -> None:
        """Record that the open events were still seen at this time (for a restart after a kill)."""
        self.queue.touch_open(last_seen_iso, last_seen_s)

    # ---- state -----------------------------------------------------------------------------------

    @property
    def queue_size(self) -> int:
        """Items waiting (on disk, and events held in memory while the disk refuses them)."""
        return sum(self.queue.size.values()) + len(self.queue.overflow)

    @property
    def storage_error(self) -> str | None:
        """Why the queue could not store everything lately (a full disk), or None."""
        return self.queue.storage_error

    @property
    def stats(self) -> dict[str, Any]:
        """Counters for a status line: waiting, sent, dropped (never zero silently), rejected, retries."""
        q = self.queue
        with self._lock:
            return {
                "queued": self.queue_size, "queued_by_kind": dict(q.size), "queued_in_memory": len(q.overflow),
                "queue_bytes": sum(q.nbytes.values()), "queue_max_bytes": q.max_bytes,
                "sent": dict(self._sent), "dropped": dict(q.dropped), "rejected": q.rejected,
                "retries": self._retries, "failures_in_row": self._failures_in_row,
                "last_error": self._last_error, "last_success_s": self._last_success_s,
                "retry_in_s": None if self._retry_at_s is None else max(0.0, self._retry_at_s - time.monotonic()),
                "refused": self.refused, "storage_error": q.storage_error,
            }

    def status_line(self) -> str:
        """One short line, e.g. ``uplink: 12 queued, 340 sent, retrying in 4 s (connection refused)``."""
        s = self.stats
        parts = [f"uplink: {s['queued']} queued", f"{sum(s['sent'].values())} sent"]
        dropped = sum(s["dropped"].values())
        if dropped:
            parts.append(f"{dropped} DROPPED (queue full)")
        if s["rejected"]:
            parts.append(f"{s['rejected']} set aside in {self.quarantine_path}")
        if s["refused"]:
            parts.append(f"STOPPED: {s['refused']}")
        elif s["retry_in_s"] is not None:
            parts.append(f"retrying in {s['retry_in_s']:.0f} s ({s['last_error']})")
        if s["storage_error"]:
            parts.append(f"DISK: {s['storage_error']}")
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
        if self.queue.overflow:
            self.queue.put_events([])  # one last try to store what waits in memory
        left = self.queue_size
        self.queue.close()
        return left

    def __enter__(self) -> Uplink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=self.timeout_s, transport=self._transport,
                          headers=self._headers) as client:
            while self.refused is None:
                if self._stop.is_set() and (self.queue_size == 0 or time.monotonic() >= (self._deadline or 0)):
                    return
                batch = self._peek()
                if batch is None:
                    self._wake.wait(1.0)
                    self._wake.clear()
                    continue
                self._pace()
                if not self._post(client, *batch) and self.refused is None:
                    self._backoff()

    def _pace(self) -> None:
        """Wait so that requests go out at most ``max_posts_per_s`` a second."""
        now = time.monotonic()
        if now < self._next_post_s and not self._stop.is_set():
            self._stop.wait(self._next_post_s - now)
        self._next_post_s = max(now, self._next_post_s) + self.min_post_interval_s

    def _peek(self) -> tuple[str, list[int], list[str]] | None:
        if self.queue.overflow and self.queue.size["event"] == 0:
            self.queue.put_events([])  # the disk may take them now
        for kind in KINDS:
            if self.queue.size[kind] <= 0:
                continue
            limit = self._batch_limit if kind == "event" else (1 if kind == "heartbeat" else 20)
            rows = self.queue.peek(kind, limit, newest_first=kind == "spectrum")
            if rows:
                return kind, [r[0] for r in rows], [r[1] for r in rows]
        return None

    def _post(self, client: httpx.Client, kind: str, seqs: list[int], bodies: list[str]) -> bool:
        """Send one batch; True when it left the queue (delivered or set aside for good)."""
        key = _BATCH_KEYS.get(kind)
        content = bodies[0] if key is None else '{"' + key + '":[' + ",".join(bodies) + "]}"
        t_send_s = self._clock.time()
        try:
            response = client.post(_PATHS[kind], content=content.encode("utf-8"))
        except httpx.HTTPError as exc:
            self._failed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            return False
        self.clock_offset.add_header(t_send_s, self._clock.time(), response.headers.get(DESK_TIME_HEADER))
        status = response.status_code
        if 200 <= status < 300:
            self.queue.delete(kind, seqs)
            with self._lock:
                self._sent[kind] += len(seqs)
                self._failures_in_row = 0
                self._retry_at_s = None
                self._last_success_s = time.time()
                self._batch_limit = self.batch_events
            return True
        if status in SET_ASIDE_STATUSES:
            if len(seqs) > 1:
                with self._lock:  # find the refused item by halving the batch
                    self._batch_limit = max(1, len(seqs) // 2)
                return True
            self._set_aside(kind, seqs[0], bodies[0], status, response.text[:2000])
            return True
        if status in REFUSED_STATUSES:
            self._refuse(status, response.text[:200])
            return False
        self._failed(f"HTTP {status}: {response.text[:200]}")  # 429, 5xx
        return False

    def _refuse(self, status: int, text: str) -> None:
        said = f": {text.strip()[:120]}" if text.strip() else ""
        self.refused = (f"the desk refused the token (HTTP {status}{said}): it was revoked or is wrong; "
                        f"{self.queue_size} item(s) kept in {self.queue_path} for a later start with a good token")
        with self._lock:
            self._last_error = f"HTTP {status}: {text}"
        log.error("uplink stopped: %s", self.refused)

    def _set_aside(self, kind: str, seq: int, body: str, status: int, reason: str) -> None:
        where = self.queue.set_aside(kind, seq, body, status, reason, time.time(), self.quarantine_path)
        log.error("uplink: the service refused a %s for good (HTTP %d): %s; set aside in %s",
                  kind, status, reason[:200], where)

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
