"""The live stream across API workers: PostgreSQL LISTEN/NOTIFY, no extra server.

Why: with several worker processes (``spectrum serve --workers N``) a client's stream is held
by one worker while the event it should see may be ingested by another. PostgreSQL, which
several workers need anyway, carries the messages between them.

How: :meth:`PgFanout.send` (the broadcaster's relay) queues a message; one sender thread
NOTIFYs queued messages in publish order, a batch per transaction. ``publish`` is only called
once the data it announces is committed, so a listener never hears of a row it cannot read.
One listener thread per worker holds a dedicated connection that LISTENs, and hands every
message it hears to ``on_message`` (which delivers to the worker's own clients).

Own messages: a worker delivers its own messages only when it hears them back, never
directly. Each client so gets each message once, and every client of every worker sees the
messages in the same order (the order of the NOTIFYs' commits). The cost is a round trip to
the database before a worker's own clients see its message.

Size: a NOTIFY payload must be shorter than 8000 bytes. Each message goes out as one or more
frames ``SENDER:SEQ:PART:PARTS:KIND:TEXT``: a bigger message is cut into parts and put
together again by the listeners. The sender id and sequence number also keep two equal
messages of one transaction apart (PostgreSQL delivers identical payloads of a transaction
once).

Lost connection: the listener reconnects with backoff. What was sent meanwhile is not heard,
so on reconnecting it calls ``on_gap``: the worker ends its open streams with a notice, and
clients reconnect and catch up with ``GET /events`` as after any interruption.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import text

from service.db import Database

log = logging.getLogger("spectrum.service.fanout")

CHANNEL = "spectrum_stream"
LISTENER_NAME = "spectrum-listen"
FRAME_BYTES = 7000  # text per frame; the payload limit is 8000 bytes with the header
BATCH_MESSAGES = 200  # most messages in one NOTIFY transaction
SEND_ATTEMPTS = 3
POLL_S = 0.5  # the listener looks at its stop flag this often
PING_EVERY_S = 10.0  # an idle listener checks its connection this often (a dead peer sends no error)
BACKOFF_S = (0.2, 5.0)  # first and longest wait before reconnecting


def frames(sender: str, seq: int, kind: str, body: str) -> list[str]:
    """The NOTIFY payloads of one message."""
    size = FRAME_BYTES if body.isascii() else FRAME_BYTES // 4  # at most 4 bytes a character in UTF-8
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [""]
    return [f"{sender}:{seq}:{i}:{len(parts)}:{kind}:{part}" for i, part in enumerate(parts)]


class Assembler:
    """Puts messages together from their frames, in any interleaving."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str], list[str | None]] = {}

    def add(self, payload: str) -> tuple[str, str] | None:
        """``(kind, text)`` once the message's last frame is in; None before (or for a bad frame)."""
        try:
            sender, seq, part, count, kind, body = payload.split(":", 5)
            i, n = int(part), int(count)
            if not 0 <= i < n:
                raise ValueError(part)
        except ValueError:  # anyone may NOTIFY on the channel: ignore what is not ours
            log.warning("ignored a notification that is not a stream frame: %.80r", payload)
            return None
        if n == 1:
            return kind, body
        parts = self._pending.setdefault((sender, seq), [None] * n)
        parts[i] = body
        if any(p is None for p in parts):
            return None
        del self._pending[(sender, seq)]
        return kind, "".join(parts)

    def clear(self) -> None:
        self._pending.clear()


