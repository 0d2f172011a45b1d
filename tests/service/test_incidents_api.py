"""Incidents over the API: grouping of stored events, wide-area links, the desk's actions and
their audit log, roles and bad input, and the live stream's ``incident`` messages."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from service_helpers import make_event
from service_helpers import StreamReader

from service.auth import create_token
from service.db import Database

API = "/api/v1"


def recent(start_s: float, **kw) -> dict:
    """An event ``start_s`` seconds after five minutes ago (so the incident is live now)."""
    base = datetime.now(timezone.utc) - timedelta(minutes=5)
    ev = make_event(start_s=start_s, **kw)
    start = base + timedelta(seconds=start_s)
    iso = lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    ev["start"] = iso(start)
    if ev["end"] is not None:
        ev["end"] = iso(start + timedelta(seconds=kw.get("duration_s", 2.0)))
    return ev


def pulses(n: int, period_s: float = 10, on_s: float = 4, offset_s: float = 0, **kw) -> list[dict]:
    return [recent(offset_s + i * period_s, duration_s=on_s, kind="pulsed", **kw) for i in range(n)]


@pytest.fixture
def desk_ops(desk):
    db = Database(desk.db_url)
    desk.tokens["operator"] = create_token(db, "operator", label="Rina (desk A)")[0]
    desk.tokens["sensor3"] = create_token(db, "sensor", "s3", "c")[0]
    db.dispose()
    return desk


def incidents(client, **params) -> list[dict]:
    r = client.get(f"{API}/incidents", params=params)
    assert r.status_code == 200, r.text
    return r.json()["incidents"]


def test_the_band_an_event_names_is_its_incidents_and_must_be_a_name(desk):
    """The incident tables hold a band of up to 64 characters (PostgreSQL refuses more: such an
    event was stored, then never grouped), so a longer band is refused with the event."""
    sensor, viewer = desk.client("sensor"), desk.client("viewer")
    band = "\U0001f4e1" * 64  # characters, not bytes
    assert sensor.post(f"{API}/events", json={"events": pulses(3, band=band)}).json()["created"] == 3
    for bad in ("x" * 65, "hop\x00", 7):
        r = sensor.post(f"{API}/events", json={"events": pulses(3, offset_s=100, band=bad)})
        assert r.status_code == 422 and "band" in r.json()["message"], r.text
    (inc,) = incidents(viewer)
    assert inc["band"] == band and inc["bursts"] == 3


def test_a_pulsed_jammer_is_one_incident_and_the_site_stays_jammed(desk_ops):
    sensor, viewer = desk_ops.client("sensor"), desk_ops.client("viewer")
    sent = pulses(30)
    missing = sent.pop(12)  # arrives late, after the rest
    for i in range(0, len(sent), 7):
        assert sensor.post(f"{API}/events", json={"events": sent[i:i + 7]}).status_code == 200
    assert sensor.post(f"{API}/events", json={"events": [missing]}).status_code == 200
    assert sensor.post(f"{API}/events", json={"events": sent[:5]}).status_code == 200  # re-sent: no change
    (inc,) = incidents(viewer)
    assert inc["bursts"] == 30 and inc["state"] == "active" and inc["kinds"] == ["pulsed"]
    assert inc["since"] == sent[0]["start"]
    assert abs(inc["duty"] - 30 * 4 / (29 * 10 + 4)) < 1e-3
    detail = viewer.get(f"{API}/incidents/{inc['id']}").json()
    assert [e["id"] for e in detail["events"]] == [e["id"] for e in sorted(sent + [missing], key=lambda e: e["start"])]
    (site,) = viewer.get(f"{API}/incidents/sites").json()["sites"]
    assert site["site"] == "s1" and site["jammed_since"] == sent[0]["start"] and site["state"] == "active"
    # the event feed is unchanged: every burst is still its own event
    assert len(viewer.get(f"{API}/events", params={"limit": 1000}).json()["events"]) == 30


def test_filters_and_cursor_paging(desk_ops):
    sensor, viewer = desk_ops.client("sensor"), desk_ops.client("viewer")
    # five incidents at different frequencies, one of them critical
    batch = [recent(i * 30, kind="tone", freq_hz=900e6 + i * 10e6, severity="critical" if i == 2 else "warning")
             for i in range(5)]
    assert sensor.post(f"{API}/events", json={"events": batch}).status_code == 200
    seen, cursor = [], None
    while True:
        page = viewer.get(f"{API}/incidents", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["incidents"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and [i["since"] for i in seen] == sorted((i["since"] for i in seen), reverse=True)
    crit = incidents(viewer, severity="critical")
    assert len(crit) == 1 and crit[0]["needs_attention"] is True
    assert incidents(viewer, site="s2") == [] and len(incidents(viewer, state=["active", "quiet"])) == 5
    assert incidents(viewer, state="closed") == []
    assert viewer.get(f"{API}/incidents", params={"cursor": "bogus!"}).status_code == 422
    assert viewer.get(f"{API}/incidents", params={"state": "jammed"}).status_code == 422


def test_sites_sharing_a_jammer_are_one_wide_area_incident(desk_ops):
    reader = StreamReader(desk_ops.url, desk_ops.tokens["viewer"])
    try:
        time.sleep(0.2)
        for role, offset in (("sensor", 0), ("sensor2", 20), ("sensor3", 45)):
            c = desk_ops.client(role)
            assert c.post(f"{API}/events", json={"events": pulses(6, offset_s=offset, site=None, sensor=None)}).status_code == 200
        far = desk_ops.client("sensor3").post(f"{API}/events", json={"events": [recent(0, kind="tone", freq_hz=2140e6, site=None, sensor=None)]})
        assert far.status_code == 200
        viewer = desk_ops.client("viewer")
        listed = incidents(viewer)
        wide = [i for i in listed if i["wide_area"]]
        assert len(listed) == 2 and len(wide) == 1  # the group once, plus the unrelated tone
        assert wide[0]["wide_area"]["sites"] == ["s1", "s2", "s3"] and len(wide[0]["wide_area"]["incidents"]) == 3
        assert wide[0]["site"] == "s1"  # named after its earliest incident
        assert len(incidents(viewer, wide_area="each")) == 4
        linked = reader.wait_for(lambda m: m[0] == "incident" and m[1]["change"] == "linked")
        assert {m[1]["incident"]["site"] for m in linked} >= {"s2", "s3"}
        # acting on the group acts on every site's incident
        op = desk_ops.client("operator")
        assert op.post(f"{API}/incidents/{wide[0]['id']}/acknowledge", json={}).status_code == 200
        each = [i for i in incidents(viewer, wide_area="each") if i["wide_area"]]
        assert all(i["desk"]["acknowledged_by"] == "Rina (desk A)" for i in each)
        reader.wait_for(lambda m: m[0] == "incident" and m[1]["change"] == "acknowledged")
    finally:
        reader.close()


def test_desk_workflow_and_audit_log(desk_ops):
    sensor, viewer, op = desk_ops.client("sensor"), desk_ops.client("viewer"), desk_ops.client("operator")
    assert sensor.post(f"{API}/events", json={"events": pulses(3, severity="critical")}).status_code == 200
    (inc,) = incidents(viewer, acknowledged=False)
    assert inc["needs_attention"] is True
    url = f"{API}/incidents/{inc['id']}"
    assert op.post(f"{url}/acknowledge", json={"note": "seen on the map"}).status_code == 200
    assert op.post(f"{url}/assign", json={"team": "Tim Lapangan 3"}).status_code == 200
    assert op.post(f"{url}/notes", json={"text": "jammer in a parked van"}).status_code == 200
    r = op.post(f"{url}/resolve", json={"outcome": "confirmed_jammer", "note": "seized"})
    assert r.status_code == 200, r.text
    desk = r.json()["desk"]
    assert desk["acknowledged_by"] == "Rina (desk A)" and desk["assigned_to"] == "Tim Lapangan 3"
    assert desk["outcome"] == "confirmed_jammer" and desk["notes"] == 3
    assert incidents(viewer, acknowledged=False) == [] and incidents(viewer)[0]["needs_attention"] is False
    audit = viewer.get(f"{url}/audit").json()
    assert [a["action"] for a in audit] == ["acknowledge", "assign", "note", "resolve"]
    assert all(a["actor"] == "Rina (desk A)" for a in audit)
    assert audit[2]["detail"] == {"text": "jammer in a parked van"}
    # an admin may act too; the log only grows
    assert desk_ops.client("admin").post(f"{url}/notes", json={"text": "report filed"}).status_code == 200
    assert len(viewer.get(f"{url}/audit").json()) == 5


def test_desk_actions_at_the_same_moment_are_all_kept(desk_ops, monkeypatch):
    """Two operators note one incident at once, each having read its desk state before the
    other writes (each waits there until the other has read too, or for a second): both notes
    count. PostgreSQL ran the two side by side: both inserted the desk row, a 500."""
    import service.incident_desk as incident_desk

    assert desk_ops.client("sensor").post(f"{API}/events", json={"events": pulses(3)}).status_code == 200
    (inc,) = incidents(desk_ops.client("viewer"))
    url = f"{API}/incidents/{inc['id']}"
    both_read = threading.Barrier(2, timeout=1)
    real_apply = incident_desk._apply

    def wait_then_apply(*args):
        try:
            both_read.wait()
        except threading.BrokenBarrierError:
            pass  # the other one waits for this one to finish, as it should
        real_apply(*args)

    monkeypatch.setattr(incident_desk, "_apply", wait_then_apply)
    codes = []

    def note(i: int) -> None:
        with desk_ops.client("operator") as op:
            codes.append(op.post(f"{url}/notes", json={"text": f"note {i}"}).status_code)

    threads = [threading.Thread(target=note, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200, 200]
    viewer = desk_ops.client("viewer")
    assert viewer.get(url).json()["desk"]["notes"] == 2 and len(viewer.get(f"{url}/audit").json()) == 2


def test_roles_unknown_incidents_and_bad_input(desk_ops):
    sensor, viewer, op = desk_ops.client("sensor"), desk_ops.client("viewer"), desk_ops.client("operator")
    assert sensor.post(f"{API}/events", json={"events": pulses(2)}).status_code == 200
    (inc,) = incidents(viewer)
    url = f"{API}/incidents/{inc['id']}"
    for client in (viewer, sensor):
        for action, body in (("acknowledge", {}), ("resolve", {"outcome": "false_alarm"})):
            assert client.post(f"{url}/{action}", json=body).status_code == 403
    assert sensor.get(f"{API}/incidents").status_code == 403
    assert desk_ops.client().get(f"{API}/incidents").status_code == 401
    unknown = f"{API}/incidents/{uuid.uuid4()}"
    assert op.post(f"{unknown}/acknowledge", json={}).status_code == 404
    assert viewer.get(unknown).status_code == 404
    r = op.post(f"{url}/resolve", json={})
    assert r.status_code == 422 and "outcome" in r.text
    assert op.post(f"{url}/resolve", json={"outcome": "aliens"}).status_code == 422
    assert op.post(f"{url}/assign", json={"team": "  "}).status_code == 422
    assert viewer.get(f"{url}/audit").json() == []  # nothing refused was logged
    assert op.get(f"{API}/incidents").status_code == 200  # an operator reads like a viewer


def test_daily_report_from_the_api(desk_ops):
    sensor, viewer = desk_ops.client("sensor"), desk_ops.client("viewer")
    sent = pulses(4)
    assert sensor.post(f"{API}/events", json={"events": sent}).status_code == 200
    day = datetime.fromisoformat(sent[0]["start"]).astimezone(timezone(timedelta(hours=7))).date().isoformat()
    r = viewer.get(f"{API}/reports/daily", params={"day": day, "tz": "Asia/Jakarta", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = r.text.strip().splitlines()
    assert len(rows) == 2 and rows[1].split(",")[1] == "s1"
    pdf = viewer.get(f"{API}/reports/daily", params={"day": day, "format": "pdf"}, timeout=120)  # matplotlib loads
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    bad = viewer.get(f"{API}/reports/daily", params={"day": day, "tz": "Asia/Nowhere"})
    assert bad.status_code == 422 and "tz" in bad.text
    assert viewer.get(f"{API}/reports/daily", params={"day": "14/02/2024"}).status_code == 422
    assert sensor.get(f"{API}/reports/daily", params={"day": day}).status_code == 403
