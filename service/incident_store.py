"""Incidents in the database: regrouping after ingest, linking across sites, state over time.

Only the incidents a changed event can reach are regrouped: grouping takes events in start
order and an event's incident depends only on the events before it, so with ``t`` the
earliest start among the changed events, every incident that was closed for good before
``t`` (no event ongoing, last activity more than the hold time before ``t``) stays as it is;
the others are regrouped whole from their events plus the changed ones. The result equals a
rebuild from scratch (tests check this on shuffled, late and re-sent events).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from collections import deque

from sqlalchemy import and_, bindparam, delete, func, or_, select, text, true, update

from service.db import Database
from service.incident_models import IncidentMemberRow, IncidentRow
from service.incidents import (NEVER, NOT_LINKED_FAMILIES, SEVERITY_RANK, EventRecord, GroupingRules, IncidentDraft,
                               LinkCandidate, LinkSweep, assign_ids, group_events, group_sites, incident_state,
                               link_sites)
from service.models import EventRow

CHUNK = 500  # ids per IN (...) list
GROUPING_LOCK_KEY = 0x5350_4543_5452_554D  # any fixed 64-bit number; names the one grouping lock


def serialise_grouping(db: Database, session) -> None:
    """On PostgreSQL, wait until no other transaction is changing incidents; hold the lock to
    this transaction's end.

    Several workers (or threads) ingest at once on PostgreSQL, and two regroupings that run side
    by side each see the incidents without the other's events: both would open an incident for
    one jammer, or link the same incidents differently. One lock for all sites, not one per
    site: regrouping a site ends with relinking across sites, which reads and rewrites the
    incidents of every site near in time. It serialises only this step; storing the events
    before it stays parallel. SQLite has one writer at a time anyway. (Under READ COMMITTED,
    PostgreSQL's default, the statements after the lock see what the previous holder committed.)
    """
    if db.dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": GROUPING_LOCK_KEY})


@dataclass
class IncidentChange:
    """One change for the live stream and the webhooks.

    ``change``: ``opened``, ``updated``, ``escalated`` (peak severity rose), ``linked`` (joined
    or widened a wide-area group), ``closed``, or ``merged`` (the incident was folded into
    ``merged_into`` by a late event).
    """

    change: str
    incident_id: str
    merged_into: str | None = None


def _us(iso: str | None) -> int | None:
    if iso is None:
        return None
    moment = datetime.fromisoformat(iso)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def record_from_event(data: dict) -> EventRecord:
    """The grouping record of one event in the contract shape (as stored)."""
    updated = data.get("updated")
    return EventRecord(
        id=str(data["id"]), site=data.get("site"), band=data.get("band") if isinstance(data.get("band"), str) else None,
        kind=data["kind"], start_us=_us(data["start"]), end_us=_us(data.get("end")),
        progress_us=_us(updated) if isinstance(updated, str) else 0,
        freq_low_hz=float(data["freq_low_hz"]), freq_high_hz=float(data["freq_high_hz"]),
        severity=data["severity"], rise_db=float(data["rise_db"]), peak_dbfs=float(data["peak_dbfs"]))


def _member(ev: EventRecord, incident_id: str) -> dict:
    return {"event_id": ev.id, "incident_id": incident_id, "site": ev.site, "band": ev.band, "kind": ev.kind,
            "start_us": ev.start_us, "end_us": ev.end_us, "progress_us": ev.progress_us,
            "freq_low_hz": ev.freq_low_hz, "freq_high_hz": ev.freq_high_hz, "severity": ev.severity,
            "rise_db": ev.rise_db, "peak_dbfs": ev.peak_dbfs}


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _same_site(column, site: str | None):
    return column.is_(None) if site is None else column == site


def apply_events(db: Database, session, changed: list[EventRecord], rules: GroupingRules,
                 now_us: int) -> list[IncidentChange]:
    """Regroup the incidents the changed events reach, then relink across sites.

    Runs inside the caller's transaction (``session``); returns what changed.
    """
    serialise_grouping(db, session)
    if db.dialect == "postgresql":
        changed = _stored_states(session, changed)
    by_site: dict[str | None, list[EventRecord]] = {}
    changed = list({ev.id: ev for ev in changed}.values())  # one state per event: the last given
    for ev in changed:
        by_site.setdefault(ev.site, []).append(ev)
    changes: list[IncidentChange] = []
    touched: list[str] = []
    for site in sorted(by_site, key=lambda s: s or ""):
        site_changes, site_touched = _regroup_site(db, session, site, by_site[site], rules, now_us)
        changes += site_changes
        touched += site_touched
    changes += _relink(session, touched, rules)
    return changes


def _stored_states(session, changed: list[EventRecord]) -> list[EventRecord]:
    """The events as stored now: with several workers, two states of one event may reach the
    grouping in the other order than they were stored; the newest stored one must win."""
    stored = {}
    for part in _chunks([ev.id for ev in changed]):
        stored.update(session.execute(select(EventRow.id, EventRow.data).where(EventRow.id.in_(part))).all())
    return [record_from_event(json.loads(stored[ev.id])) if ev.id in stored else ev for ev in changed]


MEMBER_COLUMNS = ("event_id", "site", "band", "kind", "start_us", "end_us", "progress_us", "freq_low_hz",
                  "freq_high_hz", "severity", "rise_db", "peak_dbfs")


def _regroup_site(db: Database, session, site: str | None, changed: list[EventRecord], rules: GroupingRules,
                  now_us: int) -> tuple[list[IncidentChange], list[str]]:
    M, I = IncidentMemberRow, IncidentRow
    changed_ids = [e.id for e in changed]
    before: dict[str, tuple[str, int]] = {}  # event id -> (incident id, start) for events seen before
    for part in _chunks(changed_ids):
        before.update({r.event_id: (r.incident_id, r.start_us) for r in session.execute(
            select(M.event_id, M.incident_id, M.start_us).where(M.event_id.in_(part)))})
    t_new = min(e.start_us for e in changed)
    t_min = min([t_new] + [start for _, start in before.values()])
    stored = {r.id: r for r in session.scalars(select(I).where(
        _same_site(I.site, site), or_(I.ongoing == true(), I.last_activity_us >= t_min - rules.hold_us)))}
    if not before and all(r.last_start_us < t_new for r in stored.values()):
        return _append(db, session, changed, stored, rules, now_us)
    stored.update({r.id: r for r in session.scalars(select(I).where(I.id.in_({i for i, _ in before.values()})))})
    previous: dict[str, str] = {}
    records: dict[str, EventRecord] = {}
    cols = [getattr(M, c) for c in MEMBER_COLUMNS]
    for part in _chunks(list(stored)):
        for row in session.execute(select(M.incident_id, *cols).where(M.incident_id.in_(part))):
            previous[row[1]] = row[0]
            records[row[1]] = EventRecord(row[1], *row[2:])
    loaded = set(records)
    records.update({e.id: e for e in changed})
    drafts = group_events(list(records.values()), rules)
    ids = _unused_ids(session, drafts, previous, stored)
    changes: list[IncidentChange] = []
    member_rows = []
    changed_set = set(changed_ids)
    for incident_id, draft in zip(ids, drafts):
        member_rows += [_member(ev, incident_id) for ev in draft.events
                        if previous.get(ev.id) != incident_id or ev.id in changed_set or ev.id not in loaded]
        change = _write_incident(session, stored.get(incident_id), incident_id, draft, rules, now_us)
        if change:
            changes.append(IncidentChange(change, incident_id))
    gone = set(stored) - set(ids)
    for old in sorted(gone):
        heir = next((i for i, d in zip(ids, drafts) if any(previous.get(e.id) == old for e in d.events)), None)
        _relink_from(session, stored[old].first_onset_us)
        if stored[old].area_id:
            session.info.setdefault("relink_gone", set()).add(stored[old].area_id)
        session.execute(delete(I).where(I.id == old))
        changes.append(IncidentChange("merged", old, merged_into=heir))
    _write_members(db, session, member_rows)
    return changes, [c.incident_id for c in changes if c.change != "merged"]


def _unused_ids(session, drafts, previous: dict[str, str], stored: dict[str, IncidentRow]) -> list[str]:
    """:func:`assign_ids`, with no new draft taking the id of a stored incident this regroup did not load."""
    onsets = {i: r.first_onset_us for i, r in stored.items()}
    in_use: set[str] = set(stored)
    while True:
        ids = assign_ids(drafts, previous, onsets, in_use)
        fresh = [i for i in ids if i not in stored]
        clash = {i for part in _chunks(fresh) for i in session.scalars(select(IncidentRow.id).where(IncidentRow.id.in_(part)))}
        if not clash:
            return ids
        in_use |= clash


def _prior(r: IncidentRow) -> dict:
    return {k: getattr(r, k) for k in FIGURES} | {"kinds": r.kinds.split(",") if r.kinds else []}


def _append(db: Database, session, changed: list[EventRecord], stored: dict[str, IncidentRow], rules: GroupingRules,
            now_us: int) -> tuple[list[IncidentChange], list[str]]:
    """The common case: only new events, all later than every event of the open incidents.
    Those incidents continue from their stored figures; none of their events is read."""
    stubs, id_of = [], {}
    for r in sorted(stored.values(), key=lambda r: (r.first_onset_us, r.first_event_id)):
        d = IncidentDraft(site=r.site, band=r.band, family=r.family, first_onset_us=r.first_onset_us,
                          last_end_us=NEVER if r.ongoing else r.last_activity_us, freq_low_hz=r.freq_low_hz,
                          freq_high_hz=r.freq_high_hz, ongoing=int(r.ongoing), prior=_prior(r))
        stubs.append(d)
        id_of[id(d)] = r.id
    drafts = group_events(changed, rules, stubs)
    fresh = [d for d in drafts if id(d) not in id_of]
    id_of.update({id(d): i for d, i in zip(fresh, assign_ids(fresh, {}, {}))})
    changes, member_rows = [], []
    for d in drafts:
        incident_id = id_of[id(d)]
        member_rows += [_member(ev, incident_id) for ev in d.events]
        change = _write_incident(session, stored.get(incident_id), incident_id, d, rules, now_us)
        if change:
            changes.append(IncidentChange(change, incident_id))
    _write_members(db, session, member_rows)
    return changes, [c.incident_id for c in changes]


def _write_members(db: Database, session, member_rows: list[dict]) -> None:
    if not member_rows:
        return
    table = IncidentMemberRow.__table__
    stmt = db.insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.event_id],
                                      set_={c: stmt.excluded[c] for c in member_rows[0] if c != "event_id"})
    for part in _chunks(member_rows):
        session.execute(stmt, part)


FIGURES = ("ongoing", "first_onset_us", "last_activity_us", "bursts", "on_s", "duty", "severity", "peak_rise_db",
           "peak_dbfs", "freq_low_hz", "freq_high_hz")


def _write_incident(session, row: IncidentRow | None, incident_id: str, draft, rules: GroupingRules,
                    now_us: int) -> str | None:
    """Insert or update one incident row; return the change (None when nothing changed)."""
    s = draft.summary()
    values = {k: s[k] for k in FIGURES}
    values.update(kinds=",".join(s["kinds"]), severity_rank=SEVERITY_RANK.get(s["severity"], 0), band=draft.band,
                  family=draft.family, site=draft.site,
                  state=incident_state(s["ongoing"], s["last_activity_us"], now_us, rules),
                  last_start_us=max([e.start_us for e in draft.events] + ([row.last_start_us] if draft.prior else [])))
    if draft.prior is None:
        values["first_event_id"] = draft.events[0].id
    if row is None:
        session.add(IncidentRow(id=incident_id, area_id=None, area_sites=None, updated_us=now_us, **values))
        return "opened"
    if all(getattr(row, k) == v for k, v in values.items()):
        return None
    escalated = values["severity_rank"] > row.severity_rank
    closed = values["state"] == "closed" and row.state != "closed"
    if not _links_may_change(row, values, rules):
        session.info.setdefault("links_unchanged", set()).add(incident_id)
    elif values["first_onset_us"] != row.first_onset_us:
        _relink_from(session, row.first_onset_us)
        if row.area_id:
            session.info.setdefault("relink_gone", set()).add(row.area_id)
    for k, v in values.items():
        setattr(row, k, v)
    row.updated_us = now_us
    return "escalated" if escalated else "closed" if closed else "updated"


def _links_may_change(row: IncidentRow, values: dict, rules: GroupingRules) -> bool:
    """False when an update cannot change the incident's links: same onset, first event,
    extent and ongoing flag, and a life that already reached past the onset window (a later end only
    overlaps incidents whose onsets, within the window, are already behind it)."""
    window_us = int(rules.link_window_s * 1e6)
    return not (values["first_onset_us"] == row.first_onset_us and values["ongoing"] == row.ongoing
                and values.get("first_event_id", row.first_event_id) == row.first_event_id  # the sweep's order
                and values["freq_low_hz"] == row.freq_low_hz and values["freq_high_hz"] == row.freq_high_hz
                and (row.ongoing or row.last_activity_us >= row.first_onset_us + window_us))


def _relink_from(session, onset_us: int) -> None:
    """Note an onset an incident had before it changed or went: the sweep restarts there, and
    goes on at least a window past it (incidents that joined it there may now join another)."""
    session.info["relink_from_us"] = min(onset_us, session.info.get("relink_from_us", NEVER))
    session.info["relink_to_us"] = max(onset_us, session.info.get("relink_to_us", -NEVER))


@dataclass(frozen=True, slots=True)
class _LinkRow:
    """What relinking reads of an incident: its :class:`LinkCandidate` and its stored group."""

    c: LinkCandidate
    area_id: str | None
    area_sites: str | None

    @property
    def anchor(self) -> bool:
        return self.c.family not in NOT_LINKED_FAMILIES and self.area_id in (None, self.c.id)


_LINK_COLUMNS = (IncidentRow.id, IncidentRow.site, IncidentRow.family, IncidentRow.first_onset_us, IncidentRow.ongoing,
                 IncidentRow.last_activity_us, IncidentRow.freq_low_hz, IncidentRow.freq_high_hz, IncidentRow.area_id,
                 IncidentRow.area_sites, IncidentRow.first_event_id)


def _link_rows(session, *where) -> list[_LinkRow]:
    """Incidents as relinking sees them, in sweep order; plain columns, no ORM objects (the
    sweep reads thousands of incidents per batch on dense traffic)."""
    I = IncidentRow
    out = []
    for i, site, family, onset, ongoing, last, low, high, area_id, area_sites, first in session.execute(
            select(*_LINK_COLUMNS).where(*where).order_by(I.first_onset_us, I.first_event_id)):
        out.append(_LinkRow(LinkCandidate(i, site, family, onset, NEVER if ongoing else last, low, high, first),
                            area_id, area_sites))
    return out


def _relink(session, touched: list[str], rules: GroupingRules) -> list[IncidentChange]:
    """Redo the wide-area sweep (:class:`service.incidents.LinkSweep`) from the earliest onset
    the changes reach, and rewrite the groups whose members changed.

    The sweep before that onset is as stored, so it resumes from the stored anchors of the
    window before it. It stops past the last touched onset plus a window, at the first
    incident whose window holds the same anchors as stored: from there on every decision
    is the stored one. Only incidents in that stretch and the members of their groups are read.
    """
    unchanged = session.info.pop("links_unchanged", set())
    relink_from_us = session.info.pop("relink_from_us", NEVER)
    relink_to_us = session.info.pop("relink_to_us", None)
    gone = session.info.pop("relink_gone", set())
    touched = [i for i in touched if i not in unchanged]
    if not touched and relink_from_us == NEVER:
        return []
    I = IncidentRow
    session.flush()
    onsets = []
    for part in _chunks(touched):
        onsets += [o for (o,) in session.execute(select(I.first_onset_us).where(I.id.in_(part)))]
    if not onsets and relink_from_us == NEVER:
        return []
    window_us = rules.link_window_us
    lo = min(onsets + [relink_from_us])
    # after this no touched incident, at its new onset or an old one, is within an anchor's window
    hi = max(onsets + [lo] + ([relink_to_us] if relink_to_us is not None else [])) + window_us
    sweep = LinkSweep(rules)
    rows: dict[str, _LinkRow] = {}
    for r in _link_rows(session, I.first_onset_us >= lo - window_us, I.first_onset_us < lo):
        rows[r.c.id] = r
        if r.anchor:
            sweep.add_anchor(r.c)
    anchor_of: dict[str, str] = {}  # placed incident -> its anchor, as the sweep decides now
    moved: deque[int] = deque()  # onsets of placed incidents whose anchor status changed
    span_us, t, done = max(window_us, 1_000_000), lo, False
    while not done:  # the stretch from lo, a span at a time, until the sweep agrees with the stored one
        for r in _link_rows(session, I.first_onset_us >= t, I.first_onset_us < t + span_us):
            c = r.c
            if c.first_onset_us > hi:
                while moved and c.first_onset_us - moved[0] > window_us:
                    moved.popleft()
                if not moved:
                    done = True
                    break
            rows[c.id] = r
            if c.family in NOT_LINKED_FAMILIES:
                continue
            anchor_of[c.id] = sweep.place(c)
            if (anchor_of[c.id] == c.id) != r.anchor:
                moved.append(c.first_onset_us)
        if not done:  # the next span starts at the next onset (gaps are skipped, not walked)
            t = session.scalar(select(func.min(I.first_onset_us)).where(I.first_onset_us >= t + span_us))
            done = t is None
    affected = set(anchor_of.values()) | {rows[i].area_id for i in anchor_of if rows[i].area_id} | gone
    for part in _chunks(sorted(affected)):  # members of those groups outside the stretch keep their anchor
        for r in _link_rows(session, I.area_id.in_(part)):
            rows.setdefault(r.c.id, r)
    members: dict[str, list[LinkCandidate]] = {}
    for i, r in rows.items():
        anchor = anchor_of.get(i, r.area_id or i)
        if anchor in affected and r.c.family not in NOT_LINKED_FAMILIES:
            members.setdefault(anchor, []).append(r.c)
    links = group_sites(members)
    changes, updates = [], []
    for i in sorted(rows):
        r = rows[i]
        if i not in anchor_of and (r.area_id or i) not in affected:
            continue
        area_id, sites = links.get(i, (None, ()))
        joined = ",".join(sites) or None
        if (r.area_id, r.area_sites) == (area_id, joined):
            continue
        widened = area_id is not None and len(sites) > (len(r.area_sites.split(",")) if r.area_sites else 0)
        updates.append({"b_id": i, "b_area_id": area_id, "b_area_sites": joined})
        changes.append(IncidentChange("linked" if widened else "updated", i))
    if updates:
        t = I.__table__
        session.execute(update(t).where(t.c.id == bindparam("b_id"))
                        .values(area_id=bindparam("b_area_id"), area_sites=bindparam("b_area_sites")), updates)
        session.expire_all()  # incident objects loaded earlier in this session hold the old groups
    return changes


def refresh_states(db: Database, rules: GroupingRules, now_us: int) -> list[IncidentChange]:
    """Move incidents on in time (active -> quiet -> closed); return the changes."""
    I = IncidentRow

    def job(session):
        serialise_grouping(db, session)  # two workers moving the same incident on would both announce it
        out = []
        for r in session.scalars(select(I).where(I.state.in_(("active", "quiet")))):  # uses the state index
            state = incident_state(r.ongoing, r.last_activity_us, now_us, rules)
            if state != r.state:
                r.state, r.updated_us = state, now_us
                out.append(IncidentChange("closed" if state == "closed" else "updated", r.id))
        return out

    return db.transact(job)


def _read_records(db: Database, page: int) -> list[EventRecord]:
    """Every stored event's grouping record, a page at a time. On SQLite the three fields
    that live only in the JSON are picked out by ``json_extract`` (no parsing in Python)."""
    e = EventRow
    if db.dialect == "sqlite":
        picked = [func.json_extract(e.data, "$.band"), func.json_extract(e.data, "$.rise_db"),
                  func.json_extract(e.data, "$.peak_dbfs")]
    else:
        picked = [e.data]
    records: list[EventRecord] = []
    last_seq = 0
    while True:
        with db.read() as session:
            rows = session.execute(select(e.seq, e.id, e.site, e.kind, e.start_us, e.end_us, e.progress_us,
                                          e.freq_low_hz, e.freq_high_hz, e.severity, *picked)
                                   .where(e.seq > last_seq).order_by(e.seq).limit(page)).all()
        if not rows:
            return records
        for r in rows:
            band, rise, peak = r[10:] if len(r) == 13 else _from_json(r[10])
            records.append(EventRecord(r.id, r.site, band if isinstance(band, str) else None, r.kind, r.start_us,
                                       r.end_us, 0 if r.end_us is not None or r.progress_us is None else r.progress_us,
                                       r.freq_low_hz, r.freq_high_hz, r.severity, float(rise), float(peak)))
        last_seq = rows[-1].seq


def _from_json(data: str) -> tuple:
    d = json.loads(data)
    return d.get("band"), d["rise_db"], d["peak_dbfs"]


def rebuild_incidents(db: Database, rules: GroupingRules, now_us: int, page: int = 50_000) -> int:
    """Recompute every incident from the stored events; return how many there are.

    Incidents keep their ids where their events were grouped before (so the desk's state
    and audit log stay attached); the rest get ids derived from their first event.
    """
    records = _read_records(db, page)
    with db.read() as session:
        previous = dict(session.execute(select(IncidentMemberRow.event_id, IncidentMemberRow.incident_id)).all())
        onsets = dict(session.execute(select(IncidentRow.id, IncidentRow.first_onset_us)).all())
    drafts = group_events(records, rules)
    del records
    ids = assign_ids(drafts, previous, onsets)
    incidents = []
    for incident_id, draft in zip(ids, drafts):
        s = draft.summary()
        incidents.append({**{k: s[k] for k in FIGURES}, "id": incident_id, "site": draft.site, "band": draft.band,
                          "first_event_id": draft.events[0].id, "last_start_us": draft.events[-1].start_us,
                          "family": draft.family, "kinds": ",".join(s["kinds"]),
                          "severity_rank": SEVERITY_RANK.get(s["severity"], 0),
                          "state": incident_state(s["ongoing"], s["last_activity_us"], now_us, rules),
                          "area_id": None, "area_sites": None, "updated_us": now_us})
    links = link_sites([LinkCandidate(i["id"], i["site"], i["family"], i["first_onset_us"],
                                      NEVER if i["ongoing"] else i["last_activity_us"], i["freq_low_hz"],
                                      i["freq_high_hz"], i["first_event_id"]) for i in incidents], rules)
    for i in incidents:
        if i["id"] in links:
            i["area_id"], sites = links[i["id"]]
            i["area_sites"] = ",".join(sites)

    def members():  # built chunk by chunk: a million dicts at once would double the memory
        chunk = []
        for incident_id, draft in zip(ids, drafts):
            chunk += [_member(ev, incident_id) for ev in draft.events]
            if len(chunk) >= 5000:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def job(session):
        serialise_grouping(db, session)
        session.execute(delete(IncidentMemberRow))
        session.execute(delete(IncidentRow))
        for part in _chunks(incidents, 5000):
            session.execute(IncidentRow.__table__.insert(), part)
        for part in members():
            session.execute(IncidentMemberRow.__table__.insert(), part)

    db.transact(job)
    return len(incidents)
