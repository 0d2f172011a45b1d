"""Request and response bodies of the API (separate input and output models).

Input models are strict: a wrong type (no coercion: ``"9.5"`` or ``true`` is not a number,
``0.5`` is not a time), a missing field, an unknown kind or severity, a value outside its
physical range (frequencies 0–6 GHz, levels −250…50 dBFS), a non-finite number or an
inconsistent event (``end`` before ``start``, ``freq_high_hz`` below ``freq_low_hz``) is a 422
naming the field, and a batch is accepted whole or not at all. Unknown extra fields are kept
(the event contract lets sensors add fields; it never renames them), but at most
``MAX_EXTRA_FIELDS`` of them per object, named like identifiers, together at most
``MAX_EXTRA_BYTES`` of JSON. Times are checked against the server's clock in the routes
(``service.bounds``), which know the configured window.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
import json
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field,
                      PlainSerializer, Strict, StringConstraints, model_validator)

from spectrum.events import KINDS, SEVERITIES

Kind = Literal[KINDS]  # type: ignore[valid-type]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
Role = Literal["sensor", "viewer", "operator", "admin"]

MAX_FREQ_HZ = 6e9  # RF range of any receiver this toolkit drives (RTL-SDR tops out near 1.8 GHz)
MIN_DBFS, MAX_DBFS = -250.0, 50.0  # 10·log10 of the smallest power the sensors report is −200 dBFS
MIN_RISE_DB, MAX_RISE_DB = -100.0, 250.0
MAX_OFFSET_S = 1e9  # ~31 years of monitoring session
MAX_COUNT = 2**53  # exact in a JSON number
MIN_DBM, MAX_DBM = -250.0, 60.0  # calibrated levels at the antenna port (a dongle burns out near +10 dBm)
MAX_CLOCK_OFFSET_S = 1e9  # a sensor clock ~31 years off is still reported, not refused
MAX_RTT_S = 3600.0
MAX_EXTRA_FIELDS = 32  # extra (non-schema) fields per object
MAX_EXTRA_BYTES = 2048  # their JSON, together (a detector event's extras are a dozen numbers)
EXTRA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
Status = Literal["online", "stale", "offline"]
NAME_PATTERN = r"^[^\x00-\x1f]+$"
NO_NUL = r"^[^\x00]*$"  # for free text stored in a column: PostgreSQL's text types cannot hold NUL
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NAME_PATTERN)]


def iso_utc(moment: datetime) -> str:
    """``2024-06-09T07:30:00.123Z``: the contract's wall-clock format (UTC, milliseconds)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ValueError("time out of range once converted to UTC") from None


def _iso_text(value: Any) -> Any:
    """Only ISO-8601 text is a time (pydantic would also read ``0.5`` as seconds since 1970)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not ISO_TIME.match(value):
        raise ValueError("expected an ISO-8601 time with a zone, e.g. 2024-06-09T07:30:00Z")
    return value


def _uuid_text(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a UUID string")
    return value


UtcTime = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_to_utc),
                    PlainSerializer(iso_utc, return_type=str)]
EventId = Annotated[uuid.UUID, BeforeValidator(_uuid_text), PlainSerializer(str, return_type=str)]


def Num(low: float, high: float, *, above: bool = False) -> Any:
    """A strict finite number in ``[low, high]`` (``(low, high]`` with ``above``): ints pass,
    strings and booleans do not."""
    bound = Field(gt=low, le=high, allow_inf_nan=False) if above else Field(ge=low, le=high, allow_inf_nan=False)
    return Annotated[float, Strict(), bound]


def Count() -> Any:
    """A strict non-negative integer (``1.0``, ``"1"`` and ``true`` refused)."""
    return Annotated[int, Strict(), Field(ge=0, le=MAX_COUNT)]


Freq = Num(0.0, MAX_FREQ_HZ)
Dbfs = Num(MIN_DBFS, MAX_DBFS)
OffsetS = Num(0.0, MAX_OFFSET_S)
Flag = Annotated[bool, Strict()]


class _In(BaseModel):
    """Input base: strict strings, limited extra fields."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, str_max_length=1000, strict=False)
    # optional fields checked when present but kept out of the stored JSON when absent (no nulls):
    # name -> (low, high) for a number, bool, or str for a name (as ``Name``)
    bounded_extras: ClassVar[dict[str, tuple[float, float] | type]] = {}

    @model_validator(mode="after")
    def _limit_extras(self) -> Any:
        extra = self.model_extra or {}
        for key, bound in self.bounded_extras.items():
            if key in extra:
                _check_bounded(key, extra[key], bound)
        if len(extra) > MAX_EXTRA_FIELDS:
            raise ValueError(f"{len(extra)} extra fields; at most {MAX_EXTRA_FIELDS}")
        sizes = {}
        for key, value in extra.items():
            if not EXTRA_KEY.match(key):
                raise ValueError(f"extra field name {key[:70]!r}: letters, digits and _ only, at most 64")
            try:
                sizes[key] = len(json.dumps(value, allow_nan=False, separators=(",", ":")))
            except (TypeError, ValueError):
                raise ValueError(f"extra field {key!r}: not finite JSON (NaN or Infinity)") from None
        if sum(sizes.values()) > MAX_EXTRA_BYTES:
            largest = max(sizes, key=sizes.get)
            raise ValueError(f"extra fields hold {sum(sizes.values())} bytes of JSON (largest: {largest!r}, "
                             f"{sizes[largest]} bytes); at most {MAX_EXTRA_BYTES}")
        return self


