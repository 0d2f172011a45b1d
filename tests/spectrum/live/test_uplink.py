"""Store-and-forward uplink against a real server: nothing lost, nothing duplicated."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import httpx
import pytest
from tests.service.service_helpers import (  # noqa: F401  (desk, desk_factory: fixtures)
    ProcessServer,
    at,
    desk,
    desk_factory,
    free_port,
    make_event,
    make_tokens,
)

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
    kept = [json.loads(line) for line in (tmp_path / "q.quarantine.jsonl").read_text().splitlines()]
    assert [(k["status"], k["kind"], k["item"]["id"]) for k in kept] == [(422, "event", bad["id"])]
    assert "kind" in kept[0]["reason"]  # the service's own words say what is wrong


def test_uplink_bad_arguments(tmp_path):
    from spectrum.errors import ConfigError

    with pytest.raises(ConfigError, match="--uplink"):
        Uplink("ftp://x", "t", tmp_path / "q.db")
    with pytest.raises(ConfigError, match="cannot open"):
        Uplink("http://127.0.0.1:9", "t", tmp_path / "no" / "q.db")


def test_a_refused_token_stops_the_uplink_and_keeps_the_queue_for_a_good_one(desk, tmp_path, caplog):
    sent = [make_event(i) for i in range(30)]
    uplink = Uplink(desk.url, "revoked-or-mistyped-token", tmp_path / "q.db", **FAST)
    uplink.send_events(sent)
    deadline = time.monotonic() + 10
    while uplink.refused is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert uplink.refused and "HTTP 401" in uplink.refused and "revoked or is wrong" in uplink.refused
    assert str(tmp_path / "q.db") in uplink.refused  # says where the queue is kept
    uplink.send_heartbeat({"session_s": 1.0})  # the sensor goes on queueing (bounded) meanwhile
    time.sleep(0.3)
    assert uplink.stats["retries"] == 0 and uplink.queue_size == 31  # stopped: no retry storm
    assert "STOPPED" in uplink.status_line()
    assert sum("uplink stopped" in r.getMessage() for r in caplog.records) == 1  # one clear line
    assert uplink.close(timeout_s=0.2) == 31
    again = Uplink(desk.url, desk.tokens["sensor"], tmp_path / "q.db", **FAST)  # a new token
    drain(again)
    again.close()
    assert sorted(stored_ids(desk.url, desk.tokens["viewer"])) == sorted(e["id"] for e in sent)


class Refuse409(httpx.BaseTransport):
    """The desk's answer to an event id another sensor owns: 409 for that id, 200 for the rest."""

    def __init__(self, owned_elsewhere: str) -> None:
        self.owned = owned_elsewhere
        self.stored: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        events = json.loads(request.content).get("events", [])
        if any(e["id"] == self.owned for e in events):
            return httpx.Response(409, json={"message": f"event {self.owned} belongs to another sensor"})
        self.stored += [e["id"] for e in events]
        return httpx.Response(200, json={"stored": len(events)})


def test_a_409_sets_the_one_event_aside_and_the_rest_flows(tmp_path):
    events = [make_event(i) for i in range(12)]
    transport = Refuse409(events[5]["id"])
    uplink = Uplink("http://127.0.0.1:9", "t", tmp_path / "q.db", transport=transport, **FAST)
    uplink.send_events(events)
    drain(uplink)
    assert uplink.stats["rejected"] == 1
    uplink.close()
    assert sorted(transport.stored) == sorted(e["id"] for i, e in enumerate(events) if i != 5)
    kept = [json.loads(line) for line in (tmp_path / "q.quarantine.jsonl").read_text().splitlines()]
    assert [(k["status"], k["item"]["id"]) for k in kept] == [(409, events[5]["id"])]
    assert "another sensor" in kept[0]["reason"]


class Recorder(httpx.BaseTransport):
    """Answers 200 to everything and notes what was posted, and when."""

    def __init__(self) -> None:
        self.posts: list[tuple[float, str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        first = (body.get("spectra") or [body])[0].get("id", "")
        self.posts.append((time.monotonic(), request.url.path, first))
        return httpx.Response(200, json={})


def test_catch_up_is_paced_and_live_items_go_first(tmp_path):
    queue = tmp_path / "q.db"
    offline = Uplink("http://127.0.0.1:9", "t", queue, start=False)  # an hour offline, in short
    for i in range(200):
        offline.send_spectrum({"id": f"old-{i:03d}", "band": "b", "power_dbfs": [0.0]})
    offline.close()
    transport = Recorder()
    uplink = Uplink("http://127.0.0.1:9", "t", queue, transport=transport, max_posts_per_s=40,
                    start=False, **FAST)
    uplink.send_heartbeat({"session_s": 3600.0})  # live items, queued after the backlog
    uplink.send_spectrum({"id": "live", "band": "b", "power_dbfs": [0.0]})
    uplink.start()
    drain(uplink)
    uplink.close()
    paths = [p for _, p, _ in transport.posts]
    assert paths[0] == "/api/v1/heartbeats" and transport.posts[1][2] == "live"  # not starved
    assert len(paths) == 1 + 11  # 201 spectra in batches of 20
    times = [t for t, _, _ in transport.posts]  # posts follow a schedule of one per 1/40 s:
    for k in range(1, len(times)):  # the k-th is never before k - 1 intervals after the first
        assert times[k] - times[0] >= (k - 1) / 40, (k, times[k] - times[0])
