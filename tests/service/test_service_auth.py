"""The auth matrix: 401 without or with a wrong token, 403 for the wrong role or site."""

from __future__ import annotations

from pathlib import Path

import pytest
from service_helpers import at, make_event

API = "/api/v1"
SPECTRUM = {"band": "b", "time": at(0, ms=False), "freq_start_hz": 1e8, "freq_step_hz": 1e3,
            "power_dbfs": [-50.0]}

# (method, path, body) -> expected status for: no token, bad token, sensor, viewer, admin
MATRIX = [
    ("POST", "/events", lambda: {"events": [make_event()]}, (401, 401, 200, 403, 403)),
    ("GET", "/events", None, (401, 401, 403, 200, 200)),
    ("POST", "/heartbeats", lambda: {"sweep_rate_hz": 1.0}, (401, 401, 200, 403, 403)),
    ("POST", "/spectra", lambda: {"spectra": [SPECTRUM]}, (401, 401, 200, 403, 403)),
    ("GET", "/spectra", None, (401, 401, 403, 200, 200)),
    ("GET", "/sensors", None, (401, 401, 403, 200, 200)),
    ("GET", "/sites", None, (401, 401, 403, 200, 200)),
    ("GET", "/tokens", None, (401, 401, 403, 403, 200)),
    ("POST", "/tokens", lambda: {"role": "viewer"}, (401, 401, 403, 403, 201)),
]


