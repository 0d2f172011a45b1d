"""`monitor --source rtltcp://...` started before its server: a source_lost fault that clears
when the server comes up (retried with backoff), not an exit."""

from __future__ import annotations

import json
import socket
import threading

from spectrum.live.rtltcp_server import RtlTcpServer
from spectrum.sources import open_source


def test_a_server_not_up_yet_is_a_fault_that_clears(cli):
    with socket.socket() as sock:  # a loopback port nobody listens on (yet)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    servers = []

    def start_server():
        server = RtlTcpServer(lambda: open_source("sim:gnss_l1_barrage?loop=1", realtime=False),
                              "127.0.0.1", port, fast=False)
        server.start()
        servers.append(server)

    timer = threading.Timer(2.0, start_server)
    timer.start()
    try:
        res = cli("monitor", "--source", f"rtltcp://127.0.0.1:{port}", "--freq", "1575.42M", "--duration", "1.5",
                  "--json", "--status-interval", "0.5")
    finally:
        timer.join()
        for server in servers:
            server.shutdown()
            server.server_close()
    assert res.code == 0, res.err
    assert "fault: source_lost" in res.err and "recovered: source_lost: connected after" in res.err
    lost = [e for e in map(json.loads, res.out.splitlines()) if e.get("fault") == "source_lost"]
    assert [e["end"] is None for e in lost] == [True, False], lost  # opened, then closed
    assert "cannot connect" in lost[0]["detail"] and lost[1]["cleared"].startswith("connected after")
