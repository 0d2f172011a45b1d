"""Outgoing webhooks against a local receiver: signed deliveries, retries with backoff, a
receiver that is down or stuck never delays ingest, and a given-up delivery is logged whole."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from service_helpers import free_port
from test_incidents_api import API, pulses


class Receiver:
    """A loopback HTTP server recording POSTs; ``fail_first`` answers 500 that many times,
    ``gate`` (when set) holds every request until released."""

    def __init__(self, fail_first: int = 0, gate: threading.Event | None = None) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.fail_left, self.gate = fail_first, gate
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.gate is not None:
                    outer.gate.wait(10)
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                failing = outer.fail_left > 0
                outer.fail_left -= failing
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout_s: float = 10) -> list[tuple[dict, bytes]]:
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= n, f"{len(self.requests)} deliveries, expected {n}"
        return self.requests

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_desk(desk_factory):
    return desk_factory(status_check_s=0.2, webhook_backoff_s=0.05, webhook_max_attempts=3, webhook_timeout_s=2)


def subscribe(desk, url: str, **body) -> dict:
    r = desk.client("admin").post(f"{API}/webhooks", json={"url": url, **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_subscriptions_need_an_admin_and_an_http_url(hook_desk):
    admin = hook_desk.client("admin")
    for bad in ("ftp://example.org/x", "file:///etc/passwd", "hook", "http://"):
        r = admin.post(f"{API}/webhooks", json={"url": bad})
        assert r.status_code == 422 and "url" in r.text, (bad, r.text)
    assert admin.post(f"{API}/webhooks", json={"url": "http://127.0.0.1:9/x", "changes": ["deleted"]}).status_code == 422
    assert hook_desk.client("viewer").post(f"{API}/webhooks", json={"url": "http://127.0.0.1:9/x"}).status_code == 403
    created = subscribe(hook_desk, "https://127.0.0.1:9/x")
    assert len(created["secret"]) >= 16
    listed = admin.get(f"{API}/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    assert admin.delete(f"{API}/webhooks/{created['id']}").status_code == 204
    assert admin.delete(f"{API}/webhooks/{created['id']}").status_code == 404
    assert admin.get(f"{API}/webhooks").json()["webhooks"] == []


def test_deliveries_are_signed_and_follow_the_incident(hook_desk):
    receiver = Receiver()
    try:
        secret = subscribe(hook_desk, receiver.url)["secret"]
        sensor = hook_desk.client("sensor")
        assert sensor.post(f"{API}/events", json={"events": pulses(2)}).status_code == 200
        assert sensor.post(f"{API}/events", json={"events": pulses(1, offset_s=20, severity="critical")}).status_code == 200
        requests = receiver.wait(2)
        changes = [json.loads(body)["change"] for _, body in requests]
        assert changes[:2] == ["opened", "escalated"]
        for headers, body in requests:
            expected = hmac.new(secret.encode(), headers["x-spectrum-timestamp"].encode() + b"." + body,
                                hashlib.sha256).hexdigest()
            assert headers["x-spectrum-signature"] == f"sha256={expected}"
        incident = json.loads(requests[1][1])["incident"]
        assert incident["severity"] == "critical" and incident["bursts"] == 3
        assert sensor.post(f"{API}/events", json={"events": pulses(1, offset_s=30)}).status_code == 200
        time.sleep(0.3)
        assert len(receiver.requests) == 2  # a plain update is not notified
    finally:
        receiver.close()


def test_failed_deliveries_are_retried_with_the_same_id(hook_desk):
    receiver = Receiver(fail_first=2)
    try:
        subscribe(hook_desk, receiver.url, changes=["opened"])
        assert hook_desk.client("sensor").post(f"{API}/events", json={"events": pulses(1)}).status_code == 200
        requests = receiver.wait(3)
        assert len({h["x-spectrum-delivery"] for h, _ in requests}) == 1
        assert receiver.fail_left == 0
    finally:
        receiver.close()


def test_a_stuck_receiver_never_delays_ingest(hook_desk):
    gate = threading.Event()
    receiver = Receiver(gate=gate)
    try:
        subscribe(hook_desk, receiver.url)
        sensor = hook_desk.client("sensor")
        for i in range(3):  # the receiver holds every delivery; ingest answers regardless
            r = sensor.post(f"{API}/events", json={"events": pulses(1, offset_s=i * 100, freq_hz=900e6 + i * 1e7)})
            assert r.status_code == 200
        assert receiver.requests == []  # none answered yet: ingest did not wait for them
        gate.set()
        assert len(receiver.wait(3)) == 3
    finally:
        gate.set()
        receiver.close()


def test_a_receiver_that_is_down_is_retried_then_logged(hook_desk, caplog):
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    subscribe(hook_desk, url, changes=["opened"])
    with caplog.at_level(logging.WARNING, logger="spectrum.service.webhooks"):
        assert hook_desk.client("sensor").post(f"{API}/events", json={"events": pulses(1)}).status_code == 200
        deadline = time.monotonic() + 10
        while not any("given up" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.05)
    retries = [r for r in caplog.records if "failed" in r.getMessage()]
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(retries) == 2 and len(given_up) == 1
    assert '"change":"opened"' in given_up[0].getMessage()  # the whole delivery is in the log
