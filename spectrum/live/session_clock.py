"""Session time of a live sensor: offsets from the sample clock, wall time corrected for steps.

Offsets (``offset_start_s`` / ``offset_end_s``) come from counting samples, gaps included: a
block's offset is the previous block's end plus its dropped samples over the rate. They never
go backwards, whatever the wall clock does. Wall times (an event's ``start`` / ``end``) are
the session's start plus the offset; when the wall clock is stepped (NTP correcting a laptop
that drifted or booted without a network), the step shows as a jump of ``wall - monotonic``,
and the session's start moves by it so that wall times from then on read the corrected clock.
Every event is stamped with one start, so its ``end`` never precedes its ``start``. Steps are
counted and reported (heartbeat fields ``clock_steps``, ``clock_step_s``, ``clock_correction_s``).

The clock is injectable (any object with ``time()`` and ``monotonic()``) so tests can step it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol


class Clock(Protocol):
    """Where the sensor reads wall-clock and monotonic time, seconds."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The host's clocks."""

    @staticmethod
    def time() -> float:
        return time.time()

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()


class SessionClock:
    """Session offsets from the sample clock; the session's wall start corrected for clock steps.

    Parameters
    ----------
    clock : Clock, optional
        Wall and monotonic time (default the host's).
    correct_steps : bool
        Follow wall-clock steps (a live source); a replayed file keeps its recorded times.
    step_threshold_s : float
        A change of ``wall - monotonic`` larger than this is a step (slewing stays under it).
    """

    def __init__(self, clock: Clock | None = None, correct_steps: bool = True,
                 step_threshold_s: float = 1.0) -> None:
        self.clock = clock or SystemClock()
        self.correct_steps = correct_steps
        self.step_threshold_s = step_threshold_s
        self.session_start: datetime | None = None
        self._next_index: int | None = None
        self._end_s = 0.0
        self._mono0 = 0.0
        self._wall_minus_mono0 = 0.0
        self.correction_s = 0.0
        self.last_step_s: float | None = None
        self.steps = 0

    def block_start(self, block: Any) -> float:
        """Session seconds of the block's first sample; advances the sample clock past it."""
        if self._next_index is None:
            self.session_start = datetime.fromtimestamp(block.timestamp_s, timezone.utc)
            self._next_index = block.sample_index
            self._mono0 = self.clock.monotonic()
            self._wall_minus_mono0 = self.clock.time() - self._mono0
        gap = max(0, block.sample_index - self._next_index)
        start_s = self._end_s + gap / block.sample_rate_hz
        self._end_s = start_s + block.num_samples / block.sample_rate_hz
        self._next_index = block.sample_index + block.num_samples
        return start_s

    @property
    def end_s(self) -> float:
        """Session seconds just past the newest sample."""
        return self._end_s

    def elapsed_s(self) -> float:
        """Monotonic seconds since the first block (for faults while no samples arrive)."""
        return self.clock.monotonic() - self._mono0 if self._next_index is not None else 0.0

    def check_step(self) -> float | None:
        """Look for a wall-clock step since the last check; return it (seconds) or None."""
        if self._next_index is None or not self.correct_steps:
            return None
        offset = self.clock.time() - self.clock.monotonic() - self._wall_minus_mono0
        step = offset - self.correction_s
        if abs(step) <= self.step_threshold_s:
            return None
        self.correction_s = offset
        self.last_step_s = step
        self.steps += 1
        self.session_start = self.session_start + timedelta(seconds=step)
        return step

    def fields(self) -> dict:
        """Heartbeat fields: steps seen, the last one and the total correction, seconds."""
        return {"clock_steps": self.steps,
                "clock_step_s": None if self.last_step_s is None else round(self.last_step_s, 3),
                "clock_correction_s": round(self.correction_s, 3)}
