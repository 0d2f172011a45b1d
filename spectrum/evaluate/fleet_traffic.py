"""What each simulated sensor of the fleet load benchmark sends, and when.

The shapes are a real ``spectrum monitor`` uplink's: heartbeats from
:func:`spectrum.live.sensor_health.heartbeat_fields` plus the fields the uplink adds (queue,
clock offset), events from :class:`spectrum.events.Event`, one PSD summary per band with an
``id`` (256 bins, the monitor's default). Only the numbers inside are made up.

Each sensor gets a timeline planned ahead from a seed (:func:`sensor_steps`):

- a ``tick`` every ``interval_s`` (heartbeat + spectrum), sensors staggered evenly across the
  interval so the load is flat;
- most sensors are quiet: a sporadic event now and then (``sporadic_per_h``);
- ``jammer_share`` of them hear a pulsed jammer: one event per burst (on ``burst_on_s`` every
  ``burst_period_s``); ``open_share`` of those bursts are sent as ongoing when they start and
  updated when they end, the rest once, closed;
- ``drop_share`` of them lose the link once (``drop``) and come back (``back``) later.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import numpy as np

from spectrum import __version__
from spectrum.events import Event
from spectrum.live.sensor_health import heartbeat_fields, iso_utc

# (band name, first bin Hz, bin step Hz): one band per sensor, 256 bins as the monitor sends
BANDS = (("gsm900-dl", 925.0e6, 136_718.75), ("dcs1800-dl", 1805.0e6, 292_968.75),
         ("umts2100-dl", 2110.0e6, 234_375.0), ("gnss-l1", 1574.42e6, 7_812.5))
SPECTRUM_BINS = 256
QUEUE_MAX_BYTES = 200_000_000  # what a sensor's uplink queue would report as its cap


@dataclass(frozen=True)
class FleetPlan:
    """The fleet's traffic; the defaults are the benchmark's."""

    sensors: int
    interval_s: float
    duration_s: float
    jammer_share: float = 0.03  # sensors with a pulsed jammer in earshot
    drop_share: float = 0.05  # sensors whose link drops once during the run
    sporadic_per_h: float = 2.0  # events per hour of a quiet sensor (new emitters, tones)
    burst_period_s: float = 10.0  # the pulsed jammer: on burst_on_s in every burst_period_s
    burst_on_s: float = 4.0
    open_share: float = 0.3  # bursts sent ongoing first, then updated when they end
    drop_max_s: float = 30.0  # longest outage of a dropping sensor
    seed: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Step:
    """One thing a sensor does, ``t_s`` seconds after the run's start."""

    t_s: float
    action: str  # tick | open | close | burst | sporadic | drop | back
    event_no: int = 0


def site_name(k: int) -> str:
    return f"site{k:04d}"


def sensor_name(k: int) -> str:
    return f"sensor{k:04d}"


def chosen(plan: FleetPlan, share: float, salt: int) -> set[int]:
    """``share`` of the sensors (at least one when the share is above 0), fixed by the seed."""
    if share <= 0:
        return set()
    count = min(plan.sensors, max(1, round(share * plan.sensors)))
    return set(random.Random(plan.seed * 7919 + salt).sample(range(plan.sensors), count))


def sensor_steps(k: int, plan: FleetPlan, jammer: bool, drops: bool) -> list[Step]:
    """Sensor ``k``'s timeline, in time order, within ``[0, duration_s)``."""
    rng = random.Random(plan.seed * 1_000_003 + k)
    steps = []
    t = k / plan.sensors * plan.interval_s  # staggered: the fleet's ticks spread evenly
    while t < plan.duration_s:
        steps.append(Step(t, "tick"))
        t += plan.interval_s
    n = 0
    if jammer:
        t = rng.uniform(0, plan.burst_period_s)
        while t + plan.burst_on_s < plan.duration_s:
            n += 1
            if rng.random() < plan.open_share:
                steps += [Step(t, "open", n), Step(t + plan.burst_on_s, "close", n)]
            else:
                steps.append(Step(t + plan.burst_on_s, "burst", n))
            t += plan.burst_period_s
    t = rng.expovariate(plan.sporadic_per_h / 3600) if plan.sporadic_per_h > 0 else plan.duration_s
    while t < plan.duration_s:
        n += 1
        steps.append(Step(t, "sporadic", n))
        t += rng.expovariate(plan.sporadic_per_h / 3600)
    if drops:
        down_s = min(plan.drop_max_s, 0.2 * plan.duration_s) * rng.uniform(0.5, 1.0)
        t = rng.uniform(0.15, 0.55) * plan.duration_s
        steps += [Step(t, "drop"), Step(t + down_s, "back")]
    return sorted(steps, key=lambda s: s.t_s)


