"""``POST /webhooks``, ``GET /webhooks``, ``DELETE /webhooks/{id}`` (admin): outgoing
notifications of incident changes (see :mod:`service.webhooks` for the delivery format)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from service.deps import AUTH_RESPONSES, AdminAuth, Ctx, unprocessable
from service.incident_desk import actor_name
from service.incident_schemas import WebhookCreated, WebhookIn, WebhookList
from service.store import us_to_iso
from service.webhooks import WebhookError, add_webhook, list_webhooks, remove_webhook

router = APIRouter(tags=["webhooks"], responses=AUTH_RESPONSES)


def _out(row, with_secret: bool = False) -> dict:
    out = {"id": row.id, "url": row.url, "changes": row.changes.split(","), "created": us_to_iso(row.created_us),
           "created_by": row.created_by}
    if with_secret:
        out["secret"] = row.secret
    return out


@router.post("/webhooks", response_model=WebhookCreated, status_code=201)
def post_webhook(body: WebhookIn, who: AdminAuth, ctx: Ctx) -> WebhookCreated:
    """Subscribe a URL to incident changes; the answer shows the HMAC secret (once)."""
    try:
        row = add_webhook(ctx.db, body.url, list(dict.fromkeys(body.changes)), actor_name(who), body.secret)
    except WebhookError as exc:
        field = "url" if "url" in str(exc)[:4] else "changes"
        raise unprocessable(("body", field), str(exc)) from exc
    ctx.notifier.subscriptions_changed()
    return WebhookCreated.model_validate(_out(row, with_secret=True))


@router.get("/webhooks", response_model=WebhookList)
def get_webhooks(who: AdminAuth, ctx: Ctx) -> WebhookList:
    """Subscriptions in force (never their secrets)."""
    return WebhookList.model_validate({"webhooks": [_out(r) for r in list_webhooks(ctx.db)]})


@router.delete("/webhooks/{webhook_id}", status_code=204, responses={404: {"description": "no such subscription"}})
def delete_webhook(webhook_id: str, who: AdminAuth, ctx: Ctx) -> None:
    """Stop sending to a subscription."""
    if not remove_webhook(ctx.db, webhook_id):
        raise HTTPException(404, f"no webhook subscription with id {webhook_id!r}")
    ctx.notifier.subscriptions_changed()
