"""``GET /stream``: Server-Sent Events of new and updated events and sensor status changes.

Messages: ``event: event`` (data ``{"change": "created"|"updated", "event": {...}}``),
``event: status`` (data ``{"site", "sensor", "status", "previous", "last_seen"}``),
``event: incident`` (data ``{"change", "incident"}``, see :mod:`service.incident_feed`) and one
``event: notice`` (data ``{"reason": ...}``) before the server ends a stream: a client that
reads too slowly, or a token revoked while its stream was open. An idle stream gets a
``: heartbeat`` comment every ``sse_heartbeat_s``.

The wire format, keep-alive pings and proxy headers are FastAPI's own SSE support
(``fastapi.sse.EventSourceResponse`` with a generator endpoint), not ``sse-starlette``: the
latter patches uvicorn's exit handler process-wide at import, which the app factory (many
apps per process in tests and benchmarks) should not inherit. The fan-out hub is
``service.broadcast``; no SSE library provides one.

Authentication: ``Authorization: Bearer`` only (``?access_token=`` is refused with 400); a
browser reads the stream with ``fetch()`` and a streaming body reader, not ``EventSource``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.sse import EventSourceResponse, ServerSentEvent

from service.broadcast import Client, TooManyStreams
from service.deps import AUTH_RESPONSES, AppContext, Ctx, ViewerAuth

router = APIRouter(tags=["stream"], responses=AUTH_RESPONSES)

SLOW_CLIENT = "slow client: too many messages waiting; reconnect and catch up with GET /api/v1/events"
REVOKED = "the token was revoked"


async def open_stream(who: ViewerAuth, ctx: Ctx) -> AsyncIterator[Client]:
    """Subscribe before the response starts (so too many streams is a plain 429); unsubscribe
    when the response ends, however it ends (client gone, revoked, shut down)."""
    try:
        client = ctx.broadcaster.subscribe(who.token_id)
    except TooManyStreams as exc:
        ctx.metrics.inc("spectrum_sse_refused_total")
        raise HTTPException(429, str(exc)) from None
    try:
        yield client
    finally:
        ctx.broadcaster.unsubscribe(client)


@router.get("/stream", response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "an endless SSE stream"}})
async def get_stream(client: Annotated[Client, Depends(open_stream)], ctx: Ctx) -> AsyncIterator[ServerSentEvent]:
    """Live events and status changes (``Authorization: Bearer`` only)."""
    async for message in _messages(ctx, client):
        yield message


async def _messages(ctx: AppContext, client: Client) -> AsyncIterator[ServerSentEvent]:
    heartbeat_s = ctx.settings.sse_heartbeat_s
    yield ServerSentEvent(comment="connected", retry=3000)
    while True:
        try:
            kind, data = client.queue.get_nowait()
            yield ServerSentEvent(event=kind, raw_data=data)
            continue
        except asyncio.QueueEmpty:
            pass
        if client.dropped:
            ctx.metrics.inc("spectrum_sse_dropped_clients_total")
            yield ServerSentEvent(event="notice", data={"reason": SLOW_CLIENT})
            return
        if client.closed:
            if client.reason:
                yield ServerSentEvent(event="notice", data={"reason": client.reason})
            return
        client.wake.clear()
        try:
            await asyncio.wait_for(client.wake.wait(), heartbeat_s)
        except TimeoutError:
            yield ServerSentEvent(comment="heartbeat")
