"""``GET /incidents`` (filters, cursor), ``GET /incidents/{id}`` (with events and audit log),
``GET /incidents/sites`` (jammed sites and since when), and the desk's actions:
``POST /incidents/{id}/acknowledge|assign|notes|resolve`` (operator or admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from service.deps import AUTH_RESPONSES, Ctx, OperatorAuth, ViewerAuth, unprocessable
from service.incident_desk import UnknownIncident, act
from service.incident_queries import CursorError, IncidentFilter, audit_log, incident_detail, jammed_sites, query_incidents
from service.incident_schemas import (AcknowledgeIn, AssignIn, AuditEntry, IncidentDetail, IncidentPage, IncidentState,
                                      NoteIn, ResolveIn, SiteJamList)
from service.schemas import Severity, UtcTime
from service.store import to_us

router = APIRouter(tags=["incidents"], responses=AUTH_RESPONSES)
NOT_FOUND = {404: {"description": "no incident with this id"}}


@router.get("/incidents", response_model=IncidentPage)
def get_incidents(
    who: ViewerAuth,
    ctx: Ctx,
    site: Annotated[list[str] | None, Query(description="repeat for several")] = None,
    state: Annotated[list[IncidentState] | None, Query(description="active, quiet, closed; repeat for several")] = None,
    severity: Annotated[list[Severity] | None, Query(description="peak severity; repeat for several")] = None,
    since: Annotated[UtcTime | None, Query(description="incidents active at or after this time")] = None,
    until: Annotated[UtcTime | None, Query(description="incidents that began before this time")] = None,
    acknowledged: Annotated[bool | None, Query(description="only acknowledged (true) or unacknowledged (false)")] = None,
    wide_area: Annotated[str, Query(pattern="^(once|each)$", description="once: a wide-area group is listed as its "
                                    "earliest incident (default); each: every site's incident")] = "once",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> IncidentPage:
    """Incidents, newest first onset first (stable order: bursts do not reorder the list)."""
    flt = IncidentFilter(sites=tuple(site or ()), states=tuple(state or ()), severities=tuple(severity or ()),
                         since_us=None if since is None else to_us(since),
                         until_us=None if until is None else to_us(until), acknowledged=acknowledged,
                         wide_area_once=wide_area == "once")
    try:
        incidents, next_cursor = query_incidents(ctx.db, flt, min(limit, ctx.settings.page_limit_max), cursor)
    except CursorError as exc:
        raise unprocessable(("query", "cursor"), str(exc)) from exc
    return IncidentPage.model_validate({"incidents": incidents, "next_cursor": next_cursor})


@router.get("/incidents/sites", response_model=SiteJamList)
def get_jammed_sites(who: ViewerAuth, ctx: Ctx) -> SiteJamList:
    """Sites jammed now (an incident on the air that is active or quiet), earliest "jammed since" first."""
    return SiteJamList.model_validate({"sites": jammed_sites(ctx.db)})


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, responses=NOT_FOUND)
def get_incident(incident_id: str, who: ViewerAuth, ctx: Ctx) -> IncidentDetail:
    """One incident with its events (earliest first) and every desk action on it."""
    detail = incident_detail(ctx.db, incident_id)
    if detail is None:
        raise HTTPException(404, f"no incident with id {incident_id!r}")
    return IncidentDetail.model_validate(detail)


@router.get("/incidents/{incident_id}/audit", response_model=list[AuditEntry], responses=NOT_FOUND)
def get_audit(incident_id: str, who: ViewerAuth, ctx: Ctx) -> list[AuditEntry]:
    """The audit log of one incident, oldest first."""
    if incident_detail(ctx.db, incident_id, max_events=0) is None:
        raise HTTPException(404, f"no incident with id {incident_id!r}")
    return [AuditEntry.model_validate(a) for a in audit_log(ctx.db, incident_id)]


def _act(ctx, incident_id: str, who, action: str, detail: dict) -> IncidentDetail:
    try:
        ids = act(ctx.db, incident_id, who, action, detail)
    except UnknownIncident as exc:
        raise HTTPException(404, str(exc)) from exc
    ctx.incidents.after_action(action, ids)
    return IncidentDetail.model_validate(incident_detail(ctx.db, incident_id))


ACTION_RESPONSES = {**NOT_FOUND, 403: {"description": "only operator and admin tokens act on incidents"}}


@router.post("/incidents/{incident_id}/acknowledge", response_model=IncidentDetail, responses=ACTION_RESPONSES)
def acknowledge(incident_id: str, body: AcknowledgeIn, who: OperatorAuth, ctx: Ctx) -> IncidentDetail:
    """Mark the incident (and the rest of its wide-area group) as seen."""
    return _act(ctx, incident_id, who, "acknowledge", {"note": body.note})


@router.post("/incidents/{incident_id}/assign", response_model=IncidentDetail, responses=ACTION_RESPONSES)
def assign(incident_id: str, body: AssignIn, who: OperatorAuth, ctx: Ctx) -> IncidentDetail:
    """Assign the incident to a field team (acknowledges it too)."""
    return _act(ctx, incident_id, who, "assign", {"team": body.team, "note": body.note})


@router.post("/incidents/{incident_id}/notes", response_model=IncidentDetail, responses=ACTION_RESPONSES)
def add_note(incident_id: str, body: NoteIn, who: OperatorAuth, ctx: Ctx) -> IncidentDetail:
    """Add a note to the incident's audit log."""
    return _act(ctx, incident_id, who, "note", {"text": body.text})


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentDetail, responses=ACTION_RESPONSES)
def resolve(incident_id: str, body: ResolveIn, who: OperatorAuth, ctx: Ctx) -> IncidentDetail:
    """Resolve the incident with an outcome (acknowledges it too)."""
    return _act(ctx, incident_id, who, "resolve", {"outcome": body.outcome, "note": body.note})
