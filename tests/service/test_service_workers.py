"""Several API workers on one PostgreSQL database (issue 16).

Server B is ``spectrum serve --workers 2`` (two worker processes); server A is the same app in
this test process (a third worker, without the cost of starting another process); both on one
throwaway database (spectrum/evaluate/pg_cluster.py). A stream held on either server gets what was stored
through the other, once, big messages included; events of one jammer posted in parallel to
both group into the incidents that serial posting gives; B runs two worker processes and
stops on SIGTERM. SQLite refuses more than one worker. Skipped, with the reason, where
PostgreSQL is missing.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from service_helpers import ProcessServer, StreamReader, ThreadServer, free_port, make_event, make_tokens

from service.app import create_app
from service.auth import create_token
from service.db import Database
from service.settings import Settings

BIG_SITE = "\U0001f4e1" * 64  # characters outside the BMP: 12 bytes each in the stream's escaped JSON


class Servers:
    def __init__(self, url: str, tokens: dict[str, str], a: ThreadServer, b: ProcessServer) -> None:
        self.url, self.tokens, self.a, self.b = url, tokens, a, b

    def post(self, server, role: str, events: list[dict]) -> dict:
        return post(server.port, self.tokens[role], events)

    def stream(self, server) -> StreamReader:
        reader = StreamReader(f"http://127.0.0.1:{server.port}", self.tokens["viewer"])
        reader.wait_for_comment("connected", 10)
        return reader


def post(port: int, token: str, events: list[dict]) -> dict:
    r = httpx.post(f"http://127.0.0.1:{port}/api/v1/events", json={"events": events}, timeout=30,
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def servers(pg, tmp_path_factory):
    url = pg.url()
    tokens = make_tokens(url)  # makes the schema too
    db = Database(url)
    tokens["big"] = create_token(db, "sensor", BIG_SITE, BIG_SITE)[0]
    tokens["beat"] = create_token(db, "sensor", "s3", "c")[0]
    db.dispose()
    b = ProcessServer(url, free_port(), tmp_path_factory.mktemp("workers") / "b.log", workers=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPECTRUM_SSE_HEARTBEAT_S", "1")  # idle streams stay within the reader's 5 s timeout
        mp.setenv("SPECTRUM_STATUS_CHECK_S", "0.3")  # every worker looks for status changes this often
        b.launch()
    with ThreadServer(create_app(Settings(db_url=url, sse_heartbeat_s=1, status_check_s=0.3))) as a:
        b.wait_ready()
        yield Servers(url, tokens, a, b)
        b.stop()


def _big_event() -> dict:
    """An event whose stream message is over 8000 bytes (a NOTIFY payload's limit)."""
    extras = {f"x{i:02d}_" + "k" * 59: "v" * 60 for i in range(32)}  # 32 extras of 62 B of JSON each
    return make_event(site=None, sensor=None, start_s=300.0, freq_hz=120e6,
                      detector={"version": "\U0001f4e1" * 100, "config_hash": "\U0001f4e1" * 200}, **extras)


def test_a_stream_on_one_server_gets_what_the_other_stored_once(servers):
    a, b = servers.a, servers.b
    readers = [servers.stream(b), servers.stream(b), servers.stream(a)]
    try:
        first = make_event(kind="pulsed", start_s=10.0, duration_s=4.0)
        second = make_event(kind="pulsed", start_s=20.0, duration_s=4.0)  # the same jammer: updates the incident
        big = _big_event()
        servers.post(a, "sensor", [first])
        servers.post(a, "sensor", [second])
        servers.post(b, "big", [big])
        # each server's messages reach every worker in the order it sent them: once its marker is in, all are
        markers = [make_event(kind="tone", start_s=5000.0 + i, freq_hz=2.4e9 + i * 1e6, site=None, sensor=None)
                   for i in range(2)]
        servers.post(a, "sensor", [markers[0]])
        servers.post(b, "sensor2", [markers[1]])
        for reader in readers:
            for marker in markers:
                reader.wait_for(lambda m: m[0] == "event" and m[1]["event"]["id"] == marker["id"], 10)
            created = Counter(m[1]["event"]["id"] for m in reader.messages if m[0] == "event")
            assert [created[e["id"]] for e in (first, second, big, *markers)] == [1] * 5, reader.messages
            changes = [m[1]["change"] for m in reader.messages
                       if m[0] == "incident" and m[1]["incident"]["since"] == first["start"]]
            assert changes == ["opened", "updated"], reader.messages
            [got] = [m[1]["event"] for m in reader.messages if m[0] == "event" and m[1]["event"]["id"] == big["id"]]
            assert got["site"] == BIG_SITE and got["detector"] == big["detector"]
            assert all(got[k] == v for k, v in big.items() if k.startswith("x"))
            assert len(json.dumps({"change": "created", "event": got}, separators=(",", ":"))) > 8000
    finally:
        for reader in readers:
            reader.close()


def test_a_status_change_seen_by_every_worker_is_delivered_once(servers):
    readers = [servers.stream(servers.b), servers.stream(servers.a)]
    try:
        r = httpx.post(f"http://127.0.0.1:{servers.b.port}/api/v1/heartbeats", json={"sweep_rate_hz": 1.0},
                       headers={"Authorization": f"Bearer {servers.tokens['beat']}"}, timeout=10)
        assert r.status_code == 200, r.text
        online = lambda m: m[0] == "status" and (m[1]["site"], m[1]["status"]) == ("s3", "online")  # noqa: E731
        for reader in readers:
            reader.wait_for(online, 10)
        time.sleep(1.0)  # the other workers' status checks (every 0.3 s) see the change too, and announce it
        assert [len([m for m in reader.messages if online(m)]) for reader in readers] == [1, 1]
    finally:
        for reader in readers:
            reader.close()


def _jammer_events() -> dict[str, list[dict]]:
    """One pulsed jammer heard at two sites: a burst every 10 s, 12 at each."""
    return {role: [make_event(kind="pulsed", start_s=4000.0 + 10 * i + lag, duration_s=4.0, freq_hz=450e6,
                              site=None, sensor=None) for i in range(12)]
            for role, lag in (("sensor", 0.0), ("sensor2", 1.5))}


def _incidents(url: str, event_ids: set[str]) -> list[tuple]:
    """The incidents holding these events, without ids: their events, figures and wide-area group."""
    from sqlalchemy import select

    from service.incident_models import IncidentMemberRow as M
    from service.incident_models import IncidentRow as I

    db = Database(url)
    try:
        with db.read() as session:
            member_of = dict(session.execute(select(M.event_id, M.incident_id)).all())
            rows = {r.id: r for r in session.scalars(select(I))}
    finally:
        db.dispose()
    assert event_ids <= set(member_of), "events without an incident"
    events_of = defaultdict(set)
    for event_id, incident_id in member_of.items():
        events_of[incident_id].add(event_id)
    groups = defaultdict(set)
    for r in rows.values():
        groups[r.area_id or r.id] |= events_of[r.id]
    mine = {member_of[e] for e in event_ids}
    return sorted((rows[i].site, rows[i].bursts, rows[i].first_onset_us, rows[i].last_activity_us, rows[i].severity,
                   sorted(events_of[i]), sorted(groups[rows[i].area_id or i])) for i in mine)


def test_parallel_ingest_on_two_servers_groups_like_serial_ingest(servers, pg):
    by_sensor = _jammer_events()
    posts = [(role, e) for role, events in by_sensor.items() for e in events]
    random.Random(7).shuffle(posts)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: servers.post((servers.a, servers.b)[i % 2], posts[i][0], [posts[i][1]]), range(len(posts))))
    ids = {e["id"] for _, e in posts}
    parallel = _incidents(servers.url, ids)

    serial_url = pg.url()
    tokens = make_tokens(serial_url)
    with ThreadServer(create_app(Settings(db_url=serial_url))) as server:
        for role, event in sorted(posts, key=lambda p: p[1]["start"]):
            post(server.port, tokens[role], [event])
    serial = _incidents(serial_url, ids)
    assert [(site, bursts) for site, bursts, *_ in serial] == [("s1", 12), ("s2", 12)]  # one per site ...
    assert serial[0][-1] == serial[1][-1] == sorted(ids)  # ... linked as one wide-area incident
    assert parallel == serial


