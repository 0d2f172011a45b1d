"""Live monitoring: source → sweep → front end → detector (one per hop) → events, plus health.

One thread, no queues of its own: the source's bounded queue (RTL-SDR) or the socket (rtl_tcp)
is the only buffer, so a slow pipeline shows up as dropped samples, counted, never as memory.

Times. Every hop has its own front end and :class:`~spectrum.detect.detector.BandDetector`
(and so its own baseline). A detector counts time in rows of *its own* signal; when sweeping,
its rows come in dwells separated by the other hops, so the monitor keeps, per hop, where each
dwell started (row → session seconds) and rewrites the events' offsets to session time. The
session starts at the first sample's timestamp; for a paced source that is wall-clock time.

Events a hop sees outside its kept region (``Hop.keep_low_hz..keep_high_hz``) are left to the
neighbouring hop that keeps that frequency, so a jammer in the overlap is reported once.
Events are not merged across hops: a barrage wider than a hop is reported by each hop it
covers.

Sensor faults are events too (kind ``sensor_fault``, ``fault`` in the extra fields):
``source_lost`` / ``stall`` (device or connection gone, reopened with backoff),
``dropped_samples``, ``retune_failed``, ``antenna`` (a hop's floor far below the floor it
had when learning: a disconnected antenna or a dead LNA) and ``sample_rate`` (delivered rate
off the nominal by more than ``rate_error_ppm_max``).

Uplink (optional, any object with ``send_events``, ``send_heartbeat``, ``send_spectrum`` and
``queue_size``, i.e. :class:`spectrum.live.uplink.Uplink`): each event goes out as it opens and as
it closes; a heartbeat (the health fields) every ``heartbeat_interval_s``; and every
``spectrum_interval_s`` one PSD summary per band (the mean power since the last summary,
averaged down to at most ``spectrum_bins`` bins, dBFS) for the desk's waterfalls. The uplink
only writes to its on-disk queue here; its own thread does the network.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from spectrum.live.band_plans import BandPlan, Hop
from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.detector import BandDetector
from spectrum.errors import SourceError
from spectrum.events import Event
from spectrum.detect.spectral_frontend import SpectralFrontEnd
from spectrum.sources.source_base import EndOfStream
from spectrum.live.sweep import Stitcher, Sweeper

MAX_CLOCK_SEGMENTS = 4096  # dwells remembered per hop for row → time (older rows extrapolate)


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
    rate_window_s: float = 10.0
    rate_error_ppm_max: float = 2000.0
    fft_backend: str = "auto"
    heartbeat_interval_s: float = 5.0  # uplink: health to the service this often
    spectrum_interval_s: float = 2.0  # uplink: one PSD summary per band this often
    spectrum_bins: int = 256  # uplink: most bins in a summary


class _Fault:
    """One kind of sensor fault: an event opened when it starts, closed when it clears."""

    def __init__(self, monitor: "Monitor", name: str, severity: str = "warning") -> None:
        self.monitor = monitor
        self.name = name
        self.severity = severity
        self.event: Event | None = None
        self.last_s = -math.inf
        self.count = 0

    def raise_(self, now_s: float, detail: str, low_hz: float, high_hz: float, **extra) -> None:
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
        if self.event is None:
            return
        extra = dict(self.event.extra, **({"cleared": detail} if detail else {}))
        closed = dataclasses.replace(self.event, offset_end_s=max(now_s, self.event.offset_start_s),
                                     extra=extra)
        self.event = None
        self.monitor._emit(closed)

    def clear_if_quiet(self, now_s: float, hold_s: float) -> None:
        if self.event is not None and now_s - self.last_s >= hold_s:
            self.clear(now_s)


class _HopState:
    """Front end, detector and bookkeeping of one hop."""

    def __init__(self, hop: Hop, datatype: str, options: MonitorOptions,
                 session_start: datetime | None) -> None:
        band = hop.band
        config = options.config if options.config.fft_size == band.fft_size else \
            dataclasses.replace(options.config, fft_size=band.fft_size)
        self.hop = hop
        self.detector = BandDetector(config, band.sample_rate_hz, hop.center_freq_hz,
                                     session_start=session_start, site=options.site,
                                     sensor=options.sensor, keep_events=False)
        self.frontend = SpectralFrontEnd(datatype, band.fft_size, self.detector.frames_per_row,
                                         fft_backend=options.fft_backend)
        self.row_s = self.detector.row_s
        self.rows = 0
        self.clock_rows: list[int] = []
        self.clock_s: list[float] = []
        self.floor_learn: list[float] = []
        self.floor_ref_db: float | None = None
        self.learn_rows = max(8, math.ceil(config.learn_s / self.row_s))
        self.low_floor_rows = 0
        self.antenna = None  # _Fault, made by the monitor
        self.acc = np.zeros(band.fft_size)
        self.acc_rows = 0
        self.suppressed: set[str] = set()
        self.psd_acc = np.zeros(band.fft_size)  # uplink summary: linear power since the last one
        self.psd_rows = 0

    def mark(self, session_s: float) -> None:
        """The next row starts at ``session_s``."""
        if self.clock_rows and self.clock_rows[-1] == self.rows:
            self.clock_s[-1] = session_s
            return
        self.clock_rows.append(self.rows)
        self.clock_s.append(session_s)
        if len(self.clock_rows) > MAX_CLOCK_SEGMENTS:
            del self.clock_rows[: MAX_CLOCK_SEGMENTS // 4]
            del self.clock_s[: MAX_CLOCK_SEGMENTS // 4]

    def session_time(self, detector_s: float) -> float:
        row = detector_s / self.row_s
        k = max(0, bisect.bisect_right(self.clock_rows, row + 1e-6) - 1)
        return self.clock_s[k] + (row - self.clock_rows[k]) * self.row_s

    def earliest_onset(self, detected_s: float) -> float:
        """Start of the dwell before the one an event was detected in (session seconds).

        A detector's onset estimate looks back over its recent rows; when sweeping those
        span several dwells, and a jammer seen before the previous dwell would have been
        detected there. In a fixed tuning there is one segment and no limit.
        """
        row = detected_s / self.row_s
        k = max(0, bisect.bisect_right(self.clock_rows, row - 1e-6) - 1)
        return self.clock_s[k - 1] if k >= 1 and len(self.clock_rows) > 1 else -math.inf


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
                 status: Callable[[dict], None] | None = None, uplink=None, evidence=None) -> None:
        self.uplink = uplink
        self.evidence = evidence  # spectrum.live.evidence_keeper.EvidenceKeeper: IQ clips around events
        self.source = source
        self.plan = plan
        self.options = options or MonitorOptions()
        self._emit_cb = emit
        self._status_cb = status
        self.stop = threading.Event()
        self.session_start: datetime | None = None
        self._t0_ts: float | None = None
        self.now_s = 0.0
        self._states: dict[str, _HopState] = {}
        self.stitcher = Stitcher(plan, self.options.config.dc_guard_hz)
        self.faults = {name: _Fault(self, name, sev) for name, sev in (
            ("source_lost", "critical"), ("stall", "critical"), ("dropped_samples", "warning"),
            ("retune_failed", "warning"), ("sample_rate", "warning"))}
        self.counts = {"events_opened": 0, "events_closed": 0, "samples": 0, "rows": 0,
                       "dropped_samples": 0, "overload_rows": 0}
        self.overload_s = 0.0
        self.open_events: dict[str, Event] = {}
        self._rate_ref: tuple[int, float] | None = None
        self.rate_error_ppm: float | None = None
        self._cpu0 = (time.monotonic(), time.process_time())
        self._cpu_last = self._cpu0
        self.cpu_percent = 0.0
        self._last_retune_failures = 0
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

    def _wall_now(self) -> float:
        return time.time() - self._t0_ts if self._t0_ts is not None else 0.0

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

    def _state(self, hop: Hop) -> _HopState:
        state = self._states.get(hop.key)
        if state is None:
            state = _HopState(hop, self.source.datatype, self.options, self.session_start)
            state.antenna = _Fault(self, "antenna", "critical")
            self._states[hop.key] = state
        return state

    def _process(self, hop: Hop, block, first: bool) -> None:
        if self._t0_ts is None:
            self._t0_ts = block.timestamp_s
            self.session_start = datetime.fromtimestamp(block.timestamp_s, timezone.utc)
        session_s = block.timestamp_s - self._t0_ts
        self.now_s = session_s + block.num_samples / block.sample_rate_hz
        self.counts["samples"] += block.num_samples
        if self.evidence is not None:
            self.evidence.feed(block.samples, block.sample_index, block.center_freq_hz)
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
            self._antenna(state, rows.mean, session_s)

    def _antenna(self, state: _HopState, mean, session_s: float) -> None:
        floor_db = 10 * np.log10(np.maximum(np.median(mean, axis=1), 1e-20))
        if state.floor_ref_db is None:
            state.floor_learn.extend(floor_db.tolist())
            if len(state.floor_learn) >= state.learn_rows:
                state.floor_ref_db = float(np.median(state.floor_learn))
                state.floor_learn = []
            return
        low = floor_db < state.floor_ref_db - self.options.antenna_drop_db
        if low.all():
            state.low_floor_rows += len(low)
        elif not low.any():
            state.low_floor_rows = 0
            state.antenna.clear(session_s, "floor back")
        if state.low_floor_rows * state.row_s >= self.options.antenna_hold_s:
            band = state.hop.band
            state.antenna.raise_(
                session_s, f"noise floor {float(np.median(floor_db)) - state.floor_ref_db:.1f} dB "
                "below its learned level: antenna disconnected or LNA dead?",
                state.hop.keep_low_hz, state.hop.keep_high_hz, band=band.name,
                floor_drop_db=round(state.floor_ref_db - float(np.median(floor_db)), 2))

    def _track_rate(self, block) -> None:
        if not getattr(self.source, "realtime", False):
            return
        if self._rate_ref is None or block.retuned and self.sweeper and not self.sweeper.fixed:
            if self._rate_ref is None:
                self._rate_ref = (block.sample_index, block.timestamp_s)
            return
        i0, t0 = self._rate_ref
        dt = block.timestamp_s - t0
        if dt >= self.options.rate_window_s:
            rate = (block.sample_index - i0) / dt
            self.rate_error_ppm = (rate / block.sample_rate_hz - 1.0) * 1e6
            self._rate_ref = (block.sample_index, block.timestamp_s)
            fault = self.faults["sample_rate"]
            if abs(self.rate_error_ppm) > self.options.rate_error_ppm_max:
                lo, hi = self._plan_range()
                fault.raise_(self.now_s, f"delivered {rate:.0f} S/s for {block.sample_rate_hz:.0f}",
                             lo, hi, rate_error_ppm=round(self.rate_error_ppm, 1))
            else:
                fault.clear(self.now_s)

    def _detector_event(self, state: _HopState, event: Event) -> None:
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
        self._emit(event)

    def _emit(self, event: Event) -> None:
        if event.ongoing:
            self.counts["events_opened"] += 1
            self.open_events[event.id] = event
        else:
            self.counts["events_closed"] += 1
            self.open_events.pop(event.id, None)
        self._emit_cb(event)
        if self.uplink is not None:
            self.uplink.send_events([event.to_dict()])
        if self.evidence is not None and event.kind != "sensor_fault":
            self.evidence.on_event(event.to_dict())

    # ------------------------------------------------------------------ uplink
    def _session_iso(self) -> str:
        moment = self.session_start.timestamp() + self.now_s if self.session_start else time.time()
        return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def spectrum_summaries(self) -> list[dict]:
        """One PSD summary per band from the rows since the last call (and reset them).

        Each hop's kept bins (DC bin interpolated), in frequency order, averaged in linear
        power over groups of ``k`` adjacent bins so a band has at most ``spectrum_bins``;
        ``power_dbfs`` is ``10 log10`` of that (the detector's and the stitcher's scale).
        """
        per_band: dict[str, list[tuple]] = {}
        for state in self._states.values():
            if state.psd_rows == 0:
                continue
            hop, band = state.hop, state.hop.band
            p = state.psd_acc / state.psd_rows
            n = p.size
            f = hop.center_freq_hz + (np.arange(n) - n // 2) * band.sample_rate_hz / n
            dc = np.abs(f - hop.center_freq_hz) <= self.options.config.dc_guard_hz
            if dc.any() and (~dc).any():
                p = p.copy()
                p[dc] = np.interp(f[dc], f[~dc], p[~dc])
            keep = (f >= hop.keep_low_hz) & (f < hop.keep_high_hz)
            per_band.setdefault(band.name, []).append((f[keep], p[keep], band.sample_rate_hz / n))
            state.psd_acc[:] = 0.0
            state.psd_rows = 0
        out = []
        when = self._session_iso()
        for name, parts in per_band.items():
            f = np.concatenate([x[0] for x in parts])
            p = np.concatenate([x[1] for x in parts])
            order = np.argsort(f, kind="stable")
            f, p = f[order], p[order]
            k = max(1, math.ceil(f.size / max(1, self.options.spectrum_bins)))
            m = f.size // k
            if m == 0:
                continue
            p = p[: m * k].reshape(m, k).mean(axis=1)
            f = f[: m * k].reshape(m, k).mean(axis=1)
            step = parts[0][2] * k
            out.append({"band": name, "time": when, "freq_start_hz": round(float(f[0]), 1),
                        "freq_step_hz": round(float(step), 3),
                        "power_dbfs": np.round(10 * np.log10(np.maximum(p, 1e-20)), 2).tolist()})
        return out

    def _send_spectra(self) -> None:
        for summary in self.spectrum_summaries():
            self.uplink.send_spectrum(summary)

    def heartbeat(self) -> dict:
        """The heartbeat sent to the service: its named fields plus the health counters."""
        from spectrum import __version__

        h = self.health()
        overload_now = self.overload_s > getattr(self, "_overload_sent_s", 0.0)
        self._overload_sent_s = self.overload_s
        beat = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "drops_total": int(h["dropped_samples"]), "overload": bool(overload_now),
                "software_version": __version__}
        if self.options.site:
            beat["site"] = self.options.site
        if self.options.sensor:
            beat["sensor"] = self.options.sensor
        if h.get("sweeps") and h["session_s"] > 0:
            beat["sweep_rate_hz"] = round(h["sweeps"] / h["session_s"], 4)
        beat.update({k: h[k] for k in ("session_s", "msps", "cpu_percent", "open_events", "hops_learning",
                                       "antenna_suspect", "rate_error_ppm", "overload_s") if k in h})
        return beat

    def _send_heartbeat(self) -> None:
        self.uplink.send_heartbeat(self.heartbeat())

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
        t, c = time.monotonic(), time.process_time()
        wall = t - self._cpu_last[0]
        self.cpu_percent = 100.0 * (c - self._cpu_last[1]) / wall if wall > 0 else 0.0
        self._cpu_last = (t, c)
        if self._status_cb is not None:
            self._status_cb(self.health())

    def _finish(self) -> None:
        for state in self._states.values():
            for event in state.detector.finish():
                if event.offset_end_s is not None:
                    event.offset_end_s = max(event.offset_end_s, 0.0)
                self._detector_event(state, event)
            state.antenna.clear(self.now_s, "monitoring ended")
        for fault in self.faults.values():
            fault.clear(self.now_s, "monitoring ended")
        if self.evidence is not None:
            self.evidence.close()  # writes the clips of events that just closed

    # ------------------------------------------------------------------ health
    def health(self) -> dict:
        """Counters for the status line and the uplink's heartbeats (JSON-ready)."""
        wall = time.monotonic() - self._cpu0[0]
        cpu_total = 100.0 * (time.process_time() - self._cpu0[1]) / wall if wall > 0 else 0.0
        src = getattr(self.source, "health", None)
        sweep = self.sweeper.stats.as_dict() if self.sweeper is not None else {}
        antenna = sorted(s.hop.key for s in self._states.values() if s.antenna.event is not None)
        return {
            "session_s": round(self.now_s, 3),
            "samples": self.counts["samples"],
            "msps": round(self.counts["samples"] / wall / 1e6, 4) if wall > 0 else 0.0,
            "dropped_samples": max(self.counts["dropped_samples"], src.dropped_samples if src else 0),
            "stalls": src.stalls if src else 0,
            "losses": src.losses if src else 0,
            "reopens": src.reopens if src else 0,
            "short_reads": src.short_reads if src else 0,
            "retune_failures": sweep.get("retune_failures", 0),
            "overload_s": round(self.overload_s, 3),
            "antenna_suspect": antenna,
            "rate_error_ppm": None if self.rate_error_ppm is None else round(self.rate_error_ppm, 1),
            "cpu_percent": round(self.cpu_percent, 2),
            "cpu_percent_total": round(cpu_total, 2),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "open_events": len(self.open_events),
            "events_closed": self.counts["events_closed"],
            "hops_learning": sum(1 for s in self._states.values() if not s.detector.has_baseline),
            **({"uplink_queue": self.uplink.queue_size} if self.uplink is not None else {}),
            **sweep,
        }


__all__ = ["Monitor", "MonitorOptions", "SourceError"]
