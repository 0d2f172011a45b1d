"""``GET /healthz``: is the service up and its database reachable (no auth, no data)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import Ctx
from service.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def get_health(ctx: Ctx):
    """200 ``{"status": "ok"}``, or 503 when the database cannot be reached."""
    if ctx.db.ping():
        return Health(status="ok", database="ok")
    return JSONResponse(Health(status="degraded", database="unreachable").model_dump(), status_code=503)
