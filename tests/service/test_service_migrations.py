"""Schema migrations (Alembic): up from an empty database and from the schema made before
migrations (the previous head), data kept; ``serve`` refuses an old schema in one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from test_service_auth import run_cli

from service.auth import authenticate, create_token
from service.db import Database
from service.schema_version import SchemaError, current_revision, head_revision

BEFORE_MIGRATIONS = Path(__file__).with_name("schema_before_migrations.sql")


def old_desk(path: Path) -> str:
    """A database as the code before migrations left it: its tables, a token and an event."""
    con = sqlite3.connect(path)
    con.executescript(BEFORE_MIGRATIONS.read_text())
    con.execute("INSERT INTO tokens VALUES ('abc', 'h' , 'viewer', NULL, NULL, 'old', 1, NULL)")
    con.execute("INSERT INTO events (id, kind, severity, site, sensor, start_us, end_us, freq_low_hz, freq_high_hz, "
                "closed, progress_us, received_us, data) VALUES ('e1', 'tone', 'info', 's1', 'a', 1, NULL, 1.0, 2.0, "
                "0, 0, 1, '{}')")
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def _execute(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def schema_diff(url: str) -> list:
    """What the database's schema lacks or has beyond ``service.models`` (Alembic's compare)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from service.models import Base

    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    return diff


def test_upgrade_from_empty(db_url, capsys):
    url = db_url
    code, out, err = run_cli(capsys, "db", "upgrade", "--db", url)
    assert code == 0, err
    assert out.strip() == f"database upgraded from an empty database to revision {head_revision()}"
    assert schema_diff(url) == []  # the migrations build exactly the models' schema
    code, out, _ = run_cli(capsys, "db", "upgrade", "--db", url)
    assert out.strip() == f"database already at revision {head_revision()}"


def test_a_new_database_gets_the_newest_schema(db_url):
    db = Database(db_url)  # what serve and token create do
    assert current_revision(db.engine) == head_revision()
    db.dispose()


def test_upgrade_from_the_schema_before_migrations(tmp_path, capsys):
    # SQLite only: the code before migrations made SQLite files (schema_before_migrations.sql)
    url = old_desk(tmp_path / "old.db")
    with pytest.raises(SchemaError, match="spectrum db upgrade --db"):
        Database(url)
    code, _, err = run_cli(capsys, "serve", "--db", url, "--port", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"spectrum db upgrade --db {url}" in err and "revision none" in err
    code, out, _ = run_cli(capsys, "db", "current", "--db", url)
    assert "made before migrations" in out
    code, out, err = run_cli(capsys, "db", "upgrade", "--db", url)
    assert code == 0, err
    assert out.strip() == f"database upgraded from the schema made before migrations to revision {head_revision()}"
    assert schema_diff(url) == []
    db = Database(url)  # serve starts now, and the data is still there
    secret = create_token(db, "viewer")[0]
    assert authenticate(db, secret).role == "viewer"
    with db.read() as session:
        assert session.execute(text("SELECT id, site FROM events")).all() == [("e1", "s1")]
        assert session.execute(text("SELECT label FROM tokens WHERE id = 'abc'")).scalar() == "old"
    db.dispose()


def test_a_schema_from_newer_code_is_refused(db_url, capsys):
    url = db_url
    Database(url).dispose()
    _execute(url, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaError, match="newer spectrum"):
        Database(url)
    code, _, err = run_cli(capsys, "db", "upgrade", "--db", url)
    assert code == 2 and "'9999'" in err and len(err.strip().splitlines()) == 1


def test_not_our_tables_are_refused(db_url, capsys):
    _execute(db_url, "CREATE TABLE events (x INTEGER)")
    code, _, err = run_cli(capsys, "db", "upgrade", "--db", db_url)
    assert code == 2 and "not made by spectrum serve" in err
