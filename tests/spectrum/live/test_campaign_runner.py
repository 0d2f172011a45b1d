"""The campaign session without a radio: monitors are rebuilt when the campaign or its window
changes, only at the end of a sweep, and the process-wide stop ends everything."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from types import SimpleNamespace

from spectrum.live.campaign_runner import CampaignSession, SweepEndStop

HOPS = {"hops": [{"center_hz": 942.2e6}, {"center_hz": 453e6}]}


class FakeClient:
    def __init__(self, campaign):
        self.campaign, self.origin, self.fetches = campaign, "desk", 0

    def fetch(self):
        self.fetches += 1
        return False


class FakeMonitor:
    """Sweeps of ``hops_per_sweep`` blocks; notes where in a sweep it was stopped."""

    def __init__(self, plan, detector, hops_per_sweep=3):
        self.plan, self.detector = plan, detector
        self.sweeper = SimpleNamespace(fixed=False, stats=SimpleNamespace(sweeps=0))
        self.options = SimpleNamespace(duration_s=None)
        self.stop = threading.Event()
        self.hops_per_sweep = hops_per_sweep
        self.stopped_at_hop = None

    def run(self):
        hop = 0
        while not self.stop.is_set():
            time.sleep(0.005)
            hop += 1
            if hop == self.hops_per_sweep:
                self.sweeper.stats.sweeps += 1
                hop = 0
        self.stopped_at_hop = hop
        return {"session_s": 0.1}


def campaign(version, plan=HOPS):
    return {"name": "c", "version": version, "plan": plan, "detector": {}, "schedule": None}


def test_a_change_is_applied_at_the_end_of_a_sweep_by_a_new_monitor():
    client = FakeClient(campaign(1))
    stop = threading.Event()
    built = []

    def make(plan, detector):
        built.append(FakeMonitor(plan, detector))
        if len(built) == 2:
            threading.Timer(0.3, stop.set).start()
        return built[-1]

    session = CampaignSession(client, None, make, stop, poll_s=0.05, tick_s=0.02, say=lambda line: None)
    threading.Timer(0.3, lambda: client.__setattr__("campaign", campaign(2, {"preset": "election-core"}))).start()
    session.run()
    assert len(built) == 2
    assert [h.center_freq_hz for h in built[0].plan.hops()] == [942.2e6, 453e6]
    assert built[1].plan.name == "election-core"
    assert built[0].stopped_at_hop == 0  # ended between sweeps, not inside one
    assert session.fields()["campaign"] == {"name": "c", "version": 2}
    assert client.fetches >= 2  # at start, then polled


def test_no_campaign_runs_the_start_plan_and_a_bad_one_keeps_what_runs():
    client = FakeClient(None)
    stop = threading.Event()
    plans = []

    def make(plan, detector):
        plans.append(plan)
        threading.Timer(0.4, stop.set).start()
        return FakeMonitor(plan, detector)

    session = CampaignSession(client, "START", make, stop, poll_s=0.05, tick_s=0.02, say=lambda line: None)
    client.campaign = None
    threading.Timer(0.1, lambda: client.__setattr__("campaign", campaign(1, {"preset": "no-such-plan"}))).start()
    session.run()
    assert plans == ["START"] and session.fields()["campaign"] is None


def test_sweep_end_stop_for_a_fixed_tuning_stops_at_once():
    session_stop = threading.Event()
    flag = SweepEndStop(session_stop)
    flag.monitor = SimpleNamespace(sweeper=SimpleNamespace(fixed=True, stats=SimpleNamespace(sweeps=0)))
    assert not flag.is_set()
    flag.request()
    assert flag.is_set()
    other = SweepEndStop(session_stop)
    session_stop.set()
    assert other.is_set()


def test_a_schedule_window_opening_rebuilds_the_monitor():
    clock = {"now": datetime(2026, 12, 5, 23, 59, 59, 900000, tzinfo=timezone.utc)}  # 06:59:59.9 in Jakarta
    doc = {**campaign(1, {"preset": "election-core"}),
           "schedule": {"zone": "Asia/Jakarta", "windows": [{"start": "07:00", "end": "13:00", "plan": HOPS}]}}
    client = FakeClient(doc)
    stop = threading.Event()
    built = []

    def make(plan, detector):
        built.append(FakeMonitor(plan, detector))
        if len(built) == 1:
            clock["now"] = datetime(2026, 12, 6, 0, 0, 1, tzinfo=timezone.utc)  # 07:00:01: the window opens
        else:
            threading.Timer(0.2, stop.set).start()
        return built[-1]

    session = CampaignSession(client, None, make, stop, poll_s=10, tick_s=0.02, now=lambda: clock["now"],
                              say=lambda line: None)
    session.run()
    assert [m.plan.name for m in built][0] == "election-core"
    assert len(built) == 2 and len(built[1].plan.bands) == 2
    assert session.fields()["campaign_window"] == "07:00-13:00 Asia/Jakarta"
