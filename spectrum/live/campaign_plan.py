"""A campaign from the desk, and the local time, to the band plan and detector settings to run.

Pure: no I/O, no clock of its own. A campaign (the JSON of ``GET /api/v1/campaigns/assigned``)
has a plan (a preset name or custom hops), detector settings, and optionally a schedule of
windows in the local time of an IANA zone, each with its own plan. The first window holding
the local time applies; outside every window the campaign's own plan does. A window whose end
is before its start runs past midnight (``22:00``-``02:00``); its end is excluded.

The sensor validates again what the desk validated (``ConfigError``): a copy read from disk
may have been edited, and a sensor never sweeps a plan it cannot run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spectrum.errors import ConfigError
from spectrum.live.band_plans import BAND_DEFAULTS, BandPlan, load_plan, parse_plan

DETECTOR_KEYS = ("fft_size", "z_threshold", "min_rise_db", "hold_s", "learn_s")  # what a campaign may set
HOP_SPAN_MARGIN_HZ = 1.0  # a custom hop's band is this much narrower than its kept width: one hop, never two


@dataclass(frozen=True)
class ActivePlan:
    """What to run now.

    Attributes
    ----------
    key : tuple
        ``(name, version, window)``: the plan changes when this changes.
    window : str or None
        ``"07:00-13:00 Asia/Jakarta"`` inside a window, None on the campaign's own plan.
    plan_spec : dict
        ``{"preset": NAME}`` or ``{"hops": [...]}``.
    detector : dict
        Detector settings (keys of :data:`DETECTOR_KEYS`).
    """

    key: tuple
    name: str
    version: int
    window: str | None
    plan_spec: dict
    detector: dict


def _minutes(text: str, where: str) -> int:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except (ValueError, AttributeError):
        raise ConfigError(f"{where}: {text!r} is not a time of day HH:MM") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise ConfigError(f"{where}: {text!r} is not a time of day HH:MM")
    return hours * 60 + minutes


def in_window(start: str, end: str, local_minutes: float, where: str = "window") -> bool:
    """Whether a local time (minutes since local midnight) is in ``[start, end)``, past midnight
    when ``end`` is before ``start``."""
    lo, hi = _minutes(start, where), _minutes(end, where)
    if lo < hi:
        return lo <= local_minutes < hi
    return local_minutes >= lo or local_minutes < hi


def active_plan(campaign: dict[str, Any], now: datetime) -> ActivePlan:
    """The plan and detector settings a campaign asks for at ``now``.

    Parameters
    ----------
    campaign : dict
        ``name``, ``version``, ``plan``, ``detector``, ``schedule`` (None or ``zone`` + ``windows``).
    now : datetime
        An aware time (any zone; it is converted to the schedule's).

    Raises
    ------
    ConfigError
        A missing field, an unknown zone or a time that does not parse.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    try:
        name, version, plan = str(campaign["name"]), int(campaign["version"]), campaign["plan"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"campaign: missing or bad name/version/plan ({exc})") from None
    detector = {k: v for k, v in (campaign.get("detector") or {}).items() if v is not None}
    unknown = set(detector) - set(DETECTOR_KEYS)
    if unknown:
        raise ConfigError(f"campaign {name} v{version}: unknown detector setting(s) {', '.join(sorted(unknown))}")
    schedule = campaign.get("schedule")
    if schedule:
        zone_name = schedule.get("zone")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ConfigError(f"campaign {name} v{version}: unknown time zone {zone_name!r}") from None
        local = now.astimezone(zone)
        local_minutes = local.hour * 60 + local.minute + local.second / 60
        for i, window in enumerate(schedule.get("windows") or []):
            where = f"campaign {name} v{version}: window {i + 1}"
            if in_window(window.get("start"), window.get("end"), local_minutes, where):
                label = f"{window['start']}-{window['end']} {zone_name}"
                return ActivePlan((name, version, i), name, version, label, window["plan"], detector)
    return ActivePlan((name, version, None), name, version, None, plan, detector)


def build_plan(plan_spec: dict, label: str) -> BandPlan:
    """The band plan of a campaign's ``plan``: a preset, or one band per custom hop.

    Raises
    ------
    ConfigError
        Unknown preset, or a hop the tuner cannot run (``label`` names the campaign).
    """
    preset, hops = plan_spec.get("preset"), plan_spec.get("hops")
    if (preset is None) == (hops is None):
        raise ConfigError(f"{label}: plan needs a preset or hops")
    if preset is not None:
        return dataclasses.replace(load_plan(str(preset)), source=label)
    lines = [f"name = {json.dumps(label)}"]
    for i, hop in enumerate(hops):
        try:
            center_hz = float(hop["center_hz"])
            rate_hz = float(hop.get("sample_rate_hz", BAND_DEFAULTS["sample_rate_hz"]))
            dwell_s = float(hop.get("dwell_s", BAND_DEFAULTS["dwell_s"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{label}: hop {i + 1}: bad or missing field ({exc})") from None
        span_hz = rate_hz * (1.0 - 2.0 * BAND_DEFAULTS["crop"]) - HOP_SPAN_MARGIN_HZ
        lines += ["[[bands]]", f'name = "hop{i + 1}-{center_hz / 1e6:.3f}MHz"', f"center_hz = {center_hz!r}",
                  f"span_hz = {max(span_hz, 1.0)!r}", f"sample_rate_hz = {rate_hz!r}", f"dwell_s = {dwell_s!r}"]
    plan = parse_plan("\n".join(lines) + "\n", label)
    if len({b.sample_rate_hz for b in plan.bands}) > 1:
        raise ConfigError(f"{label}: hops need one sample rate (the dongle runs one)")
    return plan


def with_detector(plan: BandPlan, detector: dict) -> BandPlan:
    """The plan with a campaign's ``fft_size`` (if it sets one) on every band."""
    if detector.get("fft_size") is None:
        return plan
    bands = tuple(dataclasses.replace(b, fft_size=int(detector["fft_size"])) for b in plan.bands)
    return dataclasses.replace(plan, bands=bands)
