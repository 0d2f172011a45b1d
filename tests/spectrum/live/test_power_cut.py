"""A power cut: ``spectrum monitor`` killed with SIGKILL while a jammer is on, then restarted.

Every event it printed before the kill reaches the desk exactly once, and the event that was
open at the kill is closed at the last time the sensor saw it, flagged ``closed_by_restart``.
A real monitor process, a real desk (uvicorn on loopback), a real kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tests.service.service_helpers import desk, desk_factory  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[3]


def monitor(url: str, token: str, queue: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), SPECTRUM_TOKEN=token)
    return subprocess.Popen([sys.executable, "-m", "spectrum", "monitor", "--json", "--site", "s1",
                             "--sensor", "a", "--uplink", url, "--queue", str(queue), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def desk_events(desk) -> list[dict]:
    with desk.client("viewer") as client:
        return client.get("/api/v1/events", params={"limit": 1000}).json()["events"]


def test_sigkill_then_restart_delivers_every_event_once_and_closes_the_open_one(desk, tmp_path):
    queue = tmp_path / "q.db"
    first = monitor(desk.url, desk.tokens["sensor"], queue, "--source", "sim:gnss_l1_barrage?clean=3&hold",
                    "--status-interval", "0.3")
    printed: list[dict] = []
    try:
        while True:  # the jammer opens at 3 s (after the baseline) and stays on
            line = first.stdout.readline()
            assert line, first.stderr.read()[-2000:]
            printed.append(json.loads(line))
            if printed[-1]["end"] is None and printed[-1]["kind"] != "sensor_fault":
                break
        time.sleep(1.5)  # the jammer is still on: status ticks note it as seen
        killed_at = datetime.now(timezone.utc)
        first.send_signal(signal.SIGKILL)  # no handler runs: as a power cut
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    open_at_kill = printed[-1]
    second = monitor(desk.url, desk.tokens["sensor"], queue, "--source", "sim:clean_gnss?fast",
                     "--duration", "2", "--flush-timeout", "20")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    recovered = [json.loads(line) for line in out.splitlines() if '"closed_by_restart"' in line]
    assert [e["id"] for e in recovered] == [open_at_kill["id"]], (out[-1500:], err[-1500:])
    assert "closed at the last time they were seen" in err and "everything delivered" in err
    stored = desk_events(desk)
    ids = [e["id"] for e in stored]
    assert len(ids) == len(set(ids))  # nothing stored twice
    assert {e["id"] for e in printed} <= set(ids)  # everything printed before the kill arrived
    closed = next(e for e in stored if e["id"] == open_at_kill["id"])
    assert closed["end"] is not None and closed.get("closed_by_restart") is True
    start, end = (datetime.fromisoformat(closed[k].replace("Z", "+00:00")) for k in ("start", "end"))
    assert start <= end <= killed_at  # ended when last seen, not at the restart
    assert (end - start).total_seconds() >= 0.5  # it was seen on for a while after it opened
    assert closed["offset_end_s"] >= closed["offset_start_s"]
