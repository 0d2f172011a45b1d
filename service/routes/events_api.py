"""``POST /events`` (batch ingest, idempotent by id) and ``GET /events`` (filters, cursor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from service.deps import WRITE_RESPONSES, Ctx, SensorAuth, ViewerAuth, stamp_origin, unprocessable
from service.schemas import UtcTime, EventBatchIn, EventPage, IngestResult, Kind, Severity
from service.store import CursorError, EventFilter, ingest_events, query_events, to_us

router = APIRouter(tags=["events"], responses=WRITE_RESPONSES)


@router.post("/events", response_model=IngestResult,
             responses={403: {"description": "an event names another site or sensor"}})
def post_events(batch: EventBatchIn, who: SensorAuth, ctx: Ctx) -> IngestResult:
    """Store a batch of events (contract shape), all or nothing.

    Idempotent by ``id``: a retry changes nothing; a newer state of an ongoing event replaces
    the stored one; an older state (e.g. a late retry of an ongoing state after the event
    closed) is ignored. ``site``/``sensor`` default to the token's.
    """
    if len(batch.events) > ctx.settings.max_batch_events:
        raise unprocessable(("body", "events"), f"batch of {len(batch.events)} events; at most {ctx.settings.max_batch_events}")
    try:
        for event in batch.events:
            event.site, event.sensor = stamp_origin(who, event.site, event.sensor)
    except HTTPException:
        ctx.metrics.inc("spectrum_events_rejected_total", len(batch.events))
        raise
    outcome = ingest_events(ctx.db, batch.events)
    m = ctx.metrics
    m.inc("spectrum_events_received_total", outcome.accepted)
    m.inc("spectrum_events_created_total", len(outcome.created))
    m.inc("spectrum_events_updated_total", len(outcome.updated))
    for data in outcome.created:
        ctx.broadcaster.publish("event", {"change": "created", "event": data})
    for data in outcome.updated:
        ctx.broadcaster.publish("event", {"change": "updated", "event": data})
    ctx.incidents.after_ingest(outcome.created + outcome.updated)
    return IngestResult(accepted=outcome.accepted, created=len(outcome.created), updated=len(outcome.updated),
                        unchanged=outcome.unchanged)


@router.get("/events", response_model=EventPage)
def get_events(
    who: ViewerAuth,
    ctx: Ctx,
    site: Annotated[list[str] | None, Query(description="repeat for several")] = None,
    sensor: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    since: Annotated[UtcTime | None, Query(description="events still active at or after this time")] = None,
    until: Annotated[UtcTime | None, Query(description="events that started before this time")] = None,
    freq_min_hz: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
    freq_max_hz: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
    ongoing: Annotated[bool | None, Query(description="only ongoing (true) or only closed (false)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> Response:
    """Stored events, newest ``start`` first, filtered (time and frequency filters select
    overlapping events), one page at a time."""
    flt = EventFilter(
        sites=tuple(site or ()), sensors=tuple(sensor or ()), kinds=tuple(kind or ()),
        severities=tuple(severity or ()), since_us=None if since is None else to_us(since),
        until_us=None if until is None else to_us(until), freq_min_hz=freq_min_hz, freq_max_hz=freq_max_hz,
        ongoing=ongoing,
    )
    try:
        events, next_cursor = query_events(ctx.db, flt, min(limit, ctx.settings.page_limit_max), cursor)
    except CursorError as exc:
        raise unprocessable(("query", "cursor"), str(exc)) from exc
    # The stored texts are already the validated output shape: splice them instead of
    # parsing and re-serialising every event (the page stays within the EventPage schema).
    cursor_json = "null" if next_cursor is None else f'"{next_cursor}"'
    body = '{"events":[' + ",".join(events) + '],"next_cursor":' + cursor_json + "}"
    return Response(body, media_type="application/json")
