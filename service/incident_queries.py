"""Reading incidents: filtered pages, one incident with its events and audit log, jammed sites."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from service.db import Database
from service.incident_models import IncidentAuditRow, IncidentDeskRow, IncidentMemberRow, IncidentRow
from service.models import EventRow
from service.store import CursorError, decode_cursor, encode_cursor, us_to_iso

__all__ = ["CursorError", "IncidentFilter", "query_incidents", "incident_dicts", "incident_detail", "jammed_sites"]


@dataclass(frozen=True)
class IncidentFilter:
    """Filters of ``GET /incidents``; empty or None means no constraint. Times in µs."""

    sites: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    since_us: int | None = None  # incidents active at or after this time
    until_us: int | None = None  # incidents that began before this time
    acknowledged: bool | None = None
    wide_area_once: bool = True  # a wide-area group appears once, as its earliest incident


def _desk(d: IncidentDeskRow | None) -> dict:
    if d is None:
        return {"acknowledged": False, "acknowledged_by": None, "acknowledged_at": None, "assigned_to": None,
                "outcome": None, "resolved_by": None, "resolved_at": None, "notes": 0}
    return {"acknowledged": d.acknowledged_us is not None, "acknowledged_by": d.acknowledged_by,
            "acknowledged_at": us_to_iso(d.acknowledged_us), "assigned_to": d.assigned_to, "outcome": d.outcome,
            "resolved_by": d.resolved_by, "resolved_at": us_to_iso(d.resolved_us), "notes": d.notes or 0}


def _out(r: IncidentRow, d: IncidentDeskRow | None, areas: dict[str, list[str]]) -> dict:
    desk = _desk(d)
    wide = None
    if r.area_id:
        wide = {"id": r.area_id, "sites": (r.area_sites or "").split(","), "incidents": areas.get(r.area_id, [r.id])}
    return {
        "id": r.id, "site": r.site, "band": r.band, "family": r.family, "state": r.state,
        "since": us_to_iso(r.first_onset_us), "last_activity": us_to_iso(r.last_activity_us), "ongoing": r.ongoing,
        "duration_s": round((r.last_activity_us - r.first_onset_us) / 1e6, 3), "on_s": round(r.on_s, 3),
        "duty": round(r.duty, 4), "bursts": r.bursts, "severity": r.severity, "peak_rise_db": r.peak_rise_db,
        "peak_dbfs": r.peak_dbfs, "kinds": r.kinds.split(",") if r.kinds else [],
        "freq_low_hz": r.freq_low_hz, "freq_high_hz": r.freq_high_hz, "wide_area": wide, "desk": desk,
        "needs_attention": r.severity == "critical" and not desk["acknowledged"], "updated": us_to_iso(r.updated_us),
    }


def incident_dicts(session, rows: list[IncidentRow]) -> list[dict]:
    """API shapes of incident rows (one query for desk states, one for wide-area members)."""
    ids = [r.id for r in rows]
    desks = {d.incident_id: d for d in session.scalars(select(IncidentDeskRow).where(IncidentDeskRow.incident_id.in_(ids)))}
    area_ids = {r.area_id for r in rows if r.area_id}
    areas: dict[str, list[str]] = {}
    if area_ids:
        for member in session.execute(select(IncidentRow.area_id, IncidentRow.id).where(IncidentRow.area_id.in_(area_ids))
                                      .order_by(IncidentRow.first_onset_us, IncidentRow.id)):
            areas.setdefault(member.area_id, []).append(member.id)
    return [_out(r, desks.get(r.id), areas) for r in rows]


def query_incidents(db: Database, flt: IncidentFilter, limit: int, cursor: str | None = None) -> tuple[list[dict], str | None]:
    """Incidents matching ``flt``, newest first onset first, one page.

    Raises
    ------
    CursorError
        ``cursor`` was not handed out by this service.
    """
    t = IncidentRow
    stmt = select(t)
    if flt.sites:
        stmt = stmt.where(t.site.in_(flt.sites))
    if flt.states:
        stmt = stmt.where(t.state.in_(flt.states))
    if flt.severities:
        stmt = stmt.where(t.severity.in_(flt.severities))
    if flt.since_us is not None:
        stmt = stmt.where(or_(t.ongoing.is_(True), t.last_activity_us >= flt.since_us))
    if flt.until_us is not None:
        stmt = stmt.where(t.first_onset_us < flt.until_us)
    if flt.wide_area_once:
        stmt = stmt.where(or_(t.area_id.is_(None), t.area_id == t.id))
    if flt.acknowledged is not None:
        acked = select(IncidentDeskRow.incident_id).where(IncidentDeskRow.acknowledged_us.is_not(None))
        stmt = stmt.where(t.id.in_(acked) if flt.acknowledged else t.id.not_in(acked))
    if cursor is not None:
        c_start, c_id = decode_cursor(cursor)
        stmt = stmt.where(or_(t.first_onset_us < c_start, and_(t.first_onset_us == c_start, t.id < c_id)))
    stmt = stmt.order_by(t.first_onset_us.desc(), t.id.desc()).limit(limit + 1)
    with db.read() as session:
        rows = list(session.scalars(stmt))
        more = len(rows) > limit
        rows = rows[:limit]
        out = incident_dicts(session, rows)
    return out, (encode_cursor(rows[-1].first_onset_us, rows[-1].id) if more else None)


def _audit(a: IncidentAuditRow) -> dict:
    return {"seq": a.seq, "incident_id": a.incident_id, "at": us_to_iso(a.at_us), "actor": a.actor,
            "token_id": a.token_id, "action": a.action, "detail": json.loads(a.detail)}


def incident_detail(db: Database, incident_id: str, max_events: int = 5000) -> dict | None:
    """One incident with its events (earliest first, at most ``max_events``) and audit log; None if unknown."""
    with db.read() as session:
        row = session.get(IncidentRow, incident_id)
        if row is None:
            return None
        out = incident_dicts(session, [row])[0]
        member_ids = select(IncidentMemberRow.event_id).where(IncidentMemberRow.incident_id == incident_id)
        events = session.scalars(select(EventRow.data).where(EventRow.id.in_(member_ids))
                                 .order_by(EventRow.start_us, EventRow.id).limit(max_events))
        out["events"] = [json.loads(e) for e in events]
        audit = session.scalars(select(IncidentAuditRow).where(IncidentAuditRow.incident_id == incident_id)
                                .order_by(IncidentAuditRow.seq))
        out["audit"] = [_audit(a) for a in audit]
    return out


def audit_log(db: Database, incident_id: str) -> list[dict]:
    """Every desk action on one incident, oldest first."""
    with db.read() as session:
        return [_audit(a) for a in session.scalars(select(IncidentAuditRow).where(
            IncidentAuditRow.incident_id == incident_id).order_by(IncidentAuditRow.seq))]


def jammed_sites(db: Database) -> list[dict]:
    """Sites with an incident on the air that is active or quiet, with "jammed since"."""
    t = IncidentRow
    stmt = select(t).where(t.state != "closed", t.family != "sensor_fault")
    sites: dict[str, dict] = {}
    with db.read() as session:
        for inc in incident_dicts(session, list(session.scalars(stmt))):
            s = sites.setdefault(inc["site"] or "", {"site": inc["site"] or "", "jammed_since": inc["since"],
                                                     "incidents": 0, "state": "quiet", "severity": "info",
                                                     "unacknowledged_critical": 0})
            s["incidents"] += 1
            s["jammed_since"] = min(s["jammed_since"], inc["since"])
            if inc["state"] == "active":
                s["state"] = "active"
            if ("info", "warning", "critical").index(inc["severity"]) > ("info", "warning", "critical").index(s["severity"]):
                s["severity"] = inc["severity"]
            s["unacknowledged_critical"] += inc["needs_attention"]
    return sorted(sites.values(), key=lambda s: (s["jammed_since"], s["site"]))
