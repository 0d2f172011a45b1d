"""Storage operations behind the routes: plain functions over a :class:`~service.db.Database`.

They take validated models or plain values, return plain data, and raise only
:class:`~service.service_errors.ServiceError` subclasses (the routes turn those into HTTP answers).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import and_, delete, func, or_, select

from service.db import Database, now_us
from service.service_errors import ServiceError
from service.models import EventRow, SensorRow, SpectrumRow
from service.schemas import EventIn, HeartbeatIn, SpectrumIn, iso_utc


class CursorError(ServiceError):
    """A pagination cursor that this service did not hand out."""


class OwnershipError(ServiceError):
    """A write names an id that another sensor stored first; nothing of the batch was written.

    Attributes
    ----------
    ids : list of str
        The ids owned by another sensor (at most ten, for the message).
    """

    def __init__(self, what: str, ids: list[str]) -> None:
        self.ids = ids[:10]
        more = f" (and {len(ids) - 10} more)" if len(ids) > 10 else ""
        super().__init__(f"{what} {', '.join(self.ids)}{more} belong(s) to another sensor; an id belongs to the "
                         "sensor that first stored it; nothing of this batch was stored")


def _owners(session, table, ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """``{id: (site, sensor)}`` of the ids among ``ids`` already stored."""
    rows = session.execute(select(table.c.id, table.c.site, table.c.sensor).where(table.c.id.in_(ids)))
    return {r.id: (r.site, r.sensor) for r in rows}


def to_us(moment: datetime) -> int:
    """Integer microseconds since the Unix epoch of an aware datetime (exact)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def us_to_iso(us: int | None) -> str | None:
    if us is None:
        return None
    return iso_utc(datetime.fromtimestamp(us / 1e6, tz=timezone.utc))


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---- events ------------------------------------------------------------------------------------


@dataclass
class IngestOutcome:
    """Result of one batch: the stored states that are new or changed, for the live stream."""

    accepted: int
    created: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.accepted - len(self.created) - len(self.updated)


def _event_row(event: EventIn, received_us: int) -> dict:
    data = event.model_dump(mode="json")
    if data.get("updated") is None:
        data.pop("updated", None)  # optional, not in the contract: absent rather than null
    end_us = None if event.end is None else to_us(event.end)
    if event.updated is not None:
        progress_us = to_us(event.updated)
    else:
        progress_us = end_us or 0  # closed: later end wins; ongoing: later arrival wins
    return {
        "id": data["id"], "kind": event.kind, "severity": event.severity, "site": event.site,
        "sensor": event.sensor, "start_us": to_us(event.start), "end_us": end_us,
        "freq_low_hz": event.freq_low_hz, "freq_high_hz": event.freq_high_hz,
        "closed": end_us is not None, "progress_us": progress_us, "received_us": received_us,
        "data": _dumps(data), "json": data,
    }


def _newer(a: dict, b: dict) -> bool:
    """True when state ``a`` should replace state ``b`` of the same event (ties: ``a``)."""
    return (a["closed"], a["progress_us"]) >= (b["closed"], b["progress_us"])


def ingest_events(db: Database, events: list[EventIn]) -> IngestOutcome:
    """Store a batch of events in one transaction, idempotent by id.

    A state replaces the stored one only if it is at least as new (closed beats ongoing,
    then larger ``updated``/``end``) and differs from it, so a retry is a no-op and a late
    retry of an ongoing state never reopens a closed event. The ``site`` and ``sensor`` of a
    stored event never change.

    Raises
    ------
    OwnershipError
        An id of the batch was first stored by another sensor (nothing is written).
    """
    received = now_us()
    latest: dict[str, dict] = {}
    for event in events:  # one statement may not touch a row twice (PostgreSQL): keep the newest
        row = _event_row(event, received)
        old = latest.get(row["id"])
        if old is None or _newer(row, old):
            latest[row["id"]] = row
    rows = list(latest.values())
    table = EventRow.__table__

    origins = {(r["site"], r["sensor"]) for r in rows}
    if len(origins) != 1:
        raise ServiceError("one batch must come from one sensor (the routes stamp it from the token)")
    [(site, sensor)] = origins

    def job(session):
        owners = _owners(session, table, list(latest))
        foreign = sorted(i for i, owner in owners.items() if owner != (site, sensor))
        if foreign:  # raised inside the transaction: nothing of the batch is written
            raise OwnershipError("event", foreign)
        existing = set(owners)
        stmt = db.insert(table)
        new = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={c: new[c] for c in rows[0] if c not in ("id", "json", "site", "sensor")},
            where=and_(
                # the owner check again, in the statement: a concurrent first insert by
                # another sensor (PostgreSQL, several workers) still cannot be overwritten
                table.c.site == new.site, table.c.sensor == new.sensor,
                or_(new.closed > table.c.closed,
                    and_(new.closed == table.c.closed, new.progress_us >= table.c.progress_us)),
                new.data != table.c.data,
            ),
        ).returning(table.c.id)
        changed = set(session.scalars(stmt, [{k: v for k, v in r.items() if k != "json"} for r in rows]))
        sensors = {(r["site"], r["sensor"]) for r in rows if r["site"] and r["sensor"]}
        ensure_sensors(db, session, sensors, event_us=received)
        return existing, changed

    existing, changed = db.transact_core(job)
    outcome = IngestOutcome(accepted=len(events))
    for row in rows:
        if row["id"] in changed:
            (outcome.updated if row["id"] in existing else outcome.created).append(row["json"])
    return outcome


