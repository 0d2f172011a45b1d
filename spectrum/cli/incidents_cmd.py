"""``spectrum incidents rebuild``: recompute every incident from the stored events."""

from __future__ import annotations

import argparse
import time


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("incidents", help="recompute the service's incidents from its stored events",
                       description="Incidents are derived from the stored events. `rebuild` recomputes all of "
                                   "them (e.g. after changing SPECTRUM_INCIDENT_HOLD_S or the link settings). "
                                   "An incident keeps its id where its events were grouped before, so the "
                                   "desk's acknowledgements, assignments, notes, outcomes and audit log stay "
                                   "with it; desk records of incidents that no longer exist (folded into "
                                   "another) are counted, and kept. Stop the service first.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    rebuild = actions.add_parser("rebuild", help="recompute every incident and wide-area group from the events")
    rebuild.add_argument("--db", metavar="URL", default=None, help="database URL (as for `spectrum serve`)")
    rebuild.add_argument("--site-registry", metavar="CSV", default=None,
                         help="site registry whose positions bound wide-area links (default: SPECTRUM_SITE_REGISTRY)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from service.db import Database, now_us
    from service.incident_feed import rules_from
    from service.incident_store import rebuild_incidents
    from service.service_errors import ServiceError
    from spectrum.cli.serve_cmd import settings_for
    from spectrum.errors import ConfigError

    try:
        settings = settings_for(args, **({"site_registry": args.site_registry} if args.site_registry else {}))
        rules = rules_from(settings)
        db = Database(settings.db_url, create=False)
    except ServiceError as exc:
        raise ConfigError(str(exc)) from None
    try:
        before = _incident_ids(db)
        started = time.perf_counter()
        count = rebuild_incidents(db, rules, now_us())
        elapsed_s = time.perf_counter() - started
        counts = _counts(db, before)
    except SQLAlchemyError as exc:
        raise ConfigError(f"--db: cannot read or write the incidents (is the schema upgraded? `spectrum db "
                          f"upgrade`): {getattr(exc, 'orig', None) or exc}") from None
    finally:
        db.dispose()
    print(f"rebuilt {count} incidents from {counts['events']} events in {elapsed_s:.1f} s: "
          f"{counts['kept']} kept their id, {count - counts['kept']} new, {counts['gone']} gone; "
          f"{counts['areas']} wide-area incidents")
    print(f"desk records: {counts['desk']} attached, {counts['desk_orphaned']} of incidents that no longer exist; "
          f"audit log entries: {counts['audit']} attached, {counts['audit_orphaned']} of incidents that no longer exist")
    return 0


def _incident_ids(db) -> set[str]:
    from sqlalchemy import select

    from service.incident_models import IncidentRow

    with db.read() as session:
        return set(session.scalars(select(IncidentRow.id)))


def _counts(db, before: set[str]) -> dict[str, int]:
    from sqlalchemy import func, select

    from service.incident_models import IncidentAuditRow, IncidentDeskRow, IncidentRow
    from service.store import count_events

    after = _incident_ids(db)
    with db.read() as session:
        areas = session.scalar(select(func.count(func.distinct(IncidentRow.area_id))))
        desk = set(session.scalars(select(IncidentDeskRow.incident_id)))
        audit = session.execute(select(IncidentAuditRow.incident_id, func.count())
                                .group_by(IncidentAuditRow.incident_id)).all()
    return {"events": count_events(db), "kept": len(after & before), "gone": len(before - after), "areas": areas or 0,
            "desk": len(desk & after), "desk_orphaned": len(desk - after),
            "audit": sum(n for i, n in audit if i in after), "audit_orphaned": sum(n for i, n in audit if i not in after)}
