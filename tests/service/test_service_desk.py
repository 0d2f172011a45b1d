"""``GET /desk`` and ``GET /desk/sites``: the desk's zone, the site registry, positions, and a
status that counts heartbeats, events and spectra and never calls a silent site online."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest

from service.service_errors import ServiceError
from service.settings import Settings
from service.site_registry import load_registry
from service_helpers import make_event

API = "/api/v1"


def registry_file(tmp_path, text: str):
    path = tmp_path / "sites.csv"
    path.write_text(text)
    return path


def sites_by_id(desk) -> dict:
    with desk.client("viewer") as c:
        r = c.get(f"{API}/desk/sites")
        assert r.status_code == 200, r.text
        return {s["site"]: s for s in r.json()["sites"]}


def test_desk_info_gives_the_zone_setting(desk_factory):
    desk = desk_factory(desk_tz="Asia/Makassar", online_s=12)
    with desk.client("viewer") as c:
        info = c.get(f"{API}/desk").json()
    assert info["desk_tz"] == "Asia/Makassar" and info["report_interval_s"] == 12
    with desk.client() as c:
        assert c.get(f"{API}/desk").status_code == 401
    with desk.client("sensor") as c:
        assert c.get(f"{API}/desk/sites").status_code == 403


def test_desk_info_names_the_callers_role_and_token(desk_factory):
    from service.auth import create_token
    from service.db import Database

    desk = desk_factory()
    db = Database(desk.db_url)
    named = create_token(db, "operator", label="desk-night")[0]
    unnamed, row = create_token(db, "viewer")
    db.dispose()
    with desk.client(headers={"Authorization": f"Bearer {named}"}) as c:
        info = c.get(f"{API}/desk").json()
    assert (info["role"], info["token_name"]) == ("operator", "desk-night")
    with desk.client(headers={"Authorization": f"Bearer {unnamed}"}) as c:
        info = c.get(f"{API}/desk").json()
    assert (info["role"], info["token_name"]) == ("viewer", row.id)  # no label: the id, as the audit log shows


def test_unknown_zone_is_refused_naming_the_setting():
    with pytest.raises(ServiceError, match="desk_tz.*Asia/Atlantis"):
        Settings(desk_tz="Asia/Atlantis")


def test_status_counts_events_and_spectra_and_never_greens_a_silent_site(desk_factory, tmp_path):
    path = registry_file(tmp_path, "site,name,lat_deg,lon_deg,tz,report_interval_s\n"
                                   "s1,Sekolah 1,-6.2,106.8,,\nquiet,Balai Desa,-8.65,115.2,Asia/Makassar,60\n")
    desk = desk_factory(site_registry=str(path), online_s=3.0)  # room for a slow request on a busy host
    sites = sites_by_id(desk)
    assert sites["quiet"]["status"] == "no_data" and sites["quiet"]["last_heard"] is None
    assert sites["quiet"]["tz"] == "Asia/Makassar" and sites["quiet"]["report_interval_s"] == 60
    with desk.client("sensor") as c:  # only events: heard, from an event batch
        assert c.post(f"{API}/events", json={"events": [make_event(0)]}).status_code == 200
    s1 = sites_by_id(desk)["s1"]
    assert s1["status"] == "online" and s1["sensors"][0]["last_heard_from"] == "event"
    assert (s1["lat_deg"], s1["position_from"], s1["name"]) == (-6.2, "registry", "Sekolah 1")
    time.sleep(3.3)  # silent for longer than its interval: offline, with when it was last heard
    s1 = sites_by_id(desk)["s1"]
    assert s1["status"] == "offline" and s1["last_heard"] is not None
    spectrum = {"id": str(uuid.uuid4()), "band": "GSM-900 DL", "freq_start_hz": 935e6, "freq_step_hz": 1e4,
                "time": datetime.now(timezone.utc).isoformat(), "power_dbfs": [-60.0] * 16}
    with desk.client("sensor") as c:  # a spectrum alone brings it back
        assert c.post(f"{API}/spectra", json={"spectra": [spectrum]}).status_code == 200
    s1 = sites_by_id(desk)["s1"]
    assert s1["status"] == "online" and s1["sensors"][0]["last_heard_from"] == "spectrum"


def test_heartbeat_position_used_unless_the_registry_places_the_site(desk_factory, tmp_path):
    path = registry_file(tmp_path, "site,lat_deg,lon_deg\ns2,-2.5,140.7\n")
    desk = desk_factory(site_registry=str(path))
    for role in ("sensor", "sensor2"):
        with desk.client(role) as c:
            r = c.post(f"{API}/heartbeats", json={"position": {"lat_deg": 1.5, "lon_deg": 124.8}})
            assert r.status_code == 200, r.text
    sites = sites_by_id(desk)
    assert (sites["s1"]["lat_deg"], sites["s1"]["lon_deg"], sites["s1"]["position_from"]) == (1.5, 124.8, "heartbeat")
    assert (sites["s2"]["lat_deg"], sites["s2"]["position_from"]) == (-2.5, "registry")
    assert sites["s1"]["status"] == "online" and sites["s1"]["sensors"][0]["last_heard_from"] == "heartbeat"


@pytest.mark.parametrize("text, message", [
    ("site,lat\ns1,1\n", "unknown: lat"),
    ("site,lat_deg,lon_deg\ns1,95,100\n", "line 2 column lat_deg: 95.0 is outside"),
    ("site,lat_deg,lon_deg\ns1,-6,\n", "line 2: give both lat_deg and lon_deg"),
    ("site,tz\ns1,WIB\n", "line 2 column tz: unknown time zone 'WIB'"),
    ("site,report_interval_s\ns1,soon\n", "column report_interval_s: 'soon' is not a number"),
    ("site\ns1\ns1\n", "line 3: site 's1' is listed twice"),
    ("name\nx\n", "site required"),
])
def test_a_bad_registry_names_the_file_line_and_column(tmp_path, text, message):
    path = registry_file(tmp_path, text)
    with pytest.raises(ServiceError) as exc:
        load_registry(path)
    assert message in str(exc.value) and str(path) in str(exc.value)


def test_a_missing_registry_file_is_named(tmp_path):
    with pytest.raises(ServiceError, match="nope.csv: cannot read it"):
        load_registry(tmp_path / "nope.csv")
