"""Campaigns API (issue 17): admin CRUD, validation naming the field, sensor assignment with
ETag / 304, specificity (sensor > site > all) and the per-sensor sync view."""

from __future__ import annotations

import threading

import pytest

HOPS = {"hops": [{"center_hz": 942.2e6, "sample_rate_hz": 2.4e6, "dwell_s": 0.3}]}


def campaign(name: str = "poll-day", **changes) -> dict:
    body = {"name": name, "plan": {"preset": "election-core"}, "detector": {"fft_size": 1024},
            "schedule": {"zone": "Asia/Jakarta", "windows": [{"start": "07:00", "end": "13:00", "plan": HOPS}]},
            "targets": {"all": True}}
    body.update(changes)
    return body


def spec(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "name"}


def test_admin_creates_lists_changes_and_deletes_a_campaign(desk):
    with desk.client("admin") as admin:
        r = admin.post("/api/v1/campaigns", json=campaign())
        assert r.status_code == 201, r.text
        assert r.json()["version"] == 1 and r.json()["detector"]["fft_size"] == 1024
        assert [c["name"] for c in admin.get("/api/v1/campaigns").json()["campaigns"]] == ["poll-day"]
        changed = spec(campaign(plan=HOPS))
        r = admin.put("/api/v1/campaigns/poll-day", json=changed)
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 2 and r.json()["plan"]["hops"][0]["center_hz"] == 942.2e6
        assert admin.get("/api/v1/campaigns/poll-day").json()["version"] == 2
        assert admin.put("/api/v1/campaigns/poll-day", json=changed).json()["version"] == 3  # every change counts
        assert admin.post("/api/v1/campaigns", json=campaign()).status_code == 409  # the name is taken
        assert admin.delete("/api/v1/campaigns/poll-day").status_code == 204
        assert admin.get("/api/v1/campaigns/poll-day").status_code == 404
        assert admin.put("/api/v1/campaigns/poll-day", json=changed).status_code == 404
        assert admin.delete("/api/v1/campaigns/poll-day").status_code == 404


def test_two_campaigns_created_at_once_still_never_share_a_target(db_url, monkeypatch):
    """Both creations check for a clash before either writes (each waits after its check until
    the other has checked too, or for a second): only one may be stored. PostgreSQL ran the two
    side by side and stored both, two campaigns for all sensors."""
    from service import campaign_store
    from service.campaign_schemas import CampaignSpec
    from service.db import Database

    both_checked = threading.Barrier(2, timeout=1)
    real_check = campaign_store._check_conflict

    def check_then_wait(*args):
        real_check(*args)
        try:
            both_checked.wait()
        except threading.BrokenBarrierError:
            pass  # the other one waits for this one to finish, as it should

    monkeypatch.setattr(campaign_store, "_check_conflict", check_then_wait)
    db = Database(db_url)
    outcomes = []

    def create(name: str) -> None:
        try:
            campaign_store.create_campaign(db, name, CampaignSpec.model_validate(spec(campaign())), "admin")
            outcomes.append("stored")
        except campaign_store.CampaignConflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=create, args=(name,)) for name in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "stored"]
    assert len(campaign_store.list_campaigns(db)) == 1
    db.dispose()


def test_only_admins_define_campaigns(desk):
    for role in ("sensor", "viewer"):
        with desk.client(role) as c:
            assert c.post("/api/v1/campaigns", json=campaign()).status_code == 403
            assert c.get("/api/v1/campaigns").status_code == 403
    with desk.client("viewer") as viewer:
        assert viewer.get("/api/v1/campaigns/assigned").status_code == 403  # sensors only
    with desk.client() as anonymous:
        assert anonymous.get("/api/v1/campaigns/sensors").status_code == 401


def _hop(**changes) -> dict:
    return {"hops": [{**HOPS["hops"][0], **changes}]}


def _window(**changes) -> dict:
    return {"zone": "Asia/Jakarta", "windows": [{"start": "07:00", "end": "13:00", "plan": HOPS, **changes}]}


