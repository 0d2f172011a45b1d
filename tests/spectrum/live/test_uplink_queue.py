"""The uplink queue on a small disk that fills: bounded, events first, and never an exception."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid

import pytest

from spectrum.live.uplink_queue import UplinkQueue


def event_item(i: int, ongoing: bool = False) -> tuple[str, str, bool]:
    event = {"id": str(uuid.uuid4()), "kind": "pulsed", "n": i, "end": None if ongoing else "x",
             "pad": "e" * 300}
    return event["id"], json.dumps(event), ongoing


def spectrum_body(i: int) -> str:
    return json.dumps({"id": str(i), "band": "b", "power_dbfs": [-80.123] * 1024})  # ~8 kB, as a real one


def stored(path, kind: str) -> list[dict]:
    with sqlite3.connect(path) as db:
        return [json.loads(b) for (b,) in db.execute("SELECT body FROM outbox WHERE kind = ? ORDER BY seq",
                                                        (kind,))]


def test_cap_is_a_share_of_free_space_and_spectra_go_first(tiny_disk):
    queue = UplinkQueue(tiny_disk / "q.db")
    assert 0.2 * 256 * 1024 < queue.max_bytes <= 0.3 * 256 * 1024  # 30 % of what the disk has
    ids = []
    for i in range(200):  # 1.6 MB of spectra and 20 kB of events into a 256 kB disk
        queue.put_spectrum(str(i), spectrum_body(i))
        if i % 4 == 0:
            key, body, ongoing = event_item(i)
            ids.append(key)
            queue.put_events([(key, body, ongoing)])
        queue.put_heartbeat(json.dumps({"i": i}))
    assert queue.used_bytes() <= queue.max_bytes
    assert queue.dropped["event"] == 0 and queue.dropped["spectrum"] > 150
    queue.close()
    assert [e["id"] for e in stored(tiny_disk / "q.db", "event")] == ids  # every event, in order
    kept = [int(s["id"]) for s in stored(tiny_disk / "q.db", "spectrum")]
    assert kept == list(range(200 - len(kept), 200))  # the newest spectra stayed
    assert json.loads(sqlite3.connect(tiny_disk / "q.db").execute(
        "SELECT body FROM outbox WHERE kind = 'heartbeat'").fetchone()[0]) == {"i": 199}


def test_a_disk_filled_by_someone_else_holds_events_in_memory_then_stores_them(tiny_disk):
    queue = UplinkQueue(tiny_disk / "q.db", max_bytes=10**9)  # a cap larger than the disk ...
    assert queue.max_bytes <= shutil.disk_usage(tiny_disk).free + 50_000  # ... is cut to what it has
    for i in range(4):
        queue.put_spectrum(str(i), spectrum_body(i))
    filler = tiny_disk / "other-program.log"
    with open(filler, "wb", buffering=0) as f:  # another program fills the disk to the last byte
        try:
            while f.write(b"x" * 4096):
                pass
        except OSError:
            pass
    ids = []
    for i in range(30):
        key, body, ongoing = event_item(i)
        ids.append(key)
        queue.put_events([(key, body, ongoing)])  # never raises
        queue.put_spectrum(str(100 + i), spectrum_body(i))
    assert queue.storage_error and "full" in queue.storage_error
    held = len(queue.overflow)
    on_disk = [e["id"] for e in stored(tiny_disk / "q.db", "event")]
    assert held > 0 and sorted(on_disk + list(queue.overflow)) == sorted(ids)
    os.remove(filler)  # the disk has room again
    key, body, ongoing = event_item(99)
    queue.put_events([(key, body, ongoing)])
    assert queue.storage_error is None and not queue.overflow
    queue.close()
    assert [e["id"] for e in stored(tiny_disk / "q.db", "event")] == ids + [key]


def test_open_events_are_closed_at_their_last_sighting_after_a_kill(tmp_path):
    queue = UplinkQueue(tmp_path / "q.db")
    key, body, _ = event_item(0, ongoing=True)
    event = dict(json.loads(body), start="2024-06-09T07:00:01.000Z", offset_start_s=1.0)
    queue.put_events([(key, json.dumps(event), True)])
    closed_key, closed_body, _ = event_item(1)
    queue.put_events([(closed_key, closed_body.replace('"end": "x"', '"end": null'), True)])
    queue.put_events([(closed_key, closed_body, False)])  # this one closed normally
    queue.touch_open("2024-06-09T07:00:09.500Z", 9.5)
    queue.db.close()  # no clean close: as after SIGKILL
    again = UplinkQueue(tmp_path / "q.db")
    orphans = again.close_orphans()
    assert [(o["id"], o["end"], o["offset_end_s"], o["closed_by_restart"]) for o in orphans] == [
        (key, "2024-06-09T07:00:09.500Z", 9.5, True)]
    assert again.close_orphans() == []  # once only
    again.close()
    waiting = {e["id"]: e for e in stored(tmp_path / "q.db", "event")}
    assert waiting[key]["end"] == "2024-06-09T07:00:09.500Z" and waiting[closed_key]["end"] == "x"


def test_bad_settings_are_named(tmp_path):
    from spectrum.errors import ConfigError

    with pytest.raises(ConfigError, match="free_share"):
        UplinkQueue(tmp_path / "q.db", free_share=0)
    with pytest.raises(ConfigError, match="max_bytes"):
        UplinkQueue(tmp_path / "q.db", max_bytes=-1)
