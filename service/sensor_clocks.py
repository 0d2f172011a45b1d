"""Sensor clocks against the desk's: stamped on answers, learnt from heartbeats, applied to events.

The desk stamps the answers of the uplink's endpoints with its clock (``X-Desk-Time``, seconds
since the epoch with milliseconds). A sensor estimates its offset from them NTP-style
(``desk ≈ sensor + clock_offset_s``, within ``clock_offset_rtt_s / 2``) and reports both in its
heartbeats. The desk keeps the newest per sensor in memory; after a restart it reads it back
from the sensor's stored last heartbeat when first needed, so corrections carry on at once.

An incoming event's ``start`` / ``end`` / ``updated`` are moved by the offset when it is larger
than the measurement's uncertainty (``rtt / 2``, plus the header's millisecond); the sensor's own
times stay in the event (``sensor_start`` / ``sensor_end``) with ``clock_correction_s``. A sensor
more than ``SUSPECT_S`` off is ``clock_suspect`` (cross-site correlation and location rely on times).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select

from service.models import SensorRow
from service.schemas import iso_utc

DESK_TIME_HEADER = "X-Desk-Time"  # the name spectrum.live.clock_offset reads (the service imports no sensor code)
SUSPECT_S = 1.0
HEADER_RESOLUTION_S = 0.001  # the header's milliseconds: an offset within this of rtt/2 is noise


async def stamp_desk_time(response: Response) -> None:
    """Dependency of the uplink's endpoints: the desk's clock on the answer (async: no thread-pool hop)."""
    response.headers[DESK_TIME_HEADER] = f"{time.time():.3f}"


@dataclass(frozen=True)
class ClockOffset:
    """A sensor's reported offset (``desk ≈ sensor + offset_s``) and the round trip it came from."""

    offset_s: float
    rtt_s: float

    @property
    def correction_s(self) -> float:
        """What to add to the sensor's times: the offset, or 0 when within its uncertainty."""
        return self.offset_s if abs(self.offset_s) > self.rtt_s / 2 + HEADER_RESOLUTION_S else 0.0

    @property
    def suspect(self) -> bool:
        return abs(self.offset_s) > SUSPECT_S


def offset_from_heartbeat(beat: dict | None) -> ClockOffset | None:
    """The offset a heartbeat (as stored) reports, or None."""
    if not beat or beat.get("clock_offset_s") is None:
        return None
    return ClockOffset(float(beat["clock_offset_s"]), float(beat.get("clock_offset_rtt_s") or 0.0))


def clock_fields(beat: dict | None) -> dict[str, Any]:
    """Status fields of a sensor: ``clock_offset_s``, ``clock_offset_rtt_s``, ``clock_suspect``."""
    offset = offset_from_heartbeat(beat)
    if offset is None:
        return {"clock_offset_s": None, "clock_offset_rtt_s": None, "clock_suspect": None}
    return {"clock_offset_s": offset.offset_s, "clock_offset_rtt_s": offset.rtt_s, "clock_suspect": offset.suspect}


class SensorClocks:
    """Newest clock offset per (site, sensor), in memory, read back from the database when missing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], ClockOffset | None] = {}

    def heard(self, site: str, sensor: str, beat: dict) -> None:
        """A heartbeat arrived: keep its offset (a heartbeat without one clears it)."""
        with self._lock:
            self._known[(site, sensor)] = offset_from_heartbeat(beat)

    def get(self, db: Any, site: str, sensor: str) -> ClockOffset | None:
        """The sensor's offset: from memory, else from its stored last heartbeat."""
        key = (site, sensor)
        with self._lock:
            if key in self._known:
                return self._known[key]
        with db.read() as session:
            text = session.scalar(select(SensorRow.heartbeat).where(SensorRow.site == site,
                                                                    SensorRow.sensor == sensor))
        offset = offset_from_heartbeat(json.loads(text) if text else None)
        with self._lock:
            return self._known.setdefault(key, offset)

    def correct_events(self, db: Any, events: list) -> None:
        """Move incoming events' times by their sensor's offset (``EventIn`` models, in place)."""
        for event in events:
            offset = self.get(db, event.site, event.sensor)
            if offset is None or offset.correction_s == 0.0:
                continue
            shift = timedelta(seconds=offset.correction_s)
            event.sensor_start = iso_utc(event.start)
            event.start = event.start + shift
            if event.end is not None:
                event.sensor_end = iso_utc(event.end)
                event.end = event.end + shift
            if event.updated is not None:
                event.updated = event.updated + shift
            event.clock_correction_s = round(offset.correction_s, 4)


_create_lock = threading.Lock()


async def get_sensor_clocks(request: Request) -> SensorClocks:
    """The app's :class:`SensorClocks` (made on first use; async: no thread-pool hop)."""
    state = request.app.state
    with _create_lock:
        if getattr(state, "sensor_clocks", None) is None:
            state.sensor_clocks = SensorClocks()
        return state.sensor_clocks
