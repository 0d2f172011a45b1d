"""Campaign bodies: what an admin may send, and what a sensor receives (issue 17).

Validation is strict and names the field (FastAPI turns a ``ValueError`` here into a 422 whose
``loc`` ends with the field): an unknown preset, a frequency outside the R820T tuner's range,
a sample rate the RTL2832U cannot run, a schedule time that does not parse, an unknown time
zone. A body that fails is never stored, so no sensor ever receives it.

The service may not import the sensor code (``spectrum.live``), so the preset names, the tuner
range and the accepted sample rates are repeated here; ``tests/service/test_campaign_schemas.py``
checks they equal the sensor's own.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationInfo, field_validator, model_validator

from service.schemas import Name, Num

PRESETS = ("election-core", "election-site")  # spectrum/live/presets/*.toml
TUNER_RANGE_HZ = (24e6, 1766e6)  # R820T / R828D without direct sampling
RTL_RATES_HZ = ((225_001, 300_000), (900_001, 3_200_000))  # sample rates the RTL2832U accepts
CAMPAIGN_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
MAX_HOPS = 64
MAX_WINDOWS = 24


class _Strict(BaseModel):
    """No unknown fields: a misspelt setting is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=200)


class HopIn(_Strict):
    """One custom tuning: the dongle sits at ``center_hz`` for ``dwell_s`` each sweep."""

    sample_rate_hz: Num(0.0, 1e7) = Field(2.4e6, description="RTL2832U: 225001-300000 or 900001-3200000 S/s")
    center_hz: Num(0.0, 6e9) = Field(description="centre frequency, Hz: the hop's lower edge (centre - "
                                                 "sample_rate_hz/2) from 24 MHz, the centre up to 1766 MHz (R820T)")
    dwell_s: Num(0.01, 60.0) = Field(0.25, description="time at this tuning per sweep, s")

    @field_validator("center_hz")
    @classmethod
    def _in_tuner_range(cls, value: float, info: ValidationInfo) -> float:
        low, high = TUNER_RANGE_HZ
        half_hz = (info.data.get("sample_rate_hz") or 0.0) / 2  # the sensor refuses a hop reaching below the tuner
        if not (low <= value - half_hz and value <= high):
            raise ValueError(f"{value:.0f} Hz is outside the R820T tuner's {low / 1e6:g}-{high / 1e6:g} MHz"
                             + (f" (the hop reaches {(value - half_hz) / 1e6:g} MHz)" if low <= value <= high else ""))
        return value

    @field_validator("sample_rate_hz")
    @classmethod
    def _rate_the_dongle_runs(cls, value: float) -> float:
        if not any(low <= value <= high for low, high in RTL_RATES_HZ):
            raise ValueError(f"{value:.0f} S/s is not a rate the RTL2832U runs (225001-300000 or 900001-3200000)")
        return value


class PlanIn(_Strict):
    """A band plan: a shipped preset by name, or custom hops (exactly one of the two)."""

    preset: str | None = Field(None, description=f"one of {', '.join(PRESETS)}")
    hops: Annotated[list[HopIn], Field(min_length=1, max_length=MAX_HOPS)] | None = None

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in PRESETS:
            raise ValueError(f"unknown preset {value[:64]!r}; presets: {', '.join(PRESETS)}")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> Any:
        if (self.preset is None) == (self.hops is None):
            raise ValueError("give either preset or hops, not both or neither")
        rates = {hop.sample_rate_hz for hop in self.hops or ()}
        if len(rates) > 1:  # the dongle is opened at one rate; retuning cannot change it
            raise ValueError(f"hops: one sample_rate_hz for all hops of a plan, got {sorted(rates)}")
        return self


class DetectorIn(_Strict):
    """The detector settings a campaign may change (the rest keep the sensor's defaults)."""

    fft_size: Annotated[int, Strict(), Field(ge=256, le=16384)] | None = None
    z_threshold: Num(3.0, 20.0) | None = None
    min_rise_db: Num(0.0, 30.0) | None = None
    hold_s: Num(0.1, 60.0) | None = None
    learn_s: Num(0.5, 600.0) | None = None

    @field_validator("fft_size")
    @classmethod
    def _power_of_two(cls, value: int | None) -> int | None:
        if value is not None and value & (value - 1):
            raise ValueError(f"{value} is not a power of two")
        return value


class WindowIn(_Strict):
    """From ``start`` to ``end`` (local ``HH:MM``, end excluded; past midnight when end < start),
    sweep ``plan`` instead of the campaign's own."""

    start: str = Field(description="local time HH:MM")
    end: str = Field(description="local time HH:MM (24:00 for midnight)")
    plan: PlanIn

    @field_validator("start", "end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not CLOCK_TIME.match(value):
            raise ValueError(f"{value[:20]!r} is not a time of day HH:MM (00:00-24:00)")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Any:
        if self.start == "24:00":
            raise ValueError("start 24:00: write 00:00")
        if self.start == self.end:
            raise ValueError(f"window {self.start}-{self.end} is empty")
        return self


class ScheduleIn(_Strict):
    """Windows in the local time of an IANA zone; the first window holding the time applies."""

    zone: str = Field(description="IANA time zone, e.g. Asia/Jakarta")
    windows: Annotated[list[WindowIn], Field(min_length=1, max_length=MAX_WINDOWS)]

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value[:64]!r} (an IANA name, e.g. Asia/Jakarta)") from None
        return value


class TargetsIn(_Strict):
    """Who runs the campaign: every sensor, some sites, or some sensors (exactly one)."""

    all: Annotated[bool, Strict()] = False
    sites: Annotated[list[Name], Field(min_length=1, max_length=10000)] | None = None
    sensors: Annotated[list[Name], Field(min_length=1, max_length=10000)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Any:
        if self.all + (self.sites is not None) + (self.sensors is not None) != 1:
            raise ValueError("give exactly one of all: true, sites or sensors")
        return self

    def kind(self) -> tuple[str, list[str]]:
        """``("all", [])``, ``("sites", ids)`` or ``("sensors", ids)``."""
        if self.all:
            return "all", []
        if self.sites is not None:
            return "sites", sorted(set(self.sites))
        return "sensors", sorted(set(self.sensors))


class CampaignSpec(_Strict):
    """A campaign's content (``PUT /campaigns/{name}``)."""

    plan: PlanIn
    detector: DetectorIn = Field(default_factory=DetectorIn)
    schedule: ScheduleIn | None = None
    targets: TargetsIn


class CampaignIn(CampaignSpec):
    """A new campaign (``POST /campaigns``)."""

    name: Annotated[str, Field(pattern=CAMPAIGN_NAME, description="letters, digits, . _ -; at most 64")]


class AssignedCampaign(BaseModel):
    """What a sensor runs: the campaign without its targets."""

    name: str
    version: int
    plan: dict[str, Any]
    detector: dict[str, Any]
    schedule: dict[str, Any] | None


class CampaignOut(AssignedCampaign):
    """A stored campaign, as the admin sees it."""

    targets: dict[str, Any]
    created: str
    updated: str
    updated_by: str


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]


class SensorCampaign(BaseModel):
    """A sensor, the campaign the desk assigns it, and the one it reports running."""

    site: str
    sensor: str
    status: str
    assigned: str | None = Field(description="name of the campaign that applies to it")
    assigned_version: int | None
    campaign: str | None = Field(description="name of the campaign it reports running")
    campaign_version: int | None
    campaign_origin: str | None = Field(description="desk, or disk when it runs its saved copy")
    in_sync: bool


class SensorCampaignList(BaseModel):
    sensors: list[SensorCampaign]
