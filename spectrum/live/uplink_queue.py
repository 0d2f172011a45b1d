"""The uplink's on-disk queue: bounded, prioritised, and it never takes the sensor down.

SQLite (rollback journal, ``synchronous=FULL``): an item stored survives a power cut. A
rollback journal rather than WAL because it needs no shared-memory file and no log that grows
between checkpoints: on a small SD card the queue's footprint is its pages in use plus the
journal of one small transaction. Kinds, in sending priority: ``event`` (and its updates),
``heartbeat``, ``spectrum``.

Bounds. The queue's pages in use stay under ``max_bytes`` (by default ``free_share`` of the
free space of its file system when it opens, at most ``MAX_BYTES_CEILING``, never more than the
disk has; freed pages are reused, so the file does not grow past it) and it holds at most
``max_events`` events + heartbeats and ``max_spectra`` spectra. When a new item does not fit,
room is made in this order: the oldest spectra, then the waiting heartbeat, and only when
nothing else is left, the oldest events. Every item dropped is counted (``dropped``, kept
across restarts).

A full disk (``database or disk is full``, or any storage error) never propagates to the
caller: spectra and heartbeats that cannot be stored are dropped (counted), events wait in a
bounded overflow in memory (``memory_events``; beyond it the oldest go, counted) and are
written as soon as the disk takes them again; the cap shrinks to what the disk held, and
:attr:`UplinkQueue.storage_error` says what happened until a write succeeds with nothing left
in memory.

Open events. The state of every event still open is kept with the last time the sensor saw
it (:meth:`UplinkQueue.touch_open`). A sensor that stopped without closing them (power cut,
SIGKILL) finds them at the next start: :meth:`UplinkQueue.close_orphans` closes each at its
last-seen time, flagged ``closed_by_restart``, and queues it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from spectrum.errors import ConfigError

log = logging.getLogger("spectrum.live.uplink")

KINDS = ("event", "heartbeat", "spectrum")  # in sending priority
ROW_OVERHEAD_BYTES = 64  # SQLite row and index entries per item, roughly (for the byte counts shown)
MAX_BYTES_CEILING = 2_000_000_000  # the default cap never exceeds this, however large the disk
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                                   key TEXT, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_outbox_kind ON outbox(kind, seq);
CREATE INDEX IF NOT EXISTS ix_outbox_key ON outbox(key);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (seq INTEGER PRIMARY KEY, kind TEXT, body TEXT, status INTEGER,
                                     reason TEXT, at REAL);
CREATE TABLE IF NOT EXISTS open_events (id TEXT PRIMARY KEY, body TEXT NOT NULL,
                                        last_seen TEXT, last_seen_s REAL);
"""


def default_max_bytes(path: Path, free_share: float) -> tuple[int, int]:
    """(cap, room): ``free_share`` of what the queue's file system could hold, and that room.

    The room is the free space plus what the queue's own files use already.
    """
    usage = shutil.disk_usage(path.parent)
    own = sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists())
    room = usage.free + own
    return min(int(free_share * room), MAX_BYTES_CEILING), room


