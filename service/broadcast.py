"""In-process fan-out of live messages to Server-Sent-Events clients.

Each client has a bounded asyncio queue. Publishing never blocks: a client whose queue is
full is dropped (it gets a ``notice`` and the stream ends; it should reconnect and catch up
with ``GET /events``). Publishers may run in worker threads (sync routes); delivery always
happens on the event loop.

One process only: with several API workers each has its own broadcaster, and a client sees
the events ingested by its worker (PostgreSQL LISTEN/NOTIFY would be the next step).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field


def sse_message(kind: str, data: dict) -> str:
    """One SSE frame: ``event: KIND`` and a single ``data:`` line of JSON."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@dataclass(eq=False)
class Client:
    queue: asyncio.Queue
    dropped: bool = False
    closed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Broadcaster:
    """Fan-out hub. ``publish`` is thread-safe; ``subscribe`` runs on the loop."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._clients: set[Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.published_total = 0
        self.dropped_clients_total = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the serving event loop (at app start-up)."""
        self._loop = loop

    def subscribe(self) -> Client:
        client = Client(queue=asyncio.Queue(maxsize=self.queue_size))
        self._clients.add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        self._clients.discard(client)

    def publish(self, kind: str, data: dict) -> None:
        """Queue a message for every client, from any thread; never blocks."""
        loop = self._loop
        if loop is None or loop.is_closed() or not self._clients:
            return
        message = sse_message(kind, data)
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

    def _deliver(self, message: str) -> None:
        self.published_total += 1
        for client in list(self._clients):
            try:
                client.queue.put_nowait(message)
            except asyncio.QueueFull:
                client.dropped = True
                self.dropped_clients_total += 1
                self._clients.discard(client)
                client.wake.set()
            else:
                client.wake.set()

    def close(self) -> None:
        """End every stream (at shutdown)."""
        for client in list(self._clients):
            client.closed = True
            client.wake.set()
        self._clients.clear()
