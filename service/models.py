"""Database tables (SQLAlchemy 2 declarative). Portable SQL only: SQLite and PostgreSQL.

Times are stored as integer microseconds since the Unix epoch (``*_us``): exact, cheap to
compare and index on every backend, and free of time-zone handling in the database.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL wants a BIGINT identity.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class EventRow(Base):
    """One event, in its latest known state: filterable contract fields plus the full JSON."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(64))
    sensor: Mapped[str | None] = mapped_column(String(64))
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int | None] = mapped_column(BigInteger)
    freq_low_hz: Mapped[float] = mapped_column(Float)
    freq_high_hz: Mapped[float] = mapped_column(Float)
    # Version of the state, compared on upsert so an older update never replaces a newer one:
    # a closed state beats an ongoing one; between equals the larger progress_us wins.
    closed: Mapped[bool] = mapped_column(Boolean)
    progress_us: Mapped[int] = mapped_column(BigInteger)
    received_us: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        # newest first, cursor over (start_us, id); one index per common equality filter
        Index("ix_events_start", "start_us", "id"),
        Index("ix_events_site_start", "site", "start_us", "id"),
        Index("ix_events_sensor_start", "sensor", "start_us", "id"),
        Index("ix_events_kind_start", "kind", "start_us", "id"),
        # the desk's usual drill-down, "this site, this kind": without it a site with few
        # matches is scanned to its end (measured p99 68 ms on 1 M events)
        Index("ix_events_site_kind_start", "site", "kind", "start_us", "id"),
    )


class SensorRow(Base):
    """Latest health of one sensor (from heartbeats; created on first sight)."""

    __tablename__ = "sensors"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    sensor: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_us: Mapped[int] = mapped_column(BigInteger)
    last_seen_us: Mapped[int | None] = mapped_column(BigInteger)  # server clock, last heartbeat
    last_event_us: Mapped[int | None] = mapped_column(BigInteger)  # server clock, last event batch
    heartbeat: Mapped[str | None] = mapped_column(Text)  # the last heartbeat's JSON


class SpectrumRow(Base):
    """One downsampled PSD of one band, for the dashboard waterfall (pruned by retention)."""

    __tablename__ = "spectra"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    site: Mapped[str] = mapped_column(String(64))
    sensor: Mapped[str] = mapped_column(String(64))
    band: Mapped[str] = mapped_column(String(64))
    time_us: Mapped[int] = mapped_column(BigInteger)
    received_us: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_spectra_sensor_band_time", "site", "sensor", "band", "time_us"),
        Index("ix_spectra_received", "received_us"),  # age-based retention
    )


class TokenRow(Base):
    """A bearer token, stored only as the SHA-256 of its secret."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public handle for list/revoke
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(64))
    sensor: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_us: Mapped[int] = mapped_column(BigInteger)
    revoked_us: Mapped[int | None] = mapped_column(BigInteger)


from service import incident_models  # noqa: E402,F401  (registers the incident tables on Base)
from service import campaign_models  # noqa: E402,F401  (registers the campaign table on Base)