def _check_bounded(key: str, value: Any, bound: tuple[float, float] | type) -> None:
    """A known optional field: a boolean, a name, or a finite number in its physical range."""
    if bound is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key}: expected true or false")
        return
    if bound is str:
        if not isinstance(value, str) or not 1 <= len(value) <= 64 or not re.match(NAME_PATTERN, value):
            raise ValueError(f"{key}: expected a name of 1 to 64 characters, no control characters")
        return
    low, high = bound
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{key}: expected a number in [{low:g}, {high:g}]")


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

    Checked when present: ``calibrated`` (bool), ``peak_dbm`` (dBm at the antenna port, from
    the sensor's dongle calibration) and ``band`` (the band plan hop, a name); the desk adds ``sensor_start`` / ``sensor_end`` (the
    sensor's own times) when it corrects ``start`` / ``end`` for the sensor's clock offset.
    """

    # band: stored in the incident tables' 64-character column (PostgreSQL refuses a longer one)
    bounded_extras: ClassVar[dict] = {"calibrated": bool, "peak_dbm": (MIN_DBM, MAX_DBM), "band": str}

    id: EventId
    kind: Kind
    start: UtcTime
    end: UtcTime | None = None
    offset_start_s: OffsetS
    offset_end_s: OffsetS | None = None
    freq_low_hz: Freq
    freq_high_hz: Freq
    peak_dbfs: Dbfs
    rise_db: Num(MIN_RISE_DB, MAX_RISE_DB)
    severity: Severity
    confidence: Num(0.0, 1.0)
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
    lat_deg: Num(-90.0, 90.0)
    lon_deg: Num(-180.0, 180.0)
    alt_m: Num(-1000.0, 100_000.0) | None = None


class HeartbeatIn(_In):
    """Sensor health, sent every few seconds. ``site``/``sensor`` default to the token's."""

    site: Name | None = None
    sensor: Name | None = None
    time: UtcTime | None = Field(None, description="sensor clock when sent")
    sweep_rate_hz: Num(0.0, 1e6) | None = Field(None, description="band sweeps per second")
    drops_total: Count() | None = Field(None, description="sample blocks dropped since start")
    overload: Flag | None = Field(None, description="ADC clipping now")
    position: Position | None = None
    software_version: str | None = Field(None, max_length=100)
    queue_size: Count() | None = Field(None, description="items waiting in the uplink queue")
    queue_dropped: Count() | None = Field(None, description="items the uplink queue ever dropped")
    clock_offset_s: Num(-MAX_CLOCK_OFFSET_S, MAX_CLOCK_OFFSET_S) | None = Field(
        None, description="desk clock minus sensor clock, s (NTP-style, from X-Desk-Time)")
    clock_offset_rtt_s: Num(0.0, MAX_RTT_S) | None = Field(None, description="round trip of that estimate, s")


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
    clock_offset_s: float | None = Field(None, description="desk clock minus sensor clock, s (last heartbeat)")
    clock_offset_rtt_s: float | None = Field(None, description="round trip of that estimate, s")
    clock_suspect: bool | None = Field(None, description="clock more than 1 s off the desk's")


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
    """One downsampled PSD of one band: bin ``k`` is centred on ``freq_start_hz + k * freq_step_hz``.

    Checked when present: ``calibrated`` (bool) and ``dbm_per_hz_offset_db``
    (``power_dbfs + dbm_per_hz_offset_db`` is the density at the antenna port, dBm/Hz).
    """

    bounded_extras: ClassVar[dict] = {"calibrated": bool, "dbm_per_hz_offset_db": (-400.0, 200.0)}

    id: EventId | None = Field(None, description="set by the sender so retries are not stored twice")
    site: Name | None = None
    sensor: Name | None = None
    band: Name
    time: UtcTime
    freq_start_hz: Freq
    freq_step_hz: Num(0.0, MAX_FREQ_HZ, above=True)
    power_dbfs: Annotated[list[Dbfs], Field(min_length=1, max_length=8192)]

    @model_validator(mode="after")
    def _in_range(self) -> SpectrumIn:
        last_hz = self.freq_start_hz + (len(self.power_dbfs) - 1) * self.freq_step_hz
        if last_hz > MAX_FREQ_HZ:
            raise ValueError(f"the last bin is at {last_hz:.6g} Hz; at most {MAX_FREQ_HZ:.0f} Hz")
        return self


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
    label: str | None = Field(None, max_length=200, pattern=NO_NUL)


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
