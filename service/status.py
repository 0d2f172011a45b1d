"""Sensor status changes (online / stale / offline) for the live stream.

Status is a function of heartbeat age, so it changes with time as well as with heartbeats:
a heartbeat announces ``online`` at once, and a periodic check announces the rest.

With several workers (PostgreSQL) every worker's tracker checks, so the same change may be
announced by each. Announcements then go through the fan-out to every worker, and each
worker's tracker delivers a change only the first time it hears it (:meth:`StatusTracker.heard_change`):
all workers hear the announcements in the same order, so all agree on which one that is.
"""

from __future__ import annotations

import threading

from service.broadcast import Broadcaster
from service.db import Database
from service.settings import Settings
from service.store import list_sensors


class StatusTracker:
    """Remembers each sensor's last announced status and publishes changes."""

    def __init__(self, db: Database, settings: Settings, broadcaster: Broadcaster, shared: bool = False) -> None:
        self.db = db
        self.settings = settings
        self.broadcaster = broadcaster
        self.shared = shared  # announcements come back through the fan-out (several workers)
        self._known: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def prime(self) -> None:
        """Learn the current statuses without announcing them (at start-up)."""
        sensors = list_sensors(self.db, self.settings.online_s, self.settings.stale_s)
        with self._lock:
            self._known = {(s["site"], s["sensor"]): s["status"] for s in sensors}

    def check(self) -> int:
        """Announce every status that changed since last time; return how many did."""
        sensors = list_sensors(self.db, self.settings.online_s, self.settings.stale_s)
        changed = 0
        for s in sensors:
            changed += self._set(s["site"], s["sensor"], s["status"], s["last_seen"])
        return changed

    def heard(self, site: str, sensor: str, last_seen: str | None) -> None:
        """A heartbeat arrived: the sensor is online now."""
        self._set(site, sensor, "online", last_seen)

    def _set(self, site: str, sensor: str, status: str, last_seen: str | None) -> int:
        with self._lock:
            previous = self._known.get((site, sensor))
            if previous == status:
                return 0
            if not self.shared:  # shared: learnt when heard back, from whichever worker announced it
                self._known[(site, sensor)] = status
        self.broadcaster.publish("status", {"site": site, "sensor": sensor, "status": status,
                                            "previous": previous, "last_seen": last_seen})
        return 1

    def heard_change(self, data: dict) -> bool:
        """A status message heard from the fan-out: True if it is news here (deliver it)."""
        key = (data["site"], data["sensor"])
        with self._lock:
            if self._known.get(key) == data["status"]:
                return False
            self._known[key] = data["status"]
            return True

    def counts(self) -> dict[str, int]:
        with self._lock:
            out = {"online": 0, "stale": 0, "offline": 0}
            for status in self._known.values():
                out[status] += 1
            return out
