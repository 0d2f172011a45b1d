"""Honest status when the service goes away: a banner across the page within 5 s of the
service stopping, every running duration marked stale, the jammed count greyed with "as of",
the open detail marked stale; all of it gone within 5 s of the service's return (same port,
same database). Times are recorded in test-artifacts/e2e-metrics.json."""

from __future__ import annotations

import time

from e2e_helpers import ARTIFACTS, PortServer, ago, desk_app, event, record, show_events, start_desk, wait_until

SITES = [("PS-014", "gsm-1"), ("PS-027", "pmr-1")]


def wait_for(page, js: str, t0: float, timeout_s: float) -> float:
    """Seconds from ``t0`` (monotonic) until ``js`` is true in the page; fails after ``timeout_s``."""
    wait_until(page, js, timeout_ms=max(0.1, t0 + timeout_s - time.monotonic()) * 1000, every_s=0.1)
    return time.monotonic() - t0


def test_outage_banner_and_stale_marks_come_and_go(browser_page, tmp_path):
    page = browser_page
    server, desk = start_desk(tmp_path, SITES, status_check_s=0.5)
    jam = event(*SITES[0], ago(120))
    desk.post(*SITES[0], "/events", {"events": [jam]})
    desk.post(*SITES[1], "/heartbeats", {"drops_total": 0})
    try:
        page.goto(desk.url + "/#token=" + desk.viewer)
        show_events(page)
        page.wait_for_selector(f'#feed .ev[data-id="{jam["id"]}"]')
        page.wait_for_selector("#live[data-state=live]")
        assert page.locator("#outage").is_hidden() and page.locator(".dur.stale").count() == 0
        page.click(f'#feed .ev[data-id="{jam["id"]}"]')
        page.wait_for_selector("#detail:not([hidden])")

        t0 = time.monotonic()
        server.__exit__()  # the service stops (open streams are cut after its 1 s grace)
        down_s = wait_for(page, "!document.querySelector('#outage').hidden", t0, 5)
        page.wait_for_timeout(1200)  # a tick later, durations must not run on
        assert "unreachable" in page.inner_text("#outage")
        assert page.locator("#feed .ev.ongoing .dur.stale").count() == 1
        assert page.locator(".site .jam .dur.stale").count() == 1
        assert "stale" in page.get_attribute("#sum-jammed", "class")
        assert page.inner_text("#sum-asof").startswith("as of ")
        assert page.locator("#detail-stale").is_visible()
        frozen = page.inner_text("#feed .ev.ongoing .dur")
        page.wait_for_timeout(2100)
        assert page.inner_text("#feed .ev.ongoing .dur") == frozen  # as of the outage, not counting on
        page.screenshot(path=str(ARTIFACTS / "dashboard-outage.png"))

        t0 = time.monotonic()
        server = PortServer(desk_app(f"sqlite:///{tmp_path / 'desk.db'}", status_check_s=0.5), int(desk.url.rsplit(":", 1)[1])).__enter__()
        up_s = wait_for(page, "document.querySelector('#outage').hidden", t0, 5)
        assert page.locator(".dur.stale").count() == 0 and page.locator("#sum-asof").count() == 0
        assert "stale" not in page.get_attribute("#sum-jammed", "class")
    finally:
        page.goto("about:blank")
        server.__exit__()
    record("outage", {"service_stopped_to_banner_s": round(down_s, 2), "service_back_to_banner_gone_s": round(up_s, 2)})
