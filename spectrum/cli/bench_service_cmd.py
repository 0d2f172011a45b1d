"""``spectrum bench-service``: ingest rate, query latency and memory of the central service."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-service", help="benchmark the central service (ingest, query, memory)",
                       description="Start `spectrum serve` on a free loopback port over a fresh SQLite file, "
                                   "ingest from concurrent simulated sensors, fill to --stored events, then "
                                   "time GET /events with mixed filters. A benchmark, not a test.")
    p.add_argument("--events", type=int, default=100_000, help="events in the timed ingest (default 100000)")
    p.add_argument("--stored", type=int, default=1_000_000, help="events stored before querying (default 1000000)")
    p.add_argument("--sensors", type=int, default=50, help="concurrent simulated sensors (default 50)")
    p.add_argument("--batch", type=int, default=100, help="events per POST in the timed ingest (default 100)")
    p.add_argument("--queries", type=int, default=2000, help="timed GET /events requests (default 2000)")
    p.add_argument("--db", metavar="URL", help="database URL (default: a SQLite file in a temporary directory)")
    p.add_argument("--incident-events", type=int, default=20_000,
                   help="time-ordered events ingested with incident grouping on and off (default 20000; 0: skip)")
    p.add_argument("--no-rebuild", action="store_true", help="skip timing the recompute of every incident")
    p.add_argument("--rebuild-events", type=int, metavar="N",
                   help="instead of the server benchmark: store about N synthetic events of a day from many sites "
                        "(a few jammers heard by neighbouring sites, scattered single events) and time the "
                        "recompute of every incident")
    p.add_argument("--rebuild-sites", type=int, default=500, help="sites of --rebuild-events (default 500)")
    fleet = p.add_argument_group("fleet load (--minutes selects it)",
                                 "Instead of the benchmark above: --sensors sensors, each with its own token, send a "
                                 "heartbeat and a spectrum every --interval seconds (staggered), a few percent of them "
                                 "a jammer's events in bursts, some dropping their link and re-sending; viewers hold "
                                 "live streams. Measured per backend, side by side: ingest latency, events lost, "
                                 "stream delay, server memory and CPU, database growth.")
    fleet.add_argument("--minutes", type=float, help="minutes of load per backend")
    fleet.add_argument("--interval", type=float, default=10.0, help="seconds between a sensor's heartbeats (default 10)")
    fleet.add_argument("--backends", default="sqlite,pg1,pg2,pg4",
                       help="comma-separated, from sqlite, pg1, pg2, pg4 (PostgreSQL with 1, 2, 4 workers; "
                            "default all)")
    fleet.add_argument("--viewers", type=int, default=3, help="live streams held open (default 3)")
    fleet.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from spectrum.errors import ConfigError

    for name in ("events", "stored", "sensors", "batch", "queries"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} {getattr(args, name)}: must be at least 1")
    if args.incident_events < 0 or 0 < args.incident_events < args.sensors:
        raise ConfigError(f"--incident-events {args.incident_events}: 0, or at least one per sensor")
    if args.events < args.sensors:
        raise ConfigError(f"--events {args.events}: at least one per sensor (--sensors {args.sensors})")
    from service.service_errors import ServiceError

    if args.rebuild_events is not None:
        return _rebuild_only(args)
    if args.minutes is not None:
        return _fleet(args)
    from spectrum.evaluate.service_bench import run_bench

    try:
        report = run_bench(events=args.events, stored=max(args.stored, args.events), sensors=args.sensors,
                           batch=args.batch, queries=args.queries, db_url=args.db,
                           progress=lambda msg: print(msg, file=sys.stderr),
                           incident_events=args.incident_events, rebuild=not args.no_rebuild)
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None
    for line in report.lines():
        print(line)
    return 0


def _rebuild_only(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from spectrum.errors import ConfigError
    from spectrum.evaluate.rebuild_bench import run_rebuild_bench

    if args.rebuild_events < 1 or args.rebuild_sites < 2:
        raise ConfigError(f"--rebuild-events {args.rebuild_events} --rebuild-sites {args.rebuild_sites}: "
                          "at least 1 event and 2 sites")
    with tempfile.TemporaryDirectory(prefix="spectrum-rebuild-") as tmp:
        db_url = args.db or f"sqlite:///{Path(tmp) / 'rebuild.db'}"
        report = run_rebuild_bench(db_url, args.rebuild_events, args.rebuild_sites,
                                   progress=lambda msg: print(msg, file=sys.stderr))
    for line in report.lines():
        print(line)
    return 0


def _fleet(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from spectrum.errors import ConfigError
    from spectrum.evaluate.fleet_load_bench import BACKENDS, run_fleet_bench
    from spectrum.evaluate.fleet_traffic import FleetPlan

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or not backends:
        raise ConfigError(f"--backends {args.backends!r}: expected some of {', '.join(BACKENDS)}")
    if not (args.minutes > 0 and args.interval > 0):
        raise ConfigError(f"--minutes {args.minutes} --interval {args.interval}: both must be positive")
    if not 1 <= args.viewers <= 4:
        raise ConfigError(f"--viewers {args.viewers}: 1 to 4 (the desk allows 4 streams per token)")
    plan = FleetPlan(sensors=args.sensors, interval_s=args.interval, duration_s=args.minutes * 60)
    report = run_fleet_bench(plan, backends, viewers=args.viewers, progress=lambda msg: print(msg, file=sys.stderr))
    report.print()
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=1))
    return 0
