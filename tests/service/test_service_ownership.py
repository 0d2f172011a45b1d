"""Ownership: an id belongs to the sensor that first stored it.

Every write route × every role × the caller's own site or another's. A refused write stores
nothing (not even the other events of its batch), is counted in the metrics, and never moves,
closes or downgrades another site's event.
"""

from __future__ import annotations

import uuid

from service_helpers import make_event

API = "/api/v1"
ROLES = ("none", "bad", "sensor", "sensor2", "viewer", "admin")  # sensor: site s1/a; sensor2: site s2/b


def spectrum(spectrum_id: str, **extra) -> dict:
    body = {"id": spectrum_id, "band": "gsm900", "time": make_event()["start"], "freq_start_hz": 925e6,
            "freq_step_hz": 2e5, "power_dbfs": [-60.0] * 8}
    body.update(extra)
    return body


def clients(desk) -> dict:
    return {"none": desk.client(), "bad": desk.client(headers={"Authorization": "Bearer wrong"}),
            **{role: desk.client(role) for role in ("sensor", "sensor2", "viewer", "admin")}}


def stored_events(desk) -> dict:
    page = desk.client("viewer").get(f"{API}/events", params={"limit": 1000}).json()
    return {e["id"]: e for e in page["events"]}


def metric(desk, name: str) -> float:
    text = desk.client("viewer").get("/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")
               or line.startswith(name + "{"))


def test_write_matrix_events(desk):
    """POST /events with site A's ongoing critical event id, by every role, own and other site."""
    c = clients(desk)
    alarm = make_event(0, kind="wideband_noise", severity="critical", duration_s=None)
    assert c["sensor"].post(f"{API}/events", json={"events": [alarm]}).json()["created"] == 1
    attack = dict(alarm, kind="tone", severity="info", end=make_event(5)["start"], offset_end_s=5.0)
    fresh = make_event(1)
    bodies = {  # what each attacker sends: the id alone, with the owner's site named, or hidden in a batch
        "id only": {"events": [dict(attack, site=None, sensor=None)]},
        "own site": {"events": [dict(attack, site="s2", sensor="b")]},
        "other site": {"events": [attack]},
        "in a batch": {"events": [dict(fresh, site=None, sensor=None), dict(attack, site=None, sensor=None)]},
    }
    expected = {  # role -> status per body, in the order above
        "none": (401, 401, 401, 401), "bad": (401, 401, 401, 401),
        "sensor2": (409, 409, 403, 409), "viewer": (403, 403, 403, 403), "admin": (403, 403, 403, 403),
    }
    conflicts_before = metric(desk, "spectrum_ownership_conflicts_total")
    for role, statuses in expected.items():
        got = tuple(c[role].post(f"{API}/events", json=body).status_code for body in bodies.values())
        assert got == statuses, role
    assert metric(desk, "spectrum_ownership_conflicts_total") - conflicts_before == 3
    events = stored_events(desk)
    assert set(events) == {alarm["id"]}  # the fresh event of the refused batch was not stored
    kept = events[alarm["id"]]
    assert (kept["kind"], kept["severity"], kept["end"], kept["site"], kept["sensor"]) == (
        "wideband_noise", "critical", None, "s1", "a")
    # the owner may still update it, and its site and sensor stay
    closed = dict(alarm, end=make_event(9)["start"], offset_end_s=9.0, site=None, sensor=None)
    assert c["sensor"].post(f"{API}/events", json={"events": [closed]}).json()["updated"] == 1
    kept = stored_events(desk)[alarm["id"]]
    assert (kept["end"], kept["site"], kept["sensor"]) == (closed["end"], "s1", "a")


def test_refusal_message_names_the_id(desk):
    alarm = make_event(0, duration_s=None)
    desk.client("sensor").post(f"{API}/events", json={"events": [alarm]})
    r = desk.client("sensor2").post(f"{API}/events", json={"events": [dict(alarm, site=None, sensor=None)]})
    assert r.status_code == 409 and alarm["id"] in r.json()["detail"] and "another sensor" in r.json()["detail"]


def test_write_matrix_spectra(desk):
    c = clients(desk)
    owned = str(uuid.uuid4())
    assert c["sensor"].post(f"{API}/spectra", json={"spectra": [spectrum(owned)]}).json()["created"] == 1
    taken = spectrum(owned, power_dbfs=[-10.0] * 8)
    fresh = spectrum(str(uuid.uuid4()))
    bodies = {"id only": {"spectra": [taken]}, "other site": {"spectra": [dict(taken, site="s1")]},
              "in a batch": {"spectra": [fresh, taken]}}
    expected = {"none": (401, 401, 401), "bad": (401, 401, 401), "sensor2": (409, 403, 409),
                "viewer": (403, 403, 403), "admin": (403, 403, 403)}
    for role, statuses in expected.items():
        got = tuple(c[role].post(f"{API}/spectra", json=body).status_code for body in bodies.values())
        assert got == statuses, role
    listed = c["viewer"].get(f"{API}/spectra").json()["spectra"]
    assert [(s["id"], s["site"], s["power_dbfs"][0]) for s in listed] == [(owned, "s1", -60.0)]
    # the owner's retry of its own id is accepted (idempotent)
    assert c["sensor"].post(f"{API}/spectra", json={"spectra": [spectrum(owned)]}).json()["unchanged"] == 1


def test_write_matrix_heartbeats(desk):
    c = clients(desk)
    assert c["sensor"].post(f"{API}/heartbeats", json={"software_version": "own"}).status_code == 200
    expected = {"none": (401, 401), "bad": (401, 401), "sensor2": (200, 403), "viewer": (403, 403),
                "admin": (403, 403)}
    for role, statuses in expected.items():
        got = (c[role].post(f"{API}/heartbeats", json={"software_version": "x"}).status_code,
               c[role].post(f"{API}/heartbeats", json={"site": "s1", "sensor": "a",
                                                        "software_version": "x"}).status_code)
        assert got == statuses, role
    sensors = {(s["site"], s["sensor"]): s for s in c["viewer"].get(f"{API}/sensors").json()["sensors"]}
    assert sensors[("s1", "a")]["heartbeat"]["software_version"] == "own"
    assert sensors[("s2", "b")]["heartbeat"]["software_version"] == "x"


def test_write_matrix_tokens(desk):
    c = clients(desk)
    victim = c["admin"].post(f"{API}/tokens", json={"role": "viewer"}).json()
    for role in ROLES:
        want_create, want_revoke = (201, 200) if role == "admin" else (401, 401) if role in ("none", "bad") else (403, 403)
        assert c[role].post(f"{API}/tokens", json={"role": "admin"}).status_code == want_create, role
        if role != "admin":
            assert c[role].delete(f"{API}/tokens/{victim['id']}").status_code == want_revoke, role
    live = {t["id"]: t for t in c["admin"].get(f"{API}/tokens").json()["tokens"]}
    assert live[victim["id"]]["revoked"] is None
    assert c["admin"].delete(f"{API}/tokens/{victim['id']}").status_code == 200
