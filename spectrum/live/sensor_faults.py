"""Sensor faults: events of kind ``sensor_fault`` opened when a fault starts, closed when it clears.

Kinds (``fault`` in the event's extra fields): ``source_lost`` / ``stall`` (device or
connection gone, reopened with backoff), ``dropped_samples``, ``retune_failed``, ``antenna`` (a
hop's floor far below the floor it had when learning: a disconnected antenna or a dead LNA)
and ``sample_rate`` (delivered rate off the nominal by more than ``rate_error_ppm_max``).

:class:`SensorFault` is the lifecycle of one kind; :func:`check_antenna` and
:class:`RateCheck` are the two checks the monitor runs on the signal itself.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spectrum.events import Event


class SensorFault:
    """One kind of sensor fault: an event opened when it starts, closed when it clears.

    Parameters
    ----------
    owner : Monitor
        Gives ``_emit``, ``session_start`` and ``options`` (site, sensor, provenance).
    name : str
        The fault's kind (``fault`` field of the event).
    severity : str
        Severity of its events.
    """

    def __init__(self, owner: Any, name: str, severity: str = "warning") -> None:
        self.monitor = owner
        self.name = name
        self.severity = severity
        self.event: Event | None = None
        self.last_s = -math.inf
        self.count = 0

    def raise_(self, now_s: float, detail: str, low_hz: float, high_hz: float, **extra: Any) -> None:
        """The fault is present at ``now_s`` (session seconds); opens its event if none is open."""
        self.last_s = now_s
        self.count += 1
        if self.event is None:
            m = self.monitor
            self.event = Event(
                kind="sensor_fault", offset_start_s=now_s, offset_end_s=None, freq_low_hz=low_hz,
                freq_high_hz=high_hz, peak_dbfs=0.0, rise_db=0.0, severity=self.severity,
                confidence=1.0, session_start=m.session_start, site=m.options.site,
                sensor=m.options.sensor, detector=m.options.config.provenance(),
                extra={"fault": self.name, "detail": detail, **extra})
            m._emit(self.event)
        else:
            self.event.extra.update(extra)  # the open event was emitted already; the close carries it

    def clear(self, now_s: float, detail: str | None = None) -> None:
        """The fault ended at ``now_s``: emit its event closed (no-op when none is open)."""
        if self.event is None:
            return
        extra = dict(self.event.extra, **({"cleared": detail} if detail else {}))
        closed = dataclasses.replace(self.event, offset_end_s=max(now_s, self.event.offset_start_s),
                                     extra=extra)
        self.event = None
        self.monitor._emit(closed)

    def clear_if_quiet(self, now_s: float, hold_s: float) -> None:
        """Clear when the fault has not been raised for ``hold_s`` seconds."""
        if self.event is not None and now_s - self.last_s >= hold_s:
            self.clear(now_s)


def check_antenna(state: Any, mean: NDArray[np.floating], session_s: float, drop_db: float,
                  hold_s: float) -> None:
    """Raise or clear ``state.antenna`` from the rows' noise floor against the learned floor.

    Parameters
    ----------
    state : HopState
        The hop (its learned floor, low-floor row count and antenna fault).
    mean : numpy.ndarray
        Rows × bins of linear power.
    session_s : float
        Session time of the rows, seconds.
    drop_db, hold_s : float
        A floor ``drop_db`` below the learned one for ``hold_s`` of signal is a fault.
    """
    floor_db = 10 * np.log10(np.maximum(np.median(mean, axis=1), 1e-20))
    if state.floor_ref_db is None:
        state.floor_learn.extend(floor_db.tolist())
        if len(state.floor_learn) >= state.learn_rows:
            state.floor_ref_db = float(np.median(state.floor_learn))
            state.floor_learn = []
        return
    low = floor_db < state.floor_ref_db - drop_db
    if low.all():
        state.low_floor_rows += len(low)
    elif not low.any():
        state.low_floor_rows = 0
        state.antenna.clear(session_s, "floor back")
    if state.low_floor_rows * state.row_s >= hold_s:
        drop = state.floor_ref_db - float(np.median(floor_db))
        state.antenna.raise_(
            session_s, f"noise floor {-drop:.1f} dB below its learned level: antenna disconnected or LNA dead?",
            state.hop.keep_low_hz, state.hop.keep_high_hz, band=state.hop.band.name,
            floor_drop_db=round(drop, 2))


class RateCheck:
    """Delivered sample rate of a real-time source against its nominal rate, judged on a long window.

    A sample can arrive late (a stall, a TCP burst after a hiccup, a busy consumer) but never
    before it was made. So the check follows the *lag* ``arrival - index / nominal_rate`` of
    each block and keeps, per bucket of ``bucket_s``, the smallest: the samples that came on
    time. Over a window of ``window_s`` it takes the on-time sample of its first quarter and
    of its last quarter; the slope between them is ``1 - rate / nominal``. Bursts and stalls
    only raise lags, and each quarter holds on-time samples unless the link is late for a
    whole quarter of the window, so they leave the slope alone; a dongle that really
    delivers 2,415,000 S/s for 2,400,000 tilts it by 6,250 ppm. A gap in the sample indices
    (a reopen) starts a new window.

    Parameters
    ----------
    window_s : float
        Seconds of signal the judgement needs and keeps.
    error_ppm_max : float
        A larger error raises the fault; a smaller one clears it.
    bucket_s : float
        Bucket length, seconds (at most a sixteenth of the window).
    """

    def __init__(self, window_s: float, error_ppm_max: float, bucket_s: float = 1.0) -> None:
        self.window_s = window_s
        self.error_ppm_max = error_ppm_max
        self.bucket_s = min(bucket_s, window_s / 16)
        self.buckets: deque[list[float]] = deque()  # [bucket start (arrival s), least lag s]
        self.error_ppm: float | None = None

    def update(self, block: Any, arrival_s: float, fault: SensorFault, now_s: float,
               plan_range: tuple[float, float]) -> None:
        """Take one block that arrived (was read) at ``arrival_s`` monotonic seconds."""
        if block.dropped_samples:
            self.buckets.clear()
        end_index = block.sample_index + block.num_samples
        lag = arrival_s - end_index / block.sample_rate_hz
        if self.buckets and arrival_s < self.buckets[-1][0] + self.bucket_s:
            self.buckets[-1][1] = min(self.buckets[-1][1], lag)
            return
        if self.buckets and self.buckets[-1][0] - self.buckets[0][0] >= self.window_s:
            self._judge(block.sample_rate_hz, fault, now_s, plan_range)
        self.buckets.append([arrival_s, lag])
        while self.buckets and arrival_s - self.buckets[0][0] > self.window_s + self.bucket_s:
            self.buckets.popleft()

    def _judge(self, nominal_hz: float, fault: SensorFault, now_s: float, plan_range: tuple[float, float]) -> None:
        t0, t1 = self.buckets[0][0], self.buckets[-1][0]
        quarter = (t1 - t0) / 4
        first = min((b for b in self.buckets if b[0] <= t0 + quarter), key=lambda b: b[1])
        last = min((b for b in self.buckets if b[0] >= t1 - quarter), key=lambda b: b[1])
        slope = (last[1] - first[1]) / max(last[0] - first[0], 1e-9)  # 1 - rate / nominal
        self.error_ppm = -slope * 1e6
        rate = nominal_hz * (1.0 - slope)
        if abs(self.error_ppm) > self.error_ppm_max:
            fault.raise_(now_s, f"delivered {rate:.0f} S/s for {nominal_hz:.0f} over {self.window_s:g} s",
                         *plan_range, rate_error_ppm=round(self.error_ppm, 1))
        else:
            fault.clear(now_s)
