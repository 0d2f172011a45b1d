"""A flapping TCP link for tests: a loopback proxy that delivers in bursts and cuts connections."""

from __future__ import annotations

import socket
import threading
import time


class FlakyLink:
    """Forward ``127.0.0.1:port`` → ``upstream``, badly.

    Parameters
    ----------
    upstream_port : int
        Where the real server listens (loopback).
    burst_s : float
        Data from the server is held and sent to the client every ``burst_s`` seconds at once.
    cut_after_s : float
        Each connection is cut (both sides closed) this long after its first data.
    """

    def __init__(self, upstream_port: int, burst_s: float = 0.4, cut_after_s: float = 4.0) -> None:
        self.upstream_port = upstream_port
        self.burst_s = burst_s
        self.cut_after_s = cut_after_s
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.cuts = 0
        self.connections = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self.connections += 1
            threading.Thread(target=self._pump_commands, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump_samples, args=(client, upstream), daemon=True).start()

    def _pump_commands(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while chunk := client.recv(4096):
                upstream.sendall(chunk)
        except OSError:
            pass

    def _pump_samples(self, client: socket.socket, upstream: socket.socket) -> None:
        start = next_flush = None
        held = bytearray()
        upstream.settimeout(0.05)
        try:
            while not self._stop.is_set() and (start is None or time.monotonic() - start < self.cut_after_s):
                try:
                    chunk = upstream.recv(1 << 16)
                    if not chunk:
                        break
                    if start is None:
                        start = time.monotonic()
                        next_flush = start + self.burst_s
                    held += chunk
                except (TimeoutError, socket.timeout):
                    pass
                if next_flush is not None and time.monotonic() >= next_flush:
                    client.sendall(held)
                    held.clear()
                    next_flush += self.burst_s
            self.cuts += 1
        except OSError as exc:
            self.errors.append(repr(exc))
        finally:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