class SimSensor:
    """Makes sensor ``k``'s heartbeats, spectra and events, stamped with the wall clock now."""

    def __init__(self, k: int, plan: FleetPlan, jammer: bool) -> None:
        self.site, self.sensor = site_name(k), sensor_name(k)
        self.rng = random.Random(plan.seed * 2_000_003 + k)
        self.band, self.first_bin_hz, self.bin_step_hz = BANDS[k % len(BANDS)]
        self.jammer = jammer
        self.started_s = time.time() - self.rng.uniform(600, 86_400)  # the monitor ran a while already
        self.session_start = datetime.fromtimestamp(self.started_s, timezone.utc)
        self.open: dict[int, Event] = {}
        self.beats = 0
        self.floor_dbfs = self.rng.uniform(-75, -65)
        self.noise = np.random.default_rng(plan.seed * 3_000_017 + k)

    def session_s(self) -> float:
        return round(time.time() - self.started_s, 3)

    def heartbeat(self, queue_size: int) -> dict:
        """As the monitor makes it, plus what the uplink adds; ``session_s`` tells beats apart."""
        self.beats += 1
        health = {"session_s": self.session_s(), "dropped_samples": 0, "msps": 2.4,
                  "cpu_percent": round(self.rng.uniform(6, 14), 2), "open_events": len(self.open),
                  "hops_learning": 0, "antenna_suspect": [], "rate_error_ppm": round(self.rng.gauss(0, 2), 1),
                  "overload_s": 0.0}
        beat = heartbeat_fields(health, self.site, self.sensor, overload_now=False)
        beat.update({"clock_steps": 0, "clock_step_s": None, "clock_correction_s": 0.0, "faults": [],
                     "queue_size": queue_size, "queue_dropped": 0, "queue_bytes": 2_000 * queue_size,
                     "queue_max_bytes": QUEUE_MAX_BYTES, "clock_offset_s": round(self.rng.gauss(0, 0.002), 4),
                     "clock_offset_rtt_s": 0.01})
        return beat

    def spectrum(self) -> dict:
        """One band's PSD summary, as the uplink queues it (with an id against duplicates)."""
        # numpy: drawing 256 numbers one by one was a third of the load generator's CPU
        power = self.floor_dbfs + self.noise.normal(0, 1.5, SPECTRUM_BINS)
        if self.jammer:
            power[100:140] += 25
        return {"id": str(uuid.uuid4()), "band": self.band, "time": iso_utc(time.time()),
                "freq_start_hz": self.first_bin_hz, "freq_step_hz": self.bin_step_hz,
                "power_dbfs": power.round(2).tolist(),
                "calibrated": False}

    def _event(self, kind: str, start_s: float, end_s: float | None, centre_hz: float, width_hz: float) -> Event:
        return Event(kind=kind, offset_start_s=start_s, offset_end_s=end_s, freq_low_hz=centre_hz - width_hz / 2,
                     freq_high_hz=centre_hz + width_hz / 2, peak_dbfs=round(self.rng.uniform(-40, -5), 2),
                     rise_db=round(self.rng.uniform(10, 35), 2), severity="warning",
                     confidence=round(self.rng.uniform(0.6, 0.99), 3), session_start=self.session_start,
                     site=self.site, sensor=self.sensor,
                     detector={"version": __version__, "config_hash": "fleet-bench"},
                     extra={"band": self.band, "center_freq_hz": self.first_bin_hz + 128 * self.bin_step_hz})

    def _burst(self, now_s: float, on_s: float, closed: bool) -> Event:
        centre_hz = self.first_bin_hz + 120 * self.bin_step_hz
        return self._event("pulsed", now_s - (on_s if closed else 0.0), now_s if closed else None, centre_hz,
                           40 * self.bin_step_hz)

    def burst_opened(self, n: int) -> dict:
        """A jammer's burst as the detector reports it when it starts: ongoing (no end)."""
        event = self._burst(self.session_s(), 0.0, closed=False)
        self.open[n] = event
        return event.to_dict()

    def burst_closed(self, n: int, on_s: float) -> dict:
        """The burst's final state: the same id with its end (an update), or a new closed event."""
        now_s = self.session_s()
        event = self.open.pop(n, None)
        if event is None:
            return self._burst(now_s, on_s, closed=True).to_dict()
        event.offset_end_s = max(now_s, event.offset_start_s)
        return event.to_dict()

    def sporadic(self) -> dict:
        """A short event of a quiet sensor (a new emitter, a tone), sent once it has ended."""
        now_s = self.session_s()
        kind = self.rng.choice(("new_emitter", "tone", "wideband_noise"))
        centre_hz = self.first_bin_hz + self.rng.uniform(10, 246) * self.bin_step_hz
        return self._event(kind, now_s - self.rng.uniform(1, 30), now_s, centre_hz,
                           self.rng.choice((1e3, 2e5, 1e6))).to_dict()
