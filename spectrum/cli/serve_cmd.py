"""``spectrum serve``: the central service (API, live stream, dashboard) under uvicorn.

``--workers N`` runs N worker processes on the one port. They share nothing but the database,
so more than one needs PostgreSQL (its LISTEN/NOTIFY carries the live stream between them,
see ``service.pg_fanout``); SQLite is the embedded default with one worker.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

DEFAULT_DB = "sqlite:///spectrum-service.db"
# Idle keep-alive connections are closed after this (uvicorn's default, 5 s, is shorter than a
# sensor's report interval, so every report paid for a new connection).
KEEP_ALIVE_S = 30


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the central service (API + live stream + dashboard)",
                       description="Serve the desk API under /api/v1, the live stream and the dashboard. "
                                   "Binds to 127.0.0.1 unless --host says otherwise; create tokens first "
                                   "with `spectrum token create` (there are no default credentials).")
    p.add_argument("--db", metavar="URL", default=None,
                   help=f"SQLAlchemy database URL (default: $SPECTRUM_DB_URL or {DEFAULT_DB})")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--max-body-mb", type=float, default=None, help="larger request bodies get 413 (default 4)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes on the one port (default 1; more need a PostgreSQL --db)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(run=run)


def settings_for(args: argparse.Namespace, **overrides):
    """Settings from the environment, then the command-line options."""
    from service.settings import Settings

    return Settings(**_option_values(args, **overrides))


def _option_values(args: argparse.Namespace, **overrides) -> dict:
    """The settings the command-line options give (the rest come from the environment)."""
    values = dict(overrides)
    if getattr(args, "db", None):
        values["db_url"] = args.db
    if getattr(args, "max_body_mb", None):
        values["max_body_bytes"] = int(args.max_body_mb * 1e6)
    return values


def open_app(args: argparse.Namespace):
    """Build the app, turning storage problems into a one-line ConfigError."""
    from service.app import create_app
    from service.service_errors import ServiceError
    from spectrum.errors import ConfigError

    try:
        return create_app(settings_for(args))
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from spectrum.errors import ConfigError

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port}: must be 1..65535")
    try:
        ipaddress.ip_address(args.host)
    except ValueError:
        if args.host != "localhost":
            raise ConfigError(f"--host {args.host!r}: give an IP address such as 127.0.0.1") from None
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: must be at least 1")
    if args.workers > 1 and _backend(settings_for(args).db_url) == "sqlite":
        raise ConfigError(f"--workers {args.workers}: SQLite is the embedded default with one worker; "
                          "several workers need PostgreSQL (--db postgresql+psycopg://USER@HOST/DB)")
    app = open_app(args)  # checks the database and settings here, in one line, before any worker starts
    import uvicorn

    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print(f"warning: listening on {args.host}, reachable from other machines; put TLS in front",
              file=sys.stderr)
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    print(f"spectrum serve: http://{args.host}:{args.port}/ (db {app.state.ctx.db.url.render_as_string()}{workers})",
          file=sys.stderr)
    if args.workers > 1:
        return _run_workers(args, app)
    # One worker, this process. Open streams are cut after 3 s at shutdown.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=3,
                timeout_keep_alive=KEEP_ALIVE_S, access_log=args.log_level == "debug")
    return 0


def _backend(url: str) -> str | None:
    """``sqlite``, ``postgresql``, ... (None for a URL that does not parse: open_app says why)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).get_backend_name()
    except ArgumentError:
        return None


def _run_workers(args: argparse.Namespace, checked_app) -> int:
    """Several uvicorn workers: each builds its own app from ``SPECTRUM_*`` environment
    variables, which carry this command's options to them."""
    import uvicorn

    checked_app.state.ctx.db.dispose()  # the workers open their own connections
    for name, value in _option_values(args).items():
        os.environ[f"SPECTRUM_{name.upper()}"] = str(value)
    # Open streams are cut after 3 s at shutdown, in each worker.
    uvicorn.run("service.app:create_app", factory=True, workers=args.workers, host=args.host, port=args.port,
                log_level=args.log_level, timeout_graceful_shutdown=3, timeout_keep_alive=KEEP_ALIVE_S,
                access_log=args.log_level == "debug")
    return 0
