"""Revision 0003 (campaign table) up from the previous head, 0002, with its data kept, and down again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from test_service_migrations import schema_diff
from test_service_auth import run_cli

from service.db import Database
from service.schema_version import MIGRATIONS_DIR, current_revision


def _alembic(conn, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    getattr(command, action)(cfg, revision)


def test_upgrade_from_0002_adds_the_campaign_table_and_keeps_the_data(db_url, capsys):
    url = db_url
    engine = create_engine(url)
    with engine.begin() as conn:
        _alembic(conn, "upgrade", "0002")
        conn.execute(text("INSERT INTO webhooks (id, url, secret, changes, created_us, created_by) VALUES "
                          "('w1', 'https://example.org/hook', 's', 'opened', 1, 'admin')"))
    assert current_revision(engine) == "0002"
    assert "campaigns" not in inspect(engine).get_table_names()
    engine.dispose()
    code, out, err = run_cli(capsys, "db", "upgrade", "--db", url)
    assert code == 0 and "0003" in out, err
    assert schema_diff(url) == []
    db = Database(url)
    with db.read() as session:
        assert session.execute(text("SELECT id FROM webhooks")).all() == [("w1",)]
        assert session.execute(text("SELECT count(*) FROM campaigns")).scalar() == 0
    db.dispose()


def test_downgrade_to_0002_drops_only_the_campaign_table(db_url):
    url = db_url
    Database(url).dispose()  # a new desk: created at the head
    engine = create_engine(url)
    assert current_revision(engine) == "0003"
    with engine.begin() as conn:
        _alembic(conn, "downgrade", "0002")
    names = inspect(engine).get_table_names()
    assert "campaigns" not in names and "webhooks" in names
    engine.dispose()
