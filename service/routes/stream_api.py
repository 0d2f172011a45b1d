"""``GET /stream``: Server-Sent Events of new and updated events and sensor status changes.

Messages: ``event: event`` (data ``{"change": "created"|"updated", "event": {...}}``),
``event: status`` (data ``{"site", "sensor", "status", "previous", "last_seen"}``),
``event: incident`` (data ``{"change", "incident"}``, see :mod:`service.incident_feed`) and, for a
client that reads too slowly, one ``event: notice`` before the stream ends. An idle stream
gets a ``: heartbeat`` comment every ``sse_heartbeat_s``.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from service.broadcast import Client, sse_message
from service.deps import AUTH_RESPONSES, Ctx, StreamAuth

router = APIRouter(tags=["stream"], responses=AUTH_RESPONSES)


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "an endless SSE stream"}})
async def get_stream(who: StreamAuth, ctx: Ctx) -> StreamingResponse:
    """Live events and status changes (``Authorization: Bearer`` or ``?access_token=``)."""
    client = ctx.broadcaster.subscribe()
    return StreamingResponse(_frames(ctx, client), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _frames(ctx, client: Client):
    heartbeat_s = ctx.settings.sse_heartbeat_s
    try:
        yield "retry: 3000\n: connected\n\n"
        while True:
            if client.dropped:
                ctx.metrics.inc("spectrum_sse_dropped_clients_total")
                yield sse_message("notice", {"reason": "slow client: too many messages waiting; reconnect and "
                                                       "catch up with GET /api/v1/events"})
                return
            try:
                yield client.queue.get_nowait()
                continue
            except asyncio.QueueEmpty:
                pass
            if client.closed:
                return
            client.wake.clear()
            try:
                await asyncio.wait_for(client.wake.wait(), heartbeat_s)
            except TimeoutError:
                yield ": heartbeat\n\n"
    finally:
        ctx.broadcaster.unsubscribe(client)
