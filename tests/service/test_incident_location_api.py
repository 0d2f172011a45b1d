"""``GET /incidents/{id}/location`` on a real server: a wide-area jammer whose levels at the sites
follow a path-loss law from a known point is placed near that point, inside its region; too few
sites or sites on one line give no position with the reason; the answer follows new sites."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from service_helpers import make_event

from service.auth import create_token
from service.db import Database
from service.jammer_location import LocalFrame

API = "/api/v1"
FRAME = LocalFrame(-6.2, 106.8)  # Jakarta
JAMMER_XY = np.array([1700.0, 900.0])  # metres east and north of FRAME's origin
# Sites around the jammer's district, metres east and north (about 3 km apart).
SITES_XY = {"s1": (0, 0), "s2": (3000, 0), "s3": (3000, 3000), "s4": (0, 3000), "s5": (1500, -1200)}
P0_DB, EXPONENT = 10.0, 3.0  # the jammer's level at 1 m and the path-loss exponent


def latlon(xy) -> tuple[float, float]:
    lat, lon = FRAME.to_latlon(np.asarray(xy, float))
    return float(lat), float(lon)


def level_db(site: str) -> float:
    """The level a site receives from the jammer: log-distance path loss, no shadowing."""
    d_m = float(np.linalg.norm(np.asarray(SITES_XY[site], float) - JAMMER_XY))
    return P0_DB - 10 * EXPONENT * math.log10(d_m)


def jammer_event(site: str, level: float, start_s: float = 0.0, **extra) -> dict:
    """One wideband noise event at ``site``, four minutes ago for 200 s (so the sites link)."""
    start = datetime.now(timezone.utc) - timedelta(minutes=4) + timedelta(seconds=start_s)
    iso = lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    ev = make_event(kind="wideband_noise", severity="critical", site=None, sensor=None, freq_hz=1575.42e6,
                    peak_dbfs=level, **extra)
    ev.update(start=iso(start), end=iso(start + timedelta(seconds=200)))
    return ev


def registry(tmp_path, sites: dict[str, tuple[float, float]]):
    path = tmp_path / "sites.csv"
    rows = [f"{s},{lat},{lon}" for s, (lat, lon) in sites.items()]
    path.write_text("site,lat_deg,lon_deg\n" + "\n".join(rows) + "\n")
    return str(path)


def sensor_tokens(desk, sites) -> dict[str, str]:
    db = Database(desk.db_url)
    tokens = {s: create_token(db, "sensor", s, f"dongle-{s}")[0] for s in sites}
    db.dispose()
    return tokens


def post(desk, token: str, path: str, body: dict) -> None:
    import httpx

    r = httpx.post(f"{desk.url}{API}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text


def location_of_group(desk) -> dict:
    with desk.client("viewer") as c:
        listed = c.get(f"{API}/incidents").json()["incidents"]
        assert len(listed) == 1, listed
        r = c.get(f"{API}/incidents/{listed[0]['id']}/location")
        assert r.status_code == 200, r.text
        return r.json()


def contains(polygon: list[dict], lat: float, lon: float) -> bool:
    """Even-odd ray casting (the region's outline is convex, so this is exact enough)."""
    pts = [(p["lon_deg"], p["lat_deg"]) for p in polygon]
    inside = False
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1]):
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def error_m(position: dict) -> float:
    xy = FRAME.to_xy(np.array([position["lat_deg"]]), np.array([position["lon_deg"]]))[0]
    return float(np.linalg.norm(xy - JAMMER_XY))


