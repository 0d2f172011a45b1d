"""``spectrum demo [--seconds N]``: the service and three simulated sensors on this machine.

Prints the dashboard URL (with a viewer token in its fragment) on stdout, then the sensors'
event lines as they start and end; runs until Ctrl-C or for N seconds, then stops the sensors
(they deliver what they queued), stops the service and removes its temporary files. Exit 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the desk and three simulated sensors (no hardware); open the printed URL",
                       description="Start the central service on a temporary database and three simulated "
                                   "sensors at three sites uplinking to it (one hit by a barrage jammer, "
                                   "another by a pulsed jammer later); print the dashboard URL; run until "
                                   "Ctrl-C or --seconds, then clean up.")
    p.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds (default: run until Ctrl-C)")
    p.add_argument("--port", type=int, default=8000,
                   help="loopback port of the service (default 8000; a busy one falls back to a free one)")
    p.add_argument("--jam-after", type=float, default=20.0, metavar="S",
                   help="the barrage jammer switches on after S seconds (default 20, at least 4)")
    p.add_argument("--pulsed-after", type=float, default=60.0, metavar="S",
                   help="the pulsed jammer switches on after S seconds (default 60, at least 4)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from spectrum.live.demo_network import SPECTRA_COUNTED, run_demo
    from spectrum.errors import ConfigError

    if not 0 <= args.port < 65536:
        raise ConfigError(f"--port {args.port}: must be 0..65535 (0: any free port)")
    stop = threading.Event()

    def _on_signal(signum, frame):
        stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second Ctrl-C kills at once

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = run_demo(args.seconds, args.port, args.jam_after, args.pulsed_after, stop=stop)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    spectra = summary.get("spectra", "?")
    if spectra == SPECTRA_COUNTED:
        spectra = f"{spectra}+"
    for inc in summary.get("incidents", []):
        print(f"spectrum demo: incident at {inc['site']}: {inc['state']} since {inc['since']} (last activity "
              f"{inc['last_activity']}), {inc['bursts']} events, {'/'.join(inc['kinds'])}, duty {inc['duty']:.2f}, "
              f"{inc['severity']}", file=sys.stderr)
    cpu_pct = 100.0 * summary["cpu_s"] / summary["wall_s"] if summary.get("wall_s") else 0.0
    print(f"spectrum demo: stopped after {summary['wall_s']:.0f} s; {summary.get('events', '?')} events and "
          f"{spectra} spectra were stored from {summary['sensors']} sensors; CPU "
          f"{summary['cpu_s']:.1f} s ({cpu_pct:.0f}% of one core, sensors included); temporary files removed",
          file=sys.stderr)
    return 0
