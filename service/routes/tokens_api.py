"""``/tokens`` (admin): list, create and revoke bearer tokens, as ``spectrum token`` does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from service.auth import create_token, list_tokens, revoke_token
from service.deps import WRITE_RESPONSES, AdminAuth, Ctx, unprocessable
from service.service_errors import ServiceError
from service.models import TokenRow
from service.schemas import TokenCreated, TokenCreateIn, TokenList, TokenOut
from service.store import us_to_iso

router = APIRouter(tags=["tokens"], responses=WRITE_RESPONSES)


def token_out(row: TokenRow) -> dict:
    return {"id": row.id, "role": row.role, "site": row.site, "sensor": row.sensor, "label": row.label,
            "created": us_to_iso(row.created_us), "revoked": us_to_iso(row.revoked_us)}


@router.get("/tokens", response_model=TokenList)
def get_tokens(who: AdminAuth, ctx: Ctx) -> TokenList:
    """Every token (never the secrets)."""
    return TokenList.model_validate({"tokens": [token_out(r) for r in list_tokens(ctx.db)]})


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def post_token(body: TokenCreateIn, who: AdminAuth, ctx: Ctx) -> TokenCreated:
    """Create a token; the secret is in the answer and nowhere else."""
    try:
        secret, row = create_token(ctx.db, body.role, body.site, body.sensor, body.label)
    except ServiceError as exc:
        raise unprocessable(("body",), str(exc)) from exc
    return TokenCreated.model_validate({**token_out(row), "token": secret})


@router.delete("/tokens/{token_id}", response_model=TokenOut, responses={404: {"description": "no such token"}})
def delete_token(token_id: Annotated[str, Path(max_length=16, pattern=r"^[0-9a-f]+$")], who: AdminAuth, ctx: Ctx) -> TokenOut:
    """Revoke a token: it answers 401 from now on (from other workers within ``auth_cache_s``),
    and its open live streams end."""
    try:
        row = revoke_token(ctx.db, token_id)
    except ServiceError as exc:
        raise HTTPException(404, str(exc)) from exc
    ctx.principals.forget({row.id})
    ctx.broadcaster.close_tokens_soon({row.id}, "the token was revoked")
    return TokenOut.model_validate(token_out(row))
