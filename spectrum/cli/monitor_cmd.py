"""``spectrum monitor --source SRC``: watch live bands until stopped, streaming events.

Events go to stdout as they start and as they end (``--json``: one JSON object per line, the
event contract; otherwise one readable line each). A status line goes to stderr every few
seconds. Ctrl-C (or SIGTERM) ends cleanly: ongoing events are closed and printed, exit 0.

With ``--uplink URL --token T`` the events, a heartbeat every few seconds and a PSD summary
per band every few seconds also go to the central service, through a durable on-disk queue
(``--queue``); the status line shows what waits in it, and stopping delivers what it can for
``--flush-timeout`` seconds (the rest stays queued for the next start).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys

from spectrum.cli.options import add_fft_size_option, fft_size, hertz


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="watch live bands (dongle, rtl_tcp, file or simulation) for jamming",
                       description="Run a live sensor: read a source, sweep a band plan (or one tuning), "
                                   "detect jamming per band, stream events until stopped (Ctrl-C).")
    p.add_argument("--source", required=True, metavar="SRC",
                   help="rtlsdr:INDEX|SERIAL, rtltcp://HOST:PORT, file:PATH, sim:SCENARIO[?fast&loop=S], "
                        "simdongle:SERIAL?... (a simulated dongle of known gain)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--plan", metavar="PLAN", help="band plan: a preset (election-site, election-core) or a .toml file")
    where.add_argument("--freq", type=hertz, metavar="HZ", help="monitor one tuning at this centre frequency")
    p.add_argument("--rate", type=hertz, metavar="HZ", help="sample rate with --freq (default 2.4M; a sim/file has its own)")
    p.add_argument("--site", help="site id stamped on events")
    p.add_argument("--sensor", help="sensor id stamped on events")
    p.add_argument("--lat", type=float, metavar="DEG", help="the sensor's latitude, sent in heartbeats (with --lon)")
    p.add_argument("--lon", type=float, metavar="DEG", help="the sensor's longitude, sent in heartbeats (with --lat)")
    p.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    dongle = p.add_argument_group("dongle (rtlsdr: and rtltcp://)")
    dongle.add_argument("--gain", default=None, metavar="DB",
                        help="manual tuner gain in dB (default 29.7), or 'auto' for the tuner AGC (hides floor rises)")
    dongle.add_argument("--ppm", type=int, default=0, help="frequency correction, ppm")
    dongle.add_argument("--bias-tee", action="store_true", help="power an active antenna")
    dongle.add_argument("--direct-sampling", type=int, choices=(0, 1, 2), default=0,
                        help="RTL2832 direct sampling: 1 I branch, 2 Q branch (HF)")
    dongle.add_argument("--calibration", metavar="FILE",
                        help="this dongle's file from `spectrum calibrate`: levels in dBm too (needs a manual --gain)")
    add_fft_size_option(p, "bins per spectrum with --freq")
    p.add_argument("--evidence", metavar="DIR", help="keep a SigMF clip (and a waterfall PNG) around each event "
                   "(one tuning only: with --plan the IQ is split among hops)")
    p.add_argument("--evidence-severity", choices=["info", "warning", "critical"], default="warning",
                   help="least severity that gets a clip (default warning)")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds of signal")
    p.add_argument("--status-interval", type=float, default=5.0, metavar="S", help="seconds between status lines (default 5)")
    p.add_argument("--status-json", action="store_true", help="status lines on stderr as JSON (heartbeat fields)")
    p.add_argument("--band", metavar="NAME", default="fixed",
                   help="name of the band of a fixed tuning (no --plan), as the desk shows it (default fixed)")
    up = p.add_argument_group("uplink to the central service (spectrum serve)")
    up.add_argument("--uplink", metavar="URL", help="service URL, e.g. http://127.0.0.1:8000")
    up.add_argument("--token", metavar="T", default=None,
                    help="sensor token (default $SPECTRUM_TOKEN; the environment keeps it out of `ps`)")
    up.add_argument("--queue", metavar="PATH", default="spectrum-uplink.db",
                    help="on-disk queue file, resumed on restart (default ./spectrum-uplink.db)")
    up.add_argument("--flush-timeout", type=float, default=10.0, metavar="S",
                    help="on stop, keep delivering the queue for up to S seconds (default 10)")
    up.add_argument("--queue-max-mb", type=float, default=None, metavar="MB",
                    help="cap on the queue (default 30%% of the free space there); spectra go first when full")
    camp = p.add_argument_group("campaigns from the desk (with --uplink)")
    camp.add_argument("--campaign", choices=["auto"], help="auto: run the campaign the desk assigns this sensor, "
                      "changed without restart; its last copy (next to --queue) runs while the desk is unreachable")
    camp.add_argument("--campaign-poll", type=float, default=30.0, metavar="S",
                      help="seconds between requests for the campaign (default 30)")
    p.set_defaults(run=run)


def _gain(text: str | None):
    from spectrum.errors import ConfigError

    if text is None or text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"--gain {text!r}: give dB (e.g. 29.7) or 'auto'") from None


def run(args: argparse.Namespace) -> int:
    import threading

    stop = threading.Event()
    with _stop_on_signals(stop):  # from the start: a Ctrl-C while the sensor starts ends it cleanly
        return _run(args, stop)


def _run(args: argparse.Namespace, stop) -> int:
    from spectrum.errors import ConfigError
    from spectrum.live.band_plans import load_plan

    args.fft_size = fft_size(args.fft_size)
    if args.rate is not None and args.freq is None and args.plan is None:
        raise ConfigError("--rate needs --freq")
    if args.evidence and args.plan:
        raise ConfigError("--evidence needs one tuning (--freq, or a file/sim source), not --plan: "
                          "while sweeping, a band's IQ comes in short dwells between other bands'")
    position = _position(args.lat, args.lon)
    if args.campaign and (args.uplink is None or args.evidence):
        raise ConfigError("--campaign auto needs --uplink URL (and no --evidence: the plan changes under it)")
    uplink = _open_uplink(args)
    _report_recovered(uplink, args.json)
    plan = load_plan(args.plan) if args.plan else None
    first_hop = plan.hops()[0] if plan else None
    rate = first_hop.band.sample_rate_hz if plan else args.rate
    freq = first_hop.center_freq_hz if plan else args.freq
    live = args.source.startswith(("rtlsdr:", "rtltcp://"))
    if live and plan is None and freq is None and not args.campaign:
        raise ConfigError(f"--source {args.source}: give --plan PLAN or --freq HZ for a dongle")
    kwargs = dict(sample_rate_hz=rate if (live or args.source.startswith("file:")) else None,
                  center_freq_hz=freq, gain_db=_gain(args.gain), ppm=args.ppm,
                  bias_tee=args.bias_tee, direct_sampling=args.direct_sampling)
    if plan is None and not live and args.rate is not None:
        kwargs["sample_rate_hz"] = args.rate
    monitor_ref: list = []
    early_faults: list = []  # faults before the monitor runs (rtl_tcp not up yet): replayed to it

    def on_fault(kind, detail, active):
        if monitor_ref:
            monitor_ref[0].on_fault(kind, detail, active)
        else:
            early_faults.append((kind, detail, active))
        print(f"spectrum monitor: {'fault' if active else 'recovered'}: {kind}: {detail}", file=sys.stderr)

    if args.campaign:  # the desk's campaign chooses the plan: spectrum/cli/monitor_campaign.py
        from spectrum.cli.monitor_campaign import campaign_monitor

        health, left = campaign_monitor(args, plan, kwargs, live, on_fault, stop, uplink, monitor_ref, position,
                                        early_faults)
    else:
        health, left = _monitor(args, plan, kwargs, live, on_fault, stop, uplink, monitor_ref, position,
                                early_faults)
    _final_report(health, uplink, left, args.queue)
    return 0


def _monitor(args, plan, kwargs: dict, live: bool, on_fault, stop, uplink, monitor_ref: list, position=None,
             early_faults: tuple | list = ()):
    """Open the source, run the monitor until stopped; return its health and what the queue kept."""
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.live.band_plans import single_band
    from spectrum.live.monitor import Monitor, MonitorOptions

    source = _open_source(args.source, kwargs, live, on_fault, stop, uplink)
    with source:
        calibration = _calibration(args.calibration, args.gain, source, uplink)
        if plan is None:
            plan = single_band(source.center_freq_hz, source.sample_rate_hz, name=args.band)
            plan = _with_fft(plan, args.fft_size)
        options = MonitorOptions(config=DetectorConfig(fft_size=args.fft_size), site=args.site,
                                 sensor=args.sensor, duration_s=args.duration,
                                 status_interval_s=args.status_interval, calibration=calibration,
                                 position=position)
        keeper = _evidence_keeper(args, source)
        monitor = Monitor(source, plan, _printer(args.json), options, _status(args.status_json, uplink),
                          uplink=uplink, evidence=keeper)
        monitor.stop = stop
        monitor_ref.append(monitor)
        for fault in early_faults:  # e.g. rtl_tcp's first connection: its fault opens and clears now
            monitor.on_fault(*fault)
        _describe(args.source, source, plan)
        try:
            health = monitor.run()
        finally:
            left = uplink.close(timeout_s=args.flush_timeout) if uplink is not None else 0
    return health, left


@contextlib.contextmanager
def _stop_on_signals(stop):
    """SIGINT / SIGTERM set ``stop`` (a second one kills at once); the old handlers come back after."""

    def _on_signal(signum, frame):
        stop.set()
        signal.signal(signum, signal.SIG_DFL)

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _final_report(health: dict, uplink, left: int, queue: str) -> None:
    """The last lines on stderr: the session's figures and what became of the uplink queue."""
    sys.stdout.flush()
    print("spectrum monitor: stopped; " + _status_text(health), file=sys.stderr)
    if uplink is not None and uplink.refused:
        print(f"spectrum monitor: uplink stopped: {uplink.refused}", file=sys.stderr)
    elif uplink is not None:
        if left:
            print(f"spectrum monitor: uplink: {left} item(s) not delivered yet; kept in {queue} for the "
                  "next start", file=sys.stderr)
        else:
            print("spectrum monitor: uplink: everything delivered", file=sys.stderr)
    if uplink is not None and uplink.stats["storage_error"]:
        # a session shorter than one status interval printed no status line: say it here too
        print(f"spectrum monitor: uplink queue DISK: {uplink.stats['storage_error']}", file=sys.stderr)


