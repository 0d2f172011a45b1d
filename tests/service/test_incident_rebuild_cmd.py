"""``spectrum incidents rebuild``: recomputes from the stored events; desk actions stay with
their incident (by id); counts printed; bad input is one line and exit 2."""

from __future__ import annotations

from sqlalchemy import select

from service.auth import Principal
from service.db import Database
from service.incident_desk import act
from service.incident_models import IncidentAuditRow, IncidentDeskRow, IncidentRow
from service.incident_store import apply_events, record_from_event
from service.incidents import GroupingRules
from service.schemas import EventIn
from service.store import ingest_events
from service_helpers import make_event
from spectrum.cli import main

OPERATOR = Principal(token_id="op1", role="operator", label="desk one")


def _stored(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {r.id: r.bursts for r in session.scalars(select(IncidentRow))}


def _by_onset(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(IncidentRow.id).order_by(IncidentRow.first_onset_us)))


def test_rebuild_keeps_desk_actions_with_their_incident(db_url, monkeypatch, capsys):
    url = db_url
    db = Database(url)
    # a pulsed jammer for 5 minutes, silent 10 minutes, back for 5: two incidents at a 5-minute hold
    events = [make_event(start_s=i * 10, duration_s=4, kind="pulsed") for i in range(30)]
    events += [make_event(start_s=900 + i * 10, duration_s=4, kind="pulsed") for i in range(30)]
    ingest_events(db, [EventIn.model_validate(e) for e in events])
    records = [record_from_event(e) for e in events]
    db.transact(lambda s: apply_events(db, s, records, GroupingRules(hold_s=300), 0))
    first, second = _by_onset(db)
    act(db, first, OPERATOR, "acknowledge", {})
    act(db, first, OPERATOR, "note", {"text": "team on the way"})
    act(db, second, OPERATOR, "acknowledge", {})
    db.dispose()

    # same rules: nothing changes, every id is kept
    monkeypatch.setenv("SPECTRUM_INCIDENT_HOLD_S", "300")
    assert main(["incidents", "rebuild", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "rebuilt 2 incidents from 60 events" in out and "2 kept their id, 0 new, 0 gone" in out
    assert "desk records: 2 attached, 0 of incidents" in out and "audit log entries: 3 attached, 0 of" in out

    # a longer hold joins the two: the older id stays, with its desk state and audit log
    monkeypatch.setenv("SPECTRUM_INCIDENT_HOLD_S", "900")
    assert main(["incidents", "rebuild", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "rebuilt 1 incidents from 60 events" in out and "1 kept their id, 0 new, 1 gone" in out
    assert "desk records: 1 attached, 1 of incidents that no longer exist" in out
    db = Database(url)
    assert _stored(db) == {first: 60}
    with db.read() as session:
        desk = session.get(IncidentDeskRow, first)
        assert desk.acknowledged_by == "desk one" and desk.notes == 1
        actions = [a.action for a in session.scalars(select(IncidentAuditRow).where(IncidentAuditRow.incident_id == first)
                                                     .order_by(IncidentAuditRow.seq))]
        assert actions == ["acknowledge", "note"]
    db.dispose()


def test_rebuild_bad_database_is_one_line_and_exit_2(tmp_path, capsys):
    # SQLite only: a file in a missing folder; an unsupported backend
    assert main(["incidents", "rebuild", "--db", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spectrum incidents: error:") and "\n" not in err
    assert main(["incidents", "rebuild", "--db", "mysql://x/y"]) == 2
