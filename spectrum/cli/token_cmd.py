"""``spectrum token create|list|revoke``: manage the service's bearer tokens in its database."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("token", help="create, list or revoke service tokens",
                       description="Manage bearer tokens directly in the service database. Roles: sensor "
                                   "(writes for its own site and sensor), viewer (reads), operator (reads and acts on "
                                   "incidents), admin (manages tokens).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token and print it (last word of the output)")
    create.add_argument("--role", required=True, choices=("sensor", "viewer", "operator", "admin"))
    create.add_argument("--site", help="the site a sensor token writes for")
    create.add_argument("--sensor", help="the sensor a sensor token writes for")
    create.add_argument("--label", help="who holds it: shown by `token list` and in the incident audit log")
    lister = actions.add_parser("list", help="list tokens (never their secrets)")
    revoke = actions.add_parser("revoke", help="revoke a token by the id `token list` shows")
    revoke.add_argument("token_id", metavar="ID")
    for q in (create, lister, revoke):
        q.add_argument("--db", metavar="URL", default=None, help="database URL (as for `spectrum serve`)")
    p.set_defaults(run=run)


def _database(args: argparse.Namespace):
    from service.db import Database
    from service.service_errors import ServiceError
    from spectrum.cli.serve_cmd import settings_for
    from spectrum.errors import ConfigError

    try:
        return Database(settings_for(args).db_url)
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from service.auth import create_token, list_tokens, revoke_token
    from service.service_errors import ServiceError
    from service.store import us_to_iso
    from spectrum.errors import ConfigError

    db = _database(args)
    try:
        if args.action == "create":
            secret, row = create_token(db, args.role, args.site, args.sensor, args.label)
            where = f" for site {row.site}, sensor {row.sensor}" if row.role == "sensor" else ""
            print(f"created {row.role} token {row.id}{where} (shown once, keep it safe): {secret}")
        elif args.action == "list":
            rows = list_tokens(db)
            if not rows:
                print("no tokens")
            for r in rows:
                state = f"revoked {us_to_iso(r.revoked_us)}" if r.revoked_us else "active"
                scope = f"{r.site}/{r.sensor}" if r.role == "sensor" else "-"
                print(f"{r.id}  {r.role:<6}  {scope:<30}  created {us_to_iso(r.created_us)}  {state}"
                      f"{'  ' + r.label if r.label else ''}")
        else:
            row = revoke_token(db, args.token_id)
            print(f"revoked token {row.id} ({row.role})")
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None
    finally:
        db.dispose()
    return 0