def _open_source(spec: str, kwargs: dict, live: bool, on_fault, stop, uplink):
    """The source of ``--source`` (a dongle or rtl_tcp wrapped to survive losses)."""
    from spectrum.sources import ResilientSource, open_source

    try:
        if live:
            factory = lambda: open_source(spec, **kwargs)  # noqa: E731
            if spec.startswith("rtltcp://"):  # a server not up yet is a fault that clears, not an exit
                first = [_first_connection(factory, on_fault, stop)]
                return ResilientSource(lambda: first.pop() if first else factory(), on_fault=on_fault, stop=stop)
            return ResilientSource(factory, on_fault=on_fault, stop=stop)
        return open_source(spec, **kwargs)
    except BaseException:
        if uplink is not None:
            uplink.close(timeout_s=0)
        raise


def _position(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """``--lat/--lon``: both or neither, in range (ConfigError otherwise)."""
    import math

    from spectrum.errors import ConfigError

    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ConfigError(f"--{'lat' if lat is None else 'lon'}: give --lat and --lon together (degrees)")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise ConfigError(f"--lat {lat:g}: a latitude is between -90 and 90 degrees")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise ConfigError(f"--lon {lon:g}: a longitude is between -180 and 180 degrees")
    return lat, lon


def _calibration(path: str | None, gain: str | None, source, uplink):
    """``--calibration FILE`` checked against the open dongle (ConfigError: one line, exit 2)."""
    if path is None:
        return None
    from spectrum.errors import ConfigError
    from spectrum.live.dongle_calibration import calibration_for_source

    try:
        if gain == "auto":
            raise ConfigError(f"--calibration {path}: needs a manual --gain (under the tuner's AGC the gain, "
                              "and so the dBFS-to-dBm offset, is unknown)")
        cal, note = calibration_for_source(path, source)
    except BaseException:
        if uplink is not None:
            uplink.close(timeout_s=0)
        raise
    print(f"spectrum monitor: calibration {path}: {note}; levels in dBm", file=sys.stderr)
    return cal


def _first_connection(factory, on_fault, stop, backoff_s: float = 0.5, max_backoff_s: float = 30.0):
    """Open an rtl_tcp source, retrying with backoff and jitter until it answers or ``stop`` is set.

    The first failure raises a ``source_lost`` fault; the connection clears it.
    """
    import random
    import time

    from spectrum.errors import SourceError

    delay_s, failed_at = backoff_s, None
    while True:
        try:
            source = factory()
        except SourceError as exc:
            if stop.is_set():
                raise
            if failed_at is None:
                failed_at = time.monotonic()
                on_fault("source_lost", f"{exc}; retrying", True)
            stop.wait(delay_s * random.uniform(0.5, 1.0))
            delay_s = min(delay_s * 2, max_backoff_s)
            continue
        if failed_at is not None:
            on_fault("source_lost", f"connected after {time.monotonic() - failed_at:.1f} s", False)
        return source


def _open_uplink(args: argparse.Namespace):
    """The uplink of ``--uplink/--token/--queue``, or None without ``--uplink``."""
    import os

    from spectrum.errors import ConfigError

    token = args.token or os.environ.get("SPECTRUM_TOKEN")
    if args.uplink is None:
        if args.token:
            raise ConfigError("--token needs --uplink URL (the service to send to)")
        return None
    if not token:
        raise ConfigError("--uplink needs a sensor token: --token T or $SPECTRUM_TOKEN "
                          "(create one with `spectrum token create --role sensor --site S --sensor X`)")
    if args.flush_timeout < 0:
        raise ConfigError(f"--flush-timeout {args.flush_timeout}: must be >= 0 seconds")
    from spectrum.live.uplink import Uplink

    max_bytes = None
    if args.queue_max_mb is not None:
        if not args.queue_max_mb > 0:
            raise ConfigError(f"--queue-max-mb {args.queue_max_mb}: must be more than 0")
        max_bytes = int(args.queue_max_mb * 1e6)
    return Uplink(args.uplink, token, args.queue, max_bytes=max_bytes)


def _report_recovered(uplink, as_json: bool) -> None:
    """Events a killed run left open, closed at their last sighting: printed like any other."""
    recovered = getattr(uplink, "recovered_events", None) or []
    for event in recovered:
        if as_json:
            sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
        else:
            sys.stdout.write(f"END  (restart) {event['kind']:14s} {event['freq_low_hz'] / 1e6:10.4f}-"
                             f"{event['freq_high_hz'] / 1e6:.4f} MHz ended by {event['end']} id={event['id'][:8]}\n")
    if recovered:
        sys.stdout.flush()
        print(f"spectrum monitor: {len(recovered)} event(s) left open by an unclean stop closed at the "
              "last time they were seen (closed_by_restart)", file=sys.stderr)


def _evidence_keeper(args, source):
    if not args.evidence:
        return None
    from spectrum.live.evidence_keeper import EvidenceKeeper

    return EvidenceKeeper(args.evidence, source.datatype, source.sample_rate_hz, min_severity=args.evidence_severity)


def _with_fft(plan, fft_size: int):
    import dataclasses

    bands = tuple(dataclasses.replace(b, fft_size=fft_size) for b in plan.bands)
    return dataclasses.replace(plan, bands=bands)


def _describe(spec: str, source, plan) -> None:
    hops = plan.hops()
    if len(hops) == 1:
        what = f"{hops[0].center_freq_hz / 1e6:.4f} MHz at {source.sample_rate_hz / 1e6:g} MS/s"
    else:
        what = (f"plan {plan.name}: {len(plan.bands)} bands, {len(hops)} hops, nominal sweep "
                f"{plan.nominal_sweep_s():.1f} s")
    print(f"spectrum monitor: {spec}: {what}; Ctrl-C to stop", file=sys.stderr)


def _printer(as_json: bool):
    def emit(event) -> None:
        if as_json:
            line = event.to_json()
        else:
            state = "START" if event.ongoing else "END  "
            at = event.offset_start_s if event.ongoing else event.offset_end_s
            what = event.extra.get("fault") if event.kind == "sensor_fault" else f"rise {event.rise_db:.1f} dB"
            line = (f"{state} {at:9.2f}s {event.kind:14s} {event.freq_low_hz / 1e6:10.4f}-"
                    f"{event.freq_high_hz / 1e6:.4f} MHz {what} {event.severity} id={event.id[:8]}")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    return emit


def _status_text(h: dict) -> str:
    parts = [f"{h['session_s']:.0f}s", f"{h['msps']:.2f} MS/s"]
    if h.get("sweeps"):
        parts.append(f"sweep {h['sweep_s']:.2f}s x{h['sweeps']} (retune {h['retune_overhead_ms']:.1f} ms/hop)")
    parts += [f"drops {h['dropped_samples']}", f"stalls {h['stalls']}", f"overload {h['overload_s']:.1f}s",
              f"CPU {h['cpu_percent']:.1f}% (avg {h['cpu_percent_total']:.1f}%)", f"open {h['open_events']}"]
    if h["hops_learning"]:
        parts.append(f"learning {h['hops_learning']}")
    if h["antenna_suspect"]:
        parts.append("ANTENNA? " + ",".join(h["antenna_suspect"]))
    if h["rate_error_ppm"] is not None:
        parts.append(f"rate {h['rate_error_ppm']:+.0f} ppm")
    return " | ".join(parts)


def _status(as_json: bool, uplink=None):
    def show(health: dict) -> None:
        if as_json:
            text = json.dumps(health, separators=(",", ":"))
        else:
            text = "status: " + _status_text(health) + (" | " + uplink.status_line() if uplink is not None else "")
        print(text, file=sys.stderr, flush=True)

    return show
