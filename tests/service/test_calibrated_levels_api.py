"""The desk accepts, stores and returns the calibrated-level fields of events and spectra, and
refuses them outside their physical range (422 naming the field, nothing stored)."""

from __future__ import annotations

import pytest

from service_helpers import at, make_event


def test_calibrated_event_and_spectrum_fields_round_trip(desk):
    with desk.client("sensor") as sensor, desk.client("viewer") as viewer:
        hot = make_event(1, calibrated=True, peak_dbm=-71.25)
        cold = make_event(2, calibrated=False)
        assert sensor.post("/api/v1/events", json={"events": [hot, cold]}).status_code == 200
        got = {e["id"]: e for e in viewer.get("/api/v1/events").json()["events"]}
        assert got[hot["id"]]["calibrated"] is True and got[hot["id"]]["peak_dbm"] == -71.25
        assert got[hot["id"]]["peak_dbfs"] == -20.0  # dBFS stays alongside
        assert got[cold["id"]]["calibrated"] is False and "peak_dbm" not in got[cold["id"]]
        spectrum = {"band": "ism433", "time": at(3), "freq_start_hz": 433e6, "freq_step_hz": 1e4,
                    "power_dbfs": [-80.0, -79.5], "calibrated": True, "dbm_per_hz_offset_db": -101.3}
        assert sensor.post("/api/v1/spectra", json={"spectra": [spectrum]}).status_code == 200
        [back] = viewer.get("/api/v1/spectra").json()["spectra"]
        assert back["calibrated"] is True and back["dbm_per_hz_offset_db"] == -101.3


@pytest.mark.parametrize("field, value", [("peak_dbm", 90.0), ("peak_dbm", "-70"), ("calibrated", 1)])
def test_out_of_range_levels_are_refused_naming_the_field(desk, field, value):
    with desk.client("sensor") as sensor, desk.client("viewer") as viewer:
        response = sensor.post("/api/v1/events", json={"events": [make_event(1, **{field: value})]})
        assert response.status_code == 422 and field in response.text
        assert viewer.get("/api/v1/events").json()["events"] == []
        spectrum = {"band": "b", "time": at(3), "freq_start_hz": 433e6, "freq_step_hz": 1e4,
                    "power_dbfs": [-80.0], "dbm_per_hz_offset_db": 1e6}
        response = sensor.post("/api/v1/spectra", json={"spectra": [spectrum]})
        assert response.status_code == 422 and "dbm_per_hz_offset_db" in response.text
