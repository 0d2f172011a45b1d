"""What the desk learns about a sensor's measurements, shown where the operator looks: a sensor
whose clock is more than 1 s off is named on its site's tile (its event times are corrected by
the desk), and a calibrated event's detail leads with its level in dBm, dBFS beside it."""

from __future__ import annotations

import json

from e2e_helpers import REPO, ago, event, show_events, start_desk, wait_until

CATALOGUES = {lang: json.loads((REPO / "service" / "static" / "i18n" / f"{lang}.json").read_text()) for lang in ("en", "id")}
SITES = [("PS-014", "gsm-1"), ("PS-027", "pmr-1")]


def test_clock_off_sensor_and_calibrated_level_are_shown(browser_page, tmp_path):
    page = browser_page
    server, desk = start_desk(tmp_path, SITES)
    try:
        desk.post("PS-014", "gsm-1", "/heartbeats", {"clock_offset_s": 5.0, "clock_offset_rtt_s": 0.02})
        desk.post("PS-027", "pmr-1", "/heartbeats", {"clock_offset_s": 0.05, "clock_offset_rtt_s": 0.02})
        calibrated = {**event("PS-014", "gsm-1", ago(30)), "calibrated": True, "peak_dbm": -61.5}
        plain = event("PS-027", "pmr-1", ago(20), kind="pulsed", band="UHF PMR", low_hz=452.5e6, high_hz=453.5e6)
        for ev in (calibrated, plain):
            desk.post(ev["site"], ev["sensor"], "/events", {"events": [ev]})

        page.goto(desk.url + "/#token=" + desk.viewer)
        page.wait_for_selector("#desk:not([hidden])")
        off = CATALOGUES["en"]["sites.clockOff"]
        wait_until(page, f"document.querySelector('.site[data-site=\"PS-014\"] .meta')?.textContent.includes({json.dumps(off.replace('{sensors}', 'gsm-1'))})")
        other = page.inner_text('.site[data-site="PS-027"] .meta')
        assert off.split("{sensors}")[0].strip() not in other  # 50 ms off: not marked

        show_events(page)
        page.click(f'#feed .ev[data-id="{calibrated["id"]}"]')
        wait_until(page, "!document.getElementById('detail').hidden")
        text = page.inner_text("#detail")
        assert "-61.5 dBm (-21.5 dBFS)" in text.replace("\u2212", "-"), text
        page.keyboard.press("Escape")
        page.click(f'#feed .ev[data-id="{plain["id"]}"]')
        wait_until(page, f"document.getElementById('detail-h').textContent.includes('PS-027')")
        text = page.inner_text("#detail").replace("\u2212", "-")
        assert "-21.5 dBFS" in text and "dBm" not in text, text

        page.select_option("#desk .lang-select", "id")
        off_id = CATALOGUES["id"]["sites.clockOff"].replace("{sensors}", "gsm-1")
        wait_until(page, f"document.querySelector('.site[data-site=\"PS-014\"] .meta')?.textContent.includes({json.dumps(off_id)})")
    finally:
        server.__exit__()
