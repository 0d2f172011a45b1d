"""``GET /incidents/{id}/location``: where the jammer of an incident (and its wide-area group) is,
estimated from the levels its sites received, with a confidence region; or ``position: null``
with the reason (fewer than three placed sites heard it, or they stand on one line)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from service.deps import AUTH_RESPONSES, Ctx, ViewerAuth
from service.incident_location import LocationCache, incident_location

router = APIRouter(tags=["incidents"], responses=AUTH_RESPONSES)


class LatLon(BaseModel):
    lat_deg: float
    lon_deg: float


class Region(BaseModel):
    polygon: list[LatLon] = Field(description="convex outline of the confidence region, WGS-84 degrees")
    radius_km: float = Field(description="farthest point of the region from the estimate, km")
    bounded: bool = Field(description="false when the region reaches the edge of the searched area "
                                      "(the jammer may be outside the sites' area)")
    method: Literal["f_residuals", "sigma_prior"] = Field(
        description="f_residuals: sized from the fit's residuals; sigma_prior: too few sites to size it, "
                    "an assumed 6 dB shadowing")


class Fit(BaseModel):
    path_loss_exponent: float
    residual_rms_db: float
    level_at_1m_db: float = Field(description="the jammer's fitted level at 1 m, in `unit`")


class Reading(BaseModel):
    site: str
    lat_deg: float
    lon_deg: float
    level_dbfs: float = Field(description="strongest level the site heard over the group's events, dBFS")
    level_dbm: float | None = Field(description="the same from calibrated events, dBm, else null")
    used: bool = Field(description="whether the fit used this site")


class LocationOut(BaseModel):
    incident_id: str
    area_id: str | None = Field(description="the wide-area group the location is for (null: one site)")
    version: str = Field(description="latest update of the group's incidents (ISO UTC): the estimate is as of it")
    position: LatLon | None = Field(description="estimated jammer position, or null (see reason)")
    reason: Literal["too_few_sensors", "degenerate_geometry"] | None = Field(description="why there is no position")
    detail: str = Field(description="the reason in words")
    unit: Literal["dBm", "dBFS"] = Field(description="levels fitted: calibrated dBm, or dBFS (comparable only "
                                                     "roughly across dongles, so the region is wider)")
    calibrated: bool
    confidence: float = Field(description="stated probability that the region holds the jammer")
    sensors: int = Field(description="number of sites (one level each) the fit used")
    sites: list[str] = Field(description="every site of the group")
    unplaced_sites: list[str] = Field(description="sites of the group with no known position (left out)")
    readings: list[Reading]
    region: Region | None
    fit: Fit | None = None


def _cache(request: Request) -> LocationCache:
    cache = getattr(request.app.state, "location_cache", None)
    if cache is None:  # one per app, made on first use (a race makes two; one is dropped, harmlessly)
        cache = request.app.state.location_cache = LocationCache()
    return cache


@router.get("/incidents/{incident_id}/location", response_model=LocationOut,
            responses={404: {"description": "no incident with this id"}})
def get_location(incident_id: str, who: ViewerAuth, ctx: Ctx, request: Request) -> LocationOut:
    """The jammer's estimated position for this incident's wide-area group, with its uncertainty."""
    registry = getattr(request.app.state, "site_registry", {})
    found = incident_location(ctx.db, registry, incident_id, _cache(request))
    if found is None:
        raise HTTPException(404, f"no incident with id {incident_id!r}")
    return LocationOut.model_validate(found)
