"""Run a sensor on its campaign: monitors one after another, rebuilt when the campaign changes.

A watcher thread asks the desk every ``poll_s`` (:class:`~spectrum.live.campaign_client.CampaignClient`,
conditional requests) and looks at the clock every ``tick_s``: when the campaign's version, or
the schedule window in force, changes, it asks the running monitor to stop at the end of its
current sweep (:class:`SweepEndStop`); the session then starts a monitor on the new plan over
the same source and uplink. The process never restarts; events still open when a plan ends are
closed then, as at any stop.

Heartbeats (through :class:`CampaignUplink`) and status lines carry ``campaign`` (name and
version of what runs, None without one) and ``campaign_origin`` (``desk``, or ``disk`` while
the desk does not answer and the copy on disk runs).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from spectrum.errors import ConfigError
from spectrum.live.campaign_plan import active_plan, build_plan, with_detector

log = logging.getLogger("spectrum.live.campaign_runner")


class SweepEndStop:
    """The stop flag of one monitor: set when the session stops, or at the end of the sweep
    running when a change was requested (at once for a fixed tuning, which never ends a sweep)."""

    def __init__(self, session_stop: threading.Event) -> None:
        self.session_stop = session_stop
        self.monitor = None  # the Monitor this flag stops (its sweeper counts the sweeps)
        self.requested = False
        self._sweeps_at_request = 0

    def request(self) -> None:
        sweeper = getattr(self.monitor, "sweeper", None)
        self._sweeps_at_request = sweeper.stats.sweeps if sweeper is not None else 0
        self.requested = True

    def is_set(self) -> bool:
        if self.session_stop.is_set():
            return True
        if not self.requested:
            return False
        sweeper = getattr(self.monitor, "sweeper", None)
        return sweeper is None or sweeper.fixed or sweeper.stats.sweeps > self._sweeps_at_request

    def set(self) -> None:
        self.session_stop.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        return self.session_stop.wait(timeout_s) or self.is_set()


class CampaignUplink:
    """An uplink whose heartbeats say which campaign runs; everything else goes to ``inner``."""

    def __init__(self, inner, session: "CampaignSession") -> None:
        self._inner = inner
        self._session = session

    def send_heartbeat(self, beat: dict) -> None:
        self._inner.send_heartbeat({**beat, **self._session.fields()})

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


class CampaignSession:
    """Monitor on the campaign in force, switching plans without restarting.

    Parameters
    ----------
    client : CampaignClient
    start_plan : BandPlan or None
        What runs without a campaign (``--plan``/``--freq``; None: the source's own tuning).
    make_monitor : callable
        ``make_monitor(plan_or_None, detector_settings) -> Monitor`` (not yet running).
    stop : threading.Event
        Ends the session.
    poll_s, tick_s : float
        Seconds between requests to the desk, and between looks at the schedule.
    now : callable
        The aware current time (tests pass a fixed one).
    say : callable
        Gets one line per plan change (the CLI prints it on stderr).
    """

    def __init__(self, client, start_plan, make_monitor: Callable, stop: threading.Event, poll_s: float = 30.0,
                 tick_s: float = 1.0, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 say: Callable[[str], None] = log.info) -> None:
        self.client = client
        self.start_plan = start_plan
        self.make_monitor = make_monitor
        self.stop = stop
        self.poll_s = poll_s
        self.tick_s = tick_s
        self.now = now
        self.say = say
        self.active = None  # campaign_plan.ActivePlan running, None on the start plan
        self._key = None
        self._bad_key = None  # a campaign the sensor cannot run: said once, not retried each tick
        self._plan = start_plan
        self._detector: dict = {}
        self._inner: SweepEndStop | None = None
        self._done = threading.Event()
        self._prepared = False

    # ------------------------------------------------------------------ what runs
    def fields(self) -> dict:
        """``campaign`` (name, version) and ``campaign_origin`` of what runs, for heartbeats."""
        active = self.active
        if active is None:
            return {"campaign": None, "campaign_origin": None, "campaign_window": None}
        return {"campaign": {"name": active.name, "version": active.version},
                "campaign_origin": self.client.origin, "campaign_window": active.window}

    def _wanted_key(self):
        campaign = self.client.campaign
        if campaign is None:
            return None
        try:
            return active_plan(campaign, self.now()).key
        except ConfigError:
            return ("invalid", campaign.get("name"), campaign.get("version"))

    def _resolve(self) -> None:
        """Set the plan for the next monitor from the campaign in hand and the time now."""
        campaign = self.client.campaign
        if campaign is None:
            if self.active is not None:
                self.say("no campaign applies any more; back to the plan given at start")
            self.active, self._key, self._plan, self._detector = None, None, self.start_plan, {}
            return
        runnable = self._runnable(campaign)
        if runnable is None:
            return
        active, plan = runnable
        self.active, self._key = active, active.key
        self._plan, self._detector = with_detector(plan, active.detector), active.detector
        window = f", window {active.window}" if active.window else ""
        self.say(f"campaign {active.name} v{active.version} ({self.client.origin}){window}: plan "
                 f"{active.plan_spec.get('preset') or f'{len(plan.bands)} hop(s)'}")

    def _runnable(self, campaign: dict):
        """(ActivePlan, BandPlan) of the campaign now; None for one this sensor cannot run,
        said once (until another campaign or window is wanted) while the current plan stays."""
        try:
            active = active_plan(campaign, self.now())
            return active, build_plan(active.plan_spec, f"campaign {active.name} v{active.version}")
        except ConfigError as exc:
            key = self._wanted_key()
            if key != self._bad_key:
                self.say(f"cannot run {exc}; keeping the current plan")
            self._bad_key = key
            return None

    @property
    def plan(self):
        """The plan the next monitor runs (None: the source's own tuning)."""
        return self._plan

    # ------------------------------------------------------------------ the loop
    def prepare(self) -> None:
        """Ask the desk once (else the copy on disk answers) and choose the first plan."""
        self.client.fetch()
        self._resolve()
        self._prepared = True

    def run(self, duration_s: float | None = None) -> dict:
        """Run monitors until ``stop``, the duration (total session seconds) or the source's end.

        Returns the last monitor's health.
        """
        watcher = threading.Thread(target=self._watch, name="campaign-watch", daemon=True)
        if not self._prepared:
            self.prepare()
        watcher.start()
        spent_s = 0.0
        try:
            while True:
                inner = SweepEndStop(self.stop)
                monitor = self.make_monitor(self._plan, self._detector)
                inner.monitor = monitor
                monitor.stop = inner
                if duration_s is not None:
                    monitor.options.duration_s = max(duration_s - spent_s, 0.0)
                self._inner = inner
                if self._changed():  # changed while the monitor was being built
                    inner.request()
                health = monitor.run()
                spent_s += health.get("session_s", 0.0)
                if self.stop.is_set() or not inner.requested:
                    return health
                self._resolve()
        finally:
            self._done.set()
            watcher.join(timeout=30.0)  # a request in flight ends within its timeout

    def _watch(self) -> None:
        next_poll = time.monotonic() + self.poll_s
        while not self._done.wait(self.tick_s):
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + self.poll_s
                self.client.fetch()
            inner = self._inner
            if inner is not None and not inner.requested and self._changed():
                inner.request()

    def _changed(self) -> bool:
        """Whether the campaign or its window in force differs from what runs (and can be run)."""
        wanted = self._wanted_key()
        if wanted == self._key or (wanted is not None and wanted == self._bad_key):
            return False
        campaign = self.client.campaign
        return campaign is None or self._runnable(campaign) is not None
