"""Revision 0002 (incident tables) up from the previous head, 0001, with its data kept."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from test_service_migrations import schema_diff
from test_service_auth import run_cli

from service.db import Database
from service.schema_version import MIGRATIONS_DIR, SchemaError, current_revision, head_revision


def test_upgrade_from_0001_adds_the_incident_tables_and_keeps_the_data(db_url, capsys):
    from alembic import command
    from alembic.config import Config

    url = db_url
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO events (id, kind, severity, site, sensor, start_us, end_us, freq_low_hz, "
                          "freq_high_hz, closed, progress_us, received_us, data) VALUES ('e1', 'tone', 'info', 's1', "
                          "'a', 1, NULL, 1.0, 2.0, FALSE, 0, 1, '{}')"))
    assert current_revision(engine) == "0001"
    engine.dispose()
    with pytest.raises(SchemaError, match=f"needs {head_revision()}"):
        Database(url)
    code, out, err = run_cli(capsys, "db", "upgrade", "--db", url)
    assert code == 0 and head_revision() in out, err
    assert schema_diff(url) == []
    db = Database(url)
    with db.read() as session:
        assert session.execute(text("SELECT id FROM events")).all() == [("e1",)]
        assert session.execute(text("SELECT count(*) FROM incidents")).scalar() == 0
    db.dispose()
