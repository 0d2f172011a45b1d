"""Request and response bodies of the API (separate input and output models).

Input models are strict: a wrong type, a missing field, an unknown kind or severity, a
non-finite number or an inconsistent event (``end`` before ``start``) is a 422, and a batch
is accepted whole or not at all. Unknown extra fields are kept (the event contract lets
sensors add fields; it never renames them).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer,
                      StringConstraints, model_validator)

from spectrum.events import KINDS, SEVERITIES

Kind = Literal[KINDS]  # type: ignore[valid-type]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
Role = Literal["sensor", "viewer", "operator", "admin"]
Status = Literal["online", "stale", "offline"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]


def iso_utc(moment: datetime) -> str:
    """``2024-06-09T07:30:00.123Z``: the contract's wall-clock format (UTC, milliseconds)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ValueError("time out of range once converted to UTC") from None


UtcTime = Annotated[AwareDatetime, AfterValidator(_to_utc), PlainSerializer(iso_utc, return_type=str)]
EventId = Annotated[uuid.UUID, PlainSerializer(str, return_type=str)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _In(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, str_max_length=10_000)


# ---- events -------------------------------------------------------------------------------


class DetectorInfo(_In):
    """Provenance of an event (contract field ``detector``)."""

    version: str | None = Field(None, max_length=100)
    config_hash: str | None = Field(None, max_length=200)


class EventIn(_In):
    """One event as a sensor sends it (DESIGN.md event contract).

    ``updated`` (optional, not in the contract) orders successive states of an ongoing event
    when they could arrive out of order; without it the later arrival wins, except that a
    closed state (``end`` set) is never replaced by an ongoing one.
    """

    id: EventId
    kind: Kind
    start: UtcTime
    end: UtcTime | None = None
    offset_start_s: Finite
    offset_end_s: Finite | None = None
    freq_low_hz: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    freq_high_hz: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    peak_dbfs: Finite
    rise_db: Finite
    severity: Severity
    confidence: Annotated[float, Field(ge=0, le=1)]
    site: Name | None = None
    sensor: Name | None = None
    detector: DetectorInfo = Field(default_factory=DetectorInfo)
    updated: UtcTime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> EventIn:
        if (self.end is None) != (self.offset_end_s is None):
            raise ValueError("end and offset_end_s must both be null (ongoing) or both be set (closed)")
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        if self.offset_end_s is not None and self.offset_end_s < self.offset_start_s:
            raise ValueError("offset_end_s is before offset_start_s")
        if self.freq_high_hz < self.freq_low_hz:
            raise ValueError("freq_high_hz is below freq_low_hz")
        return self


class EventBatchIn(BaseModel):
    """Body of ``POST /events``: a batch, stored whole or not at all."""

    model_config = ConfigDict(extra="forbid")
    events: Annotated[list[EventIn], Field(min_length=1, max_length=5000)]


class IngestResult(BaseModel):
    """What one ``POST`` did: ``created + updated + unchanged == accepted``."""

    accepted: int
    created: int
    updated: int
    unchanged: int = Field(description="retries of a stored state, or states older than the stored one")


class EventOut(BaseModel):
    """One stored event, in its latest state (contract shape, extra fields kept)."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: str
    start: str
    end: str | None
    offset_start_s: float
    offset_end_s: float | None
    freq_low_hz: float
    freq_high_hz: float
    peak_dbfs: float
    rise_db: float
    severity: str
    confidence: float
    site: str | None
    sensor: str | None
    detector: dict[str, Any]


class EventPage(BaseModel):
    """Body of ``GET /events``: newest first; pass ``next_cursor`` back as ``cursor`` for more."""

    events: list[EventOut]
    next_cursor: str | None


# ---- sensors and heartbeats ------------------------------------------------------------------


class Position(_In):
    lat_deg: Annotated[float, Field(ge=-90, le=90)]
    lon_deg: Annotated[float, Field(ge=-180, le=180)]
    alt_m: Finite | None = None


class HeartbeatIn(_In):
    """Sensor health, sent every few seconds. ``site``/``sensor`` default to the token's."""

    site: Name | None = None
    sensor: Name | None = None
    time: UtcTime | None = Field(None, description="sensor clock when sent")
    sweep_rate_hz: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = Field(None, description="band sweeps per second")
    drops_total: Annotated[int, Field(ge=0)] | None = Field(None, description="sample blocks dropped since start")
    overload: bool | None = Field(None, description="ADC clipping now")
    position: Position | None = None
    software_version: str | None = Field(None, max_length=100)
    queue_size: Annotated[int, Field(ge=0)] | None = Field(None, description="items waiting in the uplink queue")
    queue_dropped: Annotated[int, Field(ge=0)] | None = Field(None, description="items the uplink queue ever dropped")


class HeartbeatResult(BaseModel):
    site: str
    sensor: str
    status: Status


class SensorOut(BaseModel):
    """One sensor with its computed status (online / stale / offline by heartbeat age)."""

    site: str
    sensor: str
    status: Status
    last_seen: str | None = Field(description="server time of the last heartbeat")
    last_seen_age_s: float | None
    last_event: str | None = Field(description="server time of the last event batch")
    heartbeat: dict[str, Any] | None = Field(description="the last heartbeat as sent")


class SensorList(BaseModel):
    sensors: list[SensorOut]


class SiteOut(BaseModel):
    site: str
    sensors: int
    online: int
    stale: int
    offline: int
    status: Status = Field(description="the best status among the site's sensors")
    last_seen: str | None


class SiteList(BaseModel):
    sites: list[SiteOut]


# ---- spectra -----------------------------------------------------------------------------------


class SpectrumIn(_In):
    """One downsampled PSD of one band: bin ``k`` is centred on ``freq_start_hz + k * freq_step_hz``."""

    id: EventId | None = Field(None, description="set by the sender so retries are not stored twice")
    site: Name | None = None
    sensor: Name | None = None
    band: Name
    time: UtcTime
    freq_start_hz: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    freq_step_hz: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    power_dbfs: Annotated[list[Finite], Field(min_length=1, max_length=8192)]


class SpectraBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    spectra: Annotated[list[SpectrumIn], Field(min_length=1, max_length=200)]


class SpectrumOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    site: str
    sensor: str
    band: str
    time: str
    freq_start_hz: float
    freq_step_hz: float
    power_dbfs: list[float]


class SpectrumList(BaseModel):
    spectra: list[SpectrumOut]


# ---- tokens ------------------------------------------------------------------------------------


class TokenCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    site: Name | None = None
    sensor: Name | None = None
    label: str | None = Field(None, max_length=200)


class TokenOut(BaseModel):
    id: str
    role: Role
    site: str | None
    sensor: str | None
    label: str | None
    created: str
    revoked: str | None


class TokenCreated(TokenOut):
    token: str = Field(description="the secret; shown once, stored only as its SHA-256")


class TokenList(BaseModel):
    tokens: list[TokenOut]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
