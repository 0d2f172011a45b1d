"""Campaigns (issue 17): admins define them; sensors fetch the one that applies to them.

- ``POST /campaigns``, ``GET /campaigns``, ``GET/PUT/DELETE /campaigns/{name}`` (admin);
- ``GET /campaigns/assigned`` (sensor token): the campaign for this sensor, with an ``ETag``;
  ``If-None-Match`` with the same tag answers 304 without a body, 404 when none applies;
- ``GET /campaigns/sensors`` (viewer): each sensor's assigned campaign, the one its last
  heartbeat reports running (``campaign: {name, version}``, ``campaign_origin``) and whether
  they agree.
"""

from __future__ import annotations

from fastapi import APIRouter, Header, HTTPException, Response

from service.campaign_schemas import (AssignedCampaign, CampaignIn, CampaignList, CampaignOut, CampaignSpec,
                                      SensorCampaignList)
from service.campaign_store import (CampaignConflict, CampaignGone, assigned_doc, campaign_out, create_campaign,
                                    delete_campaign, etag, get_campaign, list_campaigns, pick_campaign,
                                    update_campaign)
from service.deps import AUTH_RESPONSES, WRITE_RESPONSES, AdminAuth, Ctx, SensorAuth, ViewerAuth
from service.incident_desk import actor_name
from service.store import list_sensors

router = APIRouter(tags=["campaigns"], responses=AUTH_RESPONSES)

NOT_FOUND = {404: {"description": "no campaign of that name"}}
CONFLICT = {409: {"description": "the name is taken, or another campaign has a target in common at the same level"}}


@router.post("/campaigns", response_model=CampaignOut, status_code=201, responses={**WRITE_RESPONSES, **CONFLICT})
def post_campaign(body: CampaignIn, who: AdminAuth, ctx: Ctx) -> CampaignOut:
    """Create a campaign (version 1)."""
    spec = CampaignSpec.model_validate(body.model_dump(exclude={"name"}))
    try:
        row = create_campaign(ctx.db, body.name, spec, actor_name(who))
    except CampaignConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return CampaignOut.model_validate(campaign_out(row))


@router.get("/campaigns", response_model=CampaignList)
def get_campaigns(who: AdminAuth, ctx: Ctx) -> CampaignList:
    """Every campaign, by name."""
    return CampaignList.model_validate({"campaigns": [campaign_out(r) for r in list_campaigns(ctx.db)]})


@router.get("/campaigns/assigned", response_model=AssignedCampaign,
            responses={304: {"description": "unchanged since the ETag given in If-None-Match"},
                       404: {"description": "no campaign applies to this sensor"}})
def get_assigned(who: SensorAuth, ctx: Ctx, response: Response,
                 if_none_match: str | None = Header(None, max_length=200)) -> AssignedCampaign | Response:
    """The campaign that applies to the calling sensor (sensor > site > all)."""
    row = pick_campaign(list_campaigns(ctx.db), who.site, who.sensor)
    if row is None:
        raise HTTPException(404, f"no campaign applies to site {who.site!r}, sensor {who.sensor!r}")
    doc = assigned_doc(row)
    tag = etag(doc)
    if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": tag, "Cache-Control": "no-cache"})
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "no-cache"  # a cache must ask again each time
    return AssignedCampaign.model_validate(doc)


@router.get("/campaigns/sensors", response_model=SensorCampaignList)
def get_sensor_campaigns(who: ViewerAuth, ctx: Ctx) -> SensorCampaignList:
    """Each known sensor: the campaign assigned, the one it reports running, in sync or not."""
    rows = list_campaigns(ctx.db)
    out = []
    for s in list_sensors(ctx.db, ctx.settings.online_s, ctx.settings.stale_s):
        row = pick_campaign(rows, s["site"], s["sensor"])
        beat = s["heartbeat"] or {}
        running = beat.get("campaign") if isinstance(beat.get("campaign"), dict) else {}
        name, version = running.get("name"), running.get("version")
        name = name if isinstance(name, str) else None
        version = version if isinstance(version, int) and not isinstance(version, bool) else None
        origin = beat.get("campaign_origin") if beat.get("campaign_origin") in ("desk", "disk") else None
        assigned = (row.name, row.version) if row is not None else (None, None)
        out.append({"site": s["site"], "sensor": s["sensor"], "status": s["status"],
                    "assigned": assigned[0], "assigned_version": assigned[1],
                    "campaign": name, "campaign_version": version, "campaign_origin": origin,
                    "in_sync": (name, version) == assigned})
    return SensorCampaignList.model_validate({"sensors": out})


@router.get("/campaigns/{name}", response_model=CampaignOut, responses=NOT_FOUND)
def get_one(name: str, who: AdminAuth, ctx: Ctx) -> CampaignOut:
    """One campaign."""
    row = get_campaign(ctx.db, name)
    if row is None:
        raise HTTPException(404, f"no campaign named {name!r}")
    return CampaignOut.model_validate(campaign_out(row))


@router.put("/campaigns/{name}", response_model=CampaignOut, responses={**WRITE_RESPONSES, **NOT_FOUND, **CONFLICT})
def put_campaign(name: str, body: CampaignSpec, who: AdminAuth, ctx: Ctx) -> CampaignOut:
    """Replace a campaign's content; its version grows by one and its sensors pick it up."""
    try:
        row = update_campaign(ctx.db, name, body, actor_name(who))
    except CampaignGone as exc:
        raise HTTPException(404, str(exc)) from exc
    except CampaignConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return CampaignOut.model_validate(campaign_out(row))


@router.delete("/campaigns/{name}", status_code=204, responses=NOT_FOUND)
def delete_one(name: str, who: AdminAuth, ctx: Ctx) -> None:
    """Delete a campaign; its sensors go back to the plan they were started with."""
    if not delete_campaign(ctx.db, name):
        raise HTTPException(404, f"no campaign named {name!r}")
