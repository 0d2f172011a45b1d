"""In-process fan-out of live messages to Server-Sent-Events clients.

Each client has a bounded asyncio queue. Publishing never blocks: a client whose queue is
full is dropped (it gets a ``notice`` and the stream ends; it should reconnect and catch up
with ``GET /events``). Publishers may run in worker threads (sync routes); delivery always
happens on the event loop. A message's JSON is encoded once for all clients; the SSE wire
format itself is FastAPI's (``fastapi.sse``, see ``service.routes.stream_api``).

Each client belongs to a token: at most ``max_per_token`` streams per token, and
:meth:`Broadcaster.close_tokens` ends a revoked token's streams.

On SQLite (one worker) the fan-out is in-process. On PostgreSQL a broadcaster is given a
``relay`` (:mod:`service.pg_fanout`): ``publish`` hands each message to it instead of queueing
it, every worker hears it back through LISTEN/NOTIFY and hands it to :meth:`deliver`, so the
clients of every worker, the publishing one included, get each message once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


class TooManyStreams(Exception):
    """The token already holds its allowed number of open streams."""


@dataclass(eq=False)
class Client:
    """One open stream: its queue of ``(kind, json_text)`` messages and why it ended, if it did."""

    queue: asyncio.Queue
    token_id: str = ""
    dropped: bool = False
    closed: bool = False
    reason: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Broadcaster:
    """Fan-out hub. ``publish`` is thread-safe; ``subscribe`` runs on the loop."""

    def __init__(self, queue_size: int, max_per_token: int = 1_000_000,
                 relay: Callable[[str, str], None] | None = None) -> None:
        self.queue_size = queue_size
        self.max_per_token = max_per_token
        self.relay = relay  # takes (kind, json_text) to other workers and back (PostgreSQL)
        self._clients: set[Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.published_total = 0
        self.dropped_clients_total = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    def token_ids(self) -> set[str]:
        """Tokens holding open streams now."""
        return {c.token_id for c in list(self._clients)}

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the serving event loop (at app start-up)."""
        self._loop = loop

    def subscribe(self, token_id: str = "") -> Client:
        """A new client for ``token_id``.

        Raises
        ------
        TooManyStreams
            The token already has ``max_per_token`` open streams.
        """
        with self._lock:
            held = sum(1 for c in self._clients if c.token_id == token_id)
            if held >= self.max_per_token:
                raise TooManyStreams(f"this token already holds {held} open streams (at most {self.max_per_token}); "
                                     "close one first")
            client = Client(queue=asyncio.Queue(maxsize=self.queue_size), token_id=token_id)
            self._clients.add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        with self._lock:
            self._clients.discard(client)

    def publish(self, kind: str, data: dict) -> None:
        """Queue a message for every client (of every worker, with a relay), from any thread;
        never blocks. The JSON is ASCII (non-ASCII characters escaped)."""
        text = json.dumps(data, separators=(",", ":"))
        if self.relay is not None:
            self.relay(kind, text)  # comes back to deliver() here as on every worker
            return
        self.deliver(kind, text)

    def deliver(self, kind: str, text: str) -> None:
        """Queue an encoded message for this process's clients, from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed() or not self._clients:
            return
        message = (kind, text)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(message)
        else:
            try:
                loop.call_soon_threadsafe(self._deliver, message)
            except RuntimeError:  # loop closing during shutdown
                pass

    def _deliver(self, message: tuple[str, str]) -> None:
        self.published_total += 1
        for client in list(self._clients):
            try:
                client.queue.put_nowait(message)
            except asyncio.QueueFull:
                client.dropped = True
                self.dropped_clients_total += 1
                self.unsubscribe(client)
            client.wake.set()

    def close_tokens(self, token_ids: set[str], reason: str) -> int:
        """End the streams of these tokens (on the loop); return how many were open."""
        ended = [c for c in list(self._clients) if c.token_id in token_ids]
        for client in ended:
            client.closed, client.reason = True, reason
            self.unsubscribe(client)
            client.wake.set()
        return len(ended)

    def close_tokens_soon(self, token_ids: set[str], reason: str) -> None:
        """:meth:`close_tokens` from any thread (e.g. a sync route revoking a token)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self.close_tokens, token_ids, reason)
        except RuntimeError:  # loop closing during shutdown
            pass

    def end_all_soon(self, reason: str) -> None:
        """End every open stream with a notice, from any thread (e.g. messages may have been missed)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(lambda: self.close_tokens(self.token_ids(), reason))
        except RuntimeError:  # loop closing during shutdown
            pass

    def close(self) -> None:
        """End every stream (at shutdown)."""
        for client in list(self._clients):
            client.closed = True
            client.wake.set()
        with self._lock:
            self._clients.clear()
