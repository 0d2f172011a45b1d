"""Phone, tablet and desk layouts in both languages: no sideways scroll, every event row names
its site, the summary and clock stay in view, an event's detail opens in view; the language
comes from the browser, and the switch changes every visible string. Screenshots of each
layout in each language are saved as test artefacts."""

from __future__ import annotations

import re

import pytest

from e2e_helpers import (ARTIFACTS, ago, english_only_patterns, event, show_events, spectrum, start_desk, viewport_ok,
                         visible_texts, wait_until, write_registry)

VIEWPORTS = [(390, 844), (768, 1024), (1440, 900)]
SITES = [("PS-014 Sekolah Dasar Negeri 3 Kebayoran Lama Selatan", "gsm-1"), ("PS-027", "pmr-1"),
         ("CC-003", "gsm-2"), ("PS-101", "gsm-3")]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layouts")
    registry = write_registry(tmp / "sites.csv", [
        {"site": SITES[0][0], "name": "", "lat_deg": -6.25, "lon_deg": 106.78},
        {"site": "PS-027", "name": "Balai Kota Makassar", "lat_deg": -5.14, "lon_deg": 119.42},
        {"site": "CC-003", "name": "Pusat Penghitungan Jayapura", "lat_deg": -2.54, "lon_deg": 140.71},
        {"site": "PS-101", "name": "", "lat_deg": 3.59, "lon_deg": 98.67},
        {"site": "PS-900", "name": "never heard from", "lat_deg": -8.65, "lon_deg": 115.22}])
    server, desk = start_desk(tmp, SITES, status_check_s=0.5, site_registry=str(registry), online_s=60)
    for site, sensor in SITES[:3]:
        desk.post(site, sensor, "/heartbeats", {"drops_total": 0})
    desk.post(*SITES[0], "/spectra", {"spectra": [spectrum(ago(90 - 2 * k), jam=k > 20) for k in range(45)]})
    events = [event(*SITES[0], ago(40)), event(*SITES[1], ago(100), kind="pulsed", severity="warning", band="UHF PMR",
                                                  low_hz=452.5e6, high_hz=453.5e6),
              event(*SITES[2], ago(300), end=ago(250), kind="new_emitter", severity="info"),
              event(*SITES[3], ago(600), end=ago(590), kind="sensor_fault", severity="warning")]
    for ev in events:
        desk.post(ev["site"], ev["sensor"], "/events", {"events": [ev]})
    yield desk
    server.__exit__()


def check_layout(page, width: int, lang: str) -> None:
    assert page.evaluate("document.documentElement.lang") == lang
    result = viewport_ok(page)
    assert result["overflow"] <= 0 and result["worst"] is None, f"{width}px {lang}: sideways overflow {result}"
    rows = page.evaluate("""() => [...document.querySelectorAll('#feed .ev')].map(e => {
      const shown = (sel) => { const c = e.querySelector(sel); return c.checkVisibility() && c.getBoundingClientRect().width > 0 ? c.innerText : null; };
      return {site: e.dataset.site, shown: shown('.site-n'), kind: shown('.kind'), since: shown('.since'), sev: shown('.sev')};
    })""")  # one evaluation: the rows are redrawn every second (their durations run)
    assert len(rows) == 4, rows
    for r in rows:  # every row names its site, kind, start and severity, visibly
        assert r["site"] and r["shown"] == r["site"] and r["kind"] and r["since"] and r["sev"], r
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    for sel in ("#summary", "#clock"):
        box = page.locator(sel).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"], f"{sel} out of view"
    assert re.fullmatch(r"\d\d:\d\d:\d\d WIB", page.inner_text("#clock"))
    page.evaluate("window.scrollTo(0, 0)")


def open_detail_in_view(page) -> None:
    page.locator("#feed .ev").first.click()
    page.wait_for_selector("#detail:not([hidden])")
    page.wait_for_timeout(200)
    r = page.evaluate("(() => { const r = document.querySelector('#detail').getBoundingClientRect(); "
                      "return [r.top, r.left, r.bottom, r.right, innerHeight, innerWidth]; })()")
    assert r[0] >= 0 and r[1] >= 0 and r[2] <= r[4] + 0.5 and r[3] <= r[5] + 0.5, r
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail", state="hidden")


@pytest.mark.parametrize("width, height", VIEWPORTS)
def test_layout_in_both_languages(seeded, open_page, width, height):
    # The language comes from the browser: an Indonesian browser gets Bahasa Indonesia.
    page = open_page(width, height, locale="id-ID")
    page.goto(seeded.url + "/#token=" + seeded.viewer)
    show_events(page)  # the incident list has its own layout test (test_e2e_incidents.py)
    page.wait_for_selector("#feed .ev[data-id]")
    wait_until(page, "document.querySelectorAll('#feed .ev').length === 4 && window.__desk.state.loaded")
    page.wait_for_timeout(300)
    check_layout(page, width, "id")
    texts = " | ".join(visible_texts(page))
    assert "lokasi diacak" in texts and "tanpa data" in texts and "berdenyut" in texts
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}x{height}-id.png"))
    open_detail_in_view(page)

    # Switching to English changes every visible string ...
    page.select_option("#desk .lang-select", "en")
    wait_until(page, "document.documentElement.lang === 'en'")
    page.wait_for_timeout(200)
    check_layout(page, width, "en")
    english = visible_texts(page)
    assert "1 site jammed" in english and "no data" in " ".join(english)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}x{height}-en.png"))
    open_detail_in_view(page)

    # ... and back: no English message is left anywhere visible in Indonesian.
    page.select_option("#desk .lang-select", "id")
    wait_until(page, "document.documentElement.lang === 'id'")
    page.wait_for_timeout(200)
    patterns = english_only_patterns()
    left = [(key, text) for text in visible_texts(page) for key, pat in patterns if pat.match(text)]
    assert not left, f"English strings shown in Indonesian: {left[:10]}"
    # The choice is remembered in this browser.
    page.reload()
    page.wait_for_selector("#feed .ev[data-id]")  # the events tab is kept in this browser tab
    assert page.evaluate("document.documentElement.lang") == "id"
