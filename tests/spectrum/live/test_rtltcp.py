"""rtl_tcp over loopback: our server speaks the protocol to a raw socket client, honours
frequency commands, starts each client at the capture's start, paces in real time; our client
source reads it and recovers when the server drops the connection."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from spectrum.sources import ResilientSource, SourceLost, open_source
from spectrum.sources.rtltcp_client import CMD, COMMAND, HEADER, RtlTcpSource, parse_hostport
from spectrum.live.rtltcp_server import to_cu8


def raw_client(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    header = b""
    while len(header) < 12:
        header += sock.recv(12 - len(header))
    return sock, HEADER.unpack(header)


def recv_n(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        assert chunk, "server closed early"
        buf += chunk
    return bytes(buf)


def test_header_and_stream_from_the_start_for_every_client(rtltcp_server, capture_file):
    server = rtltcp_server(lambda: open_source(f"file:{capture_file}"), fast=True)
    with open(capture_file, "rb") as f:
        expected = f.read(200_000)
    for _ in range(2):
        sock, (magic, tuner, gains) = raw_client(server.port)
        assert magic == b"RTL0" and tuner == 5 and gains == 29
        assert recv_n(sock, 200_000) == expected
        sock.close()


def test_finite_capture_closes_the_connection(rtltcp_server, capture_file):
    server = rtltcp_server(lambda: open_source(f"file:{capture_file}"), fast=True)
    sock, _ = raw_client(server.port)
    total = 0
    while chunk := sock.recv(1 << 20):
        total += len(chunk)
    assert total == capture_file.stat().st_size


def test_frequency_command_retunes_a_simulation(rtltcp_server):
    server = rtltcp_server(lambda: open_source("sim:gnss_l1_barrage?loop=1", realtime=False), fast=True)
    with RtlTcpSource("127.0.0.1", server.port, 2.4e6, 1575.42e6, gain_db=20, ppm=-2, bias_tee=True) as src:
        src.read_block(10_000)
        src.tune(1600e6)
        src.read_block(10_000)
        deadline = time.monotonic() + 2
        while ("set_freq", 1600_000_000) not in server.commands and time.monotonic() < deadline:
            src.read_block(10_000)
    names = [c for c, _ in server.commands]
    assert ("set_freq", 1600_000_000) in server.commands
    assert ("set_gain", 200) in server.commands and ("set_gain_mode", 1) in server.commands
    assert ("set_freq_correction", 2**32 - 2) in server.commands and "set_bias_tee" in names


def test_real_time_pacing(rtltcp_server):
    server = rtltcp_server(lambda: open_source("sim:clean_gnss?loop=0.25", realtime=False), fast=False)
    with RtlTcpSource("127.0.0.1", server.port, 2.4e6, 1575.42e6) as src:
        src.read_block(1000)
        t0 = time.monotonic()
        got = 0
        while got < 240_000:  # 0.1 s of signal
            got += src.read_block(60_000).num_samples
        elapsed = time.monotonic() - t0
    assert 0.05 < elapsed < 1.0


def test_server_gone_is_source_lost_and_resilient_reconnects(rtltcp_server, capture_file):
    server = rtltcp_server(lambda: open_source(f"file:{capture_file}"), fast=True)
    faults = []
    n = int(0.25 * 2.4e6)
    with ResilientSource(lambda: RtlTcpSource("127.0.0.1", server.port, 2.4e6, 1575.42e6),
                         on_fault=lambda *a: faults.append(a), backoff_s=0.01) as src:
        got = 0
        while got < n + 1000:  # past the end of the capture: the server closes, we reconnect
            got += src.read_block(50_000).num_samples
    assert [(k, active) for k, _, active in faults] == [("source_lost", True), ("source_lost", False)]
    assert server.clients == 2
    # the end of the capture reaches the client as an orderly close or, racing it, a reset
    with RtlTcpSource("127.0.0.1", server.port) as src, pytest.raises(SourceLost, match="closed|reset"):
        for _ in range(100):
            src.read_block(50_000)


def test_not_an_rtltcp_server():
    from spectrum.errors import SourceError

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    import threading

    def answer():
        conn, _ = listener.accept()
        conn.sendall(b"HTTP/1.1 400\r\n\r\n")
        time.sleep(0.2)
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    with pytest.raises(SourceError, match="not an rtl_tcp server"):
        RtlTcpSource("127.0.0.1", port)
    listener.close()


def test_hostport_and_cu8_conversion():
    assert parse_hostport("rtltcp://127.0.0.1:1234") == ("127.0.0.1", 1234)
    assert parse_hostport("rtltcp://[::1]:7") == ("::1", 7)
    assert list(to_cu8(np.array([-128, 0, 127], np.int8), "ci8")) == [0, 128, 255]
    assert list(to_cu8(np.array([-32768, 0, 32767], np.int16), "ci16_le")) == [0, 128, 255]
    assert list(to_cu8(np.array([-1.0, 0.0, 1.0], np.float32), "cf32_le")) == [0, 128, 255]
    assert COMMAND.size == 5 and CMD["set_bias_tee"] == 0x0E


def test_cli_rtltcp_serves_until_stopped(tmp_path, capture_file):
    """`spectrum rtltcp` as a subprocess on a free port, read by a raw client, stopped by SIGINT."""
    import signal
    import subprocess
    import sys

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    proc = subprocess.Popen([sys.executable, "-m", "spectrum", "rtltcp", str(capture_file),
                             "--port", str(port), "--fast"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                sock, (magic, _, _) = raw_client(port)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert magic == b"RTL0" and len(recv_n(sock, 4096)) == 4096
        sock.close()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "listening on 127.0.0.1" in err
