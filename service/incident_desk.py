"""The desk's actions on incidents: acknowledge, assign, note, resolve; each one audited.

An action on an incident of a wide-area group applies to every incident of the group (the
desk sees the group once). The audit log is append-only: this module inserts into it and
nothing in the project updates or deletes its rows.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from service.auth import Principal
from service.db import Database, now_us
from service.incident_models import IncidentAuditRow, IncidentDeskRow, IncidentRow
from service.incident_store import serialise_grouping
from service.service_errors import ServiceError

ACTIONS = ("acknowledge", "assign", "note", "resolve")


class UnknownIncident(ServiceError):
    """No incident has this id."""


def actor_name(who: Principal) -> str:
    """The name the audit log shows: the token's label, else its id."""
    return who.label or who.token_id


def act(db: Database, incident_id: str, who: Principal, action: str, detail: dict) -> list[str]:
    """Apply one desk action and append it to the audit log, in one transaction.

    Parameters
    ----------
    incident_id : str
    who : Principal
        The operator or admin acting (role checked by the route).
    action : {"acknowledge", "assign", "note", "resolve"}
    detail : dict
        ``team`` for assign, ``text`` for note, ``outcome`` for resolve; ``note`` optional.

    Returns
    -------
    list of str
        Ids of the incidents acted on (the incident, or its whole wide-area group).

    Raises
    ------
    UnknownIncident
        No incident ``incident_id``.
    """
    if action not in ACTIONS:
        raise ServiceError(f"action {action!r}: expected one of {', '.join(ACTIONS)}")
    name = actor_name(who)
    detail = {k: v for k, v in detail.items() if v is not None}

    def job(session) -> list[str]:
        # PostgreSQL: one action (or regrouping) at a time, as on SQLite; else two at once on
        # one incident both insert its desk row (a 500) or both count the same note
        serialise_grouping(db, session)
        row = session.get(IncidentRow, incident_id)
        if row is None:
            raise UnknownIncident(f"no incident with id {incident_id!r}")
        targets = [incident_id]
        if row.area_id:
            targets = list(session.scalars(select(IncidentRow.id).where(IncidentRow.area_id == row.area_id)
                                           .order_by(IncidentRow.first_onset_us, IncidentRow.id)))
        at = now_us()
        for target in targets:
            desk = session.get(IncidentDeskRow, target)
            if desk is None:
                desk = IncidentDeskRow(incident_id=target, notes=0)
                session.add(desk)
            _apply(desk, action, detail, name, at)
            session.add(IncidentAuditRow(incident_id=target, at_us=at, actor=name, token_id=who.token_id,
                                         action=action, detail=json.dumps(detail, ensure_ascii=False)))
        return targets

    return db.transact(job)


def _apply(desk: IncidentDeskRow, action: str, detail: dict, name: str, at: int) -> None:
    if action in ("acknowledge", "assign", "resolve") and desk.acknowledged_us is None:
        desk.acknowledged_by, desk.acknowledged_us = name, at  # acting on it means it was seen
    if action == "assign":
        desk.assigned_to = detail["team"]
    elif action == "resolve":
        desk.outcome, desk.resolved_by, desk.resolved_us = detail["outcome"], name, at
    if action == "note" or detail.get("note"):
        desk.notes = (desk.notes or 0) + 1
