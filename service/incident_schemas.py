"""Request and response bodies of the incident, webhook and report endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.schemas import NO_NUL

IncidentState = Literal["active", "quiet", "closed"]
Outcome = Literal["confirmed_jammer", "legitimate_signal", "equipment_fault", "false_alarm", "unknown"]
Change = Literal["opened", "updated", "escalated", "linked", "closed", "merged", "acknowledged", "assigned",
                 "noted", "resolved"]
NotifiedChange = Literal["opened", "escalated", "linked", "closed"]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
Team = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True, pattern=NO_NUL)]


class WideArea(BaseModel):
    """The wide-area group an incident belongs to (the same jammer seen at several sites)."""

    id: str = Field(description="the group's id: the id of its earliest incident")
    sites: list[str] = Field(description="every site of the group, sorted")
    incidents: list[str] = Field(description="ids of the group's incidents, earliest onset first")


class DeskState(BaseModel):
    """What the desk did about an incident (its latest state; the history is in the audit log)."""

    acknowledged: bool = Field(description="someone has seen it")
    acknowledged_by: str | None = Field(description="name of the token that acknowledged it first")
    acknowledged_at: str | None = Field(description="when (ISO UTC)")
    assigned_to: str | None = Field(description="field team it is assigned to")
    outcome: Outcome | None = Field(description="set when resolved")
    resolved_by: str | None = Field(description="name of the token that resolved it")
    resolved_at: str | None = Field(description="when (ISO UTC)")
    notes: int = Field(description="number of notes in the audit log")


class IncidentOut(BaseModel):
    """One incident: the events of one site and band while the same jammer recurs."""

    id: str = Field(description="stable id (kept when late events regroup the incident)")
    site: str | None = Field(description="site of its events")
    band: str | None = Field(description="band plan hop of its events, when the sensor names it")
    family: str = Field(description="kind family: wideband, narrowband, overload or sensor_fault")
    state: IncidentState = Field(description="active (on, or within quiet_s), quiet (within the hold time), closed")
    since: str = Field(description="first onset (ISO UTC): the site is jammed since then while not closed")
    last_activity: str = Field(description="latest end (or progress) of its events (ISO UTC)")
    ongoing: bool = Field(description="an event of it is still open")
    duration_s: float = Field(description="first onset to last activity, seconds")
    on_s: float = Field(description="seconds covered by at least one of its events")
    duty: float = Field(description="on_s over duration_s (1 for a single instant)")
    bursts: int = Field(description="number of events")
    severity: str = Field(description="peak severity of its events")
    peak_rise_db: float = Field(description="largest rise over the baseline, dB")
    peak_dbfs: float = Field(description="strongest level, dBFS")
    kinds: list[str] = Field(description="event kinds seen, sorted")
    freq_low_hz: float = Field(description="lowest frequency of its events, Hz")
    freq_high_hz: float = Field(description="highest frequency of its events, Hz")
    wide_area: WideArea | None = Field(description="the wide-area group, or null for one site")
    desk: DeskState = Field(description="acknowledgement, assignment and outcome")
    needs_attention: bool = Field(description="critical and not yet acknowledged: the dashboard makes it stand out")
    updated: str = Field(description="server time of the last change (ISO UTC)")


class IncidentPage(BaseModel):
    """Body of ``GET /incidents``: newest onset first; pass ``next_cursor`` back as ``cursor``."""

    incidents: list[IncidentOut]
    next_cursor: str | None


class AuditEntry(BaseModel):
    """One desk action, as kept (never edited or deleted)."""

    seq: int = Field(description="order of the action in the log")
    incident_id: str = Field(description="the incident acted on")
    at: str = Field(description="when (ISO UTC, server clock)")
    actor: str = Field(description="the token's name (its label, else its id)")
    token_id: str = Field(description="the token's public id")
    action: Literal["acknowledge", "assign", "note", "resolve"] = Field(description="what was done")
    detail: dict[str, Any] = Field(description="team, text, outcome or note as given")


class IncidentDetail(IncidentOut):
    """One incident with its events (contract shape, start order) and its audit log."""

    events: list[dict[str, Any]] = Field(description="its events, earliest first")
    audit: list[AuditEntry] = Field(description="every desk action on it, oldest first")


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text | None = Field(None, description="optional note kept in the audit log")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team: Team = Field(description="field team to send")
    note: Text | None = Field(None, description="optional note kept in the audit log")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(description="the note")


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome = Field(description="what it turned out to be")
    note: Text | None = Field(None, description="optional note kept in the audit log")


class SiteJamOut(BaseModel):
    """A site with an incident that is not closed."""

    site: str = Field(description="site id")
    jammed_since: str = Field(description="earliest first onset among its open incidents (ISO UTC)")
    incidents: int = Field(description="its incidents that are active or quiet")
    state: IncidentState = Field(description="active if any of them is, else quiet")
    severity: str = Field(description="peak severity among them")
    unacknowledged_critical: int = Field(description="critical ones nobody acknowledged yet")


class SiteJamList(BaseModel):
    sites: list[SiteJamOut]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NO_NUL)] = Field(
        description="http(s) URL to POST to")
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200, pattern=NO_NUL)] | None = Field(
        None, description="HMAC key; generated and shown once when omitted")
    changes: list[NotifiedChange] = Field(["opened", "escalated", "linked", "closed"],
                                          description="which incident changes to send")


class WebhookOut(BaseModel):
    id: str = Field(description="public id, for DELETE")
    url: str = Field(description="where deliveries go")
    changes: list[NotifiedChange] = Field(description="which incident changes are sent")
    created: str = Field(description="when (ISO UTC)")
    created_by: str = Field(description="name of the admin token that created it")


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the HMAC key: X-Spectrum-Signature is sha256=HMAC(secret, timestamp + '.' + body)")


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]
