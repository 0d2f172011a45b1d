"""The fleet load benchmark's load generator: every simulated sensor as one asyncio task, all in
one process apart from the server (they must not share its GIL).

``python -m spectrum.evaluate.fleet_sensors CONFIG OUT`` reads the plan, the server's URL and
one token per sensor from the JSON file CONFIG, waits for a line on stdin (the stream viewers
are connected), runs the plan and writes what it sent and what the desk answered to OUT.

Each sensor behaves like the uplink (:mod:`spectrum.live.uplink`): what it makes goes to an
outbox first; while the link is up the outbox is sent at once, events first (a newer state of
a waiting event replaces the older one), then the newest heartbeat, then spectra newest first
in batches of 20; failures (network errors, 429, 5xx) are retried with backoff. When its link
drops, the last batches it had sent lose their answer: they go back to the outbox and are sent
again on reconnect with everything that piled up meanwhile (the desk must absorb them).

Each sensor has its own keep-alive connection (:class:`spectrum.evaluate.fleet_http.SensorConnection`,
the requests an ``httpx`` uplink sends, without httpx's per-request cost: with ``httpx.AsyncClient``
the generator spent as much CPU per request as the server it shares the cores with), so the
desk sees one connection per sensor, as from a real fleet.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from spectrum.evaluate.fleet_http import HttpError, SensorConnection
from spectrum.evaluate.fleet_traffic import FleetPlan, SimSensor, chosen, sensor_steps

EVENT_BATCH = 500  # the uplink's batch_events
SPECTRA_BATCH = 20  # the uplink's spectra per request
RETRY_FOR_S = 120.0  # a post still failing after this long is given up (and counted)
PATHS = {"events": "/api/v1/events", "heartbeat": "/api/v1/heartbeats", "spectra": "/api/v1/spectra"}


def percentile(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile (nearest rank) of ``values``; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Tally:
    """What the whole fleet sent and what the desk answered."""

    def __init__(self) -> None:
        self.latency_ms: dict[str, list[float]] = {kind: [] for kind in PATHS}
        self.requests: Counter = Counter()
        self.retries: Counter = Counter()  # failed attempts that were tried again
        self.failures: Counter = Counter()  # why attempts failed: "HTTP 503", "ReadTimeout", ...
        self.given_up: Counter = Counter()
        self.refused: list[str] = []  # 4xx answers other than 429: a bug in the desk or here
        self.answers: Counter = Counter()  # created / updated / unchanged, summed over event posts
        self.spectra_answers: Counter = Counter()
        self.event_states_posted = 0
        self.first_sent_s: dict[tuple[str, bool], float] = {}  # (id, closed) -> monotonic time of its first post
        self.first_answered_s: dict[tuple[str, bool], float] = {}  # ... and of the desk's first 2xx for it
        self.events_acked: dict[str, bool] = {}  # id -> closed, as last acknowledged
        self.spectra_acked: set[str] = set()
        self.beats_sent = 0
        self.beats_acked = 0
        self.last_beat_acked: dict[str, float] = {}  # sensor -> session_s of its last acknowledged heartbeat
        self.resent = Counter()  # items sent again after a drop
        self.loop_lag_ms: list[float] = []  # how late a 0.1 s sleep wakes: the generator keeping up


class FleetSensor:
    """One sensor: its timeline, its outbox and its link state."""

    def __init__(self, k: int, plan: FleetPlan, token: str, jammer: bool, drops: bool,
                 client: SensorConnection, tally: Tally) -> None:
        self.sim = SimSensor(k, plan, jammer)
        self.steps = sensor_steps(k, plan, jammer, drops)
        self.plan = plan
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.client, self.tally = client, tally
        self.online = True
        self.events: dict[str, dict] = {}  # waiting, by id (insertion order: first in, first out)
        self.beat: dict | None = None
        self.spectra: list[dict] = []
        self.last_batches: dict[str, list[dict]] = {}  # per kind, the last batch delivered

    async def run(self, start_s: float) -> None:
        for step in self.steps:
            due_s = start_s + step.t_s
            wait_s = due_s - time.monotonic()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            self._apply(step.action, step.event_no)
            if self.online:
                await self._flush()
        self.online = True
        await self._flush()

    def _apply(self, action: str, n: int) -> None:
        sim = self.sim
        if action == "tick":
            self.beat = sim.heartbeat(len(self.events) + len(self.spectra))
            self.spectra.append(sim.spectrum())
        elif action == "open":
            self._queue_event(sim.burst_opened(n))
        elif action in ("close", "burst"):
            self._queue_event(sim.burst_closed(n, self.plan.burst_on_s))
        elif action == "sporadic":
            self._queue_event(sim.sporadic())
        elif action == "drop":
            self.online = False
            self._lose_last_answers()
        elif action == "back":
            self.online = True

    def _queue_event(self, event: dict) -> None:
        self.events.pop(event["id"], None)  # a newer state replaces the waiting one, and goes last
        self.events[event["id"]] = event

    def _lose_last_answers(self) -> None:
        """The link drops: the last batches' answers never came, so they are still in the outbox."""
        for event in self.last_batches.get("events", []):
            if event["id"] not in self.events:
                self.events[event["id"]] = event
                self.tally.resent["events"] += 1
        known = {s["id"] for s in self.spectra}
        lost = [s for s in self.last_batches.get("spectra", []) if s["id"] not in known]
        self.spectra = lost + self.spectra
        self.tally.resent["spectra"] += len(lost)
        self.last_batches.clear()

    async def _flush(self) -> None:
        while self.events:
            batch = list(self.events.values())[:EVENT_BATCH]
            if not await self._post_events(batch):
                return
        if self.beat is not None:
            beat, self.beat = self.beat, None
            self.tally.beats_sent += 1
            if await self._post("heartbeat", beat) is not None:
                self.tally.beats_acked += 1
                self.tally.last_beat_acked[self.sim.sensor] = beat["session_s"]
        while self.spectra:
            batch = self.spectra[-SPECTRA_BATCH:][::-1]  # newest first
            answer = await self._post("spectra", {"spectra": batch})
            if answer is None:
                return
            del self.spectra[-len(batch):]
            self.tally.spectra_acked.update(s["id"] for s in batch)
            self.tally.spectra_answers.update({k: answer[k] for k in ("created", "unchanged")})
            self.last_batches["spectra"] = batch

    async def _post_events(self, batch: list[dict]) -> bool:
        now = time.monotonic()
        for event in batch:
            self.tally.first_sent_s.setdefault((event["id"], event["end"] is not None), now)
        self.tally.event_states_posted += len(batch)
        answer = await self._post("events", {"events": batch})
        if answer is None:
            return False
        answered_s = time.monotonic()
        for event in batch:
            if self.events.get(event["id"]) is event:
                del self.events[event["id"]]
            closed = event["end"] is not None
            self.tally.first_answered_s.setdefault((event["id"], closed), answered_s)
            self.tally.events_acked[event["id"]] = closed or self.tally.events_acked.get(event["id"], False)
        self.tally.answers.update({k: answer[k] for k in ("created", "updated", "unchanged")})
        self.last_batches["events"] = batch
        return True

    async def _post(self, kind: str, payload: dict) -> dict | None:
        """Post until the desk says 2xx (its JSON answer), or None: refused or given up."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        tally = self.tally
        give_up_s = time.monotonic() + RETRY_FOR_S
        delay_s = 0.5
        while True:
            tally.requests[kind] += 1
            started = time.monotonic()
            try:
                r = await self.client.post(PATHS[kind], body, self.headers)
            except HttpError as exc:
                status = None
                tally.failures[exc.kind] += 1
            else:
                tally.latency_ms[kind].append((time.monotonic() - started) * 1e3)
                status = r.status_code
                if 200 <= status < 300:
                    return r.json()
                if status != 429 and status < 500:
                    tally.refused.append(f"{kind}: HTTP {status} {r.text[:200]}")
                    return None
                tally.failures[f"HTTP {status}"] += 1
            if time.monotonic() + delay_s > give_up_s:
                tally.given_up[kind] += 1
                return None
            tally.retries[kind] += 1
            await asyncio.sleep(delay_s)
            delay_s = min(8.0, delay_s * 2)


async def watch_loop_lag(tally: Tally, stop: asyncio.Event, every_s: float = 0.1) -> None:
    """Note how late the event loop wakes from short sleeps (a busy generator wakes late)."""
    while not stop.is_set():
        asked_s = time.monotonic() + every_s
        await asyncio.sleep(every_s)
        tally.loop_lag_ms.append((time.monotonic() - asked_s) * 1e3)


async def run_fleet(url: str, tokens: list[str], plan: FleetPlan, go) -> dict:
    """Run every sensor of ``plan`` against ``url``; ``go`` is awaited before the clock starts."""
    tally = Tally()
    jammers, droppers = chosen(plan, plan.jammer_share, 1), chosen(plan, plan.drop_share, 2)
    where = urlsplit(url)
    if where.scheme != "http":
        raise ValueError(f"{url}: the load generator speaks plain HTTP to a loopback desk only")
    sensors = [FleetSensor(k, plan, tokens[k], k in jammers, k in droppers,
                           SensorConnection(where.hostname, where.port or 80), tally) for k in range(plan.sensors)]
    try:
        await go()
        start_s = time.monotonic() + 0.2  # all tasks wait for the same start
        cpu_before_s = time.process_time()
        stop = asyncio.Event()
        lag_watch = asyncio.create_task(watch_loop_lag(tally, stop))
        await asyncio.gather(*(s.run(start_s) for s in sensors))
        end_s = time.monotonic()
        cpu_s = time.process_time() - cpu_before_s
        stop.set()
        await lag_watch
    finally:
        for sensor in sensors:
            sensor.client.close()
    return {
        "start_s": start_s, "end_s": end_s, "cpu_s": cpu_s, "jammers": len(jammers), "droppers": len(droppers),
        "latency_ms": tally.latency_ms, "requests": dict(tally.requests), "retries": dict(tally.retries), "failures": dict(tally.failures),
        "given_up": dict(tally.given_up), "refused": tally.refused[:20], "refused_count": len(tally.refused),
        "answers": dict(tally.answers), "spectra_answers": dict(tally.spectra_answers),
        "event_states_posted": tally.event_states_posted,
        "first_sent_s": [[i, closed, t] for (i, closed), t in tally.first_sent_s.items()],
        "first_answered_s": [[i, closed, t] for (i, closed), t in tally.first_answered_s.items()],
        "events_acked": tally.events_acked, "spectra_acked": sorted(tally.spectra_acked),
        "beats_sent": tally.beats_sent, "beats_acked": tally.beats_acked, "last_beat_acked": tally.last_beat_acked,
        "resent": dict(tally.resent),
        "loop_lag_ms": {"p50": percentile(tally.loop_lag_ms, 50), "p99": percentile(tally.loop_lag_ms, 99),
                        "max": max(tally.loop_lag_ms, default=None)},
    }


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[0]).read_text())
    plan = FleetPlan(**config["plan"])

    async def go() -> None:  # the bench says go once the stream viewers are connected
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    result = asyncio.run(run_fleet(config["url"], config["tokens"], plan, go))
    Path(argv[1]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