BAD = [  # (what is wrong, the body's change, the field the 422 must name)
    ("unknown preset", {"plan": {"preset": "election-everything"}}, ["plan", "preset"]),
    ("below the tuner", {"plan": _hop(center_hz=10e6)}, ["plan", "hops", 0, "center_hz"]),
    ("above the tuner", {"plan": _hop(center_hz=1800e6)}, ["plan", "hops", 0, "center_hz"]),
    ("hop reaching below the tuner", {"plan": _hop(center_hz=24.5e6)}, ["plan", "hops", 0, "center_hz"]),
    ("rate in the gap", {"plan": _hop(sample_rate_hz=500e3)}, ["plan", "hops", 0, "sample_rate_hz"]),
    ("rate too high", {"plan": _hop(sample_rate_hz=3.2e6 + 1)}, ["plan", "hops", 0, "sample_rate_hz"]),
    ("rate too low", {"plan": _hop(sample_rate_hz=225_000)}, ["plan", "hops", 0, "sample_rate_hz"]),
    ("frequency as text", {"plan": _hop(center_hz="942e6")}, ["plan", "hops", 0, "center_hz"]),
    ("hour 25", {"schedule": _window(start="25:00")}, ["schedule", "windows", 0, "start"]),
    ("not a time", {"schedule": _window(end="1pm")}, ["schedule", "windows", 0, "end"]),
    ("unknown zone", {"schedule": {**_window(), "zone": "Asia/Atlantis"}}, ["schedule", "zone"]),
    ("window plan out of range", {"schedule": _window(plan=_hop(center_hz=2e9))},
     ["schedule", "windows", 0, "plan", "hops", 0, "center_hz"]),
    ("fft size not a power of two", {"detector": {"fft_size": 1000}}, ["detector", "fft_size"]),
    ("unknown detector setting", {"detector": {"threshold": 3}}, ["detector", "threshold"]),
    ("bad name", {"name": "poll day!"}, ["name"]),
]


@pytest.mark.parametrize("what, change, field", BAD, ids=[b[0] for b in BAD])
def test_bad_campaigns_are_refused_naming_the_field_and_never_served(desk, what, change, field):
    body = campaign(**change)
    with desk.client("admin") as admin, desk.client("sensor") as sensor:
        r = admin.post("/api/v1/campaigns", json=body)
        assert r.status_code == 422, r.text
        assert ["body", *field] in [d["loc"][:len(field) + 1] for d in r.json()["detail"]], r.json()
        assert admin.get("/api/v1/campaigns").json()["campaigns"] == []
        assert sensor.get("/api/v1/campaigns/assigned").status_code == 404
        # the same mistake in a change of a good campaign leaves the good one served
        assert admin.post("/api/v1/campaigns", json=campaign()).status_code == 201
        served = sensor.get("/api/v1/campaigns/assigned").json()
        if "name" not in change:
            r = admin.put("/api/v1/campaigns/poll-day", json=spec(body))
            assert r.status_code == 422 and ["body", *field] in [d["loc"][:len(field) + 1] for d in r.json()["detail"]]
        assert sensor.get("/api/v1/campaigns/assigned").json() == served


def test_plan_needs_a_preset_or_hops_and_targets_exactly_one_group(desk):
    with desk.client("admin") as admin:
        for plan in ({}, {"preset": "election-core", **HOPS}):
            r = admin.post("/api/v1/campaigns", json=campaign(plan=plan))
            assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "plan"], r.text
        mixed = {"hops": [HOPS["hops"][0], {**HOPS["hops"][0], "sample_rate_hz": 1.2e6}]}
        r = admin.post("/api/v1/campaigns", json=campaign(plan=mixed))
        assert r.status_code == 422 and "one sample_rate_hz" in r.json()["message"], r.text
        for targets in ({}, {"all": True, "sites": ["s1"]}):
            r = admin.post("/api/v1/campaigns", json=campaign(targets=targets))
            assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "targets"], r.text


