"""Live stream (SSE): delivery of new/updated events and status changes, heartbeats, slow clients."""

from __future__ import annotations

import asyncio
import time

from service_helpers import StreamReader, at, make_event

from service.broadcast import Broadcaster


def test_stream_delivers_events_and_status(desk):
    reader = StreamReader(desk.url, desk.tokens["viewer"])
    reader2 = StreamReader(desk.url, desk.tokens["admin"])
    try:
        deadline = time.monotonic() + 5
        while desk.app.state.ctx.broadcaster.clients < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        sensor = desk.client("sensor")
        ongoing = make_event(0, duration_s=None)
        sensor.post("/api/v1/events", json={"events": [ongoing]})
        sensor.post("/api/v1/events", json={"events": [ongoing]})  # a retry: no message
        closed = dict(ongoing, end=at(3), offset_end_s=3.0)
        sensor.post("/api/v1/events", json={"events": [closed]})
        sensor.post("/api/v1/heartbeats", json={"sweep_rate_hz": 1.0})
        for r in (reader, reader2):
            r.wait_for(lambda m: m[0] == "status" and m[1]["sensor"] == "a" and m[1]["status"] == "online")
            events = [m[1] for m in r.messages if m[0] == "event"]
            assert [(e["change"], e["event"]["end"]) for e in events] == [
                ("created", None), ("updated", at(3))]
        reader.wait_for(lambda m: True)
        time.sleep(0.4)  # sse_heartbeat_s = 0.3 in the fixture
        assert ": heartbeat" in reader.comments
        assert reader.status_code == 200
    finally:
        reader.close()
        reader2.close()


def test_stream_needs_a_reader_token_in_the_header(desk):
    assert desk.client().get("/api/v1/stream").status_code == 401
    assert desk.client("sensor").get("/api/v1/stream").status_code == 403
    r = desk.client().get("/api/v1/stream", params={"access_token": desk.tokens["viewer"]})
    assert r.status_code == 400 and "Authorization" in r.json()["message"]


def test_slow_client_is_dropped_with_a_notice():
    async def scenario():
        hub = Broadcaster(queue_size=3)
        hub.attach(asyncio.get_running_loop())
        slow, fast = hub.subscribe(), hub.subscribe()
        for i in range(5):
            hub.publish("event", {"i": i})
            if fast.queue.qsize():
                fast.queue.get_nowait()
        assert slow.dropped and not fast.dropped
        assert hub.clients == 1 and hub.dropped_clients_total == 1

    asyncio.run(scenario())