class PgFanout:
    """Sender and listener threads of one worker.

    Parameters
    ----------
    db : Database
        A PostgreSQL database: NOTIFYs go through its pool, the listener opens its own connection.
    on_message : callable
        ``on_message(kind, text)`` for every message heard, in order, on the listener thread.
    on_gap : callable
        Called on the listener thread after a reconnection (messages may have been missed).
    """

    def __init__(self, db: Database, on_message: Callable[[str, str], None], on_gap: Callable[[], None]) -> None:
        self.db, self.on_message, self.on_gap = db, on_message, on_gap
        self.sender_id = uuid.uuid4().hex[:12]
        self._seq = 0
        self._outbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._threads: list[threading.Thread] = []
        self.dropped_total = 0  # messages not sent after SEND_ATTEMPTS (logged)

    def start(self, wait_s: float = 10.0) -> bool:
        """Start both threads; return True once the listener is listening (within ``wait_s``)."""
        self._threads = [threading.Thread(target=self._send_loop, name="spectrum-notify", daemon=True),
                         threading.Thread(target=self._listen_loop, name="spectrum-listen", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self._listening.wait(wait_s)

    def stop(self) -> None:
        """Send what is queued, then stop both threads."""
        if not self._threads:
            return
        self._stop.set()
        self._outbox.put(None)
        for thread in self._threads:
            thread.join(10)
        self._threads = []

    def send(self, kind: str, body: str) -> None:
        """Queue a message for every worker (the broadcaster's relay); never blocks."""
        if not self._threads or self._stop.is_set():
            return  # not serving (yet, or any more): nobody listens here
        self._outbox.put((kind, body))

    # ---- sending --------------------------------------------------------------------------

    def _send_loop(self) -> None:
        stopping = False
        while not stopping:
            batch = []
            item = self._outbox.get()
            while item is not None:
                batch.append(item)
                if len(batch) >= BATCH_MESSAGES:
                    break
                try:
                    item = self._outbox.get_nowait()
                except queue.Empty:
                    break
            stopping = item is None
            if batch:
                self._notify(batch)

    def _notify(self, batch: list[tuple[str, str]]) -> None:
        payloads = []
        for kind, body in batch:
            self._seq += 1
            payloads += [{"channel": CHANNEL, "payload": f} for f in frames(self.sender_id, self._seq, kind, body)]
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                with self.db.engine.begin() as conn:  # one transaction: the frames arrive together, in order
                    conn.execute(text("SELECT pg_notify(:channel, :payload)"), payloads)
                return
            except Exception:
                if attempt == SEND_ATTEMPTS:
                    self.dropped_total += len(batch)
                    log.exception("live stream: %d messages not sent to the other workers", len(batch))
                    return
                time.sleep(0.2 * attempt)

    # ---- listening ------------------------------------------------------------------------

    def _listen_loop(self) -> None:
        import psycopg

        args, kwargs = self.db.engine.dialect.create_connect_args(self.db.engine.url)
        kwargs.pop("context", None)  # SQLAlchemy's type adapters: this connection reads text only
        kwargs["application_name"] = LISTENER_NAME  # how it shows in pg_stat_activity
        assembler = Assembler()
        backoff_s, connected_before = BACKOFF_S[0], False
        while not self._stop.is_set():
            try:
                with psycopg.connect(*args, **kwargs, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    if connected_before:
                        log.warning("live stream: listening again after a lost connection")
                        self.on_gap()
                    connected_before, backoff_s = True, BACKOFF_S[0]
                    self._listening.set()
                    self._hear(conn, assembler)
            except Exception as exc:  # psycopg.Error mostly; any other must not end the thread either
                self._listening.clear()
                assembler.clear()
                log.warning("live stream: listener connection lost (%s); retrying in %.1f s", exc, backoff_s)
                self._stop.wait(backoff_s)
                backoff_s = min(2 * backoff_s, BACKOFF_S[1])

    def _hear(self, conn, assembler: Assembler) -> None:
        idle_s = 0.0
        while not self._stop.is_set():
            heard = False
            for note in conn.notifies(timeout=POLL_S):
                heard = True
                message = assembler.add(note.payload)
                if message is not None:
                    try:
                        self.on_message(*message)
                    except Exception:  # one bad message must not stop the stream
                        log.exception("live stream: delivering a %s message failed", message[0])
            idle_s = 0.0 if heard else idle_s + POLL_S
            if idle_s >= PING_EVERY_S:
                conn.execute("SELECT 1")
                idle_s = 0.0
