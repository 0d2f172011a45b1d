"""Campaign JSON + local time -> the plan to run (pure: no network, no clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from spectrum.errors import ConfigError
from spectrum.live.band_plans import load_plan
from spectrum.live.campaign_plan import active_plan, build_plan, in_window, with_detector

HOPS = {"hops": [{"center_hz": 942.2e6, "sample_rate_hz": 2.4e6, "dwell_s": 0.3},
                 {"center_hz": 453e6, "sample_rate_hz": 2.4e6, "dwell_s": 0.2}]}


def campaign(zone: str = "Asia/Jakarta", windows: list | None = None) -> dict:
    return {"name": "poll-day", "version": 3, "plan": {"preset": "election-core"}, "detector": {"fft_size": 1024},
            "schedule": {"zone": zone, "windows": windows if windows is not None else
                         [{"start": "07:00", "end": "13:00", "plan": HOPS}]}}


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 5, hour, minute, tzinfo=timezone.utc)


@pytest.mark.parametrize("when, inside", [
    (utc(23, 59) - timedelta(days=1), False),  # 06:59 in Jakarta (UTC+7)
    (utc(0, 0), True),  # 07:00 Jakarta: the window opens (start included)
    (utc(5, 59), True),  # 12:59
    (utc(6, 0), False),  # 13:00: the end is excluded
    (utc(12, 0), False),  # 19:00
])
def test_window_is_judged_in_the_schedules_own_zone(when, inside):
    active = active_plan(campaign(), when)
    assert (active.window is not None) == inside
    assert active.plan_spec == (HOPS if inside else {"preset": "election-core"})
    assert active.key == ("poll-day", 3, 0 if inside else None)


def test_the_same_instant_is_inside_in_one_zone_and_outside_in_another():
    instant = utc(3, 0)  # 10:00 in Jakarta, 12:00 in Jayapura, 04:00 in London, 22:00 (day before) in New York
    assert active_plan(campaign("Asia/Jakarta"), instant).window == "07:00-13:00 Asia/Jakarta"
    assert active_plan(campaign("Asia/Jayapura"), instant).window is not None
    assert active_plan(campaign("Europe/London"), instant).window is None
    assert active_plan(campaign("America/New_York"), instant).window is None


def test_a_window_past_midnight_and_daylight_saving():
    late = [{"start": "22:00", "end": "02:00", "plan": HOPS}]
    assert active_plan(campaign("UTC", late), utc(23, 30)).window is not None
    assert active_plan(campaign("UTC", late), utc(1, 59)).window is not None
    assert active_plan(campaign("UTC", late), utc(2, 0)).window is None
    morning = [{"start": "07:00", "end": "08:00", "plan": HOPS}]
    summer = datetime(2026, 7, 1, 6, 30, tzinfo=timezone.utc)  # 07:30 in London (BST, UTC+1)
    winter = datetime(2026, 1, 15, 6, 30, tzinfo=timezone.utc)  # 06:30 in London (GMT)
    assert active_plan(campaign("Europe/London", morning), summer).window is not None
    assert active_plan(campaign("Europe/London", morning), winter).window is None


def test_first_window_that_holds_the_time_wins_and_no_schedule_means_the_own_plan():
    other = {"preset": "election-site"}
    windows = [{"start": "06:00", "end": "09:00", "plan": other}, {"start": "07:00", "end": "13:00", "plan": HOPS}]
    assert active_plan(campaign("UTC", windows), utc(8)).plan_spec == other
    assert active_plan(campaign("UTC", windows), utc(10)).plan_spec == HOPS
    plain = {**campaign(), "schedule": None}
    assert active_plan(plain, utc(3)).plan_spec == {"preset": "election-core"}


def test_in_window_bounds():
    assert in_window("00:00", "24:00", 0) and in_window("00:00", "24:00", 1439.99)
    assert not in_window("07:00", "13:00", 13 * 60)


@pytest.mark.parametrize("bad", [
    {"schedule": {"zone": "Mars/Olympus", "windows": []}},
    {"schedule": {"zone": "UTC", "windows": [{"start": "7h", "end": "13:00", "plan": HOPS}]}},
    {"schedule": {"zone": "UTC", "windows": [{"start": "07:00", "end": "25:00", "plan": HOPS}]}},
    {"detector": {"magic": 1}},
    {"version": "three"},
])
def test_a_campaign_the_sensor_cannot_read_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        active_plan({**campaign(), **bad}, utc(3))


def test_custom_hops_become_one_hop_each_at_their_centre():
    plan = build_plan(HOPS, "campaign poll-day v3")
    hops = plan.hops()
    assert [h.center_freq_hz for h in hops] == [942.2e6, 453e6]
    assert [b.dwell_s for b in plan.bands] == [0.3, 0.2]
    assert all(b.sample_rate_hz == 2.4e6 for b in plan.bands)


def test_a_preset_is_the_shipped_plan_and_fft_size_reaches_every_band():
    plan = with_detector(build_plan({"preset": "election-core"}, "c"), {"fft_size": 1024})
    shipped = load_plan("election-core")
    assert [b.name for b in plan.bands] == [b.name for b in shipped.bands]
    assert {b.fft_size for b in plan.bands} == {1024}


@pytest.mark.parametrize("spec", [
    {"preset": "election-everything"},
    {"hops": [{"center_hz": 2e9}]},
    {"hops": [{"center_hz": 942e6, "sample_rate_hz": 500e3}]},
    {"hops": [{"center_hz": 942e6}, {"center_hz": 453e6, "sample_rate_hz": 1.2e6}]},
    {},
])
def test_a_plan_the_dongle_cannot_run_is_refused(spec):
    with pytest.raises(ConfigError):
        build_plan(spec, "campaign x v1")
