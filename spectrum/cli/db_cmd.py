"""``spectrum db upgrade|current|prune|size``: the desk database's schema (Alembic migrations), retention and size."""

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
    prune = actions.add_parser("prune", help="apply spectra retention now (the service also does it every minute)",
                               description="Spectra are kept whole for SPECTRUM_SPECTRA_FULL_S (1 day), then one per "
                                           "SPECTRUM_SPECTRA_THIN_EVERY_S (60 s) per sensor and band, and deleted after "
                                           "SPECTRUM_SPECTRA_KEEP_S (30 days). Events and incidents are never pruned.")
    prune.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    actions.add_parser("size", help="what each table takes, and the growth per sensor and day at the stored rates",
                       description="Sizes from the database (SQLite's pages, PostgreSQL's pg_total_relation_size), "
                                   "rates from its rows: spectra per second per sensor and band, events per sensor-day; projected under the retention "
                                   "settings (SPECTRUM_SPECTRA_*). Run it on a database a real sensor filled.")
    size = actions.choices["size"]
    for q in (upgrade, current, prune, size):
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
        db = Database(settings_for(args).db_url, create=args.action in ("prune", "size"))  # they need this code's schema
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None
    try:
        if args.action == "prune":
            return _prune(db, settings_for(args), args.dry_run)
        if args.action == "size":
            return _size(db, settings_for(args))
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


def _prune(db, settings, dry_run: bool) -> int:
    from service.db import now_us
    from service.retention import RetentionPolicy, SpectraRetention

    policy = RetentionPolicy(settings.spectra_full_s, settings.spectra_thin_every_s, settings.spectra_keep_s)
    outcome = SpectraRetention(db, policy).apply(now_us(), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    print(f"{verb} {outcome.deleted} spectra: {outcome.expired} older than {policy.keep_s / 86_400:g} days, "
          f"{outcome.thinned} thinned to one per {policy.thin_every_s:g} s after {policy.full_s / 3_600:g} h")
    return 0


def _size(db, settings) -> int:
    from service.db_growth import measure_growth
    from service.retention import RetentionPolicy
    from spectrum.errors import ConfigError

    policy = RetentionPolicy(settings.spectra_full_s, settings.spectra_thin_every_s, settings.spectra_keep_s)
    try:
        growth = measure_growth(db, policy)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    print("\n".join(growth.lines()))
    return 0
