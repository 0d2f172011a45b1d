"""``spectrum monitor --campaign auto`` against a real desk: it runs the campaign the desk
assigns, picks up a change without restarting, keeps running its disk copy when the desk goes
away (and says so), and starts on that copy while the desk is still away.

A real monitor process (a paced simulation), a real desk (uvicorn on loopback). Waits are
generous: the test host is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.service.service_helpers import ThreadServer, make_tokens
from service.app import create_app
from service.settings import Settings

REPO = Path(__file__).resolve().parents[3]
WAIT_S = 90.0  # for a process to start, compile and report on a loaded host


class Sensor:
    """A monitor process whose stderr (status JSON lines and notes) is collected in a thread."""

    def __init__(self, url: str, token: str, queue: Path, *extra: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO), SPECTRUM_TOKEN=token)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "spectrum", "monitor", "--source", "sim:clean_busy", "--site", "s1",
             "--sensor", "a", "--uplink", url, "--queue", str(queue), "--campaign", "auto",
             "--campaign-poll", "0.5", "--status-json", "--status-interval", "0.5", "--flush-timeout", "0", *extra],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def statuses(self) -> list[dict]:
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def wait_status(self, predicate, what: str) -> dict:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            found = [s for s in self.statuses() if predicate(s)]
            if found:
                return found[-1]
            assert self.proc.poll() is None, "".join(self.lines)[-3000:]
            time.sleep(0.2)
        raise AssertionError(f"no status line with {what}:\n" + "".join(self.lines)[-3000:])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def running(version: int, origin: str):
    return lambda s: s.get("campaign") == {"name": "poll-day", "version": version} and s.get("campaign_origin") == origin


def body(*centres_hz: float) -> dict:
    return {"plan": {"hops": [{"center_hz": c, "sample_rate_hz": 2.4e6, "dwell_s": 0.2} for c in centres_hz]},
            "targets": {"sites": ["s1"]}}


def wait_desk(url: str, token: str, version: int) -> dict:
    deadline = time.monotonic() + WAIT_S
    seen = None
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/api/v1/campaigns/sensors", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        seen = {s["sensor"]: s for s in r.json()["sensors"]}.get("a")
        if seen and seen["campaign_version"] == version and seen["in_sync"]:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"the desk never saw sensor a in sync at version {version}: {seen}")


def test_monitor_follows_the_campaign_without_restart_and_falls_back_to_its_disk_copy(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    tokens = make_tokens(db_url)
    queue = tmp_path / "queue.db"
    server = ThreadServer(create_app(Settings(db_url=db_url))).__enter__()
    url = f"http://127.0.0.1:{server.port}"
    admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=10)
    sensor = None
    try:
        assert admin.post("/api/v1/campaigns", json={"name": "poll-day", **body(942.2e6)}).status_code == 201
        sensor = Sensor(url, tokens["sensor"], queue)
        sensor.wait_status(running(1, "desk"), "campaign v1 from the desk")
        wait_desk(url, tokens["viewer"], 1)
        pid = sensor.proc.pid

        assert admin.put("/api/v1/campaigns/poll-day", json=body(453e6, 942.2e6)).json()["version"] == 2
        sensor.wait_status(running(2, "desk"), "campaign v2 from the desk")
        seen = wait_desk(url, tokens["viewer"], 2)
        assert seen["campaign_origin"] == "desk"
        assert sensor.proc.poll() is None and sensor.proc.pid == pid  # the same process: no restart
        assert any("campaign poll-day v2 (desk)" in line for line in sensor.lines)
        two_hops = sensor.wait_status(lambda s: running(2, "desk")(s) and s.get("sweeps", 0) >= 2, "sweeps of v2")
        assert two_hops["sweeps"] >= 2

        admin.close()
        server.__exit__()  # the desk goes away
        server = None
        sensor.wait_status(running(2, "disk"), "campaign v2 from the disk copy")
        assert sensor.proc.poll() is None
        saved = json.loads((tmp_path / "queue.campaign.json").read_text())
        assert saved["campaign"]["version"] == 2
        assert sensor.stop() == 0
    finally:
        if sensor is not None and sensor.proc.poll() is None:
            sensor.proc.kill()
        if server is not None:
            admin.close()
            server.__exit__()

    # a start while the desk is still away runs the copy on disk, and says so
    again = Sensor(url, tokens["sensor"], queue)
    try:
        first = again.wait_status(lambda s: s.get("campaign") is not None, "a campaign")
        assert first["campaign"] == {"name": "poll-day", "version": 2} and first["campaign_origin"] == "disk"
    finally:
        assert again.stop() == 0
