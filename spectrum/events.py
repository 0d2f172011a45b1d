"""The event contract (DESIGN.md): one JSON object per event, the same in replay output and the API.

Kept free of numpy and of the DSP so the service can import it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

KINDS = ("wideband_noise", "tone", "swept", "pulsed", "new_emitter", "overload", "sensor_fault")
# kinds that say something is on the air; overload and sensor_fault describe the sensor itself
INTERFERENCE_KINDS = frozenset(KINDS[:5])
SEVERITIES = ("info", "warning", "critical")


@dataclass
class Event:
    """One jamming or interference event.

    Times are seconds since the start of the capture or session (``offset_*_s``); absolute
    wall-clock times follow from the session start. ``end``/``offset_end_s`` are None while
    the event is ongoing.
    """

    kind: str
    offset_start_s: float
    offset_end_s: float | None
    freq_low_hz: float
    freq_high_hz: float
    peak_dbfs: float
    rise_db: float
    severity: str
    confidence: float
    session_start: datetime | None = None
    site: str | None = None
    sensor: str | None = None
    detector: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    extra: dict[str, Any] = field(default_factory=dict)
    # the detector's kind features (spectrum.detect.kind_features) for fitting its kind model;
    # not part of the contract, never sent
    features: list[float] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; expected one of {KINDS}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}; expected one of {SEVERITIES}")

    @property
    def ongoing(self) -> bool:
        return self.offset_end_s is None

    def _wall(self, offset_s: float | None) -> str | None:
        if offset_s is None:
            return None
        start = self.session_start or datetime(1970, 1, 1, tzinfo=timezone.utc)
        return _iso_utc(start + timedelta(seconds=offset_s))

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON object (extra fields last; contract fields never renamed)."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "start": self._wall(self.offset_start_s),
            "end": self._wall(self.offset_end_s),
            "offset_start_s": round(self.offset_start_s, 6),
            "offset_end_s": None if self.offset_end_s is None else round(self.offset_end_s, 6),
            "freq_low_hz": round(self.freq_low_hz, 1),
            "freq_high_hz": round(self.freq_high_hz, 1),
            "peak_dbfs": round(self.peak_dbfs, 2),
            "rise_db": round(self.rise_db, 2),
            "severity": self.severity,
            "confidence": round(self.confidence, 3),
            "site": self.site,
            "sensor": self.sensor,
            "detector": dict(self.detector),
        }
        out.update(self.extra)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = ["Event", "INTERFERENCE_KINDS", "KINDS", "SEVERITIES"]
