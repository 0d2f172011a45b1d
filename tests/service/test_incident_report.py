"""The day's report: local times and day boundaries in WIB/WITA, jammed minutes, desk outcome
and notes, evidence hashes; HTML, CSV and PDF; the CLI and the API; bad options."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import datetime, timezone

import pytest
from service_helpers import make_event

from service.auth import Principal
from service.db import Database
from service.incident_desk import act
from service.incident_report import build_report, parse_spec, render_csv, render_html
from service.incident_store import apply_events, record_from_event
from service.incidents import GroupingRules
from service.schemas import EventIn
from service.store import ingest_events

# 2024-02-14 in WIB (UTC+7) runs from 2024-02-13T17:00Z to 2024-02-14T17:00Z
T0 = datetime(2024, 2, 13, 17, 0, tzinfo=timezone.utc)


def at(hours: float, duration_s: float, **kw) -> dict:
    ev = make_event(start_s=0, duration_s=duration_s, **kw)
    start = T0.timestamp() + hours * 3600
    iso = lambda s: datetime.fromtimestamp(s, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    ev["start"], ev["end"] = iso(start), iso(start + duration_s)
    return ev


@pytest.fixture
def report_db(db_url):
    db = Database(db_url)
    events = [at(8 + i * 60 / 3600, 30, site="s1", kind="pulsed") for i in range(30)]  # 08:00-08:29:30 WIB
    events[0]["evidence"] = {"sha256": "ab" * 32, "path": "clips/x.sigmf-data"}
    events += [at(23.9, 720, site="s2", kind="tone", severity="critical", freq_hz=1575.42e6)]  # 23:54 WIB, runs past midnight
    events += [at(-2, 600, site="s3", kind="tone")]  # the day before
    for site in ("s1", "s2", "s3"):  # one batch per sensor, as the routes send them
        ingest_events(db, [EventIn.model_validate({**e, "sensor": site}) for e in events if e["site"] == site])
    records = [record_from_event(e) for e in events]
    db.transact(lambda s: apply_events(db, s, records, GroupingRules(), int(T0.timestamp() * 1e6)))
    yield db, events
    db.dispose()


def test_report_is_in_local_time_with_totals(report_db):
    db, events = report_db
    inc = build_report(db, parse_spec("2024-02-14", "Asia/Jakarta"))["incidents"]
    s1 = next(i for i in inc if i["site"] == "s1")
    who = Principal(token_id="t1", role="operator", label="Rina")
    act(db, s1["id"], who, "resolve", {"outcome": "confirmed_jammer", "note": "van seized"})
    report = build_report(db, parse_spec("2024-02-14", "Asia/Jakarta"))
    assert report["tz_abbrev"] == "WIB"
    by_site = {i["site"]: i for i in report["incidents"]}
    assert set(by_site) == {"s1", "s2"}  # s3's incident was the day before
    assert (by_site["s1"]["local_start"], by_site["s1"]["local_end"]) == ("08:00:00", "08:29:30")
    assert by_site["s1"]["bursts"] == 30 and by_site["s1"]["evidence"] == ["ab" * 32]
    assert by_site["s1"]["desk"]["outcome"] == "confirmed_jammer" and by_site["s1"]["notes"] == ["Rina: van seized"]
    totals = report["totals"]
    assert totals["sites_affected"] == 2
    assert totals["jammed_minutes_by_site"] == {"s1": 29.5, "s2": 6.0}  # s2 clipped at local midnight
    assert totals["jammed_minutes"] == 35.5
    # the same day in WITA (UTC+8) starts an hour earlier in UTC: s3's incident is still outside
    wita = build_report(db, parse_spec("2024-02-14", "Asia/Makassar"))
    assert wita["tz_abbrev"] == "WITA" and {i["site"]: i["local_start"] for i in wita["incidents"]}["s1"] == "09:00:00"
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert [r["site"] for r in rows] == ["s1", "s2"] and rows[0]["outcome"] == "confirmed_jammer"
    assert rows[0]["time_zone"] == "WIB" and rows[1]["severity"] == "critical"
    page = render_html(report)
    assert "@page { size: A4" in page and "08:00:00 – 08:29:30" in page and "CRITICAL" in page
    assert "ab" * 32 in page and "Asia/Jakarta (WIB)" in page


def test_cli_writes_html_csv_pdf_and_refuses_bad_options(report_db, tmp_path, capsys):
    from spectrum.cli import main

    db, _ = report_db
    url = db.url.render_as_string(hide_password=False)

    def run(*args, db_url=url):
        code = main(["report", "--db", db_url, *args])
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    for ext in ("html", "csv", "pdf"):
        out = tmp_path / f"day.{ext}"
        r = run("--day", "2024-02-14", "--tz", "Asia/Jakarta", "--out", str(out))
        assert r.returncode == 0, r.stderr
        assert "2 sites affected, 35.5 jammed minutes" in r.stdout
    assert (tmp_path / "day.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "day.pdf").stat().st_size > 5000
    site_only = run("--day", "2024-02-14", "--site", "s2", "--out", str(tmp_path / "s2.csv"))
    assert site_only.returncode == 0 and "1 incidents" in site_only.stdout
    for args, word in ((("--day", "2024-02-30"), "--day"), (("--day", "2024-02-14", "--tz", "Mars/Olympus"), "--tz")):
        r = run(*args, "--out", str(tmp_path / "x.html"))
        assert r.returncode == 2 and word in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run("--day", "2024-02-14", "--out", str(tmp_path / "x.docx"))
    assert r.returncode == 2 and "--out" in r.stderr
    # a SQLite file that is not there is refused, not created (on either run: PostgreSQL has no file)
    r = run("--day", "2024-02-14", "--out", str(tmp_path / "x.csv"), db_url=f"sqlite:///{tmp_path / 'none.db'}")
    assert r.returncode == 2 and "no such database" in r.stderr
