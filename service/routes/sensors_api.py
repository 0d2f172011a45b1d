"""``POST /heartbeats`` (sensor health), ``GET /sensors`` and ``GET /sites`` (with status)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from service.deps import WRITE_RESPONSES, Ctx, SensorAuth, ViewerAuth, check_times, stamp_origin
from service.schemas import HeartbeatIn, HeartbeatResult, SensorList, SiteList, Status
from service.sensor_clocks import SensorClocks, clock_fields, get_sensor_clocks, stamp_desk_time
from service.store import list_sensors, record_heartbeat, summarize_sites, us_to_iso

router = APIRouter(tags=["sensors"], responses=WRITE_RESPONSES)


# The ingest routes are async with their storing in the thread pool: a plain-def route takes two
# hops through the pool per request (FastAPI validates its answer there too).
@router.post("/heartbeats", response_model=HeartbeatResult, dependencies=[Depends(stamp_desk_time)])
async def post_heartbeat(beat: HeartbeatIn, who: SensorAuth, ctx: Ctx,
                         clocks: Annotated[SensorClocks, Depends(get_sensor_clocks)]) -> HeartbeatResult:
    """Record a sensor's health; it is ``online`` from now on until heartbeats stop. Its clock
    offset (``clock_offset_s``) corrects its events' times from now on."""
    check_times(ctx, [(("body", "time"), beat.time)])
    beat.site, beat.sensor = stamp_origin(who, beat.site, beat.sensor)
    seen_us = await run_in_threadpool(record_heartbeat, ctx.db, beat)
    clocks.heard(beat.site, beat.sensor, {"clock_offset_s": beat.clock_offset_s,
                                          "clock_offset_rtt_s": beat.clock_offset_rtt_s})
    ctx.metrics.inc("spectrum_heartbeats_total")
    ctx.status.heard(beat.site, beat.sensor, us_to_iso(seen_us))
    return HeartbeatResult(site=beat.site, sensor=beat.sensor, status="online")


@router.get("/sensors", response_model=SensorList)
def get_sensors(who: ViewerAuth, ctx: Ctx, site: Annotated[str | None, Query(max_length=64)] = None,
                status: Annotated[Status | None, Query()] = None) -> SensorList:
    """Every known sensor (from heartbeats, events and sensor tokens) with its status."""
    sensors = list_sensors(ctx.db, ctx.settings.online_s, ctx.settings.stale_s, site)
    if status is not None:
        sensors = [s for s in sensors if s["status"] == status]
    for s in sensors:
        s.update(clock_fields(s["heartbeat"]))
    return SensorList.model_validate({"sensors": sensors})


@router.get("/sites", response_model=SiteList)
def get_sites(who: ViewerAuth, ctx: Ctx) -> SiteList:
    """Every site with its sensors counted by status."""
    sensors = list_sensors(ctx.db, ctx.settings.online_s, ctx.settings.stale_s)
    return SiteList.model_validate({"sites": summarize_sites(sensors)})
