"""Fixtures of the field sensor's tests: a tiny file system that fills up. Every test here is
marked ``realtime``: they run real sensors against the clock (rates, reconnects, timeouts), so
scripts/test.sh runs them on their own after the rest, which runs on both cores."""

from __future__ import annotations

import subprocess

import pytest


def pytest_collection_modifyitems(config, items):
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.realtime)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KB tmpfs (as a small SD card that fills up), unmounted afterwards.

    Needs the right to mount (root in a container that allows it); skipped, saying so, elsewhere.
    """
    mount_dir = tmp_path / "tiny"
    mount_dir.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_dir)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 256 KB tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the disk-full tests need root and a kernel that allows tmpfs mounts")
    try:
        yield mount_dir
    finally:
        subprocess.run(["umount", "-l", str(mount_dir)], capture_output=True)


@pytest.fixture
def field_desk(tmp_path):
    """A real service on a free loopback port: (url, {"a": sensor token of site PS-1 sensor a,
    "b": of PS-2 sensor b}, viewer client on /api/v1)."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    from service.app import create_app
    from service.auth import create_token
    from service.db import Database
    from service.settings import Settings

    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    db = Database(db_url)
    tokens = {"a": create_token(db, "sensor", "PS-1", "a")[0], "b": create_token(db, "sensor", "PS-2", "b")[0],
              "viewer": create_token(db, "viewer")[0]}
    db.dispose()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(db_url=db_url, sqlite_synchronous="NORMAL")),
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    viewer = httpx.Client(base_url=url + "/api/v1", headers={"Authorization": f"Bearer {tokens['viewer']}"},
                          timeout=30)
    yield url, tokens, viewer
    viewer.close()
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def new_db_url(tmp_path):
    """The desk these sensor tests talk to runs on SQLite only: they test the sensor, and the
    service's own tests run every endpoint on SQLite and PostgreSQL (tests/service)."""
    made = iter(range(1_000))
    return lambda: f"sqlite:///{tmp_path / f'desk{next(made)}.db'}"