@dataclass(frozen=True)
class EventFilter:
    """Filters of ``GET /events``; ``None`` means no constraint. Times are µs since the epoch."""

    sites: tuple[str, ...] = ()
    sensors: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    since_us: int | None = None  # events still active at or after this time
    until_us: int | None = None  # events started before this time
    freq_min_hz: float | None = None  # events overlapping [freq_min_hz, freq_max_hz]
    freq_max_hz: float | None = None
    ongoing: bool | None = None


def encode_cursor(start_us: int, event_id: str) -> str:
    return base64.urlsafe_b64encode(f"{start_us}:{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Inverse of :func:`encode_cursor`. Raises CursorError on anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        start, event_id = raw.split(":", 1)
        if "\x00" in event_id:  # PostgreSQL cannot compare text holding NUL (SQLite can)
            raise ValueError("NUL in the id")
        if not -2**63 <= int(start) < 2**63:  # neither backend compares a wider integer
            raise ValueError("start out of range")
        return int(start), event_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise CursorError(f"cursor {cursor[:40]!r} is not one this service handed out") from exc


def query_events(db: Database, flt: EventFilter, limit: int, cursor: str | None = None) -> tuple[list[str], str | None]:
    """Stored events matching ``flt``, newest start first.

    Returns
    -------
    list of str
        Up to ``limit`` events, each the stored JSON text (the contract shape).
    str or None
        Cursor for the next page, or None on the last page.
    """
    t = EventRow
    stmt = select(t.data, t.start_us, t.id)
    if flt.sites:
        stmt = stmt.where(t.site.in_(flt.sites))
    if flt.sensors:
        stmt = stmt.where(t.sensor.in_(flt.sensors))
    if flt.kinds:
        stmt = stmt.where(t.kind.in_(flt.kinds))
    if flt.severities:
        stmt = stmt.where(t.severity.in_(flt.severities))
    if flt.until_us is not None:
        stmt = stmt.where(t.start_us < flt.until_us)
    if flt.since_us is not None:
        stmt = stmt.where(or_(t.end_us.is_(None), t.end_us >= flt.since_us))
    if flt.freq_min_hz is not None:
        stmt = stmt.where(t.freq_high_hz >= flt.freq_min_hz)
    if flt.freq_max_hz is not None:
        stmt = stmt.where(t.freq_low_hz <= flt.freq_max_hz)
    if flt.ongoing is not None:
        stmt = stmt.where(t.end_us.is_(None) if flt.ongoing else t.end_us.is_not(None))
    if cursor is not None:
        c_start, c_id = decode_cursor(cursor)
        stmt = stmt.where(or_(t.start_us < c_start, and_(t.start_us == c_start, t.id < c_id)))
    stmt = stmt.order_by(t.start_us.desc(), t.id.desc()).limit(limit + 1)
    with db.read() as session:
        rows = session.execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].start_us, rows[-1].id) if more else None
    return [r.data for r in rows], next_cursor


def count_events(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)


# ---- sensors -----------------------------------------------------------------------------------


def ensure_sensors(db: Database, session, pairs: set[tuple[str, str]], event_us: int | None) -> None:
    """Register (site, sensor) pairs on first sight; note the time of their last events."""
    if not pairs:
        return
    table = SensorRow.__table__
    now = now_us()
    rows = [{"site": s, "sensor": x, "first_seen_us": now, "last_seen_us": None, "last_event_us": event_us,
             "heartbeat": None} for s, x in sorted(pairs)]
    stmt = db.insert(table)
    if event_us is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[table.c.site, table.c.sensor])
    else:
        stmt = stmt.on_conflict_do_update(index_elements=[table.c.site, table.c.sensor],
                                          set_={"last_event_us": stmt.excluded.last_event_us})
    session.execute(stmt, rows)


def _heartbeat_upsert(db: Database):
    table = SensorRow.__table__
    stmt = db.insert(table)
    return stmt.on_conflict_do_update(index_elements=[table.c.site, table.c.sensor],
                                      set_={"last_seen_us": stmt.excluded.last_seen_us,
                                            "heartbeat": stmt.excluded.heartbeat})


