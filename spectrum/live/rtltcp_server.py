"""An rtl_tcp server fed by any source: serve a capture or a simulation to gqrx, SDR++, rtl_433.

Each client gets a source of its own, opened fresh (so a capture plays from its start for
every new client), the 12-byte ``RTL0`` header (tuner R820T, its 29 gain steps), then cu8
samples, paced in real time at the source's rate unless ``fast`` (as fast as the client
reads: TCP back-pressure, nothing queues). Frequency commands retune the source where it can
(a simulation; a capture only to a frequency it recorded); other commands are logged and
ignored (a recording has one gain and rate). A finite capture ends the connection at its end.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spectrum.errors import SourceError
from spectrum.sources.source_base import EndOfStream, Pacer
from spectrum.sources.rtltcp_client import (
    CMD_NAMES,
    COMMAND,
    HEADER,
    MAGIC,
    R820T_GAINS_TENTH_DB,
    SERVER_BLOCK_SAMPLES,
    TUNER_R820T,
)


def to_cu8(samples: NDArray[Any], datatype: str) -> NDArray[np.uint8]:
    """Interleaved native samples of any capture datatype as rtl_tcp's unsigned 8-bit."""
    if datatype == "cu8":
        return samples
    if datatype == "ci8":
        return samples.view(np.uint8) ^ np.uint8(0x80)
    if datatype == "ci16_le":
        return ((samples.astype(np.int32) >> 8) + 128).astype(np.uint8)
    if datatype == "cf32_le":
        return np.clip(np.rint(samples * 127.5 + 127.5), 0, 255).astype(np.uint8)
    raise SourceError(f"cannot serve {datatype} samples over rtl_tcp")


END_LINGER_S = 2.0  # after the end of a capture, how long the client may still send


class RtlTcpServer(socketserver.ThreadingTCPServer):
    """Serve ``open_source()`` to every rtl_tcp client that connects.

    Parameters
    ----------
    open_source : callable
        Returns a fresh, unpaced source (``realtime=False``) per client.
    host, port
        Where to listen (port 0 picks a free one; see :attr:`port`).
    fast : bool
        Send as fast as the client reads instead of at the source's sample rate.
    log : callable, optional
        ``log(message)`` for connections and commands.
    """

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, open_source: Callable[[], Any], host: str = "127.0.0.1", port: int = 1234,
                 fast: bool = False, log: Callable[[str], None] | None = None,
                 block_samples: int = SERVER_BLOCK_SAMPLES) -> None:
        self.open_source = open_source
        self.fast = fast
        self.log = log or (lambda message: None)
        self.block_samples = block_samples
        self.clients = 0
        self.commands: list[tuple[str, int]] = []  # last commands seen (bounded), for tests/logs
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> threading.Thread:
        """Serve in a background thread (tests); :meth:`shutdown` stops it."""
        thread = threading.Thread(target=self.serve_forever, name="rtltcp server", daemon=True)
        thread.start()
        return thread


class _Handler(socketserver.BaseRequestHandler):
    server: RtlTcpServer

    def handle(self) -> None:
        server = self.server
        sock: socket.socket = self.request
        peer = "%s:%d" % self.client_address[:2]
        try:
            source = server.open_source()
        except SourceError as exc:
            server.log(f"{peer}: cannot open the source: {exc}")
            return
        server.clients += 1
        server.log(f"{peer}: connected; serving {getattr(source, 'name', 'source')} at "
                   f"{source.center_freq_hz / 1e6:.4f} MHz, {source.sample_rate_hz / 1e6:g} MS/s")
        lock = threading.Lock()
        done = threading.Event()
        reader = threading.Thread(target=self._commands, args=(sock, source, lock, done, peer), daemon=True)
        try:
            sock.sendall(HEADER.pack(MAGIC, TUNER_R820T, len(R820T_GAINS_TENTH_DB)))
            reader.start()
            pacer = None if server.fast else Pacer(source.sample_rate_hz)
            while not done.is_set():
                with lock:
                    try:
                        block = source.read_block(server.block_samples)
                    except EndOfStream:
                        block = None
                    datatype = source.datatype
                if block is None:
                    server.log(f"{peer}: end of the capture; closing")
                    # half-close, and let the client finish: its settings may still be on
                    # the way, and a full close would answer them with a reset
                    sock.shutdown(socket.SHUT_WR)
                    reader.join(timeout=END_LINGER_S)
                    break
                if pacer is not None:
                    pacer.wait(block.num_samples, done)
                sock.sendall(to_cu8(block.samples, datatype).tobytes())
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError) as exc:
            server.log(f"{peer}: disconnected ({exc.__class__.__name__})")
        finally:
            done.set()
            source.close()
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _commands(self, sock: socket.socket, source, lock: threading.Lock, done: threading.Event,
                  peer: str) -> None:
        server = self.server
        buf = b""
        while not done.is_set():
            try:
                chunk = sock.recv(64)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while len(buf) >= COMMAND.size:
                code, value = COMMAND.unpack(buf[: COMMAND.size])
                buf = buf[COMMAND.size:]
                name = CMD_NAMES.get(code, f"0x{code:02x}")
                server.commands = (server.commands + [(name, value)])[-64:]
                self._apply(name, value, source, lock, peer)
        done.set()

    def _apply(self, name: str, value: int, source, lock: threading.Lock, peer: str) -> None:
        log = self.server.log
        if name == "set_freq":
            if not source.can_retune:
                log(f"{peer}: set_freq {value} Hz ignored: this source cannot retune")
                return
            with lock:
                try:
                    source.tune(float(value))
                    log(f"{peer}: tuned to {value / 1e6:.4f} MHz")
                except SourceError as exc:
                    log(f"{peer}: set_freq {value} Hz ignored: {exc}")
        elif name == "set_sample_rate":
            if abs(value - source.sample_rate_hz) > 1:
                log(f"{peer}: set_sample_rate {value} ignored: serving at {source.sample_rate_hz:.0f} S/s")
        else:
            log(f"{peer}: {name} {value} ignored")


def serve(open_source: Callable[[], Any], host: str, port: int, fast: bool,
          log: Callable[[str], None], stop: threading.Event) -> None:
    """Serve until ``stop`` is set (the CLI sets it on Ctrl-C)."""
    with RtlTcpServer(open_source, host, port, fast, log) as server:
        thread = server.start()
        log(f"listening on {host}:{server.port} (rtl_tcp protocol); Ctrl-C to stop")
        stop.wait()
        server.shutdown()
        thread.join(timeout=2)
