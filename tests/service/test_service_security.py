"""Attacks on the desk, each tried against a real server (issue 13), and what must stop them.

Ownership attacks (another site's event id) are in ``test_service_ownership``; schema fuzzing
with invalid data is in ``test_service_fuzz``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from service_helpers import StreamReader, at, make_event

API = "/api/v1"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def refused(r, field: str) -> None:
    """A 422 whose message and detail name ``field``."""
    assert r.status_code == 422, r.text
    body = r.json()
    assert field in body["message"], body
    assert any(field in [str(p) for p in e["loc"]] or field in e["msg"] for e in body["detail"]), body


def metric(desk, name: str) -> float:
    text = desk.client("viewer").get("/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.split(" ")[0].split("{")[0] == name)


NOW = datetime.now(timezone.utc)
BAD_EVENT_FIELDS = [  # (field, value): each alone makes an event invalid
    ("start", "9999-01-01T00:00:00Z"),
    ("start", iso(NOW - timedelta(days=365 * 30))),
    ("start", iso(NOW + timedelta(hours=1))),
    ("start", 0.5), ("start", "0.5"),
    ("freq_low_hz", 1e308), ("freq_high_hz", 6.1e9), ("freq_low_hz", -1.0),
    ("rise_db", "9.5"), ("rise_db", True), ("rise_db", 1e6),
    ("peak_dbfs", 1e300), ("peak_dbfs", "-20"), ("confidence", "0.9"), ("confidence", False),
    ("offset_start_s", -1.0), ("offset_start_s", "3"),
    ("severity", "INFO"), ("kind", ["tone"]), ("id", 12345),
    ("site", "x" * 65), ("site", "bad\nname"),
]


TIME_IDS = {1: "start=30-years-ago", 2: "start=in-an-hour"}  # ids must not change with the clock (parallel runs)


@pytest.mark.parametrize("field,value", BAD_EVENT_FIELDS,
                         ids=[TIME_IDS.get(i, f"{f}={str(v)[:20]}") for i, (f, v) in enumerate(BAD_EVENT_FIELDS)])
def test_out_of_bounds_or_wrong_type_is_refused_naming_the_field(desk, field, value):
    good = make_event(0, duration_s=None)
    r = desk.client("sensor").post(f"{API}/events", json={"events": [make_event(1), dict(good, **{field: value})]})
    refused(r, field)
    assert desk.client("viewer").get(f"{API}/events").json()["events"] == []  # the good one is not stored either


def test_cross_field_bounds(desk):
    sensor = desk.client("sensor")
    refused(sensor.post(f"{API}/events", json={"events": [make_event(0, freq_hz=1e9) | {"freq_high_hz": 5e8}]}),
            "freq_high_hz")
    spectrum = {"band": "b", "time": at(0), "freq_start_hz": 5.9e9, "freq_step_hz": 1e6, "power_dbfs": [-50.0] * 200}
    refused(sensor.post(f"{API}/spectra", json={"spectra": [spectrum]}), "spectra")  # last bin above 6 GHz
    refused(sensor.post(f"{API}/spectra", json={"spectra": [dict(spectrum, freq_start_hz=1e8,
                                                                  power_dbfs=[-50.0, 1e3])]}), "power_dbfs")
    refused(sensor.post(f"{API}/spectra", json={"spectra": [dict(spectrum, freq_start_hz=1e8,
                                                                  time="9999-01-01T00:00:00Z")]}), "time")
    refused(sensor.post(f"{API}/heartbeats", json={"overload": "true"}), "overload")
    refused(sensor.post(f"{API}/heartbeats", json={"drops_total": 1.0}), "drops_total")
    refused(sensor.post(f"{API}/heartbeats", json={"time": "1970-01-01T00:00:00Z"}), "time")


@pytest.mark.parametrize("params,field", [
    ({"until": "0.5"}, "until"), ({"since": "1700000000"}, "since"), ({"since": "9999-01-01T00:00:00Z"}, "since"),
    ({"since": at(10), "until": at(0)}, "until"), ({"freq_min_hz": "1e308"}, "freq_min_hz"),
    ({"freq_min_hz": 2e9, "freq_max_hz": 1e9}, "freq_max_hz"), ({"limit": "1.5"}, "limit"),
    ({"site": "x" * 65}, "site"), ({"cursor": "not-a-cursor"}, "cursor"),
])
def test_query_bounds(desk, params, field):
    refused(desk.client("viewer").get(f"{API}/events", params=params), field)


def test_extra_fields_are_limited(desk):
    sensor = desk.client("sensor")
    assert sensor.post(f"{API}/events", json={"events": [make_event(0, z_max=12.5, hits=4, note="ok")]}).json()[
        "created"] == 1
    many = {f"x{i}": i for i in range(33)}
    refused(sensor.post(f"{API}/events", json={"events": [make_event(1, **many)]}), "extra fields")
    refused(sensor.post(f"{API}/events", json={"events": [make_event(1, pad="x" * 2100)]}), "'pad'")
    refused(sensor.post(f"{API}/events", json={"events": [make_event(1, detector={"version": "1", "pad": "x" * 3000})]}),
            "detector")
    refused(sensor.post(f"{API}/events", json={"events": [make_event(1, **{"bad key": 1})]}), "bad key")
    nan = json.dumps({"events": [make_event(1, score=1.0)]}).replace('"score": 1.0', '"score": NaN')
    refused(sensor.post(f"{API}/events", content=nan, headers={"Content-Type": "application/json"}), "score")
    # 3.7 MB of padding spread over a batch: each event's share is over the limit
    padded = [make_event(i, pad="x" * 3700) for i in range(1000)]
    r = sensor.post(f"{API}/events", json={"events": padded})
    assert r.status_code in (413, 422)
    assert len(desk.client("viewer").get(f"{API}/events").json()["events"]) == 1


def test_nul_characters_are_refused_wherever_they_would_reach_the_database(desk):
    """A NUL character in an id, name, filter, cursor or stored text: 422 naming it, on both
    backends (PostgreSQL cannot hold or compare one: these were 500s there)."""
    sensor, viewer, admin = desk.client("sensor"), desk.client("viewer"), desk.client("admin")
    assert sensor.post(f"{API}/events", json={"events": [make_event(i, kind="pulsed") for i in range(3)]}).status_code == 200
    [incident] = viewer.get(f"{API}/incidents").json()["incidents"]
    cursor = base64.urlsafe_b64encode(b"0:\x00").decode().rstrip("=")
    for path in ("/events", "/incidents"):
        refused(viewer.get(API + path, params={"cursor": cursor}), "cursor")
    refused(viewer.get(f"{API}/incidents", params={"site": "s\x00"}), "site")
    refused(viewer.get(f"{API}/spectra", params={"band": "b\x00"}), "band")
    refused(viewer.get(f"{API}/reports/daily", params={"day": "2024-02-14", "site": "s\x00"}), "site")
    refused(viewer.get(f"{API}/incidents/{incident['id']}%00/audit"), "incident_id")
    refused(admin.get(f"{API}/campaigns/c%00"), "name")
    refused(admin.delete(f"{API}/webhooks/w%00"), "webhook_id")
    refused(admin.post(f"{API}/tokens", json={"role": "viewer", "label": "Rina\x00"}), "label")
    refused(admin.post(f"{API}/webhooks", json={"url": "https://example.org/\x00"}), "url")
    refused(admin.post(f"{API}/webhooks", json={"url": "https://example.org/", "secret": "s" * 16 + "\x00"}), "secret")
    refused(admin.post(f"{API}/incidents/{incident['id']}/assign", json={"team": "team\x00"}), "team")
    assert viewer.get(f"{API}/incidents/{incident['id']}/audit").json() == []  # nothing was done


def test_refused_events_are_counted(desk):
    sensor = desk.client("sensor")
    before = metric(desk, "spectrum_events_rejected_total")
    sensor.post(f"{API}/events", json={"events": [make_event(0), make_event(1, rise_db="9.5")]})  # schema: 2
    sensor.post(f"{API}/events", json={"events": [make_event(0, start_s=-86_400 * 40)]})  # time window: 1
    sensor.post(f"{API}/events", json={"events": [make_event(0, site="s2")]})  # other site: 1
    sensor.post(f"{API}/events", content=b"{not json", headers={"Content-Type": "application/json"})  # 1
    assert metric(desk, "spectrum_events_rejected_total") - before == 5


def test_error_bodies(desk):
    viewer = desk.client("viewer")
    r = viewer.post(f"{API}/tokens", json={"role": "viewer"})
    assert r.status_code == 403 and "an admin token" in r.json()["message"] and "a admin" not in r.text
    r = viewer.get(f"{API}/events", params={"cursor": "bm9wZQ"})
    assert r.status_code == 422 and "cursor" in r.json()["message"]
    wide = base64.urlsafe_b64encode(f"{2**63}:x".encode()).decode()  # past any 64-bit start
    for path in ("/events", "/incidents"):
        r = viewer.get(API + path, params={"cursor": wide})
        assert r.status_code == 422 and "cursor" in r.json()["message"], r.text
    r = desk.client().options(f"{API}/events")
    assert r.status_code == 204 and set(r.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    r = desk.client("sensor").put(f"{API}/events", json={})
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert desk.client().options("/no/such/path").status_code == 404
    refused(viewer.get(f"{API}/sensors", params=[("site", "s1"), ("site", "s2")]), "site")  # one value only
    assert viewer.get(f"{API}/events", params=[("site", "s1"), ("site", "s2")]).status_code == 200  # a list


def test_token_in_the_url_is_refused(desk):
    for path in ("/stream", "/events"):
        r = desk.client().get(API + path, params={"access_token": desk.tokens["viewer"]})
        assert r.status_code == 400 and "Authorization" in r.json()["message"], path
    r = desk.client("viewer").get(f"{API}/events", params={"access_token": desk.tokens["viewer"]})
    assert r.status_code == 400  # even beside a header: the secret is already in someone's log


def test_failed_authentication_is_rate_limited(desk_factory):
    desk = desk_factory(auth_failures_max=3, auth_failures_window_s=1.5)
    wrong = desk.client(headers={"Authorization": "Bearer guess"})
    assert [wrong.get(f"{API}/events").status_code for _ in range(3)] == [401, 401, 401]
    r = wrong.get(f"{API}/events")
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 2
    assert desk.client("viewer").get(f"{API}/events").status_code == 429  # the address, not the token
    time.sleep(1.6)
    assert desk.client("viewer").get(f"{API}/events").status_code == 200
    assert metric(desk, "spectrum_auth_throttled_total") == 2


def test_streams_per_token_are_limited(desk_factory):
    desk = desk_factory(max_streams_per_token=2)
    readers = [StreamReader(desk.url, desk.tokens["viewer"]) for _ in range(2)]
    try:
        deadline = time.monotonic() + 5
        while desk.app.state.ctx.broadcaster.clients < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        r = desk.client("viewer").get(f"{API}/stream")
        assert r.status_code == 429 and "at most 2" in r.json()["message"]
        other = StreamReader(desk.url, desk.tokens["admin"])  # another token is not affected
        try:
            other.wait_for_comment("connected")
        finally:
            other.close()
        readers.pop().close()
        deadline = time.monotonic() + 5
        while desk.app.state.ctx.broadcaster.clients > 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        again = StreamReader(desk.url, desk.tokens["viewer"])
        again.wait_for_comment("connected")
        readers.append(again)
    finally:
        for reader in readers:
            reader.close()


@pytest.mark.parametrize("how", ["api", "cli"])
def test_revocation_ends_open_streams(desk_factory, how):
    from service.auth import revoke_token
    from service.db import Database

    desk = desk_factory(stream_auth_check_s=0.3)
    admin = desk.client("admin")
    made = admin.post(f"{API}/tokens", json={"role": "viewer"}).json()
    reader = StreamReader(desk.url, made["token"])
    try:
        reader.wait_for_comment("connected")
        started = time.monotonic()
        if how == "api":
            assert admin.delete(f"{API}/tokens/{made['id']}").status_code == 200
        else:  # `spectrum token revoke` writes the database from another process
            db = Database(desk.db_url)
            revoke_token(db, made["id"])
            db.dispose()
        assert reader.ended.wait(5), "the stream is still open"
        assert time.monotonic() - started < 3
        assert ("notice", {"reason": "the token was revoked"}) in reader.messages
        desk.client("sensor").post(f"{API}/events", json={"events": [make_event(0)]})
        assert not [m for m in reader.messages if m[0] == "event"]
    finally:
        reader.close()


def test_security_headers_and_offline_docs(desk):
    plain = desk.client()
    page = plain.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    for r in (page, plain.get(f"{API}/events"), plain.get("/healthz")):
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    for path in ("/docs", "/redoc"):
        r = plain.get(path)
        assert r.status_code == 200
        urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert urls and all(u.startswith("/") for u in urls), urls  # nothing from another origin
        for url in urls:
            assert plain.get(url).status_code == 200, url
        policy = r.headers["content-security-policy"]
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
        import base64
        import hashlib
        for script in inline:  # the one inline start-up script is allowed by its hash, nothing else
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy
    assert "cdn" not in plain.get("/docs").text.lower() and "googleapis" not in plain.get("/redoc").text


def test_metrics_need_a_token(desk):
    assert desk.client().get("/metrics").status_code == 401
    assert desk.client("sensor").get("/metrics").status_code == 403
    assert desk.client("viewer").get("/metrics").status_code == 200
