"""``GET /metrics``: Prometheus text format, for a viewer or admin token (Prometheus:
``authorization: {credentials_file: ...}`` in the scrape config). Counts only, no event data,
but they tell an outsider how many sensors are up, so they are not public."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import Response

from service.deps import AUTH_RESPONSES, Ctx, ViewerAuth
from service.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"], responses=AUTH_RESPONSES)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
def get_metrics(who: ViewerAuth, ctx: Ctx) -> Response:
    """Counters of ingest, requests and the live stream; gauges of clients and sensors."""
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE)


def gauges(ctx) -> dict:
    """The gauges read at each scrape (see :meth:`service.metrics.Metrics.add_gauges`)."""
    return {
        "spectrum_sse_clients": ("connected live-stream clients", ctx.broadcaster.clients),
        "spectrum_sensors": ("known sensors by status (as of the last status check)",
                             {(("status", k),): v for k, v in ctx.status.counts().items()}),
        "spectrum_uptime_seconds": ("seconds since the app started", round(time.time() - ctx.metrics.started_s, 3)),
    }
