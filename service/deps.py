"""FastAPI dependencies: the app context, and bearer-token authentication with roles.

401 for a missing, malformed, unknown or revoked token; 403 for a valid token of the wrong
role (site checks live in the routes, which know the body); 429 for an address that failed
authentication too often lately (``auth_failures_max`` in ``auth_failures_window_s``). The
token comes from the ``Authorization: Bearer`` header only, never from the URL (URLs end up
in logs and browser history).

Reading roles are ranked (``READ_RANK``): a route names the least role it needs, so a role
between viewer and admin (the desk's ``operator``) is one line here.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, get_args, get_origin

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from service.auth import Principal, PrincipalCache, authenticate_digest, hash_token
from service.auth_limiter import FailureLimiter
from service.bounds import window_errors
from service.broadcast import Broadcaster
from service.db import Database
from service.metrics import Metrics
from service.settings import Settings
from service.status import StatusTracker

log = logging.getLogger("spectrum.service")

READ_RANK = {"viewer": 10, "operator": 20, "admin": 30}  # who may read; higher ranks may do what lower ones may


@dataclass
class AppContext:
    """Everything a request may need, built once per app by the factory."""

    settings: Settings
    db: Database
    broadcaster: Broadcaster
    metrics: Metrics
    status: StatusTracker
    auth_limiter: FailureLimiter
    principals: PrincipalCache
    incidents: object = None  # service.incident_feed.IncidentFeed
    notifier: object = None  # service.webhooks.Notifier


# The cheap dependencies below are ``async def``: FastAPI runs a plain ``def`` dependency in
# its thread pool, one hop per dependency and request, which cost more than their work.


async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]

bearer = HTTPBearer(auto_error=False, description="a token from `spectrum token create`")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_principal(request: Request, ctx: Ctx,
                        cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The caller, from ``Authorization: Bearer TOKEN``; 429 while its address is locked out.
    A token found valid is not looked up again (``ctx.principals``, re-checked every ``auth_cache_s``)."""
    if "access_token" in request.query_params:
        ctx.metrics.inc("spectrum_auth_failures_total")
        raise HTTPException(400, "access_token in the URL is not accepted (URLs end up in logs); "
                                 "send the header Authorization: Bearer TOKEN")
    address = _address(request)
    wait_s = ctx.auth_limiter.retry_after_s(address)
    if wait_s is not None:
        ctx.metrics.inc("spectrum_auth_throttled_total")
        raise HTTPException(429, f"too many failed authentications from {address}; retry in {wait_s:.0f} s",
                            headers={"Retry-After": str(max(1, round(wait_s)))})
    principal = None
    if cred:
        digest = hash_token(cred.credentials)
        principal = ctx.principals.get(digest)
        if principal is None:
            principal = await run_in_threadpool(authenticate_digest, ctx.db, digest)
            if principal is not None:
                ctx.principals.put(digest, principal)
    if principal is None:
        ctx.metrics.inc("spectrum_auth_failures_total")
        ctx.auth_limiter.failed(address)
        raise HTTPException(401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})
    return principal


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _require(*roles: str):
    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            needs = " or ".join(_article(r) for r in roles)
            raise HTTPException(403, f"{_article(principal.role)} token may not do this (needs {needs} token)")
        return principal

    return check


def at_least(role: str) -> tuple[str, ...]:
    """The reading roles ranked at or above ``role``."""
    return tuple(r for r, rank in READ_RANK.items() if rank >= READ_RANK[role])


SensorAuth = Annotated[Principal, Depends(_require("sensor"))]
ViewerAuth = Annotated[Principal, Depends(_require(*at_least("viewer")))]
OperatorAuth = Annotated[Principal, Depends(_require(*at_least("operator")))]  # viewer + acts on incidents
AdminAuth = Annotated[Principal, Depends(_require(*at_least("admin")))]


