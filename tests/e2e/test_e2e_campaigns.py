"""The dashboard's campaigns panel: each sensor's assigned and running campaign, in sync or not,
in both languages; hidden on a desk without campaigns."""

from __future__ import annotations

import json

import httpx

from e2e_helpers import REPO, start_desk, viewport_ok, wait_until

CATALOGUES = {lang: json.loads((REPO / "service" / "static" / "i18n" / f"{lang}.json").read_text()) for lang in ("en", "id")}


def test_campaigns_panel_shows_each_sensor_in_sync_or_not(browser_page, tmp_path):
    from service.auth import create_token
    from service.db import Database

    page = browser_page
    server, desk = start_desk(tmp_path, [("PS-014", "gsm-1"), ("PS-027", "pmr-1")])
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    admin = create_token(db, "admin")[0]
    db.dispose()
    try:
        desk.post("PS-014", "gsm-1", "/heartbeats", {})
        desk.post("PS-027", "pmr-1", "/heartbeats", {})
        page.goto(desk.url + "/#token=" + desk.viewer)
        page.wait_for_selector("#desk:not([hidden])")
        wait_until(page, "document.getElementById('campaigns') !== null")
        assert page.is_hidden("#campaigns")  # no campaign anywhere: no panel

        r = httpx.post(desk.url + "/api/v1/campaigns", headers={"Authorization": f"Bearer {admin}"}, timeout=30,
                       json={"name": "poll-day", "plan": {"preset": "election-core"}, "targets": {"all": True}})
        assert r.status_code == 201, r.text
        desk.post("PS-014", "gsm-1", "/heartbeats", {"campaign": {"name": "poll-day", "version": 1},
                                                       "campaign_origin": "disk"})
        page.reload()
        wait_until(page, "!document.getElementById('campaigns')?.hidden", timeout_ms=60_000)
        rows = page.eval_on_selector_all("#campaigns tbody tr", "trs => trs.map(tr => tr.innerText)")
        en = CATALOGUES["en"]
        synced = next(r for r in rows if r.startswith("gsm-1"))
        behind = next(r for r in rows if r.startswith("pmr-1"))
        assert "poll-day v1" in synced and en["campaigns.syncedDisk"] in synced
        assert en["campaigns.none"] in behind and en["campaigns.behind"] in behind
        assert en["campaigns.behindCount"]["one"].replace("{n}", "1") in page.inner_text("#campaigns h2")
        assert viewport_ok(page)["overflow"] <= 0

        page.select_option("#desk .lang-select", "id")
        wait_until(page, f"document.querySelector('#campaigns h2').textContent.includes({json.dumps(CATALOGUES['id']['campaigns.title'])})")
        text = page.inner_text("#campaigns")
        assert CATALOGUES["id"]["campaigns.behind"] in text and en["campaigns.behind"] not in text
    finally:
        server.__exit__()
