"""``POST /events`` (batch ingest, idempotent by id) and ``GET /events`` (filters, cursor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from service.deps import (WRITE_RESPONSES, Ctx, SensorAuth, ViewerAuth, check_times, ownership_conflict,
                          stamp_origin, unprocessable)
from service.schemas import MAX_FREQ_HZ, EventBatchIn, EventPage, IngestResult, Kind, Name, Severity, UtcTime
from service.sensor_clocks import SensorClocks, get_sensor_clocks, stamp_desk_time
from service.store import CursorError, EventFilter, OwnershipError, ingest_events, query_events, to_us

router = APIRouter(tags=["events"], responses=WRITE_RESPONSES)


@router.post("/events", response_model=IngestResult, dependencies=[Depends(stamp_desk_time)],
             responses={403: {"description": "an event names another site or sensor"},
                        409: {"description": "an event id belongs to another sensor (nothing stored)"}})
def post_events(batch: EventBatchIn, who: SensorAuth, ctx: Ctx,
                clocks: Annotated[SensorClocks, Depends(get_sensor_clocks)]) -> IngestResult:
    """Store a batch of events (contract shape), all or nothing.

    Idempotent by ``id``: a retry changes nothing; a newer state of an ongoing event replaces
    the stored one; an older state (e.g. a late retry of an ongoing state after the event
    closed) is ignored. ``site``/``sensor`` default to the token's. Times are corrected for the
    sensor's reported clock offset (``service.sensor_clocks``), its own kept as ``sensor_start``.
    """
    try:
        if len(batch.events) > ctx.settings.max_batch_events:
            raise unprocessable(("body", "events"), f"batch of {len(batch.events)} events; "
                                                    f"at most {ctx.settings.max_batch_events}")
        for event in batch.events:
            event.site, event.sensor = stamp_origin(who, event.site, event.sensor)
        clocks.correct_events(ctx.db, batch.events)  # before the window check: that is on the desk's clock
        check_times(ctx, ((("body", "events", i, name), getattr(e, name)) for i, e in enumerate(batch.events)
                          for name in ("start", "end", "updated")))
    except HTTPException:
        ctx.metrics.inc("spectrum_events_rejected_total", len(batch.events))
        raise
    try:
        outcome = ingest_events(ctx.db, batch.events)
    except OwnershipError as exc:
        raise ownership_conflict(ctx, who, exc, len(batch.events)) from exc
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
    site: Annotated[list[Name] | None, Query(description="repeat for several", max_length=100)] = None,
    sensor: Annotated[list[Name] | None, Query(max_length=100)] = None,
    kind: Annotated[list[Kind] | None, Query(max_length=20)] = None,
    severity: Annotated[list[Severity] | None, Query(max_length=10)] = None,
    since: Annotated[UtcTime | None, Query(description="events still active at or after this time")] = None,
    until: Annotated[UtcTime | None, Query(description="events that started before this time")] = None,
    freq_min_hz: Annotated[float | None, Query(ge=0, le=MAX_FREQ_HZ, allow_inf_nan=False)] = None,
    freq_max_hz: Annotated[float | None, Query(ge=0, le=MAX_FREQ_HZ, allow_inf_nan=False)] = None,
    ongoing: Annotated[bool | None, Query(description="only ongoing (true) or only closed (false)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> Response:
    """Stored events, newest ``start`` first, filtered (time and frequency filters select
    overlapping events), one page at a time."""
    check_query(ctx, since, until, freq_min_hz, freq_max_hz)
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


def check_query(ctx, since, until, freq_min_hz: float | None, freq_max_hz: float | None) -> None:
    """422 for times outside the server's window or ranges given upside down."""
    check_times(ctx, ((("query", "since"), since), (("query", "until"), until)))
    if since is not None and until is not None and until < since:
        raise unprocessable(("query", "until"), "until is before since")
    if freq_min_hz is not None and freq_max_hz is not None and freq_max_hz < freq_min_hz:
        raise unprocessable(("query", "freq_max_hz"), "freq_max_hz is below freq_min_hz")