def test_a_lost_listener_reconnects_and_ends_the_streams_that_may_have_missed_messages(servers):
    import psycopg

    from service.app import STREAM_GAP
    from service.pg_fanout import LISTENER_NAME

    before = [servers.stream(servers.a), servers.stream(servers.b)]
    try:
        with psycopg.connect(servers.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            cut = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                               (LISTENER_NAME,)).fetchall()
        assert len(cut) == 3  # A's listener and one in each of B's workers
        for reader in before:
            reader.wait_for(lambda m: m == ("notice", {"reason": STREAM_GAP}), 10)
            assert reader.ended.wait(5)
        after = servers.stream(servers.b)
        event = make_event(kind="tone", start_s=6000.0, freq_hz=1.2e9)
        servers.post(servers.a, "sensor", [event])
        after.wait_for(lambda m: m[0] == "event" and m[1]["event"]["id"] == event["id"], 10)
        after.close()
    finally:
        for reader in before:
            reader.close()


def _worker_processes(parent: int) -> list[int]:
    """Children of ``parent`` that multiprocessing spawned (uvicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile
    return found


def test_workers_run_as_processes_and_stop_on_sigterm(servers):
    """Runs last in this module: it stops server B."""
    b = servers.b
    workers = _worker_processes(b.proc.pid)
    assert len(workers) == 2
    r = httpx.get(f"http://127.0.0.1:{b.port}/api/v1/events", timeout=10,
                  headers={"Authorization": f"Bearer {servers.tokens['viewer']}"})
    assert r.status_code == 200 and r.json()["events"]
    b.proc.send_signal(signal.SIGTERM)
    assert b.proc.wait(20) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert "Traceback" not in b.log_path.read_text()


def test_several_workers_on_sqlite_are_refused(tmp_path, capsys):
    # SQLite only: the refusal is SQLite's (PostgreSQL runs several workers above)
    from spectrum.cli import main

    db = tmp_path / "desk.db"
    assert main(["serve", "--workers", "2", "--db", f"sqlite:///{db}"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "spectrum serve: error: --workers 2: SQLite is the embedded default with one worker; several workers "
        "need PostgreSQL (--db postgresql+psycopg://USER@HOST/DB)"]
    assert not db.exists()
    assert main(["serve", "--workers", "0"]) == 2
    assert capsys.readouterr().err == "spectrum serve: error: --workers 0: must be at least 1\n"
