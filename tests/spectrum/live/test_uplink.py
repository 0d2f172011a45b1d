"""Store-and-forward uplink against a real server: nothing lost, nothing duplicated."""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx
import pytest
from tests.service.service_helpers import ProcessServer, at, free_port, make_event, make_tokens
from tests.service.service_helpers import desk, desk_factory  # noqa: F401  (fixtures used below)

from spectrum.live.uplink import Uplink

FAST = {"backoff_min_s": 0.02, "backoff_max_s": 0.3, "timeout_s": 3.0}


def stored_ids(url: str, viewer_token: str) -> list[str]:
    ids, cursor = [], None
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {viewer_token}"}, timeout=10) as c:
        while True:
            page = c.get("/api/v1/events", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}).json()
            ids += [e["id"] for e in page["events"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return ids


def drain(uplink: Uplink, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while uplink.queue_size and time.monotonic() < deadline:
        time.sleep(0.02)
    assert uplink.queue_size == 0, uplink.stats


class DropResponses(httpx.BaseTransport):
    """Delivers every request to the server, but loses every ``nth`` answer on the way back."""

    def __init__(self, nth: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.nth = nth
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.calls += 1
        if self.calls % self.nth == 0:
            response.read()
            response.close()
            raise httpx.ReadError("injected: connection lost before the answer", request=request)
        return response


def test_uplink_delivers_exactly_once_when_answers_are_lost(desk, tmp_path):
    transport = DropResponses(nth=3)
    uplink = Uplink(desk.url, desk.tokens["sensor"], tmp_path / "q.db", batch_events=7, transport=transport, **FAST)
    sent = [make_event(i) for i in range(200)]
    for i in range(0, 200, 10):
        uplink.send_events(sent[i:i + 10])
        uplink.send_heartbeat({"sweep_rate_hz": 2.0})
        uplink.send_spectrum({"band": "gsm", "time": at(0), "freq_start_hz": 9e8,
                              "freq_step_hz": 1e4, "power_dbfs": [-50.0] * 8})
    drain(uplink)
    stats = uplink.stats
    assert uplink.close(timeout_s=2) == 0
    ids = stored_ids(desk.url, desk.tokens["viewer"])
    assert sorted(ids) == sorted(e["id"] for e in sent)  # equal counts, no duplicates
    assert stats["retries"] > 0 and stats["sent"]["event"] == 200
    spectra = desk.client("viewer").get("/api/v1/spectra", params={"limit": 100}).json()["spectra"]
    assert len(spectra) == 20  # re-sent spectra were not stored twice
    sensors = desk.client("viewer").get("/api/v1/sensors", params={"site": "s1"}).json()["sensors"]
    assert sensors[0]["status"] == "online" and sensors[0]["heartbeat"]["queue_size"] >= 0


def test_uplink_survives_server_sigkill_and_sensor_restart(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    tokens = make_tokens(db_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ProcessServer(db_url, port, tmp_path / "server.log").start()
    queue = tmp_path / "uplink.db"
    uplink = Uplink(url, tokens["sensor"], queue, batch_events=5, **FAST)
    sent: list[dict] = []
    try:
        def produce(n: int, up: Uplink) -> None:
            for i in range(n):
                event = make_event(len(sent))
                sent.append(event)
                up.send_events([event])
                time.sleep(0.002)

        producer = threading.Thread(target=produce, args=(300, uplink))
        producer.start()
        while uplink.stats["sent"]["event"] < 60:  # mid-stream
            time.sleep(0.005)
        server.kill()
        producer.join()
        assert uplink.queue_size > 0
        left = uplink.close(timeout_s=0.2)  # the sensor stops with items still queued ...
        assert left > 0
        produce(50, Uplink(url, tokens["sensor"], queue, start=False))  # ... and restarts, queueing more offline
        server.start()
        uplink = Uplink(url, tokens["sensor"], queue, **FAST)
        drain(uplink)
        ids = stored_ids(url, tokens["viewer"])
        assert len(ids) == len(sent) == 350
        assert sorted(ids) == sorted(e["id"] for e in sent)
    finally:
        uplink.close(timeout_s=0.5)
        server.stop()


def test_uplink_queue_cap_counts_drops(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    uplink = Uplink(dead, "t", tmp_path / "q.db", max_events=50, max_spectra=3, **FAST)
    uplink.send_events([make_event(i) for i in range(80)])
    for _ in range(5):
        uplink.send_spectrum({"band": "b", "power_dbfs": [0.0]})
    assert uplink.queue_size == 53
    assert uplink.stats["dropped"] == {"event": 30, "heartbeat": 0, "spectrum": 2}
    assert "32 DROPPED" in uplink.status_line()
    uplink.close(timeout_s=0.1)
    again = Uplink(dead, "t", tmp_path / "q.db", start=False)
    assert again.queue_size == 53 and again.stats["dropped"]["event"] == 30  # kept across restarts
    again.close()


def test_uplink_coalesces_states_of_one_event(tmp_path):
    uplink = Uplink(f"http://127.0.0.1:{free_port()}", "t", tmp_path / "q.db", start=False)
    event = make_event(0, duration_s=None)
    for rise in range(10):
        uplink.send_events([dict(event, rise_db=float(rise))])
    assert uplink.queue_size == 1
    uplink.close()
    body = sqlite3.connect(tmp_path / "q.db").execute("SELECT body FROM outbox").fetchone()[0]
    assert '"rise_db":9.0' in body


def test_uplink_sets_aside_what_the_service_refuses(desk, tmp_path):
    uplink = Uplink(desk.url, desk.tokens["sensor"], tmp_path / "q.db", **FAST)
    good = [make_event(i) for i in range(9)]
    bad = dict(make_event(99), kind="laser")
    uplink.send_events(good[:4] + [bad] + good[4:])
    drain(uplink)
    assert uplink.stats["rejected"] == 1
    uplink.close()
    assert sorted(stored_ids(desk.url, desk.tokens["viewer"])) == sorted(e["id"] for e in good)
    kept = sqlite3.connect(tmp_path / "q.db").execute("SELECT status, body FROM rejected").fetchall()
    assert kept[0][0] == 422 and bad["id"] in kept[0][1]


def test_uplink_bad_arguments(tmp_path):
    from spectrum.errors import ConfigError

    with pytest.raises(ConfigError, match="--uplink"):
        Uplink("ftp://x", "t", tmp_path / "q.db")
    with pytest.raises(ConfigError, match="cannot open"):
        Uplink("http://127.0.0.1:9", "t", tmp_path / "no" / "q.db")
