"""Live monitoring: source → sweep → front end → detector (one per hop) → events, plus health.

One thread, no queues of its own: the source's bounded queue (RTL-SDR) or the socket (rtl_tcp)
is the only buffer, so a slow pipeline shows up as dropped samples, counted, never as memory.

Times: every hop keeps its own detector and a row → session-time map
(:mod:`spectrum.live.hop_state`); the monitor rewrites the events' offsets to session time. The
session starts at the first sample's timestamp; for a paced source that is wall-clock time.

Events a hop sees outside its kept region (``Hop.keep_low_hz..keep_high_hz``) are left to the
neighbouring hop that keeps that frequency, so a jammer in the overlap is reported once.
Events are not merged across hops: a barrage wider than a hop is reported by each hop it
covers.

Sensor faults are events too (:mod:`spectrum.live.sensor_faults`). Health counters and the
heartbeat: :mod:`spectrum.live.sensor_health`.

Uplink (optional, any object with ``send_events``, ``send_heartbeat``, ``send_spectrum`` and
``queue_size``, i.e. :class:`spectrum.live.uplink.Uplink`): each event goes out as it opens and as
it closes; a heartbeat (the health fields) every ``heartbeat_interval_s``; and every
``spectrum_interval_s`` one PSD summary per band (:mod:`spectrum.live.psd_summaries`) for the
desk's waterfalls. The uplink only writes to its on-disk queue here; its own thread does the
network.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from spectrum.detect.detector_config import DetectorConfig
from spectrum.errors import SourceError
from spectrum.events import Event
from spectrum.live.band_plans import BandPlan, Hop
from spectrum.live.dongle_calibration import Calibration, event_levels
from spectrum.live.hop_state import HopState
from spectrum.live.psd_summaries import spectrum_levels, spectrum_summaries
from spectrum.live.sensor_faults import RateCheck, SensorFault, check_antenna
from spectrum.live.sensor_health import CpuMeter, health_counters, heartbeat_fields, iso_utc
from spectrum.live.session_clock import Clock, SessionClock
from spectrum.live.sweep import Stitcher, Sweeper
from spectrum.sources.source_base import EndOfStream

log = logging.getLogger("spectrum.live.monitor")


@dataclass
class MonitorOptions:
    """Settings of a monitoring session (units in the names)."""

    config: DetectorConfig = field(default_factory=DetectorConfig)
    site: str | None = None
    sensor: str | None = None
    duration_s: float | None = None  # stop after this much session time (tests, benchmarks)
    status_interval_s: float = 5.0
    antenna_drop_db: float = 10.0  # floor this far below its learned level: antenna suspect
    antenna_hold_s: float = 3.0  # ... for this much signal time
    fault_hold_s: float = 10.0  # a drop / retune fault closes after this long without a new one
    rate_window_s: float = 60.0  # the sample-rate check judges this long a window (bursts are not faults)
    rate_error_ppm_max: float = 2000.0
    fft_backend: str = "auto"
    heartbeat_interval_s: float = 5.0  # uplink: health to the service this often
    spectrum_interval_s: float = 2.0  # uplink: one PSD summary per band this often
    spectrum_bins: int = 256  # uplink: most bins in a summary
    correct_clock_steps: bool | None = None  # follow wall-clock steps (default: for a real-time source)
    calibration: Calibration | None = None  # this dongle's dBFS-to-dBm offsets: levels in dBm too
    position: tuple[float, float] | None = None  # (lat_deg, lon_deg) of the sensor, sent in heartbeats


class Monitor:
    """Run the live pipeline over a source and a plan.

    Parameters
    ----------
    source : IQSource
        Opened (wrap a device in :class:`~spectrum.sources.source_base.ResilientSource` to survive
        its loss, with :meth:`on_fault` as its callback).
    plan : BandPlan
        Bands to sweep; :func:`spectrum.live.band_plans.single_band` for a fixed tuning.
    emit : callable
        Called with each event as it opens (``end`` None) and again when it closes.
    options : MonitorOptions
    status : callable, optional
        Called every ``status_interval_s`` with :meth:`health`.
    uplink : Uplink, optional
        Also send events, heartbeats and PSD summaries to the service (see the module notes).
    """

    def __init__(self, source, plan: BandPlan, emit: Callable[[Event], None],
                 options: MonitorOptions | None = None,
                 status: Callable[[dict], None] | None = None, uplink=None, evidence=None,
                 clock: Clock | None = None) -> None:
        self.uplink = uplink
        self.evidence = evidence  # spectrum.live.evidence_keeper.EvidenceKeeper: IQ clips around events
        self.source = source
        self.plan = plan
        self.options = options or MonitorOptions()
        self._emit_cb = emit
        self._status_cb = status
        self.stop = threading.Event()
        correct = self.options.correct_clock_steps
        self.clock = SessionClock(clock, getattr(source, "realtime", False) if correct is None else correct)
        self.now_s = 0.0
        self.gain_db: float | None = None  # the newest block's manual gain (None under the AGC)
        self._states: dict[str, HopState] = {}
        self.stitcher = Stitcher(plan, self.options.config.dc_guard_hz)
        self.faults = {name: SensorFault(self, name, sev) for name, sev in (
            ("source_lost", "critical"), ("stall", "critical"), ("dropped_samples", "warning"),
            ("retune_failed", "warning"), ("sample_rate", "warning"), ("uplink_queue", "warning"),
            ("uplink_refused", "critical"), ("uplink_error", "warning"), ("evidence", "warning"))}
        self.counts = {"events_opened": 0, "events_closed": 0, "samples": 0, "rows": 0,
                       "dropped_samples": 0, "overload_rows": 0}
        self.overload_s = 0.0
        self.open_events: dict[str, Event] = {}
        self.rate_check = RateCheck(self.options.rate_window_s, self.options.rate_error_ppm_max)
        self.cpu = CpuMeter()
        self._overload_sent_s = 0.0
        self._last_retune_failures = 0
        self._failing: str | None = None
        self.sweeper: Sweeper | None = None

    # ------------------------------------------------------------------ faults from the source
    def on_fault(self, kind: str, detail: str, active: bool) -> None:
        """Callback for ResilientSource: a loss or stall began (active) or cleared."""
        fault = self.faults.get(kind, self.faults["source_lost"])
        now = self._wall_now()
        lo, hi = self._plan_range()
        if active:
            fault.raise_(now, detail, lo, hi)
        else:
            fault.clear(now, detail)

    @property
    def session_start(self) -> datetime | None:
        """Wall-clock start of the session (moved by clock steps; see :mod:`spectrum.live.session_clock`)."""
        return self.clock.session_start

    def _wall_now(self) -> float:
        """Session seconds now: the newest sample, or later while none arrive (a lost source)."""
        if getattr(self.source, "realtime", False):
            return max(self.now_s, self.clock.elapsed_s())
        return self.now_s

    def _plan_range(self) -> tuple[float, float]:
        return min(b.low_hz for b in self.plan.bands), max(b.high_hz for b in self.plan.bands)

    # ------------------------------------------------------------------ main loop
    def run(self) -> dict:
        """Monitor until :attr:`stop` is set, the duration passes or a finite source ends.

        Returns the final :meth:`health`. Ongoing events are closed and emitted first.
        """
        self.sweeper = Sweeper(self.source, self.plan, self._samples_per_row, self.stop)
        next_status = time.monotonic() + self.options.status_interval_s
        next_beat = next_spectrum = time.monotonic()
        try:
            for hop, block, first in self.sweeper.blocks():
                self._process(hop, block, first)
                if self.options.duration_s is not None and self.now_s >= self.options.duration_s:
                    break
                now = time.monotonic()
                if now >= next_status:
                    next_status += self.options.status_interval_s
                    self._periodic()
                if self.uplink is not None and now >= next_spectrum:
                    next_spectrum = now + self.options.spectrum_interval_s
                    self._send_spectra()
                if self.uplink is not None and now >= next_beat:
                    next_beat = now + self.options.heartbeat_interval_s
                    self._send_heartbeat()
        except EndOfStream:
            pass
        finally:
            self._finish()
            if self.uplink is not None:
                self._send_spectra()
                self._send_heartbeat()
        return self.health()

    def _samples_per_row(self, band) -> int:
        return band.fft_size * self.options.config.frames_per_row(band.sample_rate_hz)

    def _state(self, hop: Hop) -> HopState:
        state = self._states.get(hop.key)
        if state is None:
            state = HopState(hop, self.source.datatype, self.options, self.session_start)
            state.antenna = SensorFault(self, "antenna", "critical")
            self._states[hop.key] = state
        return state

    def _process(self, hop: Hop, block, first: bool) -> None:
        session_s = self.clock.block_start(block)
        self.now_s = self.clock.end_s
        self.gain_db = block.gain_db
        self.counts["samples"] += block.num_samples
        if self.evidence is not None:
            self._guard("evidence", self.evidence.feed, block.samples, block.sample_index, block.center_freq_hz)
        state = self._state(hop)
        if first or block.dropped_samples:
            state.mark(session_s)
        if first:
            state.acc[:] = 0.0
            state.acc_rows = 0
        if block.dropped_samples:
            self.counts["dropped_samples"] += block.dropped_samples
        if block.dropped_samples and not block.retuned:  # a reopen's gap is its source_lost fault
            lo, hi = self._plan_range()
            self.faults["dropped_samples"].raise_(
                session_s, "samples lost (consumer too slow or USB overflow)", lo, hi,
                dropped_samples=self.counts["dropped_samples"])
        self._track_rate(block)
        cfg = self.options.config
        for rows, clipped in state.frontend.process(block.samples):
            n = rows.mean.shape[0]
            clip_share = clipped / (2.0 * state.frontend.samples_per_row)
            over = int(np.count_nonzero(clip_share > cfg.overload_fraction))
            self.counts["overload_rows"] += over
            self.overload_s += over * state.row_s
            self.counts["rows"] += n
            for event in state.detector.process(rows, clipped):
                self._detector_event(state, event)
            state.rows += n
            row_sum = rows.mean.sum(axis=0)
            state.acc += row_sum
            state.acc_rows += n
            if self.uplink is not None:
                state.psd_acc += row_sum
                state.psd_rows += n
            self.stitcher.update(hop, state.acc / state.acc_rows)
            check_antenna(state, rows.mean, session_s, self.options.antenna_drop_db,
                          self.options.antenna_hold_s)

    def _track_rate(self, block) -> None:
        if not getattr(self.source, "realtime", False):
            return
        self.rate_check.update(block, self.clock.clock.monotonic(), self.faults["sample_rate"], self.now_s,
                               self._plan_range())

    def _detector_event(self, state: HopState, event: Event) -> None:
        if event.id in state.suppressed:
            if not event.ongoing:
                state.suppressed.discard(event.id)
            return
        centre = (event.freq_low_hz + event.freq_high_hz) / 2
        if event.kind != "overload" and not (state.hop.keep_low_hz <= centre < state.hop.keep_high_hz):
            if event.ongoing:
                state.suppressed.add(event.id)
            return
        start_s = state.session_time(event.offset_start_s)
        detected = event.extra.get("detected_offset_s")
        if detected is not None:
            start_s = max(start_s, state.earliest_onset(detected))
            event.extra["detected_offset_s"] = round(state.session_time(detected), 4)
        event.offset_start_s = start_s
        if event.offset_end_s is not None:
            event.offset_end_s = max(state.session_time(event.offset_end_s), event.offset_start_s)
        event.session_start = self.session_start
        event.extra.setdefault("band", state.hop.band.name)
        event.extra.setdefault("center_freq_hz", state.hop.center_freq_hz)
        event.extra.update(event_levels(event.peak_dbfs, self.options.calibration, self.gain_db,
                                        state.hop.center_freq_hz))
        self._emit(event)

    def _emit(self, event: Event) -> None:
        if event.ongoing:
            self.counts["events_opened"] += 1
            self.open_events[event.id] = event
        else:
            self.counts["events_closed"] += 1
            self.open_events.pop(event.id, None)
        event.session_start = self.session_start  # one start per report: its end never precedes it
        if self.uplink is not None:  # queued (durably) before it is printed: what was seen is kept
            self._guard("uplink_error", self.uplink.send_events, [event.to_dict()])
        self._emit_cb(event)
        if self.evidence is not None and event.kind != "sensor_fault":
            self._guard("evidence", self.evidence.on_event, event.to_dict())

    def _guard(self, fault: str, action: Callable, *args) -> None:
        """Run a storage or network step; its failure is a sensor fault, never the sensor's end."""
        try:
            action(*args)
        except Exception as exc:  # noqa: BLE001 - detection must go on whatever the sink does
            if self._failing == fault:
                return  # the fault is open already: one event, not one per block
            self._failing = fault
            try:
                lo, hi = self._plan_range()
                self.faults[fault].raise_(self._wall_now(), f"{type(exc).__name__}: {exc}"[:300], lo, hi)
            finally:
                self._failing = None

    # ------------------------------------------------------------------ uplink
    def _session_iso(self) -> str:
        return iso_utc(self.session_start.timestamp() + self.now_s if self.session_start else time.time())

    def spectrum_summaries(self) -> list[dict]:
        """One PSD summary per band from the rows since the last call (and reset them).

        See :func:`spectrum.live.psd_summaries.spectrum_summaries`.
        """
        summaries = spectrum_summaries(self._states.values(), self.options.config.dc_guard_hz,
                                       self.options.spectrum_bins, self._session_iso())
        for summary in summaries:
            hops = [s for s in self._states.values() if s.hop.band.name == summary["band"]]
            summary.update(spectrum_levels(hops[0], self.options.calibration, self.gain_db))
        return summaries

    def _send_spectra(self) -> None:
        for summary in self.spectrum_summaries():
            self.uplink.send_spectrum(summary)

    def heartbeat(self) -> dict:
        """The heartbeat sent to the service: its named fields plus the health counters."""
        self._check_clock()
        overload_now = self.overload_s > self._overload_sent_s
        self._overload_sent_s = self.overload_s
        beat = heartbeat_fields(self.health(), self.options.site, self.options.sensor, overload_now)
        beat.update(self.clock.fields())
        if self.options.position is not None:
            beat["position"] = {"lat_deg": self.options.position[0], "lon_deg": self.options.position[1]}
        beat["faults"] = sorted(f.name for f in self.faults.values() if f.event is not None)  # details: the events
        return beat

    def _send_heartbeat(self) -> None:
        self._guard("uplink_error", self.uplink.send_heartbeat, self.heartbeat())

    def _touch_open_events(self) -> None:
        """Note in the queue that the open events were still seen now (closed there after a kill)."""
        touch = getattr(self.uplink, "touch_open_events", None)
        if touch is not None and self.open_events:
            self._guard("uplink_error", touch, self._session_iso(), self.now_s)

    def _periodic(self) -> None:
        now = self.now_s
        for name in ("dropped_samples", "retune_failed"):
            self.faults[name].clear_if_quiet(now, self.options.fault_hold_s)
        if self.sweeper is not None:
            failures = self.sweeper.stats.retune_failures
            if failures > self._last_retune_failures:
                lo, hi = self._plan_range()
                self.faults["retune_failed"].raise_(
                    now, "; ".join(sorted(set(self.sweeper.stats.failed_hops.values())))[:300], lo, hi,
                    retune_failures=failures)
                self._last_retune_failures = failures
        self._check_sinks(now)
        self._check_clock()
        self._touch_open_events()
        self.cpu.tick()
        if self._status_cb is not None:
            self._status_cb(self.health())

    def _check_clock(self) -> None:
        step = self.clock.check_step()
        if step is not None:
            log.warning("wall clock stepped by %+.3f s; offsets unchanged, wall times corrected", step)

    def _check_sinks(self, now: float) -> None:
        """Raise or clear the faults of the uplink queue, the uplink and the evidence keeper."""
        lo, hi = self._plan_range()
        for name, problem in (("uplink_queue", getattr(self.uplink, "storage_error", None)),
                              ("uplink_refused", getattr(self.uplink, "refused", None)),
                              ("evidence", getattr(self.evidence, "last_error", None))):
            if problem:
                self.faults[name].raise_(now, str(problem)[:300], lo, hi)
            elif name != "uplink_refused":
                self.faults[name].clear_if_quiet(now, self.options.fault_hold_s)
        self.faults["uplink_error"].clear_if_quiet(now, self.options.fault_hold_s)

    def _finish(self) -> None:
        for state in self._states.values():
            for event in state.detector.finish():
                if event.offset_end_s is not None:
                    event.offset_end_s = max(event.offset_end_s, 0.0)
                self._detector_event(state, event)
            state.antenna.clear(self.now_s, "monitoring ended")
        self._check_sinks(self.now_s)  # a sink's trouble since the last tick is reported, then closed
        if self.evidence is not None:
            self._guard("evidence", self.evidence.close)  # writes the clips of events that just closed
        for fault in self.faults.values():
            fault.clear(self.now_s, "monitoring ended")

    # ------------------------------------------------------------------ health
    def health(self) -> dict:
        """Counters for the status line and the uplink's heartbeats (JSON-ready)."""
        return health_counters(self)


__all__ = ["Monitor", "MonitorOptions", "SourceError"]
