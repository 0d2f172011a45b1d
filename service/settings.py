"""Service settings: one pydantic-settings object, passed to :func:`service.app.create_app`.

Every field can be set from the environment with the ``SPECTRUM_`` prefix, e.g.
``SPECTRUM_DB_URL=postgresql+psycopg://desk@127.0.0.1/spectrum``. Nothing here is read at
import time: callers build a :class:`Settings` and hand it over.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of one service instance."""

    model_config = SettingsConfigDict(env_prefix="SPECTRUM_", extra="ignore")

    db_url: str = Field("sqlite:///spectrum-service.db", description="SQLAlchemy URL; SQLite file by default")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="FULL: durable on power loss before answering; NORMAL: durable on crashes, faster")
    max_body_bytes: int = Field(4_000_000, ge=1024, description="larger request bodies get 413")
    max_batch_events: int = Field(5000, ge=1, description="most events in one POST /events")
    max_spectrum_bins: int = Field(8192, ge=16, description="most PSD bins in one spectrum")
    online_s: float = Field(30.0, gt=0, description="a sensor heard from within this is online")
    stale_s: float = Field(300.0, gt=0, description="... within this stale, else offline")
    status_check_s: float = Field(5.0, gt=0, description="how often status changes are looked for")
    spectra_full_s: float = Field(86_400.0, gt=0, description="spectra younger than this are all kept")
    spectra_thin_every_s: float = Field(60.0, gt=0, description="older ones: one kept per sensor, band and this")
    spectra_keep_s: float = Field(30 * 86_400.0, gt=0, description="spectra older than this are deleted")
    sse_queue_size: int = Field(1000, ge=1, description="messages buffered per SSE client before it is dropped")
    sse_heartbeat_s: float = Field(15.0, gt=0, description="comment line sent on an idle stream")
    page_limit_max: int = Field(1000, ge=1, description="largest page of GET /events")
    max_age_s: float = Field(30 * 86_400.0, gt=0, description="times (events, heartbeats, spectra, queries) "
                                                             "older than this before the server's clock are refused")
    max_ahead_s: float = Field(300.0, ge=0, description="times further ahead of the server's clock are refused")
    auth_failures_max: int = Field(20, ge=1, description="failed authentications per client address ...")
    auth_failures_window_s: float = Field(60.0, gt=0, description="... within this window; then 429")
    auth_cache_s: float = Field(1.0, ge=0, description="valid tokens' lookups are reused; a token revoked by the CLI "
                                                       "or another worker is refused within this (0: look up every time)")
    max_streams_per_token: int = Field(4, ge=1, description="open live streams per token; more get 429")
    stream_auth_check_s: float = Field(2.0, gt=0, description="how often open streams' tokens are re-checked "
                                                              "(a revoked token's streams end within this)")
    incidents_enabled: bool = Field(True, description="group events into incidents as they are stored")
    incident_hold_s: float = Field(300.0, gt=0, description="longest gap between events of one incident")
    incident_quiet_s: float = Field(60.0, gt=0, description="an incident with no event for this long is quiet")
    incident_freq_margin_hz: float = Field(200e3, ge=0, description="frequency extents this close count as overlapping")
    incident_link_window_s: float = Field(120.0, ge=0, description="onsets at two sites this close can link as one wide-area incident")
    incident_link_distance_km: float = Field(50.0, gt=0, description="sites further apart never link (where the "
                                                                     "site registry gives both positions)")
    webhook_timeout_s: float = Field(5.0, gt=0, description="per delivery attempt")
    webhook_max_attempts: int = Field(6, ge=1, description="attempts before a delivery is given up and logged")
    webhook_backoff_s: float = Field(1.0, gt=0, description="wait before the second attempt; doubles each time")
    desk_tz: str = Field("Asia/Jakarta", description="the desk's IANA time zone, shown on the dashboard (WIB, WITA, WIT)")
    site_registry: str | None = Field(None, description="CSV of sites (site, name, lat_deg, lon_deg, tz, "
                                                        "report_interval_s) the admin edits; see service/site_registry.py")

    @field_validator("desk_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from service.site_registry import check_zone

        return check_zone(value, "SPECTRUM_DESK_TZ (desk_tz)")

    @model_validator(mode="after")
    def _retention_in_order(self) -> "Settings":
        if self.spectra_full_s > self.spectra_keep_s:
            raise ValueError(f"spectra_full_s ({self.spectra_full_s}) must not exceed spectra_keep_s "
                             f"({self.spectra_keep_s}): spectra are kept whole before they are thinned")
        return self
