"""``GET /desk`` (the desk's settings the dashboard shows: time zone, reporting interval, and the
caller's role and token name, so it offers incident actions only to those who may act) and
``GET /desk/sites`` (every site with its position, zone and honest status).

A site's status here is what the dashboard shows: ``no_data`` when nothing was ever heard from
it (never green), ``online`` while it was heard within its reporting interval, else
``offline`` with the time it was last heard. "Heard" counts heartbeats, event batches and
spectra, whichever came last. Positions come from the site registry (the admin's file) or else
from the newest heartbeat that carried one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from service.db import now_us
from service.deps import AUTH_RESPONSES, Ctx, ViewerAuth
from service.models import SensorRow, SpectrumRow
from service.sensor_clocks import clock_fields
from service.site_registry import SiteEntry
from service.store import us_to_iso

router = APIRouter(tags=["desk"], responses=AUTH_RESPONSES)

DeskStatus = Literal["online", "offline", "no_data"]
Source = Literal["heartbeat", "event", "spectrum"]


class DeskInfo(BaseModel):
    desk_tz: str = Field(description="the desk's IANA time zone (a setting: SPECTRUM_DESK_TZ)")
    report_interval_s: float = Field(description="default reporting interval: a site silent for longer is offline")
    server_time: str = Field(description="the service's clock, ISO-8601 UTC")
    role: str = Field(description="the calling token's role: the dashboard offers incident actions to operator and admin")
    token_name: str = Field(description="the calling token's name (its label, else its id), as the audit log records it")


class DeskSensor(BaseModel):
    sensor: str
    status: DeskStatus
    last_heard: str | None = Field(description="newest of heartbeat, event batch and spectrum, ISO-8601 UTC")
    last_heard_from: Source | None = Field(description="what was heard last")
    clock_offset_s: float | None = Field(None, description="desk clock minus sensor clock, s (last heartbeat)")
    clock_offset_rtt_s: float | None = Field(None, description="round trip of that estimate, s")
    clock_suspect: bool | None = Field(None, description="clock more than 1 s off the desk's: event times corrected")


class DeskSite(BaseModel):
    site: str
    name: str | None = Field(description="display name from the site registry")
    lat_deg: float | None
    lon_deg: float | None
    position_from: Literal["registry", "heartbeat"] | None = Field(description="where the position came from")
    tz: str | None = Field(description="the site's IANA zone from the registry (else the dashboard infers it)")
    report_interval_s: float = Field(description="silent for longer than this: offline")
    status: DeskStatus = Field(description="the best status among its sensors")
    last_heard: str | None
    sensors: list[DeskSensor]


class DeskSiteList(BaseModel):
    sites: list[DeskSite]


@router.get("/desk", response_model=DeskInfo)
def get_desk(who: ViewerAuth, ctx: Ctx) -> DeskInfo:
    """The desk's time zone and reporting interval, and who is calling, for the dashboard."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return DeskInfo(desk_tz=ctx.settings.desk_tz, report_interval_s=ctx.settings.online_s, server_time=now,
                    role=who.role, token_name=who.label or who.token_id)


@router.get("/desk/sites", response_model=DeskSiteList)
def get_desk_sites(who: ViewerAuth, ctx: Ctx, request: Request) -> DeskSiteList:
    """Every site known from sensors or the registry, with position, zone and status."""
    registry: dict[str, SiteEntry] = getattr(request.app.state, "site_registry", {})
    default_s = ctx.settings.online_s
    heard = _last_heard(ctx, since_us=now_us() - int(2 * _longest(registry, default_s) * 1e6))
    now = now_us()
    sites: dict[str, dict] = {s: _site(entry, default_s) for s, entry in registry.items()}
    for (site, sensor), (us, source, beat) in sorted(heard.items()):
        row = sites.setdefault(site, _site(SiteEntry(site), default_s))
        status = _status(us, now, row["report_interval_s"])
        row["sensors"].append({"sensor": sensor, "status": status, "last_heard": us_to_iso(us),
                               "last_heard_from": source, **clock_fields(beat)})
        if us is not None and (row["_us"] is None or us > row["_us"]):
            row["_us"], row["last_heard"] = us, us_to_iso(us)
        position = (beat or {}).get("position")
        if row["position_from"] != "registry" and position:
            row.update(lat_deg=position["lat_deg"], lon_deg=position["lon_deg"], position_from="heartbeat")
    for row in sites.values():
        row["status"] = _status(row.pop("_us"), now, row["report_interval_s"])
    return DeskSiteList.model_validate({"sites": list(sites.values())})


def _longest(registry: dict[str, SiteEntry], default_s: float) -> float:
    return max([default_s] + [e.report_interval_s for e in registry.values() if e.report_interval_s])


def _site(entry: SiteEntry, default_s: float) -> dict:
    placed = entry.lat_deg is not None
    return {"site": entry.site, "name": entry.name, "lat_deg": entry.lat_deg, "lon_deg": entry.lon_deg,
            "position_from": "registry" if placed else None, "tz": entry.tz,
            "report_interval_s": entry.report_interval_s or default_s, "status": "no_data",
            "last_heard": None, "_us": None, "sensors": []}


def _status(last_us: int | None, now: int, interval_s: float) -> str:
    if last_us is None:
        return "no_data"
    return "online" if now - last_us <= interval_s * 1e6 else "offline"


def _last_heard(ctx, since_us: int) -> dict[tuple[str, str], tuple[int | None, str | None, dict | None]]:
    """Per (site, sensor): when it was last heard, from what, and its last heartbeat. Spectra are
    looked up only among those received since ``since_us`` (an index range, not a table scan):
    older ones cannot change whether a sensor is online, and heartbeats or events cover the rest."""
    import json

    out = {}
    with ctx.db.read() as session:
        for r in session.execute(select(SensorRow.site, SensorRow.sensor, SensorRow.last_seen_us,
                                        SensorRow.last_event_us, SensorRow.heartbeat)):
            candidates = [(r.last_seen_us, "heartbeat"), (r.last_event_us, "event")]
            us, source = max(((u, s) for u, s in candidates if u is not None), default=(None, None))
            out[(r.site, r.sensor)] = (us, source, json.loads(r.heartbeat) if r.heartbeat else None)
        recent = (select(SpectrumRow.site, SpectrumRow.sensor, func.max(SpectrumRow.received_us).label("us"))
                  .where(SpectrumRow.received_us >= since_us).group_by(SpectrumRow.site, SpectrumRow.sensor))
        for r in session.execute(recent):
            us, source, beat = out.get((r.site, r.sensor), (None, None, None))
            if us is None or r.us > us:
                out[(r.site, r.sensor)] = (r.us, "spectrum", beat)
    return out
