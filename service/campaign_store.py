"""Campaigns in the database: create, change, delete, and which one applies to a sensor.

Specificity when several campaigns could apply: one naming the sensor beats one naming its
site, which beats one for all sensors. Two campaigns at the same level may not share a target
(``CampaignConflict``), so the answer is never a matter of order.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select, text

from service.campaign_models import CampaignRow
from service.campaign_schemas import CampaignSpec
from service.db import Database, now_us
from service.store import us_to_iso

SPECIFICITY = ("sensors", "sites", "all")  # most specific first
CAMPAIGN_LOCK_KEY = 0x5350_4543_4341_4D50  # any fixed 64-bit number; names the one campaign lock


class CampaignConflict(Exception):
    """Another campaign already targets one of these sensors or sites at the same level."""


class CampaignGone(Exception):
    """No campaign of that name."""


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def campaign_out(row: CampaignRow) -> dict:
    """The API view of a stored campaign."""
    spec = json.loads(row.spec)
    return {"name": row.name, "version": row.version, **spec, "created": us_to_iso(row.created_us),
            "updated": us_to_iso(row.updated_us), "updated_by": row.updated_by}


def assigned_doc(row: CampaignRow) -> dict:
    """What a sensor receives: name, version, plan, detector, schedule (no targets)."""
    spec = json.loads(row.spec)
    return {"name": row.name, "version": row.version, "plan": spec["plan"], "detector": spec["detector"],
            "schedule": spec["schedule"]}


def etag(doc: dict) -> str:
    """A strong ETag of a served document (same content, same tag)."""
    return '"' + hashlib.sha256(_dumps(doc).encode()).hexdigest()[:32] + '"'


def _spec_json(spec: CampaignSpec) -> str:
    return _dumps(spec.model_dump(mode="json", exclude_none=False))


def _one_at_a_time(db: Database, session) -> None:
    """On PostgreSQL, wait until no other transaction is changing campaigns; hold the lock to
    this transaction's end. A change checks the name and the other campaigns' targets before
    writing: two side by side would both pass (SQLite has one writer at a time anyway)."""
    if db.dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CAMPAIGN_LOCK_KEY})


def _check_conflict(session, name: str, kind: str, targets: list[str]) -> None:
    for other in session.scalars(select(CampaignRow).where(CampaignRow.target_kind == kind,
                                                           CampaignRow.name != name)):
        shared = sorted(set(json.loads(other.targets)) & set(targets))
        if kind == "all":
            raise CampaignConflict(f"campaign {other.name!r} already targets all sensors")
        if shared:
            raise CampaignConflict(f"campaign {other.name!r} already targets {kind} {', '.join(shared[:5])}")


def create_campaign(db: Database, name: str, spec: CampaignSpec, actor: str) -> CampaignRow:
    """Store a new campaign at version 1.

    Raises
    ------
    CampaignConflict
        The name is taken, or another campaign targets one of its sensors/sites at the same level.
    """
    kind, targets = spec.targets.kind()
    now = now_us()
    with db.write() as session:
        _one_at_a_time(db, session)
        if session.get(CampaignRow, name) is not None:
            raise CampaignConflict(f"a campaign named {name!r} exists; change it with PUT /campaigns/{name}")
        _check_conflict(session, name, kind, targets)
        row = CampaignRow(name=name, version=1, target_kind=kind, targets=_dumps(targets), spec=_spec_json(spec),
                          created_us=now, updated_us=now, updated_by=actor)
        session.add(row)
    return row


def update_campaign(db: Database, name: str, spec: CampaignSpec, actor: str) -> CampaignRow:
    """Replace a campaign's content; its version grows by one.

    Raises
    ------
    CampaignGone, CampaignConflict
    """
    kind, targets = spec.targets.kind()
    with db.write() as session:
        _one_at_a_time(db, session)
        row = session.get(CampaignRow, name, with_for_update=True)
        if row is None:
            raise CampaignGone(f"no campaign named {name!r}")
        _check_conflict(session, name, kind, targets)
        row.version += 1
        row.target_kind, row.targets, row.spec = kind, _dumps(targets), _spec_json(spec)
        row.updated_us, row.updated_by = now_us(), actor
    return row


def delete_campaign(db: Database, name: str) -> bool:
    """Remove a campaign; False when there is none of that name."""
    with db.write() as session:
        row = session.get(CampaignRow, name)
        if row is None:
            return False
        session.delete(row)
    return True


def get_campaign(db: Database, name: str) -> CampaignRow | None:
    with db.read() as session:
        return session.get(CampaignRow, name)


def list_campaigns(db: Database) -> list[CampaignRow]:
    """Every campaign, by name."""
    with db.read() as session:
        return list(session.scalars(select(CampaignRow).order_by(CampaignRow.name)))


def pick_campaign(rows: list[CampaignRow], site: str | None, sensor: str | None) -> CampaignRow | None:
    """The campaign that applies to a sensor: sensor > site > all; None when none does."""
    wanted = {"sensors": sensor, "sites": site}
    for kind in SPECIFICITY:
        for row in rows:
            if row.target_kind != kind:
                continue
            if kind == "all" or wanted[kind] in json.loads(row.targets):
                return row
    return None
