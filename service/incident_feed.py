"""Glue between ingest and incidents: regroup after each stored batch, move states on in
time, and tell the live stream (SSE ``event: incident``) and the webhooks what changed.

Live stream message ``event: incident``, data ``{"change": CHANGE, "incident": INCIDENT}``
with INCIDENT the ``GET /incidents/{id}`` shape without events and audit (see
:class:`service.incident_schemas.IncidentOut`) and CHANGE one of ``opened``, ``updated``,
``escalated``, ``linked``, ``closed``, ``acknowledged``, ``assigned``, ``noted``,
``resolved``; or ``{"change": "merged", "incident": {"id": OLD}, "merged_into": NEW}`` when a
late event joined two incidents into one.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from service.broadcast import Broadcaster
from service.db import Database, now_us
from service.incident_models import IncidentRow
from service.incident_queries import incident_dicts
from service.incident_store import IncidentChange, apply_events, record_from_event, refresh_states
from service.incidents import EventRecord, GroupingRules
from service.settings import Settings
from service.site_registry import SiteEntry, load_registry
from service.webhooks import Notifier

log = logging.getLogger("spectrum.service.incidents")
ACTION_CHANGES = {"acknowledge": "acknowledged", "assign": "assigned", "note": "noted", "resolve": "resolved"}


def rules_from(settings: Settings, registry: dict[str, SiteEntry] | None = None) -> GroupingRules:
    """The grouping rules a service's settings ask for, with the sites' positions from the
    registry (``None``: read the registry file the settings name)."""
    if registry is None:
        registry = load_registry(settings.site_registry)
    positions = {site: (e.lat_deg, e.lon_deg) for site, e in registry.items()
                 if e.lat_deg is not None and e.lon_deg is not None}
    return GroupingRules(hold_s=settings.incident_hold_s, quiet_s=settings.incident_quiet_s,
                         freq_margin_hz=settings.incident_freq_margin_hz,
                         link_window_s=settings.incident_link_window_s,
                         link_distance_km=settings.incident_link_distance_km, site_positions=positions)


class IncidentFeed:
    """Keeps the incident tables in step with the events, and announces changes."""

    def __init__(self, db: Database, settings: Settings, broadcaster: Broadcaster, notifier: Notifier | None,
                 registry: dict[str, SiteEntry] | None = None) -> None:
        self.db, self.broadcaster, self.notifier = db, broadcaster, notifier
        self.enabled = settings.incidents_enabled
        self.rules = rules_from(settings, registry)
        self._retry: list[EventRecord] = []  # events whose regrouping failed; tried again by refresh()
        self._lock = threading.Lock()

    def after_ingest(self, stored: list[dict]) -> None:
        """Regroup for newly stored or changed events (contract dicts); never raises."""
        if not self.enabled or not stored:
            return
        records = [record_from_event(d) for d in stored]
        try:
            changes = self.db.transact(lambda s: apply_events(self.db, s, records, self.rules, now_us()))
        except Exception:  # the events are stored; their incidents follow at the next refresh
            log.exception("incident regrouping failed for %d events; retrying later", len(records))
            with self._lock:
                self._retry += records
            return
        self.announce(changes)

    def refresh(self) -> None:
        """Retry failed regroupings, then move states on (called by the housekeeping)."""
        if not self.enabled:
            return
        with self._lock:
            retry, self._retry = self._retry, []
        if retry:
            try:
                self.announce(self.db.transact(lambda s: apply_events(self.db, s, retry, self.rules, now_us())))
            except Exception:
                with self._lock:
                    self._retry = retry + self._retry
                raise
        self.announce(refresh_states(self.db, self.rules, now_us()))

    def announce(self, changes: list[IncidentChange]) -> None:
        """Publish changes on the stream and queue their webhooks."""
        if not changes:
            return
        ids = sorted({c.incident_id for c in changes if c.change != "merged"})
        with self.db.read() as session:
            rows = list(session.scalars(select(IncidentRow).where(IncidentRow.id.in_(ids))))
            shapes = {d["id"]: d for d in incident_dicts(session, rows)}
        for c in changes:
            if c.change == "merged":
                self.broadcaster.publish("incident", {"change": "merged", "incident": {"id": c.incident_id},
                                                      "merged_into": c.merged_into})
                continue
            shape = shapes.get(c.incident_id)
            if shape is None:
                continue
            self.broadcaster.publish("incident", {"change": c.change, "incident": shape})
            if self.notifier is not None:
                try:
                    self.notifier.notify(c.change, shape)
                except Exception:  # a subscription lookup failing must not fail ingest
                    log.exception("webhook notification for incident %s not queued", c.incident_id)

    def after_action(self, action: str, ids: list[str]) -> None:
        """Announce a desk action on the stream (no webhook: the desk did it)."""
        self.announce([IncidentChange(ACTION_CHANGES[action], i) for i in ids])
