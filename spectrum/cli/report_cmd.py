"""``spectrum report``: the day's incidents for the task force's leadership (HTML, CSV, PDF)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="a day's incidents as a printable report (HTML, CSV or PDF)",
                       description="Per site and for the whole day: incidents with local times, durations, bands, "
                                   "kinds, outcome and notes, a timeline per site, evidence hashes, and totals "
                                   "(sites affected, jammed minutes). The format follows --out's extension.")
    p.add_argument("--db", metavar="URL", default=None, help="database URL (as for `spectrum serve`)")
    p.add_argument("--day", required=True, help="local date, YYYY-MM-DD")
    p.add_argument("--tz", default="Asia/Jakarta",
                   help="IANA time zone: Asia/Jakarta (WIB, default), Asia/Makassar (WITA), Asia/Jayapura (WIT)")
    p.add_argument("--site", default=None, help="one site only")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.html, FILE.csv or FILE.pdf")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from service.db import Database
    from service.incident_report import FORMATS, build_report, parse_spec, render_csv, render_html
    from service.service_errors import ServiceError
    from spectrum.cli.serve_cmd import settings_for
    from spectrum.errors import ConfigError

    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ConfigError(f"--out {args.out!r}: the extension must be .html, .csv or .pdf")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {args.out!r}: directory {str(out.parent)!r} does not exist")
    from sqlalchemy.exc import SQLAlchemyError

    try:
        spec = parse_spec(args.day, args.tz, args.site)
        url = settings_for(args).db_url
        db = Database(url, create=False)
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None
    if db.dialect == "sqlite" and not Path(db.url.database).exists():
        raise ConfigError(f"--db {url!r}: no such database file")
    try:
        report = build_report(db, spec)
    except SQLAlchemyError as exc:
        raise ConfigError(f"--db {url!r}: cannot read incidents ({type(exc).__name__}); is it the desk's "
                          f"database, served by this version?") from None
    finally:
        db.dispose()
    if fmt == "pdf":
        from service.report_pdf import render_pdf

        out.write_bytes(render_pdf(report))
    else:
        out.write_text(render_html(report) if fmt == "html" else render_csv(report), encoding="utf-8")
    t = report["totals"]
    print(f"{out}: {t['incidents']} incidents, {t['sites_affected']} sites affected, "
          f"{t['jammed_minutes']} jammed minutes ({report['day']}, {report['tz']})")
    print(f"spectrum report: wrote {out}", file=sys.stderr)
    return 0
