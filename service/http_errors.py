"""Error answers: every 4xx body has ``detail`` (FastAPI's shape) and a one-line ``message``.

Also counts the events of refused ``POST /events`` batches, and answers ``OPTIONS`` (and any
405) with an ``Allow`` header listing every method the path has.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

MAX_ERRORS_LISTED = 20
EVENTS_PATH = "/api/v1/events"
CANDIDATE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def summary(detail) -> str:
    """One line from a ``detail``: a string as it is, a list of loc/msg errors as ``loc: msg``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail:
        first = detail[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        more = f" (and {len(detail) - 1} more)" if len(detail) > 1 else ""
        return f"{where}: {first.get('msg', 'invalid')}{more}"
    return "invalid request"


def count_refused_events(request: Request, body) -> None:
    """Refused ``POST /events``: count its events (a body whose events cannot be counted: one)."""
    if request.method != "POST" or request.url.path != EVENTS_PATH:
        return
    events = body.get("events") if isinstance(body, dict) else None
    n = len(events) if isinstance(events, list) and events else 1
    request.app.state.ctx.metrics.inc("spectrum_events_rejected_total", n)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 listing where and what (``loc``, ``msg``, ``type``), without echoing the input back
    (it may be megabytes, or hold NaN that JSON cannot carry); ``message`` sums it up."""
    errors = exc.errors()
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in errors[:MAX_ERRORS_LISTED]]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    message = f"{summary(detail[:1])}{more}; nothing was stored" if request.method == "POST" else \
        f"{summary(detail[:1])}{more}"
    count_refused_events(request, exc.body)
    return JSONResponse({"message": message, "detail": detail}, status_code=422)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """The error with a ``message``; a 405 lists every method of the path in ``Allow``."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    message = summary(exc.detail)
    if request.method == "POST" and exc.status_code in (409, 422):
        message += "; nothing was stored"
    return JSONResponse({"message": message, "detail": exc.detail}, status_code=exc.status_code, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (plus OPTIONS), asked of each route."""
    methods = {"OPTIONS"}
    path = request.url.path
    for route in request.app.router.routes:
        if isinstance(route, Mount):  # static files
            if route.matches({"type": "http", "path": path, "method": "GET", "root_path": ""})[0] == Match.FULL:
                methods.update({"GET", "HEAD"})
            continue
        for method in CANDIDATE_METHODS:
            if route.matches({"type": "http", "path": path, "method": method, "root_path": ""})[0] == Match.FULL:
                methods.add(method)
    return sorted(methods)


async def options(request: Request) -> Response:
    """``OPTIONS``: 204 with ``Allow`` (no CORS: the dashboard is served from the same origin)."""
    methods = allowed_methods(request)
    if methods == ["OPTIONS"]:
        return JSONResponse({"message": "not found", "detail": "Not Found"}, status_code=404)
    return Response(status_code=204, headers={"Allow": ", ".join(methods)})
