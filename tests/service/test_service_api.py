"""Ingest and query against a real server on a loopback port and a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from service_helpers import REPO, at, make_event

API = "/api/v1"


def test_service_import_is_light():
    code = ("import sys, service.app; heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numba', 'scipy', 'numpy', 'kernels', 'captures', 'rtlsdr', 'pyfftw', 'h5py')); print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def walk(client, **params) -> list[dict]:
    events, cursor = [], None
    while True:
        r = client.get(f"{API}/events", params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        events += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            return events


def test_ingest_and_query_round_trip(desk):
    sensor, sensor2, viewer = desk.client("sensor"), desk.client("sensor2"), desk.client("viewer")
    kinds = ("tone", "wideband_noise", "swept")
    sent = [make_event(i, kind=kinds[i % 3], severity="critical" if i % 5 == 0 else "info",
                       freq_hz=935e6 if i % 2 else 1575.42e6) for i in range(120)]
    sent2 = [make_event(i, site=None, sensor=None, start_s=i + 0.5) for i in range(30)]  # stamped from token
    for batch in (sent[:50], sent[50:]):
        r = sensor.post(f"{API}/events", json={"events": batch})
        assert r.json() == {"accepted": len(batch), "created": len(batch), "updated": 0, "unchanged": 0}
    assert sensor2.post(f"{API}/events", json={"events": sent2}).status_code == 200

    everything = walk(viewer, limit=7)
    assert len(everything) == 150 and len({e["id"] for e in everything}) == 150
    starts = [e["start"] for e in everything]
    assert starts == sorted(starts, reverse=True)  # newest first
    stored = {e["id"]: e for e in everything}
    assert all(stored[e["id"]] == e for e in sent)  # the contract shape comes back unchanged
    assert {(stored[e["id"]]["site"], stored[e["id"]]["sensor"]) for e in sent2} == {("s2", "b")}

    def ids(**params):
        return {e["id"] for e in walk(viewer, limit=1000, **params)}

    assert ids(site="s2") == {e["id"] for e in sent2}
    assert ids(sensor="a") == {e["id"] for e in sent}
    assert ids(kind="swept") == {e["id"] for e in sent if e["kind"] == "swept"}
    assert ids(kind=["swept", "tone"], site="s1") == {e["id"] for e in sent if e["kind"] in ("swept", "tone")}
    assert ids(severity="critical") == {e["id"] for e in sent if e["severity"] == "critical"}
    # events overlapping [07:00:10, 07:00:20): start < 20 s and end >= 10 s (2 s long)
    window = ids(site="s1", since=at(10, ms=False), until=at(20, ms=False))
    assert window == {e["id"] for e in sent if 8 <= e["offset_start_s"] < 20}
    gnss = ids(freq_min_hz=1.5e9, freq_max_hz=1.6e9)
    assert gnss == {e["id"] for e in sent if e["freq_low_hz"] > 1.5e9}
    assert viewer.get(f"{API}/events", params={"cursor": "not-a-cursor"}).status_code == 422


def test_retry_and_update_semantics(desk):
    sensor, viewer = desk.client("sensor"), desk.client("viewer")
    ongoing = make_event(0, duration_s=None, rise_db=10.0)
    grown = dict(ongoing, rise_db=20.0)
    closed = dict(grown, end=at(9), offset_end_s=9.0)
    post = lambda *evs: sensor.post(f"{API}/events", json={"events": list(evs)}).json()  # noqa: E731
    assert post(ongoing)["created"] == 1
    assert post(ongoing)["unchanged"] == 1  # a retry changes nothing
    assert post(grown)["updated"] == 1  # a newer ongoing state replaces
    assert post(closed)["updated"] == 1
    assert post(grown)["unchanged"] == 1  # a late retry of the ongoing state never reopens it
    [stored] = walk(viewer)
    assert stored["end"] == at(9) and stored["rise_db"] == 20.0
    # the same id twice in one batch: the newest state wins
    other = make_event(1, duration_s=None)
    assert post(dict(other, end=at(5), offset_end_s=5.0), other)["created"] == 1
    assert walk(viewer, ongoing="true") == []
    # an explicit `updated` orders ongoing states
    a = make_event(2, duration_s=None, updated=at(3, ms=False), peak_dbfs=-5.0)
    assert post(a)["created"] == 1
    assert post(dict(a, updated=at(2, ms=False), peak_dbfs=-9.0))["unchanged"] == 1


def test_bad_input_is_refused_whole(desk):
    sensor, viewer = desk.client("sensor"), desk.client("viewer")
    good = make_event(0)
    bad_bodies = [
        dict(events=[good, dict(make_event(1), kind="laser")]),  # unknown kind
        dict(events=[good, {k: v for k, v in make_event(1).items() if k != "start"}]),  # missing field
        dict(events=[good, dict(make_event(1), freq_low_hz="low")]),  # wrong type
        dict(events=[good, dict(make_event(1), confidence=1.5)]),
        dict(events=[good, dict(make_event(1), end=at(-3600, ms=False))]),  # end before start
        dict(events=[good, dict(make_event(1), id="not-a-uuid")]),
        dict(events=[]),
        dict(evnts=[good]),
    ]
    for body in bad_bodies:
        r = sensor.post(f"{API}/events", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"]
    r = sensor.post(f"{API}/events", content=b'{"events": [', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "json" in r.text.lower()
    r = sensor.post(f"{API}/events", content=b'{"events": [NaN]}', headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert walk(viewer) == []  # nothing written by any of them


def test_body_limit(desk_factory):
    desk = desk_factory(max_body_bytes=20_000)
    sensor = desk.client("sensor")
    big = {"events": [make_event(i) for i in range(100)]}  # ~50 kB
    r = sensor.post(f"{API}/events", json=big)
    assert r.status_code == 413
    chunks = (json.dumps(big)[i:i + 1000].encode() for i in range(0, 60_000, 1000))  # chunked, no length
    r = sensor.post(f"{API}/events", content=chunks, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert sensor.post(f"{API}/events", json={"events": big["events"][:10]}).status_code == 200


def test_heartbeats_sensors_sites(desk_factory):
    desk = desk_factory(online_s=0.4, stale_s=0.8, status_check_s=0.1)
    sensor, viewer = desk.client("sensor"), desk.client("viewer")
    beat = {"sweep_rate_hz": 4.0, "drops_total": 0, "overload": False, "software_version": "0.1.0",
            "position": {"lat_deg": 48.85, "lon_deg": 2.35}, "time": at(0, ms=False)}
    r = sensor.post(f"{API}/heartbeats", json=beat)
    assert r.json() == {"site": "s1", "sensor": "a", "status": "online"}
    sensors = {s["sensor"]: s for s in viewer.get(f"{API}/sensors").json()["sensors"]}
    assert sensors["a"]["status"] == "online" and sensors["a"]["heartbeat"]["sweep_rate_hz"] == 4.0
    assert sensors["b"]["status"] == "offline"  # known from its token, never heard from
    time.sleep(0.5)
    assert viewer.get(f"{API}/sensors", params={"site": "s1"}).json()["sensors"][0]["status"] == "stale"
    time.sleep(0.4)
    sites = {s["site"]: s for s in viewer.get(f"{API}/sites").json()["sites"]}
    assert sites["s1"]["status"] == "offline" and sites["s1"]["sensors"] == 1
    assert sensor.post(f"{API}/heartbeats", json={"position": {"lat_deg": 99, "lon_deg": 0}}).status_code == 422


def test_spectra_are_stored_once_and_served_newest_first(desk):
    sensor, viewer = desk.client("sensor"), desk.client("viewer")
    spectra = [{"id": f"00000000-0000-4000-8000-{i:012d}", "band": "gsm900", "time": at(i, ms=False),
                "freq_start_hz": 925e6, "freq_step_hz": 2e5, "power_dbfs": [-60.0 + i] * 175} for i in range(12)]
    assert sensor.post(f"{API}/spectra", json={"spectra": spectra}).json()["created"] == 12
    assert sensor.post(f"{API}/spectra", json={"spectra": spectra[:3]}).json()["unchanged"] == 3
    got = viewer.get(f"{API}/spectra", params={"band": "gsm900", "limit": 5}).json()["spectra"]
    assert [s["time"] for s in got] == [at(i) for i in range(11, 6, -1)]
    bad = dict(spectra[0], power_dbfs=[])
    assert sensor.post(f"{API}/spectra", json={"spectra": [bad]}).status_code == 422


def test_health_metrics_docs_index(desk):
    plain = desk.client()
    assert plain.get("/healthz").json() == {"status": "ok", "database": "ok"}
    desk.client("sensor").post(f"{API}/events", json={"events": [make_event(0)]})
    assert plain.get("/metrics").status_code == 401  # counts are not public
    assert desk.client("sensor").get("/metrics").status_code == 403
    text = desk.client("viewer").get("/metrics").text
    assert "# TYPE spectrum_events_created_total counter" in text
    assert "spectrum_events_created_total 1" in text
    assert 'spectrum_http_requests_total{method="POST",route="/api/v1/events",status="200"} 1' in text
    assert plain.get("/docs").status_code == 200
    assert "/api/v1/events" in plain.get("/openapi.json").json()["paths"]
    assert "<html" in plain.get("/").text


def test_group_commit_keeps_jobs_apart(db_url):
    """Write jobs that share one SQLite commit stay all-or-nothing each (on PostgreSQL, where
    each job commits alone, the same holds)."""
    import threading

    from sqlalchemy import select

    from service.db import Database
    from service.models import TokenRow

    db = Database(db_url)
    errors, barrier = [], threading.Barrier(8)

    def job(i):
        def work(session):
            session.add(TokenRow(id=f"t{i}", token_hash=f"h{i}", role="viewer", created_us=0))
            session.flush()
            if i == 3:
                raise ValueError("job 3 fails")
            return i
        barrier.wait()
        try:
            assert db.transact(work) == i
        except ValueError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=job, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as session:
        ids = sorted(session.scalars(select(TokenRow.id)))
    db.dispose()
    assert errors == ["job 3 fails"] and ids == [f"t{i}" for i in range(8) if i != 3]
