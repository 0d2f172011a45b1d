"""The service on a real PostgreSQL server (a throwaway cluster on a free loopback port, see
spectrum/evaluate/pg_cluster.py): the migrations apply to an empty database, and the desk's main
paths work on it — ingest, the ownership refusal, queries and incidents. Skipped, with the
reason, where the server or the driver cannot be installed."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
from service_helpers import REPO, ThreadServer, make_event, make_tokens

from service.app import create_app
from service.settings import Settings


def test_migrations_then_ingest_ownership_query_and_incidents(pg):
    url = pg.url()
    upgrade = subprocess.run([sys.executable, "-m", "spectrum", "db", "upgrade", "--db", url], cwd=REPO,
                             env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "upgraded from an empty database" in upgrade.stdout
    tokens = make_tokens(url)
    with ThreadServer(create_app(Settings(db_url=url))) as server:
        base = f"http://127.0.0.1:{server.port}/api/v1"
        as_sensor = {"Authorization": f"Bearer {tokens['sensor']}"}
        bursts = [make_event(i, kind="pulsed", start_s=10.0 * i, duration_s=4.0) for i in range(3)]
        stored = httpx.post(f"{base}/events", json={"events": bursts}, headers=as_sensor, timeout=10)
        assert stored.status_code == 200 and stored.json()["created"] == 3, stored.text
        stolen = dict(bursts[0], site="s2", sensor="b", severity="info")
        refused = httpx.post(f"{base}/events", json={"events": [stolen]}, timeout=10,
                             headers={"Authorization": f"Bearer {tokens['sensor2']}"})
        assert refused.status_code == 409
        as_viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
        events = httpx.get(f"{base}/events", headers=as_viewer, timeout=10).json()["events"]
        assert sorted(e["id"] for e in events) == sorted(e["id"] for e in bursts)
        assert {(e["site"], e["sensor"], e["severity"]) for e in events} == {("s1", "a", "warning")}
        incidents = httpx.get(f"{base}/incidents", headers=as_viewer, timeout=10).json()["incidents"]
        assert len(incidents) == 1 and incidents[0]["bursts"] == 3, incidents


def test_spectra_retention_on_postgresql(pg):
    from test_service_retention import check_retention

    from service.db import Database

    db = Database(pg.url())
    try:
        check_retention(db)
    finally:
        db.dispose()
