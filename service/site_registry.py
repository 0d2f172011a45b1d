"""The site registry: a CSV file the desk's admin edits (``SPECTRUM_SITE_REGISTRY``), naming each
site's position, display name, time zone and reporting interval.

Columns (a header row; only ``site`` is required, blank cells mean "not set"):
``site, name, lat_deg, lon_deg, tz, report_interval_s``. ``tz`` is an IANA zone name
(``Asia/Jakarta``, ``Asia/Makassar``, ``Asia/Jayapura``). A position here wins over the one a
sensor reports in its heartbeats. The file is read once when the service starts; a bad file stops
the start with one message naming the file, the line and the column.

Read with the standard library's ``csv`` module: a spreadsheet exports it, and there is nothing
else to depend on.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.service_errors import ServiceError

COLUMNS = ("site", "name", "lat_deg", "lon_deg", "tz", "report_interval_s")


@dataclass(frozen=True)
class SiteEntry:
    """One registered site (``None``: not set in the registry)."""

    site: str
    name: str | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None
    tz: str | None = None
    report_interval_s: float | None = None


def check_zone(name: str, where: str) -> str:
    """``name`` if it is a known IANA time zone, else a :class:`ServiceError` naming ``where``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(f"{where}: unknown time zone {name!r}; use an IANA name such as Asia/Jakarta, "
                           f"Asia/Makassar or Asia/Jayapura") from None
    return name


def _number(text: str, where: str, low: float, high: float) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ServiceError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ServiceError(f"{where}: {value} is outside {low}..{high}")
    return value


def _entry(row: dict[str, str], where: str) -> SiteEntry:
    site = (row.get("site") or "").strip()
    if not site or len(site) > 64:
        raise ServiceError(f"{where} column site: a site id of 1–64 characters is required")
    lat = _number(row.get("lat_deg") or "", f"{where} column lat_deg", -90, 90)
    lon = _number(row.get("lon_deg") or "", f"{where} column lon_deg", -180, 180)
    if (lat is None) != (lon is None):
        raise ServiceError(f"{where}: give both lat_deg and lon_deg, or neither")
    tz = (row.get("tz") or "").strip() or None
    if tz:
        check_zone(tz, f"{where} column tz")
    interval = _number(row.get("report_interval_s") or "", f"{where} column report_interval_s", 1, 86400)
    return SiteEntry(site, (row.get("name") or "").strip() or None, lat, lon, tz, interval)


def load_registry(path: str | Path | None) -> dict[str, SiteEntry]:
    """Sites by id from the registry CSV at ``path`` (empty without a path).

    Raises
    ------
    ServiceError
        The file cannot be read, has an unknown column or a duplicate site, or a cell is invalid.
    """
    if not path:
        return {}
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            unknown = set(reader.fieldnames or ()) - set(COLUMNS)
            if "site" not in (reader.fieldnames or ()) or unknown:
                raise ServiceError(f"site registry {path}: the header must name the columns {', '.join(COLUMNS)} "
                                   f"(site required){'; unknown: ' + ', '.join(sorted(unknown)) if unknown else ''}")
            sites: dict[str, SiteEntry] = {}
            for row in reader:
                where = f"site registry {path} line {reader.line_num}"
                entry = _entry(row, where)
                if entry.site in sites:
                    raise ServiceError(f"{where}: site {entry.site!r} is listed twice")
                sites[entry.site] = entry
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ServiceError(f"site registry {path}: cannot read it ({getattr(exc, 'strerror', None) or exc}); "
                           f"fix SPECTRUM_SITE_REGISTRY") from None
    return sites