class UplinkQueue:
    """Durable, bounded queue of the uplink's items (see the module docstring).

    Parameters
    ----------
    path : str or Path
        SQLite file; created if missing, resumed if present.
    max_bytes : int, optional
        Cap on stored items, bytes; default ``free_share`` of the free space, and never more
        than the free space.
    free_share : float
        Share of the free space used when ``max_bytes`` is not given (0-1).
    max_events, max_spectra : int
        Caps on waiting events + heartbeats, and on waiting spectra.
    memory_events : int
        Events kept in memory while the disk refuses them.

    Raises
    ------
    ConfigError
        The file cannot be opened, or a setting is out of range.
    """

    def __init__(self, path: str | Path, *, max_bytes: int | None = None, free_share: float = 0.3,
                 max_events: int = 500_000, max_spectra: int = 2_000, memory_events: int = 10_000) -> None:
        self.path = Path(path)
        if not 0 < free_share <= 1:
            raise ConfigError(f"uplink queue: free_share {free_share!r} must be in (0, 1]")
        if max_bytes is not None and max_bytes <= 0:
            raise ConfigError(f"uplink queue: max_bytes {max_bytes!r} must be positive")
        self.lock = threading.RLock()
        self.db = self._open()
        cap, room = default_max_bytes(self.path, free_share)
        self.max_bytes = min(max_bytes, room) if max_bytes is not None else cap
        self.max_events, self.max_spectra, self.memory_events = max_events, max_spectra, memory_events
        self.size = {k: 0 for k in KINDS}
        self.nbytes = {k: 0 for k in KINDS}
        self._recount()
        counters = dict(self.db.execute("SELECT name, value FROM counters"))
        self.dropped = {k: counters.get(f"dropped_{k}", 0) for k in KINDS}
        self.rejected = counters.get("rejected", 0)
        self.overflow: OrderedDict[str, tuple[str, bool]] = OrderedDict()  # refused by the disk: id -> (body, ongoing)
        self.storage_error: str | None = None

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=TRUNCATE")
            db.execute("PRAGMA synchronous=FULL")  # an enqueued item survives a power cut
            db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"uplink queue {str(self.path)!r}: cannot open ({exc})") from exc
        return db

    def _recount(self) -> None:
        self.size = {k: 0 for k in KINDS}
        self.nbytes = {k: 0 for k in KINDS}
        for kind, n, b in self.db.execute("SELECT kind, COUNT(*), SUM(LENGTH(body)) FROM outbox GROUP BY kind"):
            self.size[kind] = n
            self.nbytes[kind] = int(b or 0) + n * ROW_OVERHEAD_BYTES

    # ---- writes ----------------------------------------------------------------------------
    def put_events(self, items: list[tuple[str, str, bool]]) -> None:
        """Store event states ``(id, body, ongoing)``; a waiting older state of one is replaced."""
        with self.lock:
            for key, body, ongoing in items:
                self.overflow.pop(key, None)
                self.overflow[key] = (body, ongoing)
            pending = list(self.overflow.items())
            if self._write(lambda: self._insert_events(pending), "event"):
                self.overflow.clear()
            elif len(self.overflow) > self.memory_events:
                self._count_lost("event", len(self.overflow) - self.memory_events)
                while len(self.overflow) > self.memory_events:
                    self.overflow.popitem(last=False)

    def _insert_events(self, pending: list[tuple[str, tuple[str, bool]]]) -> None:
        for key, (body, ongoing) in pending:
            old = self.db.execute("SELECT COUNT(*), SUM(LENGTH(body)) FROM outbox WHERE key = ? AND "
                                  "kind = 'event'", (key,)).fetchone()
            self.db.execute("DELETE FROM outbox WHERE key = ? AND kind = 'event'", (key,))
            self.size["event"] -= old[0]
            self.nbytes["event"] -= int(old[1] or 0) + old[0] * ROW_OVERHEAD_BYTES
            self._insert("event", key, body)
            self._journal_open(key, body, ongoing)

    def _journal_open(self, key: str, body: str, ongoing: bool) -> None:
        if ongoing:
            self.db.execute("INSERT INTO open_events(id, body) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET "
                            "body = excluded.body", (key, body))
        else:
            self.db.execute("DELETE FROM open_events WHERE id = ?", (key,))

    def put_heartbeat(self, body: str) -> None:
        """Store the newest heartbeat (an older one still waiting is replaced)."""
        with self.lock:
            def write() -> None:
                self.db.execute("DELETE FROM outbox WHERE kind = 'heartbeat'")
                self.size["heartbeat"], self.nbytes["heartbeat"] = 0, 0
                self._insert("heartbeat", None, body)

            if not self._write(write, "heartbeat"):
                self._count_lost("heartbeat", 1)

    def put_spectrum(self, key: str, body: str) -> None:
        """Store one spectrum summary."""
        with self.lock:
            if not self._write(lambda: self._insert("spectrum", key, body), "spectrum"):
                self._count_lost("spectrum", 1)

    def _insert(self, kind: str, key: str | None, body: str) -> None:
        self.db.execute("INSERT INTO outbox(kind, key, body) VALUES (?, ?, ?)", (kind, key, body))
        self.size[kind] += 1
        self.nbytes[kind] += len(body) + ROW_OVERHEAD_BYTES
        self._enforce_caps(kind)

    def _write(self, action, kind: str) -> bool:
        """Run ``action`` in one transaction; on a storage error make room and try once more."""
        for attempt in range(2):
            try:
                self.db.execute("BEGIN IMMEDIATE")
                action()
                self.db.execute("COMMIT")
                if kind == "event" or not self.overflow:  # an event write stored the overflow too
                    self.storage_error = None
                return True
            except (sqlite3.Error, OSError) as exc:
                self._rollback()
                self._recount()
                self._disk_refused(kind, exc, attempt)
        return False

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _disk_refused(self, kind: str, exc: Exception, attempt: int) -> None:
        """After a failed write: note why, shrink the cap to what fits, free some room."""
        total = self.used_bytes()
        first = self.storage_error is None
        self.storage_error = f"queue {self.path}: {exc}"
        if attempt == 0 and first:  # once per episode, not once per item
            log.error("uplink queue: cannot store a %s (%s); making room (cap now %d bytes)", kind, exc,
                      max(4096, int(0.8 * total)))
        self.max_bytes = min(self.max_bytes, max(4096, int(0.8 * total)))
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self._enforce_caps(kind)
            self.db.execute("COMMIT")
        except sqlite3.Error:
            self._rollback()
            self._recount()

    def _enforce_caps(self, kind: str) -> None:
        """Drop the oldest items beyond the caps, spectra first (inside the caller's transaction)."""
        over = self.size["spectrum"] - self.max_spectra
        if over > 0:
            self._drop("spectrum", over)
        over = self.size["event"] + self.size["heartbeat"] - self.max_events
        if over > 0:
            self._drop("event", over)
        for victim in KINDS[::-1]:
            if KINDS.index(victim) < KINDS.index(kind):
                return  # an item never pushes out one of a higher priority
            while self.size[victim] > 0 and (excess := self.used_bytes() - self.max_bytes) > 0:
                mean = max(1, self.nbytes[victim] // self.size[victim])
                self._drop(victim, max(1, min(self.size[victim], -(-excess // mean))))

    def used_bytes(self) -> int:
        """Bytes of the queue file's pages in use (free pages are reused, not counted)."""
        pages = self.db.execute("PRAGMA page_count").fetchone()[0] - self.db.execute("PRAGMA freelist_count").fetchone()[0]
        return pages * self.db.execute("PRAGMA page_size").fetchone()[0]

    def _drop(self, kind: str, n: int) -> None:
        row = self.db.execute("SELECT COUNT(*), SUM(LENGTH(body)) FROM (SELECT body FROM outbox WHERE kind = ? "
                              "ORDER BY seq LIMIT ?)", (kind, n)).fetchone()
        self.db.execute("DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE kind = ? ORDER BY seq "
                        "LIMIT ?)", (kind, n))
        self.size[kind] -= row[0]
        self.nbytes[kind] -= int(row[1] or 0) + row[0] * ROW_OVERHEAD_BYTES
        self._count_lost(kind, row[0], in_transaction=True)

    def _count_lost(self, kind: str, n: int, in_transaction: bool = False) -> None:
        self.dropped[kind] += n
        if kind == "event" or self.dropped[kind] % 100 == n:  # spectra and heartbeats: every 100th
            log.warning("uplink queue full: dropped %d %s item(s) (%d in all)", n, kind, self.dropped[kind])
        if in_transaction:
            self.db.execute("INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                            "value = excluded.value", (f"dropped_{kind}", self.dropped[kind]))

    # ---- reads and removal (the sender's side) --------------------------------------------
    def peek(self, kind: str, limit: int, newest_first: bool = False) -> list[tuple[int, str]]:
        """Up to ``limit`` waiting items of ``kind`` as ``(seq, body)``."""
        order = "DESC" if newest_first else "ASC"
        with self.lock:
            return self.db.execute(f"SELECT seq, body FROM outbox WHERE kind = ? ORDER BY seq {order} LIMIT ?",
                                   (kind, limit)).fetchall()

    def delete(self, kind: str, seqs: list[int]) -> None:
        """Remove delivered items; then store events that were waiting in memory."""
        with self.lock:
            marks = ",".join("?" * len(seqs))
            try:
                row = self.db.execute(f"SELECT COUNT(*), SUM(LENGTH(body)) FROM outbox WHERE seq IN ({marks})",
                                      seqs).fetchone()
                self.db.execute(f"DELETE FROM outbox WHERE seq IN ({marks})", seqs)
            except sqlite3.Error as exc:
                self.storage_error = f"queue {self.path}: {exc}"
                return
            self.size[kind] -= row[0]
            self.nbytes[kind] -= int(row[1] or 0) + row[0] * ROW_OVERHEAD_BYTES
            if self.overflow:
                self.put_events([])

    def set_aside(self, kind: str, seq: int, body: str, status: int, reason: str, at_s: float,
                  file: Path) -> str:
        """Move an item the service refused for good to ``file`` (JSON lines); return where it went."""
        line = json.dumps({"kind": kind, "status": status, "reason": reason, "at": at_s,
                           "item": json.loads(body)}, separators=(",", ":"))
        where = str(file)
        try:
            with open(file, "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            where = f"{self.path}, table rejected"
        with self.lock:
            def move() -> None:
                if where != str(file):
                    self.db.execute("INSERT OR REPLACE INTO rejected VALUES (?, ?, ?, ?, ?, ?)",
                                    (seq, kind, body, status, reason, at_s))
                self.db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
                self.rejected += 1
                self.db.execute("INSERT INTO counters(name, value) VALUES ('rejected', ?) ON CONFLICT(name) "
                                "DO UPDATE SET value = excluded.value", (self.rejected,))

            self._write(move, "event")
            self._recount()
        return where

    # ---- open events across restarts ---------------------------------------------------------
    def touch_open(self, last_seen_iso: str, last_seen_s: float) -> None:
        """The open events were still seen at this time (wall ISO, and session seconds)."""
        with self.lock:
            self._write(lambda: self.db.execute("UPDATE open_events SET last_seen = ?, last_seen_s = ?",
                                                (last_seen_iso, last_seen_s)), "heartbeat")

    def close_orphans(self) -> list[dict[str, Any]]:
        """Close the events a previous run left open, at their last-seen time, and queue them."""
        with self.lock:
            rows = self.db.execute("SELECT id, body, last_seen, last_seen_s FROM open_events").fetchall()
            closed = []
            for _, body, seen_iso, seen_s in rows:
                event = json.loads(body)
                start_s = float(event.get("offset_start_s") or 0.0)
                event["end"] = seen_iso if seen_iso and seen_iso >= (event.get("start") or "") else event.get("start")
                event["offset_end_s"] = max(start_s, seen_s) if seen_s is not None else start_s
                event["closed_by_restart"] = True
                closed.append(event)
            if closed:
                self.put_events([(e["id"], json.dumps(e, separators=(",", ":")), False) for e in closed])
            return closed

    def close(self) -> None:
        """Close the file (safe twice)."""
        with self.lock:
            if self.db is not None:
                self.db.close()
                self.db = None  # type: ignore[assignment]
