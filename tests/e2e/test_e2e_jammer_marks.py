"""The jammer's estimated position on the desk's map: three sites hearing one jammer (levels
following a path-loss law from a known point) give a mark with its label; a fourth site
reporting moves the estimate and the label follows, live, in the desk's language."""

from __future__ import annotations

import math

from e2e_helpers import ARTIFACTS, ago, event, start_desk, wait_until

# Sites about 3 km apart in Jakarta, and the jammer among them (degrees).
SITES = {"PS-101": (-6.200, 106.800), "PS-102": (-6.200, 106.827), "PS-103": (-6.173, 106.827),
         "PS-104": (-6.173, 106.800)}
JAMMER = (-6.188, 106.815)
LABEL = ".jammer-label:not([hidden])"


def level_dbfs(site: str) -> float:
    """Log-distance path loss (exponent 3) from the jammer, in dBFS at an arbitrary reference."""
    (lat, lon), (jlat, jlon) = SITES[site], JAMMER
    dx_m = (lon - jlon) * 111_195 * math.cos(math.radians(jlat))
    dy_m = (lat - jlat) * 111_195
    return -10.0 - 30 * math.log10(math.hypot(dx_m, dy_m))


def report(desk, site: str, start_ago_s: float) -> None:
    lat, lon = SITES[site]
    desk.post(site, "g1", "/heartbeats", {"position": {"lat_deg": lat, "lon_deg": lon}})
    ev = event(site, "g1", ago(start_ago_s), low_hz=1574.4e6, high_hz=1576.4e6, band="GNSS L1")
    ev["peak_dbfs"] = round(level_dbfs(site), 2)
    desk.post(site, "g1", "/events", {"events": [ev]})


def mark_pixel(page) -> dict:
    """The estimate from the dashboard's own state, and the canvas colour at its projected point."""
    return page.evaluate("""() => {
      const d = window.__desk.state, g = [...d.marks.groups.values()].find((x) => x.location && x.location.position);
      const p = g.location.position, [x, y] = d.map.project(p.lon_deg, p.lat_deg), dpr = window.devicePixelRatio || 1;
      const px = document.getElementById('map').getContext('2d').getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data;
      return {lat: p.lat_deg, lon: p.lon_deg, rgb: [px[0], px[1], px[2]], sensors: g.location.sensors};
    }""")


def test_jammer_mark_appears_and_follows_a_fourth_site(browser_page, tmp_path):
    page = browser_page
    server, desk = start_desk(tmp_path, [(s, "g1") for s in SITES], status_check_s=0.5)
    try:
        for i, site in enumerate(list(SITES)[:3]):
            report(desk, site, 60 - 5 * i)
        page.goto(desk.url + "/#token=" + desk.viewer)
        page.wait_for_selector("#desk:not([hidden])")
        wait_until(page, f"document.querySelector('{LABEL}')", timeout_ms=30_000)
        text = page.text_content(LABEL)
        assert "3 sites" in text and "dBFS" in text and "90 % confidence" in text
        first = mark_pixel(page)
        assert first["sensors"] == 3
        assert first["rgb"] == [0xd2, 0xa8, 0xff]  # the mark's colour, drawn over the site markers
        # three sites, exact levels: the fixed exponent is the true one, so the estimate is close
        assert abs(first["lat"] - JAMMER[0]) < 0.002 and abs(first["lon"] - JAMMER[1]) < 0.002

        report(desk, "PS-104", 40)  # a fourth site hears it: the stream says so, the mark follows
        wait_until(page, f"document.querySelector('{LABEL}').textContent.includes('4 sites')", timeout_ms=30_000)
        assert mark_pixel(page)["sensors"] == 4
        page.select_option(".top-right .lang-select", "id")  # the label is a message, in the desk's language
        wait_until(page, f"document.querySelector('{LABEL}').textContent.includes('dari 4 lokasi, dBFS tanpa kalibrasi')")
        page.evaluate("() => { const m = window.__desk.state.map; m.view = {lon: 106.8135, lat: -6.1865, zoom: 60}; m.draw(); }")
        page.locator(".map-panel").screenshot(path=str(ARTIFACTS / "jammer-mark.png"))
        page.goto("about:blank")  # close the live stream before the server stops
    finally:
        server.__exit__()
