"""``spectrum db upgrade|current``: the desk database's schema (Alembic migrations)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="upgrade or show the service database's schema",
                       description="Schema migrations of the service database. `upgrade` brings it to the "
                                   "newest revision and keeps its data (a database made before migrations "
                                   "is recognised); back the database up first.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="upgrade the schema to this code's newest revision")
    current = actions.add_parser("current", help="show the database's revision and this code's newest")
    for q in (upgrade, current):
        q.add_argument("--db", metavar="URL", default=None, help="database URL (as for `spectrum serve`)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from service.db import Database
    from service.schema_version import current_revision, head_revision, upgrade
    from service.service_errors import ServiceError
    from spectrum.cli.serve_cmd import settings_for
    from spectrum.errors import ConfigError

    try:
        db = Database(settings_for(args).db_url, create=False)
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None
    try:
        if args.action == "current":
            revision = current_revision(db.engine)
            shown = {None: "none (empty database)", "": "none (made before migrations)"}.get(revision, revision)
            print(f"database revision {shown}; this code's newest {head_revision()}")
            return 0
        before, after = upgrade(db.engine)
        shown = {None: "an empty database", "": "the schema made before migrations"}.get(before, f"revision {before}")
        print(f"database upgraded from {shown} to revision {after}" if before != after
              else f"database already at revision {after}")
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise ConfigError(f"--db: cannot read or write the database: {getattr(exc, 'orig', None) or exc}") from None
    finally:
        db.dispose()
    return 0