def test_assignment_has_an_etag_and_answers_304_until_the_campaign_changes(desk):
    with desk.client("admin") as admin, desk.client("sensor") as sensor:
        assert sensor.get("/api/v1/campaigns/assigned").status_code == 404
        admin.post("/api/v1/campaigns", json=campaign())
        r = sensor.get("/api/v1/campaigns/assigned")
        assert r.status_code == 200 and r.json()["version"] == 1 and "targets" not in r.json()
        tag = r.headers["ETag"]
        again = sensor.get("/api/v1/campaigns/assigned", headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
        assert sensor.get("/api/v1/campaigns/assigned", headers={"If-None-Match": '"other"'}).status_code == 200
        admin.put("/api/v1/campaigns/poll-day", json=spec(campaign(plan=HOPS)))
        changed = sensor.get("/api/v1/campaigns/assigned", headers={"If-None-Match": tag})
        assert changed.status_code == 200 and changed.json()["version"] == 2
        assert changed.headers["ETag"] != tag


def test_the_most_specific_campaign_applies_sensor_then_site_then_all(desk):
    with desk.client("admin") as admin, desk.client("sensor") as a, desk.client("sensor2") as b:
        assert admin.post("/api/v1/campaigns", json=campaign("everyone")).status_code == 201
        assert admin.post("/api/v1/campaigns", json=campaign("site-s1", targets={"sites": ["s1"]})).status_code == 201
        assert admin.post("/api/v1/campaigns", json=campaign("sensor-a", targets={"sensors": ["a"]})).status_code == 201
        assert a.get("/api/v1/campaigns/assigned").json()["name"] == "sensor-a"
        assert b.get("/api/v1/campaigns/assigned").json()["name"] == "everyone"
        admin.delete("/api/v1/campaigns/sensor-a")
        assert a.get("/api/v1/campaigns/assigned").json()["name"] == "site-s1"
        admin.delete("/api/v1/campaigns/site-s1")
        assert a.get("/api/v1/campaigns/assigned").json()["name"] == "everyone"
        # two campaigns may not share a target at one level: which one applies would be a guess
        r = admin.post("/api/v1/campaigns", json=campaign("also-everyone"))
        assert r.status_code == 409 and "everyone" in r.json()["message"]
        admin.post("/api/v1/campaigns", json=campaign("s1-s2", targets={"sites": ["s1", "s2"]}))
        r = admin.post("/api/v1/campaigns", json=campaign("s2-s3", targets={"sites": ["s3", "s2"]}))
        assert r.status_code == 409 and "s2" in r.json()["message"]


def test_sensor_view_shows_what_each_sensor_runs_and_whether_it_is_in_sync(desk):
    def beat(client, running):
        r = client.post("/api/v1/heartbeats", json=running or {})
        assert r.status_code == 200, r.text

    def view():
        with desk.client("viewer") as viewer:
            return {s["sensor"]: s for s in viewer.get("/api/v1/campaigns/sensors").json()["sensors"]}

    with desk.client("admin") as admin, desk.client("sensor") as a, desk.client("sensor2") as b:
        admin.post("/api/v1/campaigns", json=campaign(targets={"sites": ["s1"]}))
        beat(a, {"campaign": {"name": "poll-day", "version": 1}, "campaign_origin": "desk"})
        beat(b, None)
        seen = view()
        assert (seen["a"]["campaign"], seen["a"]["campaign_version"], seen["a"]["in_sync"]) == ("poll-day", 1, True)
        assert seen["a"]["campaign_origin"] == "desk"
        assert (seen["b"]["assigned"], seen["b"]["campaign"], seen["b"]["in_sync"]) == (None, None, True)
        admin.put("/api/v1/campaigns/poll-day", json=spec(campaign(targets={"sites": ["s1", "s2"]})))
        seen = view()
        assert seen["a"]["assigned_version"] == 2 and seen["a"]["in_sync"] is False
        assert seen["b"]["assigned"] == "poll-day" and seen["b"]["in_sync"] is False
        beat(a, {"campaign": {"name": "poll-day", "version": 2}, "campaign_origin": "disk"})
        seen = view()
        assert seen["a"]["in_sync"] is True and seen["a"]["campaign_origin"] == "disk"


def test_service_constants_equal_the_sensors_own():
    from service.campaign_schemas import PRESETS, RTL_RATES_HZ, TUNER_RANGE_HZ
    from spectrum.live import band_plans

    assert list(PRESETS) == band_plans.list_presets()
    assert TUNER_RANGE_HZ == band_plans.TUNER_RANGE_HZ
    assert RTL_RATES_HZ == band_plans.RTL_RATES_HZ



@pytest.mark.parametrize("center_hz, rate_hz", [(24e6 + 1.2e6, 2.4e6), (1766e6, 2.4e6), (24e6 + 0.15e6, 300e3),
                                                (433.92e6, 225_001), (942.2e6, 3.2e6)])
def test_every_hop_the_desk_accepts_the_sensor_can_run(center_hz, rate_hz):
    from service.campaign_schemas import PlanIn
    from spectrum.live.campaign_plan import build_plan

    plan = PlanIn.model_validate({"hops": [{"center_hz": center_hz, "sample_rate_hz": rate_hz}]})
    built = build_plan(plan.model_dump(mode="json"), "campaign edge v1")
    assert [h.center_freq_hz for h in built.hops()] == [center_hz]
