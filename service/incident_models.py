"""Tables of incidents, the desk's actions on them, and webhook subscriptions.

Same conventions as :mod:`service.models` (times in integer µs since the epoch, portable SQL).
Incidents and their membership are derived from the events and may be rebuilt at any time;
the desk's state and the audit log are not derived, and are keyed by incident id so a
rebuild keeps them (incident ids are stable, see :func:`service.incidents.assign_ids`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models import Base, SeqType


class IncidentRow(Base):
    """One incident's derived figures (recomputed from its events)."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site: Mapped[str | None] = mapped_column(String(64))
    band: Mapped[str | None] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8))  # as of updated_us; the housekeeping moves it on
    ongoing: Mapped[bool] = mapped_column(Boolean)
    first_onset_us: Mapped[int] = mapped_column(BigInteger)
    last_activity_us: Mapped[int] = mapped_column(BigInteger)
    bursts: Mapped[int] = mapped_column(Integer)
    on_s: Mapped[float] = mapped_column(Float)
    duty: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(Integer)
    peak_rise_db: Mapped[float] = mapped_column(Float)
    peak_dbfs: Mapped[float] = mapped_column(Float)
    kinds: Mapped[str] = mapped_column(String(200))  # comma-separated, sorted
    freq_low_hz: Mapped[float] = mapped_column(Float)
    freq_high_hz: Mapped[float] = mapped_column(Float)
    first_event_id: Mapped[str] = mapped_column(String(36))  # orders incidents of equal onset, as grouping does
    last_start_us: Mapped[int] = mapped_column(BigInteger)  # latest start among its events (appends come after)
    area_id: Mapped[str | None] = mapped_column(String(36))  # wide-area group (its earliest member's id)
    area_sites: Mapped[str | None] = mapped_column(Text)  # comma-separated sites of the group
    updated_us: Mapped[int] = mapped_column(BigInteger)  # server time of the last change

    __table_args__ = (
        Index("ix_incidents_onset", "first_onset_us", "id"),
        Index("ix_incidents_site_onset", "site", "first_onset_us", "id"),
        Index("ix_incidents_state_onset", "state", "first_onset_us", "id"),
        Index("ix_incidents_site_activity", "site", "last_activity_us"),
        Index("ix_incidents_area", "area_id"),
    )


class IncidentMemberRow(Base):
    """Which incident an event belongs to, with the few event fields grouping reads."""

    __tablename__ = "incident_members"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(36))
    site: Mapped[str | None] = mapped_column(String(64))
    band: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int | None] = mapped_column(BigInteger)
    progress_us: Mapped[int] = mapped_column(BigInteger)
    freq_low_hz: Mapped[float] = mapped_column(Float)
    freq_high_hz: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    rise_db: Mapped[float] = mapped_column(Float)
    peak_dbfs: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_incident_members_incident", "incident_id", "start_us"),)


class IncidentDeskRow(Base):
    """The desk's current view of an incident (acknowledgement, assignment, outcome)."""

    __tablename__ = "incident_desk"

    incident_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_us: Mapped[int | None] = mapped_column(BigInteger)
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(32))
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_us: Mapped[int | None] = mapped_column(BigInteger)
    notes: Mapped[int] = mapped_column(Integer, default=0)


class IncidentAuditRow(Base):
    """One desk action, append-only: no code path updates or deletes these rows."""

    __tablename__ = "incident_audit"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(36))
    at_us: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))  # the token's label, else its id
    token_id: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)  # JSON

    __table_args__ = (Index("ix_incident_audit_incident", "incident_id", "seq"),)


class WebhookRow(Base):
    """An outgoing webhook subscription."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200))  # kept in clear: it signs every delivery
    changes: Mapped[str] = mapped_column(String(200))  # comma-separated: opened, escalated, linked, closed
    created_us: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_us: Mapped[int | None] = mapped_column(BigInteger)