def test_sites_hearing_one_jammer_place_it_and_the_answer_follows_new_sites(desk_factory, tmp_path):
    # s1-s4 in the registry; s5 placed by its heartbeat; "far" heard it but has no position at all.
    placed = {s: latlon(xy) for s, xy in SITES_XY.items() if s != "s5"}
    desk = desk_factory(site_registry=registry(tmp_path, placed))
    tokens = sensor_tokens(desk, [*SITES_XY, "far"])
    for site in ("s1", "s2"):
        post(desk, tokens[site], "/events", {"events": [jammer_event(site, level_db(site))]})
    two = location_of_group(desk)
    assert two["position"] is None and two["reason"] == "too_few_sensors" and two["region"] is None and two["fit"] is None
    assert "2 sensor" in two["detail"] and two["sites"] == ["s1", "s2"]

    lat5, lon5 = latlon(SITES_XY["s5"])
    post(desk, tokens["s5"], "/heartbeats", {"position": {"lat_deg": lat5, "lon_deg": lon5}})
    for i, site in enumerate(("s3", "s4", "s5")):
        post(desk, tokens[site], "/events", {"events": [jammer_event(site, level_db(site), start_s=5 * (i + 1))]})
    post(desk, tokens["far"], "/events", {"events": [jammer_event("far", -30.0, start_s=30)]})
    # a weaker burst later at s1 does not lower its level: the strongest counts
    post(desk, tokens["s1"], "/events", {"events": [jammer_event("s1", level_db("s1") - 20, start_s=40)]})
    five = location_of_group(desk)
    assert five["sites"] == ["far", "s1", "s2", "s3", "s4", "s5"] and five["unplaced_sites"] == ["far"]
    assert five["reason"] is None and five["sensors"] == 5
    assert five["unit"] == "dBFS" and five["calibrated"] is False
    assert error_m(five["position"]) < 50  # exact levels: only the search grid's step (~12 m) is lost
    truth = latlon(JAMMER_XY)
    assert contains(five["region"]["polygon"], *truth) and five["confidence"] == 0.9
    assert five["fit"]["path_loss_exponent"] == pytest.approx(EXPONENT, abs=0.1)
    s1 = next(r for r in five["readings"] if r["site"] == "s1")
    assert s1["level_dbfs"] == pytest.approx(level_db("s1")) and s1["used"] and s1["level_dbm"] is None
    # asked again, nothing changed: the same answer (from the cache)
    assert location_of_group(desk) == five


def test_calibrated_levels_are_preferred_over_dbfs(desk_factory, tmp_path):
    placed = {s: latlon(xy) for s, xy in SITES_XY.items()}
    desk = desk_factory(site_registry=registry(tmp_path, placed))
    tokens = sensor_tokens(desk, SITES_XY)
    # dBFS skewed by each dongle's own gain (tens of dB apart); dBm exact, as calibration makes it
    offsets_db = dict(zip(SITES_XY, (-35.0, -12.0, -28.0, -5.0, -20.0)))
    for site in SITES_XY:
        level = level_db(site)
        post(desk, tokens[site], "/events", {"events": [jammer_event(site, level + offsets_db[site],
                                                                     calibrated=True, peak_dbm=level)]})
    found = location_of_group(desk)
    assert found["unit"] == "dBm" and found["calibrated"] is True and found["sensors"] == 5
    assert error_m(found["position"]) < 50
    assert contains(found["region"]["polygon"], *latlon(JAMMER_XY))


def test_sites_on_one_line_give_no_position(desk_factory, tmp_path):
    line = {"s1": (0, 0), "s2": (2000, 10), "s3": (4000, -10)}
    desk = desk_factory(site_registry=registry(tmp_path, {s: latlon(xy) for s, xy in line.items()}))
    tokens = sensor_tokens(desk, line)
    for i, site in enumerate(line):
        post(desk, tokens[site], "/events", {"events": [jammer_event(site, -30.0 - 5 * i, start_s=i)]})
    found = location_of_group(desk)
    assert found["position"] is None and found["reason"] == "degenerate_geometry"
    assert "one line" in found["detail"] and found["region"] is None


def test_unknown_incident_and_roles(desk):
    with desk.client("viewer") as c:
        r = c.get(f"{API}/incidents/{uuid.uuid4()}/location")
        assert r.status_code == 404 and "no incident" in r.text
    with desk.client() as c:
        assert c.get(f"{API}/incidents/{uuid.uuid4()}/location").status_code == 401
    with desk.client("sensor") as c:
        assert c.get(f"{API}/incidents/{uuid.uuid4()}/location").status_code == 403
