"""rtl_tcp client source, and the protocol constants the server shares.

The rtl_tcp protocol (osmocom ``rtl_tcp``): on connect the server sends a 12-byte header,
``b"RTL0"``, the tuner type (uint32, big-endian) and the tuner's number of gain steps
(uint32, BE); from then on it streams interleaved unsigned 8-bit I/Q. The client sends
5-byte commands: a command byte and a uint32 BE parameter (:data:`CMD`).

Stale samples after a retune: whatever sits in the server's buffers and the socket buffers
when the command lands. The client shrinks its receive buffer (``RCVBUF_BYTES``) so that is
bounded, and ``settle_samples`` covers the receive buffer plus a few server blocks; a
third-party rtl_tcp with a deep buffer list may need a longer ``settle_s`` in the band plan.
"""

from __future__ import annotations

import socket
import struct
import time

import numpy as np

from spectrum.errors import SourceError
from spectrum.sources.source_base import SourceBase, SourceBlock, SourceLost, SourceStalled

MAGIC = b"RTL0"
HEADER = struct.Struct(">4sII")  # magic, tuner type, gain count
COMMAND = struct.Struct(">BI")
CMD = {
    "set_freq": 0x01,
    "set_sample_rate": 0x02,
    "set_gain_mode": 0x03,  # 0 automatic, 1 manual
    "set_gain": 0x04,  # tenths of a dB
    "set_freq_correction": 0x05,  # ppm, signed
    "set_if_gain": 0x06,
    "set_test_mode": 0x07,
    "set_agc_mode": 0x08,
    "set_direct_sampling": 0x09,
    "set_offset_tuning": 0x0A,
    "set_rtl_xtal": 0x0B,
    "set_tuner_xtal": 0x0C,
    "set_gain_by_index": 0x0D,
    "set_bias_tee": 0x0E,
}
CMD_NAMES = {code: name for name, code in CMD.items()}
TUNER_R820T = 5
R820T_GAINS_TENTH_DB = (0, 9, 14, 27, 37, 77, 87, 125, 144, 157, 166, 197, 207, 229, 254, 280,
                        297, 328, 338, 364, 372, 386, 402, 421, 434, 439, 445, 480, 496)
RCVBUF_BYTES = 1 << 19
SERVER_BLOCK_SAMPLES = 16384  # what our own server sends per write


def parse_hostport(spec: str) -> tuple[str, int]:
    """``rtltcp://HOST:PORT`` or ``HOST:PORT`` → (host, port)."""
    text = spec.removeprefix("rtltcp://").rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SourceError(f"{spec!r}: expected rtltcp://HOST:PORT, e.g. rtltcp://127.0.0.1:1234")
    return host.strip("[]"), int(port)


class RtlTcpSource(SourceBase):
    """Samples from an rtl_tcp server (a remote dongle, or ``spectrum rtltcp``).

    Parameters
    ----------
    host, port
        Server address.
    sample_rate_hz : float
        Rate to ask for, S/s.
    center_freq_hz : float or None
        Frequency to tune to, Hz; None leaves the server where it is (the frequency is then
        unknown and reported as 0).
    gain_db : float, "auto" or None
        Manual gain (default) in dB, or the tuner's AGC; None sends no gain command.
    ppm : int
        Frequency correction.
    bias_tee, rtl_agc : bool
    timeout_s : float
        Connect timeout, seconds.

    Raises
    ------
    SourceError
        Nothing listening, not an rtl_tcp server, or the connection failed.
    """

    datatype = "cu8"
    can_retune = True
    realtime = True

    def __init__(self, host: str, port: int, sample_rate_hz: float = 2.4e6,
                 center_freq_hz: float | None = None, gain_db: float | str | None = None,
                 ppm: int = 0, bias_tee: bool = False, rtl_agc: bool = False,
                 timeout_s: float = 5.0) -> None:
        super().__init__(sample_rate_hz, center_freq_hz or 0.0)
        self.name = f"rtltcp://{host}:{port}"
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout_s)
        except OSError as exc:
            raise SourceError(f"{self.name}: cannot connect: {exc.strerror or exc}; is rtl_tcp "
                              "running there?") from exc
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF_BYTES)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rcvbuf = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            header = self._recv_exact(HEADER.size, timeout_s)
            magic, self.tuner_type, self.gain_count = HEADER.unpack(header)
            if magic != MAGIC:
                raise SourceError(f"{self.name}: not an rtl_tcp server (header {header[:4]!r})")
            self.settle_samples = rcvbuf // 2 + 2 * SERVER_BLOCK_SAMPLES
            self._command("set_sample_rate", int(round(sample_rate_hz)))
            if center_freq_hz is not None:
                self._command("set_freq", int(round(center_freq_hz)))
            if ppm:
                self._command("set_freq_correction", int(ppm) & 0xFFFFFFFF)
            self._command("set_agc_mode", int(bool(rtl_agc)))
            if gain_db == "auto":
                self._command("set_gain_mode", 0)
            elif gain_db is not None:
                self._command("set_gain_mode", 1)
                self._command("set_gain", int(round(float(gain_db) * 10)))
                self.gain_db = float(gain_db)
            if bias_tee:
                self._command("set_bias_tee", 1)
        except BaseException:
            self._sock.close()
            raise
        self._index = 0
        self._t0 = time.time()

    def _recv_exact(self, nbytes: int, timeout_s: float) -> bytes:
        buf = bytearray(nbytes)
        self._recv_into(memoryview(buf), timeout_s)
        return bytes(buf)

    def _recv_into(self, view: memoryview, timeout_s: float) -> int:
        """Fill ``view``; return the bytes got (fewer only at EOF after some data)."""
        self._sock.settimeout(timeout_s)
        got = 0
        while got < len(view):
            try:
                n = self._sock.recv_into(view[got:])
            except (TimeoutError, socket.timeout):
                if got:
                    return got
                self.health.stalls += 1
                raise SourceStalled(f"{self.name}: no samples for {timeout_s:g} s") from None
            except OSError as exc:
                raise SourceLost(f"{self.name}: connection lost: {exc.strerror or exc}") from exc
            if n == 0:
                if got:
                    return got
                raise SourceLost(f"{self.name}: the server closed the connection")
            got += n
        return got

    def _command(self, name: str, value: int) -> None:
        try:
            self._sock.sendall(COMMAND.pack(CMD[name], value & 0xFFFFFFFF))
        except OSError as exc:
            raise SourceLost(f"{self.name}: connection lost sending {name}: {exc}") from exc

    def tune(self, center_freq_hz: float) -> None:
        self._check_open()
        try:
            self._command("set_freq", int(round(center_freq_hz)))
        except SourceLost:
            self.health.retune_failures += 1
            raise
        self.center_freq_hz = float(center_freq_hz)
        self._retuned = True
        self.health.retunes += 1

    def read_block(self, num_samples: int, timeout_s: float = 2.0) -> SourceBlock:
        self._check_open()
        buf = np.empty(2 * int(num_samples), np.uint8)
        got = self._recv_into(memoryview(buf), timeout_s)
        if got % 2:  # keep whole samples; the odd byte is read with the next block
            got += self._recv_into(memoryview(buf)[got:got + 1], timeout_s)
        if got < buf.size:
            self.health.short_reads += 1
            buf = buf[:got]
        n = got // 2
        now = time.time()
        block = self._block(buf, self._index, now - n / self.sample_rate_hz)
        self._index += n
        return block

    def _close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
