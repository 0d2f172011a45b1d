"""A live sensor's health: counters for the status line and the heartbeat sent to the desk."""

from __future__ import annotations

import resource
import time
from datetime import datetime, timezone
from typing import Any

HEARTBEAT_HEALTH_KEYS = ("session_s", "msps", "cpu_percent", "open_events", "hops_learning",
                         "antenna_suspect", "rate_error_ppm", "overload_s")


class CpuMeter:
    """Share of one core used by this process, since the start and since the last reading."""

    def __init__(self) -> None:
        self.start = (time.monotonic(), time.process_time())
        self.last = self.start
        self.recent_percent = 0.0

    def tick(self) -> float:
        """Update and return the share since the previous tick, percent of one core."""
        t, c = time.monotonic(), time.process_time()
        wall = t - self.last[0]
        self.recent_percent = 100.0 * (c - self.last[1]) / wall if wall > 0 else 0.0
        self.last = (t, c)
        return self.recent_percent

    def total_percent(self) -> float:
        """Share since the start, percent of one core."""
        wall = time.monotonic() - self.start[0]
        return 100.0 * (time.process_time() - self.start[1]) / wall if wall > 0 else 0.0

    def wall_s(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.start[0]


def health_counters(m: Any) -> dict:
    """Counters of a :class:`~spectrum.live.monitor.Monitor` (JSON-ready)."""
    wall = m.cpu.wall_s()
    src = getattr(m.source, "health", None)
    sweep = m.sweeper.stats.as_dict() if m.sweeper is not None else {}
    antenna = sorted(s.hop.key for s in m._states.values() if s.antenna.event is not None)
    rate_error = m.rate_check.error_ppm
    return {
        "session_s": round(m.now_s, 3),
        "samples": m.counts["samples"],
        "msps": round(m.counts["samples"] / wall / 1e6, 4) if wall > 0 else 0.0,
        "dropped_samples": max(m.counts["dropped_samples"], src.dropped_samples if src else 0),
        "stalls": src.stalls if src else 0,
        "losses": src.losses if src else 0,
        "reopens": src.reopens if src else 0,
        "short_reads": src.short_reads if src else 0,
        "retune_failures": sweep.get("retune_failures", 0),
        "overload_s": round(m.overload_s, 3),
        "antenna_suspect": antenna,
        "rate_error_ppm": None if rate_error is None else round(rate_error, 1),
        "cpu_percent": round(m.cpu.recent_percent, 2),
        "cpu_percent_total": round(m.cpu.total_percent(), 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "open_events": len(m.open_events),
        "events_closed": m.counts["events_closed"],
        "hops_learning": sum(1 for s in m._states.values() if not s.detector.has_baseline),
        **({"uplink_queue": m.uplink.queue_size} if m.uplink is not None else {}),
        **sweep,
    }


def iso_utc(moment_s: float) -> str:
    """``time.time()``-style seconds as ISO-8601 UTC with milliseconds and a ``Z``."""
    return datetime.fromtimestamp(moment_s, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def heartbeat_fields(h: dict, site: str | None, sensor: str | None, overload_now: bool) -> dict:
    """The heartbeat sent to the service: its named fields plus the health counters ``h``."""
    from spectrum import __version__

    beat = {"time": iso_utc(time.time()), "drops_total": int(h["dropped_samples"]),
            "overload": bool(overload_now), "software_version": __version__}
    if site:
        beat["site"] = site
    if sensor:
        beat["sensor"] = sensor
    if h.get("sweeps") and h["session_s"] > 0:
        beat["sweep_rate_hz"] = round(h["sweeps"] / h["session_s"], 4)
    beat.update({k: h[k] for k in HEARTBEAT_HEALTH_KEYS if k in h})
    return beat