def record_heartbeat(db: Database, beat: HeartbeatIn) -> int:
    """Store a sensor's latest heartbeat; return the server time (µs) it was seen."""
    now = now_us()
    row = {"site": beat.site, "sensor": beat.sensor, "first_seen_us": now, "last_seen_us": now,
           "last_event_us": None, "heartbeat": _dumps(beat.model_dump(mode="json"))}
    stmt = db.prepared(_heartbeat_upsert)
    db.transact_core(lambda conn: conn.execute(stmt, [row]))
    return now


def sensor_status(last_seen_us: int | None, now: int, online_s: float, stale_s: float) -> str:
    """``online`` if heard from within ``online_s``, ``stale`` within ``stale_s``, else ``offline``."""
    if last_seen_us is None:
        return "offline"
    age_s = (now - last_seen_us) / 1e6
    return "online" if age_s < online_s else "stale" if age_s < stale_s else "offline"


def list_sensors(db: Database, online_s: float, stale_s: float, site: str | None = None) -> list[dict]:
    """Every known sensor with its status, ordered by site and sensor."""
    stmt = select(SensorRow).order_by(SensorRow.site, SensorRow.sensor)
    if site is not None:
        stmt = stmt.where(SensorRow.site == site)
    now = now_us()
    with db.read() as session:
        rows = list(session.scalars(stmt))
    return [{
        "site": r.site, "sensor": r.sensor,
        "status": sensor_status(r.last_seen_us, now, online_s, stale_s),
        "last_seen": us_to_iso(r.last_seen_us),
        "last_seen_age_s": None if r.last_seen_us is None else round((now - r.last_seen_us) / 1e6, 3),
        "last_event": us_to_iso(r.last_event_us),
        "heartbeat": None if r.heartbeat is None else json.loads(r.heartbeat),
    } for r in rows]


def summarize_sites(sensors: list[dict]) -> list[dict]:
    """Per-site counts of sensors by status (input: :func:`list_sensors`)."""
    sites: dict[str, dict] = {}
    for s in sensors:
        site = sites.setdefault(s["site"], {"site": s["site"], "sensors": 0, "online": 0, "stale": 0,
                                            "offline": 0, "last_seen": None})
        site["sensors"] += 1
        site[s["status"]] += 1
        if s["last_seen"] and (site["last_seen"] is None or s["last_seen"] > site["last_seen"]):
            site["last_seen"] = s["last_seen"]
    for site in sites.values():
        site["status"] = "online" if site["online"] else "stale" if site["stale"] else "offline"
    return list(sites.values())


# ---- spectra -----------------------------------------------------------------------------------


def ingest_spectra(db: Database, spectra: list[SpectrumIn]) -> int:
    """Store spectra (idempotent by id); return how many were new.

    Raises
    ------
    OwnershipError
        An id of the batch was first stored by another sensor (nothing is written).
    """
    import uuid

    received = now_us()
    rows = {}
    for sp in spectra:
        data = sp.model_dump(mode="json")
        data["id"] = data["id"] or str(uuid.uuid4())
        rows[data["id"]] = {"id": data["id"], "site": sp.site, "sensor": sp.sensor, "band": sp.band,
                            "time_us": to_us(sp.time), "received_us": received, "data": _dumps(data)}
    stmt = db.prepared(_spectra_insert)
    origins = {(r["site"], r["sensor"]) for r in rows.values()}
    if len(origins) != 1:
        raise ServiceError("one batch must come from one sensor (the routes stamp it from the token)")
    [(site, sensor)] = origins

    def job(session) -> int:
        created = set(session.scalars(stmt, list(rows.values())))
        if len(created) < len(rows):  # ids stored before: retries of this sensor's, or another's
            stored = [i for i in rows if i not in created]
            foreign = sorted(i for i, owner in _owners(session, SpectrumRow.__table__, stored).items()
                             if owner != (site, sensor))
            if foreign:  # raised inside the transaction: nothing of the batch is written
                raise OwnershipError("spectrum", foreign)
        return len(created)

    return db.transact_core(job)


def _spectra_insert(db: Database):
    table = SpectrumRow.__table__
    return db.insert(table).on_conflict_do_nothing(index_elements=[table.c.id]).returning(table.c.id)


def query_spectra(db: Database, site: str | None, sensor: str | None, band: str | None,
                  since_us: int | None, limit: int) -> list[dict]:
    """Stored spectra, newest first."""
    t = SpectrumRow
    stmt = select(t.data)
    for col, value in ((t.site, site), (t.sensor, sensor), (t.band, band)):
        if value is not None:
            stmt = stmt.where(col == value)
    if since_us is not None:
        stmt = stmt.where(t.time_us >= since_us)
    stmt = stmt.order_by(t.time_us.desc(), t.seq.desc()).limit(limit)
    with db.read() as session:
        return [json.loads(d) for d in session.scalars(stmt)]
