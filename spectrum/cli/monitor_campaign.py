"""``spectrum monitor --campaign auto``: the desk's campaign chooses the plan, changed without restart.

The monitor loop of :mod:`spectrum.cli.monitor_cmd`, run by a
:class:`~spectrum.live.campaign_runner.CampaignSession`: one source and one uplink for the whole
run, a new monitor each time the campaign (or its schedule window) changes. A dongle is
reopened only when the new plan needs another sample rate (retuning cannot change it).
"""

from __future__ import annotations

import sys

from spectrum.errors import ConfigError


def campaign_monitor(args, plan, kwargs: dict, live: bool, on_fault, stop, uplink, monitor_ref: list,
                     position=None, early_faults: list | tuple = ()):
    """Run monitors on the campaign in force until stopped; return the last health and what the
    uplink queue kept (as ``monitor_cmd._monitor``). Calibration (``--calibration``) and position
    (``--lat/--lon``) apply to every monitor; faults raised before the first one are replayed to it."""
    import os

    from spectrum.cli.monitor_cmd import _calibration, _open_source, _printer, _status, _with_fft
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.live.band_plans import single_band
    from spectrum.live.campaign_client import CampaignClient, disk_path_for
    from spectrum.live.campaign_runner import CampaignSession, CampaignUplink
    from spectrum.live.monitor import Monitor, MonitorOptions

    if not args.campaign_poll > 0:
        raise ConfigError(f"--campaign-poll {args.campaign_poll}: must be more than 0 seconds")
    token = args.token or os.environ.get("SPECTRUM_TOKEN")
    client = CampaignClient(args.uplink, token, disk_path_for(args.queue))
    held: dict = {}  # the open source (and its calibration), replaced when a plan needs another sample rate
    pending_faults = list(early_faults)

    def say(line: str) -> None:
        print(f"spectrum monitor: {line}", file=sys.stderr, flush=True)

    def make_monitor(next_plan, detector: dict):
        source = held.get("source")
        rate = next_plan.bands[0].sample_rate_hz if next_plan is not None else None
        if source is not None and live and rate is not None and abs(source.sample_rate_hz - rate) > 1.0:
            say(f"reopening {args.source} at {rate / 1e6:g} MS/s for the new plan")
            source.close()
            source = None
        if source is None:
            if live and next_plan is not None:
                kwargs.update(sample_rate_hz=rate, center_freq_hz=next_plan.hops()[0].center_freq_hz)
            source = held["source"] = _open_source(args.source, kwargs, live, on_fault, stop, uplink)
            held["calibration"] = _calibration(args.calibration, args.gain, source, uplink)
        if next_plan is None:
            next_plan = _with_fft(single_band(source.center_freq_hz, source.sample_rate_hz, name=args.band),
                                  detector.get("fft_size", args.fft_size))
        config = DetectorConfig(**{"fft_size": args.fft_size, **detector})
        options = MonitorOptions(config=config, site=args.site, sensor=args.sensor, duration_s=args.duration,
                                 status_interval_s=args.status_interval, calibration=held["calibration"],
                                 position=position)
        monitor = Monitor(source, next_plan, _printer(args.json), options, status, uplink=campaign_uplink)
        monitor_ref[:] = [monitor]
        while pending_faults:  # e.g. rtl_tcp's first connection: its fault opens and clears on the first monitor
            monitor.on_fault(*pending_faults.pop(0))
        return monitor

    show = _status(args.status_json, uplink)

    def status(health: dict) -> None:  # status lines name the campaign, as heartbeats do
        show({**health, **session.fields()})

    session = CampaignSession(client, plan, make_monitor, stop, poll_s=args.campaign_poll, say=say)
    campaign_uplink = CampaignUplink(uplink, session)
    try:
        session.prepare()
        if live and session.plan is None:
            raise ConfigError(f"--source {args.source}: no campaign yet (none assigned, desk unreachable and no "
                              "copy on disk); give --plan PLAN or --freq HZ to run until one arrives")
        health = session.run(args.duration)
    finally:
        client.close()
        if held.get("source") is not None:
            held["source"].close()
        left = uplink.close(timeout_s=args.flush_timeout)
    return health, left