def test_auth_matrix(desk):
    clients = [desk.client(), desk.client(headers={"Authorization": "Bearer wrong"}), desk.client("sensor"),
               desk.client("viewer"), desk.client("admin")]
    for method, path, body, expected in MATRIX:
        got = tuple(c.request(method, API + path, json=body() if body else None).status_code for c in clients)
        assert got == expected, (method, path)
    r = clients[0].get(f"{API}/events")
    assert r.headers["www-authenticate"] == "Bearer"
    assert clients[0].get(f"{API}/events", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


@pytest.mark.parametrize("path,body", [
    ("/events", {"events": [make_event(site="s2", sensor="b")]}),
    ("/events", {"events": [make_event(), make_event(site="s1", sensor="zz")]}),
    ("/heartbeats", {"site": "s2"}),
    ("/spectra", {"spectra": [dict(SPECTRUM, sensor="b")]}),
])
def test_sensor_writes_only_its_own_site(desk, path, body):
    r = desk.client("sensor").post(API + path, json=body)
    assert r.status_code == 403 and "s1" in r.json()["detail"]
    assert desk.client("viewer").get(f"{API}/events").json()["events"] == []


def test_revoked_token_and_admin_api(desk):
    admin = desk.client("admin")
    made = admin.post(f"{API}/tokens", json={"role": "sensor", "site": "s9", "sensor": "z"}).json()
    assert made["role"] == "sensor" and len(made["token"]) >= 40
    fresh = desk.client(headers={"Authorization": f"Bearer {made['token']}"})
    assert fresh.post(f"{API}/heartbeats", json={}).status_code == 200
    assert admin.delete(f"{API}/tokens/{made['id']}").json()["revoked"]
    assert fresh.post(f"{API}/heartbeats", json={}).status_code == 401
    assert admin.delete(f"{API}/tokens/00000000dead").status_code == 404
    assert admin.delete(f"{API}/tokens/nope").status_code == 422  # not a token id at all
    assert admin.post(f"{API}/tokens", json={"role": "sensor"}).status_code == 422
    listed = admin.get(f"{API}/tokens").json()["tokens"]
    assert all("token" not in t and "token_hash" not in t for t in listed)


def test_token_revoked_elsewhere_is_refused_after_the_workers_check(desk):
    """A token revoked outside this worker (the CLI, another worker) is refused once the
    worker's periodic check of its cached tokens (run here by hand) has seen it."""
    from service.auth import revoke_token
    from service.db import Database

    admin = desk.client("admin")
    made = admin.post(f"{API}/tokens", json={"role": "sensor", "site": "s9", "sensor": "z"}).json()
    fresh = desk.client(headers={"Authorization": f"Bearer {made['token']}"})
    assert fresh.post(f"{API}/heartbeats", json={}).status_code == 200  # now cached
    db = Database(desk.db_url)
    revoke_token(db, made["id"])  # as `spectrum token revoke` does: this worker is not told
    desk.app.state.ctx.principals.sweep(db)
    db.dispose()
    assert fresh.post(f"{API}/heartbeats", json={}).status_code == 401
    assert fresh.post(f"{API}/heartbeats", json={}).status_code == 401  # refusals are never cached


def test_principal_cache_trusts_an_entry_only_while_checks_succeed(tmp_path):
    from service.auth import PrincipalCache, authenticate, create_token, hash_token, revoke_token
    from service.db import Database

    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    secret, row = create_token(db, "viewer")
    other, _ = create_token(db, "viewer")
    now = [100.0]
    cache = PrincipalCache(check_s=1.0, clock=lambda: now[0])
    for token in (secret, other):
        cache.put(hash_token(token), authenticate(db, token))
    now[0] += 1.9
    assert cache.get(hash_token(secret)).token_id == row.id  # within two check periods of its lookup
    assert cache.sweep(db) == set()  # nothing revoked: the entries are confirmed from now
    now[0] += 1.9
    assert cache.get(hash_token(secret)) is not None
    now[0] += 0.1  # two periods since the last successful check: not trusted any more
    assert cache.get(hash_token(secret)) is None
    cache.put(hash_token(secret), authenticate(db, secret))
    revoke_token(db, row.id)
    assert cache.sweep(db) == {row.id}
    assert cache.get(hash_token(secret)) is None and cache.get(hash_token(other)) is not None
    off = PrincipalCache(check_s=0)  # auth_cache_s 0: every request is looked up
    off.put(hash_token(other), authenticate(db, other))
    assert off.get(hash_token(other)) is None
    db.dispose()


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``spectrum ARGS`` in-process (a subprocess per call would cost a second of imports)."""
    from spectrum.cli import main

    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_token_cli(db_url, capsys):
    from sqlalchemy import text

    from service.auth import authenticate
    from service.db import Database

    code, out, err = run_cli(capsys, "token", "create", "--db", db_url, "--role", "sensor", "--site", "s1",
                             "--sensor", "a")
    assert code == 0, err
    secret = out.split()[-1]  # the token is the last word
    db = Database(db_url)
    who = authenticate(db, secret)
    assert (who.role, who.site, who.sensor) == ("sensor", "s1", "a")
    code, listed, _ = run_cli(capsys, "token", "list", "--db", db_url)
    token_id = listed.split()[0]
    assert "sensor" in listed and secret not in listed
    code, out, _ = run_cli(capsys, "token", "revoke", "--db", db_url, token_id)
    assert code == 0 and token_id in out
    assert authenticate(db, secret) is None
    with db.read() as session:  # only the hash is stored
        assert secret not in repr(session.execute(text("SELECT * FROM tokens")).all())
    db.dispose()
    if db.dialect == "sqlite":  # nor anywhere else in the file (read after closing: closing any
        # descriptor of an open SQLite file drops the process's POSIX locks on it)
        assert secret.encode() not in Path(db.url.database).read_bytes()


# Refused before any database is opened: the URL, a SQLite path (SQLite only: PostgreSQL has no
# file to check) or an option
@pytest.mark.parametrize("args,needle", [
    (("token", "create", "--role", "viewer", "--db", "nonsense"), "not a database URL"),
    (("token", "create", "--role", "viewer", "--db", "sqlite:////no/such/dir/desk.db"), "does not exist"),
    (("token", "list", "--db", "sqlite://"), "in-memory"),
    (("serve", "--db", "mysql://u@127.0.0.1/x"), "not supported"),
    (("serve", "--db", "sqlite:///{tmp}/d.db/inside.db"), "does not exist"),
    (("serve", "--db", "sqlite:///{tmp}/d.db", "--host", "example.org"), "--host"),
])
def test_cli_errors_are_one_line_exit_2(tmp_path, capsys, args, needle):
    (tmp_path / "d.db").touch() if "inside" in " ".join(args) else None
    code, _, err = run_cli(capsys, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err


@pytest.mark.parametrize("args,needle", [
    (("token", "create", "--role", "sensor"), "--site and --sensor"),
    (("token", "create", "--role", "viewer", "--site", "x"), "sensor tokens only"),
    (("token", "revoke", "nope"), "no token"),
])
def test_cli_usage_errors_on_a_database_are_one_line_exit_2(db_url, capsys, args, needle):
    code, _, err = run_cli(capsys, *args, "--db", db_url)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err
