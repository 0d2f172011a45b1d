"""A sensor's clock offset against the desk: estimated NTP-style from the desk's X-Desk-Time,
sent in heartbeats; the desk corrects event times by it and flags sensors more than 1 s off.
Through a real service, with a sensor clock injected 5 s fast."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from spectrum.events import Event
from spectrum.live.clock_offset import ClockOffsetEstimator
from spectrum.live.uplink import Uplink


class SkewedClock:
    """The host's clocks with the wall clock ``skew_s`` ahead."""

    def __init__(self, skew_s: float) -> None:
        self.skew_s = skew_s

    def time(self) -> float:
        return time.time() + self.skew_s

    def monotonic(self) -> float:
        return time.monotonic()


def test_the_quickest_of_the_last_exchanges_wins():
    est = ClockOffsetEstimator(keep=3)
    assert est.best() is None and est.fields() == {}
    est.add(100.0, 100.2, 95.0)  # rtt 0.2, offset -5.1
    est.add(200.0, 200.02, 195.0)  # rtt 0.02, offset -5.01: the quickest
    est.add(300.0, 301.0, 296.0)  # a slow answer: offset -4.5, uncertain by 0.5
    assert est.best() == pytest.approx((-5.01, 0.02))
    est.add(400.0, 400.5, 395.0)
    est.add(500.0, 500.4, 495.0)
    est.add(600.0, 600.3, 595.0)  # the quick one has left the window of 3
    assert est.best() == pytest.approx((-5.15, 0.3))
    est.add_header(700.0, 700.1, "not a time")
    est.add_header(700.0, 699.0, "695.0")  # the sensor's clock stepped back: no sample
    assert est.best() == pytest.approx((-5.15, 0.3))


def wait_for(what, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out")


def sensor_event(clock, site: str, sensor: str) -> dict:
    """An event that began 2 s ago and ended 1 s ago, on the sensor's clock."""
    now = clock.time()
    event = Event("tone", 0.0, 1.0, 433.9e6, 433.95e6, -30.0, 20.0, "warning", 0.9,
                  session_start=datetime.fromtimestamp(now - 2.0, timezone.utc), site=site, sensor=sensor)
    return event.to_dict()


@pytest.mark.parametrize("skew_s", [5.0, 0.0])
def test_desk_corrects_event_times_and_flags_a_clock_more_than_1_s_off(field_desk, tmp_path, skew_s):
    url, tokens, viewer = field_desk
    clock = SkewedClock(skew_s)
    up = Uplink(url, tokens["a"], tmp_path / "q.db", clock=clock, backoff_max_s=1.0)
    try:
        up.send_heartbeat({"site": "PS-1", "sensor": "a"})  # its answer gives the first offset sample
        wait_for(lambda: up.stats["sent"]["heartbeat"] >= 1)
        up.send_heartbeat({"site": "PS-1", "sensor": "a"})  # carries it
        wait_for(lambda: up.stats["sent"]["heartbeat"] >= 2)
        sent = sensor_event(clock, "PS-1", "a")
        true_start_s = time.time() - 2.0
        up.send_events([sent])
        wait_for(lambda: up.stats["sent"]["event"] >= 1)
    finally:
        up.close(timeout_s=5)
    [beat] = [s for s in viewer.get("/sensors").json()["sensors"] if s["sensor"] == "a"]
    assert beat["heartbeat"]["clock_offset_s"] == pytest.approx(-skew_s, abs=0.5)
    assert 0 <= beat["heartbeat"]["clock_offset_rtt_s"] < 5
    [event] = viewer.get("/events").json()["events"]
    start_s = datetime.fromisoformat(event["start"].replace("Z", "+00:00")).timestamp()
    assert start_s == pytest.approx(true_start_s, abs=0.5)  # on the desk's clock
    [site] = [s for s in viewer.get("/desk/sites").json()["sites"] if s["site"] == "PS-1"]
    [status] = site["sensors"]
    assert status["clock_offset_s"] == pytest.approx(-skew_s, abs=0.5)
    if skew_s:
        assert event["sensor_start"] == sent["start"] and event["sensor_end"] == sent["end"]  # its own kept
        assert event["clock_correction_s"] == pytest.approx(-skew_s, abs=0.5)
        assert status["clock_suspect"] is True and beat["clock_suspect"] is True
    else:  # one host, one clock: the offset is within its round trip, nothing is moved
        assert "sensor_start" not in event and event["start"] == sent["start"]
        assert status["clock_suspect"] is False


def test_every_uplink_endpoint_stamps_the_desk_time(field_desk):
    import httpx

    url, tokens, _ = field_desk
    auth = {"Authorization": f"Bearer {tokens['b']}"}
    now_iso = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    spectrum = {"band": "b", "time": now_iso, "freq_start_hz": 433e6, "freq_step_hz": 1e4, "power_dbfs": [-80.0]}
    before = time.time()
    for path, body in (("/api/v1/heartbeats", {}), ("/api/v1/events", {"events": [sensor_event(SkewedClock(0), "PS-2", "b")]}),
                       ("/api/v1/spectra", {"spectra": [spectrum]})):
        response = httpx.post(url + path, json=body, headers=auth, timeout=30)
        assert response.status_code == 200, response.text
        assert before - 1 <= float(response.headers["X-Desk-Time"]) <= time.time() + 1, path
