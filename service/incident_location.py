"""Where is the jammer of an incident? Its wide-area group's sites, their positions and the
strongest level each heard, handed to :func:`service.jammer_location.locate_jammer`.

One site's incident and every incident linked with it (the wide-area group) count together: the
same jammer heard at several sites. Per site the level is the strongest over the group's events
at that site (a pulsing or drifting jammer is compared at its loudest everywhere): ``peak_dbm``
when the event says ``calibrated: true`` and carries it, and ``peak_dbfs`` always. The fit uses dBm when three or
more calibrated sites with a usable geometry heard it, else dBFS; the output says which
(dBFS from different dongles and gains is only roughly comparable, so the region is wider).

A site's position comes from the site registry, else from the newest heartbeat of its sensors
that carried one (the same rule as ``GET /desk/sites``); sites with neither are left out and
listed. Results are cached per app by the group's version (its members and their update
times) and the sites' positions, so a dashboard asking again after every stream message costs
two small queries until the incident changes.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select

from service.db import Database
from service.incident_models import IncidentMemberRow, IncidentRow
from service.models import EventRow, SensorRow
from service.site_registry import SiteEntry
from service.store import us_to_iso

CONFIDENCE = 0.9  # stated probability that the region holds the jammer
CACHE_SIZE = 256  # incident groups remembered per app


@dataclass(frozen=True)
class SiteLevel:
    """The strongest level one site heard of the jammer (dB), with the site's position."""

    site: str
    lat_deg: float
    lon_deg: float
    level_dbfs: float
    level_dbm: float | None


def group_members(session, incident_id: str) -> list[IncidentRow] | None:
    """The incident and the rest of its wide-area group; None for an unknown incident."""
    row = session.get(IncidentRow, incident_id)
    if row is None:
        return None
    if not row.area_id:
        return [row]
    return list(session.scalars(select(IncidentRow).where(IncidentRow.area_id == row.area_id)
                                .order_by(IncidentRow.first_onset_us, IncidentRow.id)))


def site_positions(session, registry: dict[str, SiteEntry], sites: set[str]) -> dict[str, tuple[float, float]]:
    """(lat_deg, lon_deg) of each of ``sites`` that has one: the registry's, else the newest heartbeat's."""
    out = {s: (e.lat_deg, e.lon_deg) for s, e in registry.items()
           if s in sites and e.lat_deg is not None and e.lon_deg is not None}
    unplaced = sites - set(out)
    if not unplaced:
        return out
    newest: dict[str, int] = {}
    rows = session.execute(select(SensorRow.site, SensorRow.last_seen_us, SensorRow.heartbeat)
                           .where(SensorRow.site.in_(unplaced)))
    for r in rows:
        position = (json.loads(r.heartbeat) if r.heartbeat else {}).get("position")
        if not position or (r.site in newest and (r.last_seen_us or 0) <= newest[r.site]):
            continue
        newest[r.site] = r.last_seen_us or 0
        out[r.site] = (float(position["lat_deg"]), float(position["lon_deg"]))
    return out


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def strongest_levels(session, incident_ids: list[str]) -> dict[str, tuple[float, float | None]]:
    """Per site: (strongest ``peak_dbfs``, strongest calibrated ``peak_dbm`` or None) over the events."""
    member_ids = select(IncidentMemberRow.event_id).where(IncidentMemberRow.incident_id.in_(incident_ids))
    out: dict[str, tuple[float, float | None]] = {}
    for site, data in session.execute(select(EventRow.site, EventRow.data).where(EventRow.id.in_(member_ids))):
        if not site:
            continue
        event = json.loads(data)
        dbfs = _number(event.get("peak_dbfs"))
        dbm = _number(event.get("peak_dbm")) if event.get("calibrated") is True else None
        if dbfs is None:
            continue
        best_dbfs, best_dbm = out.get(site, (-math.inf, None))
        if dbm is not None and (best_dbm is None or dbm > best_dbm):
            best_dbm = dbm
        out[site] = (max(best_dbfs, dbfs), best_dbm)
    return out


def locate_levels(levels: list[SiteLevel], sites: list[str], unplaced: list[str]) -> dict:
    """The location answer for sites' levels (JSON-ready; see :func:`incident_location`)."""
    # numpy loads on the first location asked for, not with the service (its import stays light)
    from service.jammer_location import SensorLevel, locate_jammer

    readings = [SensorLevel(s.lat_deg, s.lon_deg, s.level_dbfs, s.level_dbm, s.site) for s in levels]
    found = locate_jammer(readings, confidence=CONFIDENCE)
    used = set(found.sensors)
    out = {
        "position": None, "reason": found.reason, "detail": found.detail,
        "unit": found.unit, "calibrated": found.calibrated, "confidence": found.confidence,
        "sensors": len(found.sensors), "sites": sites, "unplaced_sites": unplaced,
        "readings": [{"site": s.site, "lat_deg": s.lat_deg, "lon_deg": s.lon_deg, "level_dbfs": s.level_dbfs,
                      "level_dbm": s.level_dbm, "used": s.site in used} for s in levels],
        "region": None, "fit": None,
    }
    if found.located:
        out["position"] = {"lat_deg": found.lat_deg, "lon_deg": found.lon_deg}
        out["region"] = {"polygon": [{"lat_deg": a, "lon_deg": b} for a, b in found.region],
                         "radius_km": found.region_radius_m / 1000, "bounded": found.region_bounded,
                         "method": found.method}
        out["fit"] = {"path_loss_exponent": found.path_loss_exponent, "residual_rms_db": found.residual_rms_db,
                      "level_at_1m_db": found.p0_db}
    return out


class LocationCache:
    """Location answers by incident group version; thread-safe, bounded."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._items: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key: tuple) -> dict | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple, value: dict) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def incident_location(db: Database, registry: dict[str, SiteEntry], incident_id: str,
                      cache: LocationCache | None = None) -> dict | None:
    """The jammer's estimated position for an incident's wide-area group; None for an unknown incident.

    Parameters
    ----------
    db : Database
    registry : dict
        The site registry (site id -> entry), for positions.
    incident_id : str
        Any member of the group.
    cache : LocationCache, optional
        Reuses the answer while the group and the positions are unchanged.

    Returns
    -------
    dict or None
        ``incident_id``, ``area_id`` (None for a single site), ``version`` (the group's latest
        update, ISO-8601), ``position`` ({lat_deg, lon_deg} or None), ``reason`` and ``detail``
        (why there is no position), ``unit`` (``dBm`` or ``dBFS``), ``calibrated``,
        ``confidence`` (stated level of the region), ``sensors`` (sites used), ``sites``,
        ``unplaced_sites`` (no known position), ``readings`` (per site level and position),
        ``region`` ({polygon, radius_km, bounded, method} or None) and ``fit``.
    """
    with db.read() as session:
        members = group_members(session, incident_id)
        if members is None:
            return None
        sites = sorted({m.site for m in members if m.site})
        positions = site_positions(session, registry, set(sites))
        key = (tuple((m.id, m.updated_us) for m in members), tuple(sorted(positions.items())))
        answer = cache.get(key) if cache is not None else None
        if answer is None:
            levels = strongest_levels(session, [m.id for m in members])
            placed = [SiteLevel(s, *positions[s], *levels[s]) for s in sites if s in positions and s in levels]
            answer = locate_levels(placed, sites, [s for s in sites if s not in positions])
            if cache is not None:
                cache.put(key, answer)
    area_id = members[0].area_id
    return {"incident_id": incident_id, "area_id": area_id,
            "version": us_to_iso(max(m.updated_us for m in members)), **answer}