def stamp_origin(principal: Principal, site: str | None, sensor: str | None) -> tuple[str, str]:
    """The (site, sensor) a sensor token writes for: missing values come from the token,
    other values are refused with 403."""
    if site not in (None, principal.site) or sensor not in (None, principal.sensor):
        raise HTTPException(403, f"this token writes only for site {principal.site!r}, sensor {principal.sensor!r}; "
                                 f"got site {site!r}, sensor {sensor!r}")
    return principal.site, principal.sensor


def ownership_conflict(ctx: AppContext, who: Principal, exc: Exception, events: int) -> HTTPException:
    """409 for a write that names another sensor's id; counted and logged (it is an attack or a bug)."""
    ctx.metrics.inc("spectrum_ownership_conflicts_total")
    ctx.metrics.inc("spectrum_events_rejected_total", events)
    log.warning("refused a write by token %s (site %s, sensor %s): %s", who.token_id, who.site, who.sensor, exc)
    return HTTPException(409, str(exc))


def unprocessable(loc: tuple[str | int, ...], message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors (``detail`` = list of loc/msg/type)."""
    return HTTPException(422, [{"loc": list(loc), "msg": message, "type": "value_error"}])


async def refuse_repeated_query(request: Request) -> None:
    """422 for a query parameter given twice that takes one value (``?site=a&site=b`` on a route
    whose ``site`` is a single value would silently use one of them)."""
    route = request.scope.get("route")
    known = _query_params(getattr(route, "dependant", None))
    if known is not None:  # a route of ours: a parameter it does not know is a mistake, not to be ignored
        unknown = sorted(set(request.query_params) - set(known) - {"access_token"})  # that one gets its own 400
        if unknown:
            raise HTTPException(422, [{"loc": ["query", unknown[0]], "type": "value_error",
                                       "msg": "unknown query parameter for this route"}])
    counts = Counter(key for key, _ in request.query_params.multi_items())
    repeated = {key for key, n in counts.items() if n > 1}
    if not repeated:
        return
    bad = sorted(repeated - _list_params(route))
    if bad:
        raise HTTPException(422, [{"loc": ["query", bad[0]], "type": "value_error",
                                   "msg": "given more than once; this parameter takes one value"}])


def refuse_nul_characters(request: Request) -> None:
    """422 for a path or query value holding a NUL character: no id or name has one, and
    PostgreSQL cannot even compare one (its text types cannot hold it; SQLite's can)."""
    for where, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        for key, value in items:
            if isinstance(value, str) and "\x00" in value:
                raise unprocessable((where, key), "contains a NUL character")


def _query_params(dependant) -> dict | None:
    """Query parameters a route declares, its sub-dependencies' included (None: not an API route)."""
    if dependant is None:
        return None
    found = {p.alias: p for p in dependant.query_params}
    for sub in dependant.dependencies:
        found.update(_query_params(sub) or {})
    return found


def _list_params(route) -> set[str]:
    """Names of the route's query parameters that take several values."""
    params = getattr(getattr(route, "dependant", None), "query_params", ())
    return {p.alias for p in params if _is_list(p.field_info.annotation)}


def _is_list(annotation) -> bool:
    if get_origin(annotation) in (list, tuple, set):
        return True
    return any(_is_list(arg) for arg in get_args(annotation))


def check_times(ctx: AppContext, times: Iterable[tuple[tuple[str | int, ...], datetime | None]]) -> None:
    """422 naming every time outside the server's window (``max_age_s`` back, ``max_ahead_s`` ahead)."""
    errors = window_errors(times, ctx.settings.max_age_s, ctx.settings.max_ahead_s)
    if errors:
        raise HTTPException(422, errors)


AUTH_RESPONSES: dict[int | str, dict] = {
    400: {"description": "a token in the URL (send it in the Authorization header)"},
    401: {"description": "missing, unknown or revoked bearer token"},
    403: {"description": "the token's role may not do this, or it writes for another site or sensor"},
    429: {"description": "too many failed authentications from this address; see Retry-After"},
}
WRITE_RESPONSES: dict[int | str, dict] = {**AUTH_RESPONSES, 413: {"description": "body over the size limit"}}
