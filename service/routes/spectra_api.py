"""``POST /spectra`` (downsampled PSD per band, for the waterfall) and ``GET /spectra``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from service.deps import (WRITE_RESPONSES, Ctx, SensorAuth, ViewerAuth, check_times, ownership_conflict,
                          stamp_origin, unprocessable)
from service.sensor_clocks import stamp_desk_time
from service.schemas import UtcTime, IngestResult, SpectraBatchIn, SpectrumList
from service.store import OwnershipError, ingest_spectra, query_spectra, to_us

router = APIRouter(tags=["spectra"], responses=WRITE_RESPONSES)


@router.post("/spectra", response_model=IngestResult, dependencies=[Depends(stamp_desk_time)],
             responses={409: {"description": "a spectrum id belongs to another sensor (nothing stored)"}})
async def post_spectra(batch: SpectraBatchIn, who: SensorAuth, ctx: Ctx) -> IngestResult:
    """Store spectra, idempotent by ``id``. Retention (``service.retention``) keeps them all for
    ``spectra_full_s``, then one per ``spectra_thin_every_s`` until ``spectra_keep_s``."""
    check_times(ctx, ((("body", "spectra", i, "time"), sp.time) for i, sp in enumerate(batch.spectra)))
    for i, sp in enumerate(batch.spectra):
        if len(sp.power_dbfs) > ctx.settings.max_spectrum_bins:
            raise unprocessable(("body", "spectra", i, "power_dbfs"),
                                f"{len(sp.power_dbfs)} bins; at most {ctx.settings.max_spectrum_bins}")
        sp.site, sp.sensor = stamp_origin(who, sp.site, sp.sensor)
    try:
        created = await run_in_threadpool(ingest_spectra, ctx.db, batch.spectra)  # one hop (see sensors_api)
    except OwnershipError as exc:
        raise ownership_conflict(ctx, who, exc, 0) from exc
    ctx.metrics.inc("spectrum_spectra_total", created)
    n = len(batch.spectra)
    return IngestResult(accepted=n, created=created, updated=0, unchanged=n - created)


@router.get("/spectra", response_model=SpectrumList)
def get_spectra(who: ViewerAuth, ctx: Ctx,
                site: Annotated[str | None, Query(max_length=64)] = None,
                sensor: Annotated[str | None, Query(max_length=64)] = None,
                band: Annotated[str | None, Query(max_length=64)] = None,
                since: Annotated[UtcTime | None, Query()] = None,
                limit: Annotated[int, Query(ge=1, le=2000)] = 200) -> SpectrumList:
    """Stored spectra, newest first (the rows of a waterfall)."""
    check_times(ctx, [(("query", "since"), since)])
    rows = query_spectra(ctx.db, site, sensor, band, None if since is None else to_us(since), limit)
    return SpectrumList.model_validate({"spectra": rows})
