"""The day's incident report for the task force's leadership: data, HTML and CSV.

One local day in one IANA time zone (``Asia/Jakarta`` WIB, ``Asia/Makassar`` WITA,
``Asia/Jayapura`` WIT), optionally one site. Per incident: local times, duration, band and
frequencies, kinds, severity, bursts, wide-area sites, the desk's outcome, team and notes,
and the evidence clips' hashes its events carry; per site a timeline of the day; totals
(sites affected, jammed minutes). The HTML is printable on A4 and readable in black and
white (severity is written and drawn as a pattern, never only a colour). PDF: see
:mod:`service.report_pdf`.

Jammed minutes count, per site, the time covered by its incidents on the air (first onset
to last activity, clipped to the day; overlapping incidents counted once); sensor faults do
not count.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, or_, select

from service.db import Database
from service.incident_models import IncidentAuditRow, IncidentMemberRow, IncidentRow
from service.incident_queries import incident_dicts
from service.models import EventRow
from service.service_errors import ServiceError

FORMATS = ("html", "csv", "pdf")
SEVERITY_ORDER = ("critical", "warning", "info")


class ReportError(ServiceError):
    """A report option that cannot be used (day, time zone, format)."""


@dataclass(frozen=True)
class ReportSpec:
    """What to report: one local day in one time zone, one site or all."""

    day: date
    tz: ZoneInfo
    site: str | None = None

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.day, datetime.min.time(), self.tz).astimezone(timezone.utc)

    @property
    def end_utc(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), datetime.min.time(), self.tz).astimezone(timezone.utc)


def parse_spec(day: str, tz: str, site: str | None = None) -> ReportSpec:
    """Validate ``--day``/``--tz``/``--site``; ReportError naming the option otherwise."""
    try:
        parsed_day = date.fromisoformat(day)
    except ValueError:
        raise ReportError(f"--day {day!r}: expected a date as YYYY-MM-DD, e.g. 2024-02-14") from None
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"--tz {tz!r}: not an IANA time zone (Asia/Jakarta, Asia/Makassar, Asia/Jayapura)") from None
    return ReportSpec(parsed_day, zone, site or None)


def _us(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _evidence(event: dict) -> list[str]:
    """SHA-256 hashes of the evidence clips an event names (``evidence`` or ``evidence_sha256``)."""
    found = []
    ev = event.get("evidence")
    for item in ev if isinstance(ev, list) else [ev] if isinstance(ev, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("sha256"), str):
            found.append(item["sha256"])
    if isinstance(event.get("evidence_sha256"), str):
        found.append(event["evidence_sha256"])
    return found


def build_report(db: Database, spec: ReportSpec) -> dict:
    """Gather the day's incidents and totals (plain data, rendered by the functions below)."""
    lo, hi = _us(spec.start_utc), _us(spec.end_utc)
    t = IncidentRow
    stmt = select(t).where(t.first_onset_us < hi, or_(t.ongoing.is_(True), t.last_activity_us >= lo))
    if spec.site:
        stmt = stmt.where(t.site == spec.site)
    stmt = stmt.order_by(t.site, t.first_onset_us, t.id)
    with db.read() as session:
        rows = list(session.scalars(stmt))
        shapes = incident_dicts(session, rows)
        ids = [r.id for r in rows]
        notes: dict[str, list[str]] = {}
        for a in session.scalars(select(IncidentAuditRow).where(IncidentAuditRow.incident_id.in_(ids))
                                 .order_by(IncidentAuditRow.seq)):
            text = json.loads(a.detail).get("text") or json.loads(a.detail).get("note")
            if text:
                notes.setdefault(a.incident_id, []).append(f"{a.actor}: {text}")
        hashes: dict[str, list[str]] = {}
        members = select(IncidentMemberRow.event_id, IncidentMemberRow.incident_id).where(
            IncidentMemberRow.incident_id.in_(ids)).subquery()
        for incident_id, data in session.execute(select(members.c.incident_id, EventRow.data).join(
                EventRow, and_(EventRow.id == members.c.event_id))):
            if "evidence" in data:
                hashes.setdefault(incident_id, []).extend(_evidence(json.loads(data)))
    items = []
    for r, shape in zip(rows, shapes):
        end_us = r.last_activity_us
        items.append({**shape, "start_us": r.first_onset_us, "end_us": end_us,
                      "local_start": _local(r.first_onset_us, spec.tz), "local_end": _local(end_us, spec.tz),
                      "notes": notes.get(r.id, []), "evidence": sorted(set(hashes.get(r.id, [])))})
    return {"day": spec.day.isoformat(), "tz": spec.tz.key, "tz_abbrev": spec.start_utc.astimezone(spec.tz).tzname(),
            "site": spec.site, "window_us": (lo, hi), "incidents": items, "totals": _totals(items, lo, hi)}


