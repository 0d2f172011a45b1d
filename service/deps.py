"""FastAPI dependencies: the app context, and bearer-token authentication with roles.

401 for a missing, malformed, unknown or revoked token; 403 for a valid token of the wrong
role (site checks live in the routes, which know the body).
"""


from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.auth import Principal, authenticate
from service.broadcast import Broadcaster
from service.db import Database
from service.metrics import Metrics
from service.settings import Settings
from service.status import StatusTracker


@dataclass
class AppContext:
    """Everything a request may need, built once per app by the factory."""

    settings: Settings
    db: Database
    broadcaster: Broadcaster
    metrics: Metrics
    status: StatusTracker
    incidents: object = None  # service.incident_feed.IncidentFeed
    notifier: object = None  # service.webhooks.Notifier


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]

bearer = HTTPBearer(auto_error=False, description="a token from `spectrum token create`")


def _principal(ctx: AppContext, token: str | None) -> Principal:
    principal = authenticate(ctx.db, token) if token else None
    if principal is None:
        ctx.metrics.inc("spectrum_auth_failures_total")
        raise HTTPException(401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})
    return principal


def get_principal(ctx: Ctx, cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The caller, from ``Authorization: Bearer TOKEN``."""
    return _principal(ctx, cred.credentials if cred else None)


def get_stream_principal(
    ctx: Ctx,
    cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    access_token: Annotated[str | None, Query(description="for browsers' EventSource, which cannot set headers")] = None,
) -> Principal:
    """Like :func:`get_principal`, also accepting ``?access_token=`` (live stream only)."""
    return _principal(ctx, cred.credentials if cred else access_token)


def _require(*roles: str, stream: bool = False):
    source = get_stream_principal if stream else get_principal

    def check(principal: Annotated[Principal, Depends(source)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"a {principal.role} token may not do this (needs {' or '.join(roles)})")
        return principal

    return check


SensorAuth = Annotated[Principal, Depends(_require("sensor"))]
ViewerAuth = Annotated[Principal, Depends(_require("viewer", "operator", "admin"))]
StreamAuth = Annotated[Principal, Depends(_require("viewer", "operator", "admin", stream=True))]
OperatorAuth = Annotated[Principal, Depends(_require("operator", "admin"))]
AdminAuth = Annotated[Principal, Depends(_require("admin"))]


def stamp_origin(principal: Principal, site: str | None, sensor: str | None) -> tuple[str, str]:
    """The (site, sensor) a sensor token writes for: missing values come from the token,
    other values are refused with 403."""
    if site not in (None, principal.site) or sensor not in (None, principal.sensor):
        raise HTTPException(403, f"this token writes only for site {principal.site!r}, sensor {principal.sensor!r}; "
                                 f"got site {site!r}, sensor {sensor!r}")
    return principal.site, principal.sensor


def unprocessable(loc: tuple[str | int, ...], message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors (``detail`` = list of loc/msg/type)."""
    return HTTPException(422, [{"loc": list(loc), "msg": message, "type": "value_error"}])


AUTH_RESPONSES: dict[int | str, dict] = {
    401: {"description": "missing, unknown or revoked bearer token"},
    403: {"description": "the token's role may not do this, or it writes for another site or sensor"},
}
WRITE_RESPONSES: dict[int | str, dict] = {**AUTH_RESPONSES, 413: {"description": "body over the size limit"}}
