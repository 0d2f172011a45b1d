"""Benchmark (not a test): recompute every incident from N stored events.

The events are a day of synthetic traffic from many sites, stored through the service's own
ingest function (no server): a few jammers, each heard by a handful of neighbouring sites as
bursts (pulsed, 4 s in every 10 s, for tens of minutes; or continuous barrage reported every
minute), and scattered single events of any kind, band and site between them. The recompute
is then timed twice: from empty incident tables, and again over the incidents it made (the
``spectrum incidents rebuild`` case, which keeps incident ids).
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from service.db import Database
from service.incident_store import rebuild_incidents
from service.incidents import GroupingRules
from service.schemas import EventIn
from service.store import count_events, ingest_events
from spectrum.evaluate.service_bench import BANDS_HZ, KINDS, SEVERITIES, T0

JAMMER_SHARE = 0.6  # of the events: jammers' bursts; the rest scattered single events
SITES_PER_JAMMER = (2, 6)  # neighbouring sites that hear one jammer
STORE_BATCH = 5000


@dataclass
class RebuildReport:
    events: int
    sites: int
    store_s: float
    first_s: float
    again_s: float
    incidents: int

    def lines(self) -> list[str]:
        return [f"incidents: {self.events:,} stored events from {self.sites} sites (stored in {self.store_s:.0f} s, "
                f"not timed)",
                f"           recompute from empty tables: {self.first_s:.1f} s, {self.events / self.first_s:,.0f} "
                f"events/s; {self.incidents:,} incidents",
                f"           recompute over them (ids kept): {self.again_s:.1f} s, "
                f"{self.events / self.again_s:,.0f} events/s"]


def _iso(offset_s: float) -> str:
    return (T0 + timedelta(seconds=offset_s)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event(rng: random.Random, site: str, kind: str, start_s: float, dur_s: float, low_hz: float,
           high_hz: float, rise_db: float) -> dict:
    return {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "kind": kind,
            "start": _iso(start_s), "end": _iso(start_s + dur_s), "offset_start_s": round(start_s, 6),
            "offset_end_s": round(start_s + dur_s, 6), "freq_low_hz": round(low_hz, 1),
            "freq_high_hz": round(high_hz, 1), "peak_dbfs": round(-60 + rise_db, 2), "rise_db": round(rise_db, 2),
            "severity": "critical" if rise_db > 25 else "warning" if rise_db > 12 else "info",
            "confidence": round(rng.random(), 3), "site": site, "sensor": f"{site}-a",
            "detector": {"version": "0.1.0", "config_hash": "bench"}}


def synthetic_day(rng: random.Random, n_events: int, n_sites: int) -> dict[str, list[dict]]:
    """About ``n_events`` events over one day, per site (see the module docstring)."""
    per_site: dict[str, list[dict]] = {f"site{k:04d}": [] for k in range(n_sites)}
    sites = list(per_site)
    made, jammer_target = 0, int(n_events * JAMMER_SHARE)
    while made < jammer_target:  # one jammer episode at a time, at a random place and time
        first = rng.randrange(n_sites)
        heard_by = [sites[(first + j) % n_sites] for j in range(rng.randint(*SITES_PER_JAMMER))]
        centre_hz = rng.choice(BANDS_HZ) + rng.uniform(-3e6, 3e6)
        width_hz = rng.choice((2e5, 2e6, 1e7))
        start_s, minutes = rng.uniform(0, 86_000), rng.uniform(5, 60)
        pulsed = rng.random() < 0.7
        period_s, on_s = (10.0, 4.0) if pulsed else (60.0, 59.0)
        for b in range(int(minutes * 60 / period_s)):
            for site in heard_by:
                t = start_s + b * period_s + rng.uniform(0, 0.5)  # each site hears the onset a little apart
                per_site[site].append(_event(rng, site, "pulsed" if pulsed else "wideband_noise", t, on_s,
                                             centre_hz - width_hz / 2, centre_hz + width_hz / 2,
                                             rng.uniform(10, 35)))
                made += 1
    while made < n_events:
        site = rng.choice(sites)
        centre_hz, width_hz = rng.choice(BANDS_HZ) + rng.uniform(-5e6, 5e6), rng.choice((1e3, 2e5, 1e6, 5e6))
        ev = _event(rng, site, rng.choice(KINDS), rng.uniform(0, 86_400), rng.expovariate(1 / 20),
                    centre_hz - width_hz / 2, centre_hz + width_hz / 2, rng.uniform(6, 40))
        ev["severity"] = rng.choice(SEVERITIES)
        per_site[site].append(ev)
        made += 1
    return per_site


def run_rebuild_bench(db_url: str, n_events: int, n_sites: int = 500, seed: int = 3, progress=print) -> RebuildReport:
    """Store ``n_events`` synthetic events in ``db_url`` (a fresh database) and time the recompute."""
    db = Database(db_url)
    try:
        progress(f"storing about {n_events:,} synthetic events from {n_sites} sites ...")
        started = time.perf_counter()
        per_site = synthetic_day(random.Random(seed), n_events, n_sites)
        stored = 0
        for site, events in per_site.items():
            for i in range(0, len(events), STORE_BATCH):
                ingest_events(db, [EventIn.model_validate(e) for e in events[i:i + STORE_BATCH]])
            stored += len(events)
            events.clear()  # the generated dicts are not needed once stored
        store_s = time.perf_counter() - started
        events = count_events(db)
        progress(f"{events:,} events stored in {store_s:.0f} s; recomputing every incident ...")
        rules, now = GroupingRules(), int(time.time() * 1e6)
        started = time.perf_counter()
        rebuild_incidents(db, rules, now)
        first_s = time.perf_counter() - started
        progress(f"first recompute {first_s:.1f} s; again over its incidents ...")
        started = time.perf_counter()
        incidents = rebuild_incidents(db, rules, now)
        again_s = time.perf_counter() - started
        return RebuildReport(events=events, sites=n_sites, store_s=store_s, first_s=first_s, again_s=again_s,
                             incidents=incidents)
    finally:
        db.dispose()