def _local(us: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(us / 1e6, tz).strftime("%H:%M:%S")


def _totals(items: list[dict], lo: int, hi: int) -> dict:
    jammed_us_by_site: dict[str, int] = {}
    by_site: dict[str, list[tuple[int, int]]] = {}
    for i in items:
        if i["family"] == "sensor_fault":
            continue
        by_site.setdefault(i["site"] or "", []).append((max(lo, i["start_us"]), min(hi, max(i["end_us"], i["start_us"]))))
    for site, spans in by_site.items():
        total, cur_lo, cur_hi = 0, None, None
        for a, b in sorted(spans):
            if cur_hi is None or a > cur_hi:
                total += 0 if cur_hi is None else cur_hi - cur_lo
                cur_lo, cur_hi = a, b
            else:
                cur_hi = max(cur_hi, b)
        jammed_us_by_site[site] = total + (cur_hi - cur_lo if cur_hi is not None else 0)
    outcomes: dict[str, int] = {}
    for i in items:
        key = i["desk"]["outcome"] or "unresolved"
        outcomes[key] = outcomes.get(key, 0) + 1
    return {"incidents": len(items), "sites_affected": len(by_site),
            "jammed_minutes": round(sum(jammed_us_by_site.values()) / 60e6, 1),
            "jammed_minutes_by_site": {s: round(v / 60e6, 1) for s, v in sorted(jammed_us_by_site.items())},
            "by_severity": {s: sum(1 for i in items if i["severity"] == s) for s in SEVERITY_ORDER},
            "outcomes": outcomes}


CSV_COLUMNS = ("incident_id", "site", "band", "local_start", "local_end", "time_zone", "duration_s", "freq_low_hz",
               "freq_high_hz", "kinds", "severity", "bursts", "duty", "state", "wide_area_sites", "assigned_to",
               "outcome", "acknowledged_by", "notes", "evidence_sha256")


def render_csv(report: dict) -> str:
    """One row per incident (UTF-8, comma-separated, header first)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for i in report["incidents"]:
        w.writerow([i["id"], i["site"], i["band"] or "", i["local_start"], i["local_end"], report["tz_abbrev"],
                    i["duration_s"], i["freq_low_hz"], i["freq_high_hz"], " ".join(i["kinds"]), i["severity"],
                    i["bursts"], i["duty"], i["state"], " ".join(i["wide_area"]["sites"]) if i["wide_area"] else "",
                    i["desk"]["assigned_to"] or "", i["desk"]["outcome"] or "", i["desk"]["acknowledged_by"] or "",
                    " | ".join(i["notes"]), " ".join(i["evidence"])])
    return out.getvalue()


def _mhz(hz: float) -> str:
    return f"{hz / 1e6:.3f}"


def _timeline_svg(items: list[dict], lo: int, hi: int) -> str:
    """A day-long bar per site: black for critical, hatched for warning, outlined for info."""
    width, height = 640, 26
    span = hi - lo
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="timeline">',
             '<defs><pattern id="h" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
             '<line x1="0" y1="0" x2="0" y2="4" stroke="#000" stroke-width="1.5"/></pattern></defs>',
             f'<rect x="0" y="6" width="{width}" height="14" fill="none" stroke="#000" stroke-width="0.5"/>']
    for h in range(0, 25, 3):
        x = width * h / 24
        parts.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="22" stroke="#888" stroke-width="0.5"/>')
    for i in items:
        a = max(0, (i["start_us"] - lo) / span)
        b = min(1, (max(i["end_us"], i["start_us"]) - lo) / span)
        w = max(1.0, (b - a) * width)
        fill = {"critical": "#000", "warning": "url(#h)"}.get(i["severity"], "#fff")
        parts.append(f'<rect x="{a * width:.1f}" y="7" width="{w:.1f}" height="12" fill="{fill}" stroke="#000" '
                     f'stroke-width="0.7"><title>{html.escape(i["local_start"])}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


CSS = """@page { size: A4; margin: 14mm; }
body { font: 10pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #000; background: #fff; }
h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 12pt; margin: 14pt 0 4pt; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; page-break-inside: auto; }
th, td { border: 0.5pt solid #000; padding: 2pt 4pt; vertical-align: top; text-align: left; }
th { background: #eee; } tr { page-break-inside: avoid; }
.crit { font-weight: bold; } .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; word-break: break-all; }
.axis { display: flex; justify-content: space-between; font-size: 7pt; }
"""


def render_html(report: dict) -> str:
    """A self-contained printable page (A4, black and white)."""
    e = html.escape
    tz = f'{report["tz"]} ({report["tz_abbrev"]})'
    tot = report["totals"]
    out = [f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Incidents {e(report["day"])}</title>',
           f"<style>{CSS}</style></head><body>",
           f'<h1>Jamming incidents — {e(report["day"])}{" — site " + e(report["site"]) if report["site"] else ""}</h1>',
           f"<p>Times are local, {e(tz)}. Jammed minutes: time covered by a site's incidents on the air.</p>",
           "<table><tr><th>incidents</th><th>sites affected</th><th>jammed minutes</th><th>critical</th>"
           "<th>warning</th><th>info</th><th>outcomes</th></tr>",
           f'<tr><td>{tot["incidents"]}</td><td>{tot["sites_affected"]}</td><td>{tot["jammed_minutes"]}</td>'
           + "".join(f'<td>{tot["by_severity"][s]}</td>' for s in SEVERITY_ORDER)
           + f'<td>{e(", ".join(f"{k}: {v}" for k, v in sorted(tot["outcomes"].items())))}</td></tr></table>']
    lo, hi = report["window_us"]
    by_site: dict[str, list[dict]] = {}
    for i in report["incidents"]:
        by_site.setdefault(i["site"] or "", []).append(i)
    for site, items in by_site.items():
        minutes = tot["jammed_minutes_by_site"].get(site, 0.0)
        out.append(f"<h2>Site {e(site)} — {len(items)} incident(s), {minutes} jammed minutes</h2>")
        out.append(_timeline_svg(items, lo, hi))
        out.append('<div class="axis">' + "".join(f"<span>{h:02d}:00</span>" for h in range(0, 25, 3)) + "</div>")
        out.append("<table><tr><th>from – to</th><th>duration</th><th>band / MHz</th><th>kinds</th><th>severity</th>"
                   "<th>bursts</th><th>outcome, team</th><th>notes</th><th>evidence SHA-256</th></tr>")
        for i in items:
            wide = f'<br>wide-area: {e(", ".join(i["wide_area"]["sites"]))}' if i["wide_area"] else ""
            outcome = e(i["desk"]["outcome"] or "unresolved") + (f'<br>{e(i["desk"]["assigned_to"])}' if i["desk"]["assigned_to"] else "")
            out.append(
                f'<tr><td>{e(i["local_start"])} – {e(i["local_end"])}</td><td>{_duration(i["duration_s"])}</td>'
                f'<td>{e(i["band"] or "")} {_mhz(i["freq_low_hz"])}–{_mhz(i["freq_high_hz"])}{wide}</td>'
                f'<td>{e(", ".join(i["kinds"]))}</td><td class="{"crit" if i["severity"] == "critical" else ""}">'
                f'{e(i["severity"].upper())}</td><td>{i["bursts"]} (duty {i["duty"]:.0%})</td><td>{outcome}</td>'
                f'<td>{"<br>".join(e(n) for n in i["notes"])}</td>'
                f'<td class="mono">{"<br>".join(e(h) for h in i["evidence"]) or "—"}</td></tr>')
        out.append("</table>")
    if not report["incidents"]:
        out.append("<p>No incidents on this day.</p>")
    out.append("</body></html>")
    return "\n".join(out)


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
