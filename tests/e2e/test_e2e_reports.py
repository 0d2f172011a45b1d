"""The day's incident report from the dashboard: the panel fetches GET /reports/daily with the
token in a header and hands the file over as a download; the site filter narrows it to one site;
the panel follows the page language; a day the service refuses is said in words."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from e2e_helpers import REPO, ago, event, start_desk, wait_until

CATALOGUES = {lang: json.loads((REPO / "service" / "static" / "i18n" / f"{lang}.json").read_text()) for lang in ("en", "id")}
SITES = [("PS-014", "gsm-1"), ("PS-027", "pmr-1")]


def _download(page) -> tuple[str, str]:
    with page.expect_download() as info:
        page.click("#report-get")
    download = info.value
    return download.suggested_filename, open(download.path(), encoding="utf-8").read()


def test_daily_report_downloads_for_the_day_and_the_filtered_site(browser_page, tmp_path):
    page = browser_page
    server, desk = start_desk(tmp_path, SITES)
    try:
        for site, sensor in SITES:
            desk.post(site, sensor, "/heartbeats", {})
        jam = [event("PS-014", "gsm-1", ago(300 - 10 * k), end=ago(296 - 10 * k), kind="pulsed") for k in range(5)]
        tone = event("PS-027", "pmr-1", ago(200), end=ago(100), kind="tone", band="UHF PMR", low_hz=452.5e6, high_hz=452.6e6)
        desk.post("PS-014", "gsm-1", "/events", {"events": jam})
        desk.post("PS-027", "pmr-1", "/events", {"events": [tone]})

        page.goto(desk.url + "/#token=" + desk.viewer)
        page.wait_for_selector("#report-form")
        day = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
        assert page.input_value("#report-day") == day  # today in the desk's zone
        page.select_option("#report-format", "csv")
        name, text = _download(page)
        assert name == f"incidents-{day}.csv"
        rows = list(csv.DictReader(io.StringIO(text)))
        assert sorted(r["site"] for r in rows) == ["PS-014", "PS-027"]  # five bursts: one incident
        assert CATALOGUES["en"]["reports.saved"].replace("{name}", name) in page.inner_text("#report-msg")

        page.select_option("#f-site", "PS-027")
        wait_until(page, "document.querySelector('.report-scope').textContent.includes('PS-027')")
        name, text = _download(page)
        assert name == f"incidents-{day}-PS-027.csv"
        assert [r["site"] for r in csv.DictReader(io.StringIO(text))] == ["PS-027"]

        page.fill("#report-day", "1999-01-01")  # a day before any event: an empty report, not an error
        name, text = _download(page)
        assert name == "incidents-1999-01-01-PS-027.csv" and len(list(csv.DictReader(io.StringIO(text)))) == 0

        page.select_option("#desk .lang-select", "id")
        wait_until(page, f"document.getElementById('reports-h').textContent === {json.dumps(CATALOGUES['id']['reports.title'])}")
        assert page.inner_text("#report-get") == CATALOGUES["id"]["reports.download"]
    finally:
        server.__exit__()
