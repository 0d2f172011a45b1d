"""`spectrum monitor --lat DEG --lon DEG`: the position goes out in heartbeats and the desk
places the site there when its registry has none (``position_from: "heartbeat"``)."""

from __future__ import annotations

import pytest


def test_position_from_heartbeats_places_the_site(field_desk, tmp_path, cli):
    url, tokens, viewer = field_desk
    res = cli("monitor", "--source", "sim:gnss_l1_barrage?fast&loop=2", "--duration", "1", "--site", "PS-1",
              "--sensor", "a", "--lat", "-6.2088", "--lon", "106.8456", "--uplink", url,
              f"--token={tokens['a']}", "--queue", tmp_path / "q.db")
    assert res.code == 0, res.err
    [sensor] = [s for s in viewer.get("/sensors").json()["sensors"] if s["sensor"] == "a"]
    assert sensor["heartbeat"]["position"] == {"lat_deg": -6.2088, "lon_deg": 106.8456, "alt_m": None}
    [site] = [s for s in viewer.get("/desk/sites").json()["sites"] if s["site"] == "PS-1"]
    assert (site["lat_deg"], site["lon_deg"], site["position_from"]) == (-6.2088, 106.8456, "heartbeat")


@pytest.mark.parametrize("args, needle", [
    (["--lat", "-6.2"], "--lon: give --lat and --lon together"),
    (["--lon", "106.8"], "--lat: give --lat and --lon together"),
    (["--lat", "95", "--lon", "106.8"], "--lat 95: a latitude is between -90 and 90"),
    (["--lat", "-6.2", "--lon", "-181"], "--lon -181: a longitude is between -180 and 180"),
    (["--lat", "nan", "--lon", "106.8"], "--lat nan"),
])
def test_bad_positions_are_refused_in_one_line(cli, args, needle):
    res = cli("monitor", "--source", "sim:gnss_l1_barrage?fast&loop=2", "--duration", "0.5", *args)
    assert res.code == 2 and needle in res.err and len(res.err.strip().splitlines()) == 1, res.err
