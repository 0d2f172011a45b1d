"""The app factory: ``create_app(settings)`` builds one independent service instance.

No engine, settings or broadcaster exists at import time; everything lives on the app
(``app.state.ctx``), so tests and benchmarks can build as many apps as they like.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.auth import PrincipalCache, revoked_among
from service.auth_limiter import FailureLimiter
from service.broadcast import Broadcaster
from service.db import Database, now_us
from service.deps import AppContext, refuse_nul_characters, refuse_repeated_query
from service.http_errors import http_error, options, validation_error
from service.metrics import API_PREFIX, Metrics, RequestMetricsMiddleware
from service.routes import (docs_api, events_api, health_api, metrics_api, sensors_api, spectra_api, stream_api,
                            tokens_api)
from service.routes import desk_api, incidents_api, reports_api, webhooks_api
from service.routes import campaigns_api, location_api
from service.security_headers import SecurityHeadersMiddleware
from service.settings import Settings
from service.site_registry import load_registry
from service.retention import RetentionPolicy, SpectraRetention

STATIC_DIR = Path(__file__).parent / "static"
STREAM_GAP = "the live stream was interrupted; reconnect and catch up with GET /api/v1/events"
RETENTION_EVERY_S = 60.0  # how often spectra retention runs (a pass only touches what aged since the last)

log = logging.getLogger("spectrum.service")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to ``Settings()`` (environment variables ``SPECTRUM_*``).

    Raises
    ------
    service.service_errors.StorageError
        The database URL is invalid or the database cannot be opened or written.
    """
    settings = settings or Settings()
    from spectrum import __version__

    registry = load_registry(settings.site_registry)  # a bad registry file stops the start, naming the line
    db = Database(settings.db_url, sqlite_synchronous=settings.sqlite_synchronous)  # fails here, before serving, on a bad URL or path
    broadcaster = Broadcaster(settings.sse_queue_size, settings.max_streams_per_token)
    shared = db.dialect == "postgresql"  # several workers may serve this database: fan out through it
    retention = SpectraRetention(db, RetentionPolicy(settings.spectra_full_s, settings.spectra_thin_every_s,
                                                     settings.spectra_keep_s))
    from service.status import StatusTracker

    ctx = AppContext(settings=settings, db=db, broadcaster=broadcaster, metrics=Metrics(),
                     status=StatusTracker(db, settings, broadcaster, shared=shared),
                     auth_limiter=FailureLimiter(settings.auth_failures_max, settings.auth_failures_window_s),
                     principals=PrincipalCache(settings.auth_cache_s))
    from service.incident_feed import IncidentFeed
    from service.webhooks import Notifier

    ctx.notifier = Notifier(db, settings.webhook_timeout_s, settings.webhook_max_attempts, settings.webhook_backoff_s)
    ctx.incidents = IncidentFeed(db, settings, broadcaster, ctx.notifier, registry)

    ctx.metrics.add_gauges(lambda: metrics_api.gauges(ctx))
    fanout = _fanout(ctx) if shared else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        broadcaster.attach(asyncio.get_running_loop())
        await asyncio.to_thread(ctx.status.prime)
        if fanout is not None and not await asyncio.to_thread(fanout.start):
            log.warning("live stream: not listening to the database yet; streams stay quiet until it is")
        tasks = [asyncio.create_task(_housekeeping(ctx, retention)), asyncio.create_task(_watch_stream_tokens(ctx))]
        if settings.auth_cache_s > 0:
            tasks.append(asyncio.create_task(_sweep_cached_tokens(ctx)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if fanout is not None:
                await asyncio.to_thread(fanout.stop)
            broadcaster.close()
            ctx.notifier.close()
            db.dispose()

    app = FastAPI(
        title="spectrum desk",
        version=__version__,
        summary="Jamming events from field sensors: authenticated ingest, query, live stream.",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,  # larger bodies: 413, before any parsing
        docs_url=None, redoc_url=None,  # served offline by docs_api
        dependencies=[Depends(refuse_repeated_query), Depends(refuse_nul_characters)],
    )
    app.state.ctx = ctx
    app.state.site_registry = registry
    for module in (events_api, sensors_api, spectra_api, stream_api, tokens_api, incidents_api, webhooks_api,
                   reports_api, desk_api):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(location_api.router, prefix=API_PREFIX)
    app.include_router(campaigns_api.router, prefix=API_PREFIX)
    for module in (health_api, metrics_api, docs_api):
        app.include_router(module.router)
    app.add_middleware(RequestMetricsMiddleware, metrics=ctx.metrics)
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(docs_api.ASSETS_URL, docs_api.assets(), name="docs-assets")

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.add_api_route("/{path:path}", options, methods=["OPTIONS"], include_in_schema=False)
    return app


def _fanout(ctx: AppContext):
    """The PostgreSQL fan-out of the live stream (:mod:`service.pg_fanout`), made the broadcaster's relay."""
    from service.pg_fanout import PgFanout

    def heard(kind: str, text: str) -> None:
        if kind == "status" and not ctx.status.heard_change(json.loads(text)):
            return  # another worker announced the same change first
        ctx.broadcaster.deliver(kind, text)

    fanout = PgFanout(ctx.db, heard, lambda: ctx.broadcaster.end_all_soon(STREAM_GAP))
    ctx.broadcaster.relay = fanout.send
    return fanout


async def _watch_stream_tokens(ctx: AppContext) -> None:
    """End the open streams of tokens revoked since they connected (by the API or the CLI)."""
    while True:
        await asyncio.sleep(ctx.settings.stream_auth_check_s)
        held = ctx.broadcaster.token_ids()
        if not held:
            continue
        try:
            revoked = await asyncio.to_thread(revoked_among, ctx.db, held)
        except asyncio.CancelledError:
            raise
        except Exception:  # a transient database error must not end the loop
            log.exception("checking the tokens of open streams failed; retrying")
            continue
        if revoked:
            ended = ctx.broadcaster.close_tokens(revoked, "the token was revoked")
            ctx.metrics.inc("spectrum_sse_revoked_total", ended)


async def _sweep_cached_tokens(ctx: AppContext) -> None:
    """Forget cached tokens revoked elsewhere (the CLI, another worker), every ``auth_cache_s``."""
    while True:
        await asyncio.sleep(ctx.settings.auth_cache_s)
        try:
            await asyncio.to_thread(ctx.principals.sweep, ctx.db)
        except asyncio.CancelledError:
            raise
        except Exception:  # a transient database error must not end the loop (cached tokens expire meanwhile)
            log.exception("checking the cached tokens failed; retrying")


async def _housekeeping(ctx: AppContext, retention: SpectraRetention) -> None:
    """Announce sensor status changes; apply spectra retention now and then."""
    since_prune_s = RETENTION_EVERY_S
    period_s = ctx.settings.status_check_s
    while True:
        await asyncio.sleep(period_s)
        try:
            await asyncio.to_thread(ctx.status.check)
            await asyncio.to_thread(ctx.incidents.refresh)
            since_prune_s += period_s
            if since_prune_s >= RETENTION_EVERY_S:
                since_prune_s = 0.0
                outcome = await asyncio.to_thread(retention.apply, now_us())
                ctx.metrics.inc("spectrum_spectra_pruned_total", outcome.deleted)
        except asyncio.CancelledError:
            raise
        except Exception:  # a transient database error must not end the loop
            log.exception("housekeeping failed; retrying in %.0f s", period_s)
