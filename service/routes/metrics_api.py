"""``GET /metrics``: Prometheus text format, for a viewer or admin token (Prometheus:
``authorization: {credentials_file: ...}`` in the scrape config). Counts only, no event data,
but they tell an outsider how many sensors are up, so they are not public."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from service.deps import AUTH_RESPONSES, Ctx, ViewerAuth

router = APIRouter(tags=["operations"], responses=AUTH_RESPONSES)


@router.get("/metrics", response_class=PlainTextResponse)
def get_metrics(who: ViewerAuth, ctx: Ctx) -> PlainTextResponse:
    """Counters of ingest, requests and the live stream; gauges of clients and sensors."""
    by_status = ctx.status.counts()
    gauges = {
        "spectrum_sse_clients": ("connected live-stream clients", ctx.broadcaster.clients),
        "spectrum_sensors": ("known sensors by status (as of the last status check)",
                             {(("status", k),): v for k, v in by_status.items()}),
        "spectrum_uptime_seconds": ("seconds since the app started", _uptime(ctx)),
    }
    return PlainTextResponse(ctx.metrics.render(gauges), media_type="text/plain; version=0.0.4; charset=utf-8")


def _uptime(ctx) -> float:
    import time

    return round(time.time() - ctx.metrics.started_s, 3)
