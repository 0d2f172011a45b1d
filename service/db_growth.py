"""How much room the desk's database takes per sensor and day, measured on a database's own data.

Sizes come from the database itself (SQLite's ``dbstat`` table: the pages each table and its
indexes occupy; PostgreSQL's ``pg_total_relation_size``: a table with its indexes and TOAST),
rates from the stored rows (how many spectra a sensor sent per second of the time its spectra
span; how many events per day). The projection under a
:class:`~service.retention.RetentionPolicy` is plain arithmetic on those two: spectra are kept
whole for ``full_s``, then one per ``thin_every_s`` until ``keep_s``; events, incidents and the
audit log are never deleted, so they grow for good.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text

from service.db import Database
from service.models import EventRow, SpectrumRow
from service.retention import RetentionPolicy

DAY_S = 86_400.0
# tables whose rows exist because of events (one incident per few events, one member row each)
EVENT_TABLES = ("events", "incidents", "incident_members")


@dataclass(frozen=True)
class TableSize:
    rows: int
    bytes: int  # table and its indexes

    @property
    def bytes_per_row(self) -> float:
        return self.bytes / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class Growth:
    """What a database holds, and what one sensor adds per day at the rates it shows."""

    tables: dict[str, TableSize]
    file_bytes: int  # the SQLite file, or the PostgreSQL database (pg_database_size)
    spectrum_streams: int  # (sensor, band) pairs with spectra
    spectra_per_s: float  # per stream, over the time its spectra span
    event_sensor_days: float  # days of sensor time stored: per sensor, first to last spectrum or event
    policy: RetentionPolicy
    dialect: str = "sqlite"

    @property
    def spectrum_bytes(self) -> float:
        return self.tables.get("spectra", TableSize(0, 0)).bytes_per_row

    def spectra_full_day_bytes(self) -> float:
        """One stream's spectra of one day, all kept."""
        return self.spectra_per_s * DAY_S * self.spectrum_bytes

    def spectra_kept_bytes(self) -> float:
        """One stream's spectra at most under the policy: whole for full_s, then thinned."""
        p = self.policy
        rows = self.spectra_per_s * p.full_s
        rows += max(0.0, (p.keep_s - p.full_s) / p.thin_every_s) * min(1.0, self.spectra_per_s * p.thin_every_s)
        return rows * self.spectrum_bytes

    def event_bytes(self) -> int:
        return sum(self.tables[t].bytes for t in EVENT_TABLES if t in self.tables)

    def events_per_sensor_day(self) -> float:
        events = self.tables.get("events", TableSize(0, 0)).rows
        return events / self.event_sensor_days if self.event_sensor_days else 0.0

    def event_bytes_per_sensor_day(self) -> float:
        return self.event_bytes() / self.event_sensor_days if self.event_sensor_days else 0.0

    def lines(self) -> list[str]:
        mb = 1e6
        what = "database file" if self.dialect == "sqlite" else "database"
        out = [f"{what} {self.file_bytes / mb:.2f} MB; tables with their indexes:"]
        for name, t in sorted(self.tables.items(), key=lambda kv: -kv[1].bytes):
            if t.rows or t.bytes > 8192:
                out.append(f"  {name}: {t.rows:,} rows, {t.bytes / mb:.2f} MB ({t.bytes_per_row:,.0f} B per row)")
        if not self.spectrum_streams:
            out.append("no spectra stored: nothing to project")
            return out
        p = self.policy
        out.append(f"spectra: {self.spectrum_streams} sensor-band stream(s), {self.spectra_per_s:.3f} per second each "
                   f"over the time they span")
        out.append(f"  one stream, a full day: {self.spectra_full_day_bytes() / mb:.1f} MB; kept at most under the "
                   f"retention policy (whole {p.full_s / 3600:g} h, one per {p.thin_every_s:g} s to "
                   f"{p.keep_s / DAY_S:g} days): {self.spectra_kept_bytes() / mb:.1f} MB")
        out.append(f"events: {self.events_per_sensor_day():,.0f} per sensor-day at the rate stored, "
                   f"{self.event_bytes_per_sensor_day() / mb:.2f} MB per sensor-day with incidents "
                   f"(kept for good)")
        return out


