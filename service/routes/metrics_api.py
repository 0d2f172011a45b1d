"""``GET /metrics``: Prometheus text format (unauthenticated, like most exporters; it holds
counts only, no event data — keep the service on loopback or firewall the port)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from service.deps import Ctx

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=PlainTextResponse)
def get_metrics(ctx: Ctx) -> PlainTextResponse:
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
