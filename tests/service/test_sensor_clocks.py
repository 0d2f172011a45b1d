"""service.sensor_clocks: offsets from heartbeats, read back from the stored heartbeat after a
restart, bounded on input."""

from __future__ import annotations

import pytest

from service.db import Database
from service.sensor_clocks import SensorClocks
from service_helpers import make_event


def test_offset_survives_a_restart_through_the_stored_heartbeat(desk):
    with desk.client("sensor") as sensor:
        beat = {"clock_offset_s": -5.0, "clock_offset_rtt_s": 0.02}
        assert sensor.post("/api/v1/heartbeats", json=beat).status_code == 200
    db = Database(desk.db_url)
    try:
        fresh = SensorClocks()  # what a restarted desk holds: nothing in memory
        offset = fresh.get(db, "s1", "a")
        assert (offset.offset_s, offset.rtt_s, offset.correction_s, offset.suspect) == (-5.0, 0.02, -5.0, True)
        assert fresh.get(db, "s2", "b") is None  # never heard from
    finally:
        db.dispose()


def test_offsets_within_the_round_trip_move_nothing(desk):
    with desk.client("sensor") as sensor, desk.client("viewer") as viewer:
        beat = {"clock_offset_s": 0.04, "clock_offset_rtt_s": 0.1}  # within rtt/2: not measurable
        assert sensor.post("/api/v1/heartbeats", json=beat).status_code == 200
        sent = make_event(1)
        assert sensor.post("/api/v1/events", json={"events": [sent]}).status_code == 200
        [got] = viewer.get("/api/v1/events").json()["events"]
        assert got["start"] == sent["start"] and "sensor_start" not in got


@pytest.mark.parametrize("beat, field", [({"clock_offset_rtt_s": -0.1}, "clock_offset_rtt_s"),
                                         ({"clock_offset_s": "5"}, "clock_offset_s")])
def test_bad_clock_fields_are_refused_naming_them(desk, beat, field):
    with desk.client("sensor") as sensor:
        response = sensor.post("/api/v1/heartbeats", json=beat)
        assert response.status_code == 422 and field in response.text