def measure_growth(db: Database, policy: RetentionPolicy) -> Growth:
    """Measure ``db`` (SQLite or PostgreSQL; ValueError for another)."""
    sizes_of = _sizes_for(db)
    with db.read() as session:
        sizes, file_bytes = sizes_of(session)
        tables = {table: TableSize(int(session.scalar(text(f'SELECT COUNT(*) FROM "{table}"'))), size)
                  for table, size in sizes.items()}
        s = SpectrumRow
        spans = session.execute(select(s.sensor, s.band, func.count(), func.min(s.time_us), func.max(s.time_us))
                                .group_by(s.sensor, s.band)).all()
        bounds: dict[str, tuple[int, int]] = {}  # per sensor: first and last time it shows, spectra or events
        for sensor, _band, _n, lo, hi in spans:
            bounds[sensor] = _widen(bounds.get(sensor), lo, hi)
        e = EventRow
        for sensor, lo, hi in session.execute(select(e.sensor, func.min(e.start_us), func.max(e.start_us))
                                               .group_by(e.sensor)).all():
            bounds[sensor] = _widen(bounds.get(sensor), lo, hi)
    streams = [(n, (hi - lo) / 1e6) for _s, _b, n, lo, hi in spans if hi > lo]
    # n spectra over a span hold n - 1 intervals
    per_s = sum(n - 1 for n, _ in streams) / sum(span for _, span in streams) if streams else 0.0
    return Growth(tables=tables, file_bytes=file_bytes, spectrum_streams=len(streams),
                  spectra_per_s=per_s, event_sensor_days=sum(hi - lo for lo, hi in bounds.values()) / 1e6 / DAY_S,
                  policy=policy, dialect=db.dialect)


def _sizes_for(db: Database):
    """The function that reads table sizes on this database's dialect."""
    sizes_of = {"sqlite": _sqlite_sizes, "postgresql": _postgresql_sizes}.get(db.dialect)
    if sizes_of is None:
        raise ValueError(f"db size: measures SQLite and PostgreSQL, not {db.dialect}")
    return sizes_of


def _sqlite_sizes(session) -> tuple[dict[str, int], int]:
    """Bytes per table with its indexes (the pages they occupy), and the file's size."""
    owner = dict(session.execute(text("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')")).all())
    sizes: dict[str, int] = {}
    for name, pages in session.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all():
        table = owner.get(name, name)
        sizes[table] = sizes.get(table, 0) + int(pages)
    sizes = {t: b for t, b in sizes.items() if not t.startswith("sqlite_") and t in owner}
    page_size = session.scalar(text("PRAGMA page_size"))
    page_count = session.scalar(text("PRAGMA page_count"))
    return sizes, int(page_size) * int(page_count)


def _postgresql_sizes(session) -> tuple[dict[str, int], int]:
    """Bytes per table of the current schema with its indexes and TOAST, and the database's size."""
    sizes = dict(session.execute(text(
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()")).all())
    return {t: int(b) for t, b in sizes.items()}, int(session.scalar(text("SELECT pg_database_size(current_database())")))


def table_bytes(db: Database) -> dict[str, int]:
    """Bytes each table takes with its indexes (SQLite pages, or PostgreSQL's
    ``pg_total_relation_size`` with TOAST); ValueError for another database."""
    sizes_of = _sizes_for(db)
    with db.read() as session:
        return sizes_of(session)[0]


def _widen(bounds: tuple[int, int] | None, lo: int, hi: int) -> tuple[int, int]:
    return (lo, hi) if bounds is None else (min(bounds[0], lo), max(bounds[1], hi))
