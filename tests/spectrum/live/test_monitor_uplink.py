"""`spectrum monitor --uplink`: events as they open and close, heartbeats from the health
fields and per-band PSD summaries reach a real service; a dead service leaves them queued."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import httpx
import numpy as np
import pytest
import uvicorn

from spectrum.live.band_plans import single_band
from spectrum.live.monitor import Monitor, MonitorOptions
from spectrum.sources import open_source

GNSS_HZ = 1575.42e6
SITE, SENSOR = "PS-042 Hill School", "gnss-1"


@pytest.fixture
def desk(tmp_path):
    """A service on a free loopback port with a sensor and a viewer token."""
    from service.app import create_app
    from service.auth import create_token
    from service.db import Database
    from service.settings import Settings

    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    db = Database(db_url)
    tokens = {"sensor": create_token(db, "sensor", SITE, SENSOR)[0], "viewer": create_token(db, "viewer")[0]}
    db.dispose()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(db_url=db_url, sqlite_synchronous="NORMAL")),
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    viewer = httpx.Client(base_url=url + "/api/v1", headers={"Authorization": f"Bearer {tokens['viewer']}"})
    yield url, tokens, viewer
    viewer.close()
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_cli_uplink_delivers_events_heartbeat_and_spectra(desk, tmp_path, capsys):
    from spectrum.cli import main

    url, tokens, viewer = desk
    code = main(["monitor", "--source", "sim:gnss_l1_barrage?fast&loop=4", "--duration", "8", "--json",
                 "--site", SITE, "--sensor", SENSOR, "--band", "GNSS L1", "--uplink", url, f"--token={tokens['sensor']}",
                 "--queue", str(tmp_path / "q.db")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "uplink: everything delivered" in err
    assert tokens["sensor"] not in out + err  # the token is never printed
    printed = [__import__("json").loads(line) for line in out.splitlines()]
    closed = {e["id"]: e for e in printed if e["end"] is not None}
    assert len([e for e in closed.values() if e["kind"] != "sensor_fault"]) == 2
    stored = {e["id"]: e for e in viewer.get("/events", params={"limit": 1000}).json()["events"]}
    assert stored.keys() == closed.keys()
    for event_id, event in closed.items():  # the closed state replaced the open one
        assert stored[event_id]["end"] == event["end"] and stored[event_id]["site"] == SITE
        assert stored[event_id]["band"] == "GNSS L1"
    sensor = viewer.get("/sensors").json()["sensors"][0]
    assert (sensor["site"], sensor["sensor"], sensor["status"]) == (SITE, SENSOR, "online")
    beat = sensor["heartbeat"]
    assert beat["drops_total"] == 0 and beat["software_version"] and "queue_size" in beat
    assert beat["session_s"] == pytest.approx(8, abs=0.5)
    spectra = viewer.get("/spectra").json()["spectra"]
    assert spectra and {s["band"] for s in spectra} == {"GNSS L1"}
    for sp in spectra:
        n = len(sp["power_dbfs"])
        assert 128 <= n <= 256
        low, high = sp["freq_start_hz"] - sp["freq_step_hz"] / 2, sp["freq_start_hz"] + (n - 0.5) * sp["freq_step_hz"]
        assert low == pytest.approx(GNSS_HZ - 1.2e6, abs=2e4) and high == pytest.approx(GNSS_HZ + 1.2e6, abs=2e4)


def test_dead_service_keeps_everything_queued_and_exits_cleanly(tmp_path, capsys):
    from spectrum.cli import main

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    queue = tmp_path / "q.db"
    code = main(["monitor", "--source", "sim:gnss_l1_barrage?fast&loop=4", "--duration", "5",
                 "--uplink", f"http://127.0.0.1:{port}", "--token", "x" * 20, "--queue", str(queue),
                 "--flush-timeout", "0.3"])
    err = capsys.readouterr().err
    assert code == 0
    assert "not delivered yet; kept in" in err
    with sqlite3.connect(queue) as db:
        kinds = dict(db.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall())
        events = [__import__("json").loads(b) for (b,) in db.execute("SELECT body FROM outbox WHERE kind = 'event'")]
    # the jammer of the one loop: its closed state replaced the open one waiting in the queue
    assert kinds.get("heartbeat") == 1 and kinds.get("spectrum", 0) >= 1
    assert len(events) == 1 and events[0]["end"] is not None


def test_uplink_options_are_checked(capsys):
    from spectrum.cli import main

    assert main(["monitor", "--source", "sim:clean_quiet?fast", "--token", "abc"]) == 2
    assert "--token needs --uplink" in capsys.readouterr().err
    assert main(["monitor", "--source", "sim:clean_quiet?fast", "--uplink", "http://127.0.0.1:9"],) == 2
    assert "sensor token" in capsys.readouterr().err


class FakeUplink:
    def __init__(self) -> None:
        self.events, self.beats, self.spectra = [], [], []
        self.queue_size = 0

    def send_events(self, events):
        self.events += events

    def send_heartbeat(self, beat):
        self.beats.append(beat)

    def send_spectrum(self, sp):
        self.spectra.append(sp)


def test_psd_summary_is_the_linear_mean_downsampled(monkeypatch):
    up = FakeUplink()
    # 3 s: the CW jammer (on from 0.4 to 0.8 of the loop) lasts well past the 1.5 s of learning
    with open_source("sim:tone?fast&loop=3") as source:
        plan = single_band(source.center_freq_hz, source.sample_rate_hz, name="pmr")
        monitor = Monitor(source, plan, lambda e: None,
                          MonitorOptions(duration_s=3.0, spectrum_interval_s=1e9, heartbeat_interval_s=1e9,
                                         spectrum_bins=100), uplink=up)
        state_rows = []
        orig = Monitor.spectrum_summaries

        def capture(self):
            st = next(iter(self._states.values()))
            state_rows.append((st.psd_acc.copy(), st.psd_rows))
            return orig(self)

        monkeypatch.setattr(Monitor, "spectrum_summaries", capture)
        monitor.run()
    # interval 1e9: the first call (at start) had no rows; the final one holds the whole run
    acc, rows = state_rows[-1]
    sp = up.spectra[-1]
    mean = acc / rows
    n = mean.size
    g = -(-n // 100)  # bins per group: ceil(n / 100), e.g. 2048 bins -> 21 -> 97 groups
    assert len(sp["power_dbfs"]) == n // g
    assert sp["band"] == "pmr" and sp["freq_step_hz"] == pytest.approx(g * 2.4e6 / n)
    k = 20  # a group away from the DC bin (its bins are interpolated)
    expected = 10 * np.log10(mean[k * g:(k + 1) * g].mean())
    assert sp["power_dbfs"][k] == pytest.approx(expected, abs=0.01)
    tone_hz = source.center_freq_hz + 400e3  # the CW jammer stands out in its group
    j = round((tone_hz - sp["freq_start_hz"]) / sp["freq_step_hz"])
    assert sp["power_dbfs"][j] > np.median(sp["power_dbfs"]) + 5  # diluted over its group of bins
    assert up.beats and {"time", "drops_total", "overload", "software_version", "session_s"} <= set(up.beats[-1])
    opened = [e for e in up.events if e["end"] is None]
    closed = [e for e in up.events if e["end"] is not None]
    assert opened and {e["id"] for e in opened} == {e["id"] for e in closed}


def test_a_refused_token_stops_the_uplink_not_the_sensor(desk, tmp_path, capsys):
    from spectrum.cli import main

    url, tokens, viewer = desk
    queue = tmp_path / "q.db"
    code = main(["monitor", "--source", "sim:gnss_l1_barrage?fast&loop=4", "--duration", "8", "--json",
                 "--uplink", url, "--token", "revoked" * 4, "--queue", str(queue), "--flush-timeout", "0.5"])
    out, err = capsys.readouterr()
    assert code == 0
    printed = [__import__("json").loads(line) for line in out.splitlines()]
    jams = [e for e in printed if e["kind"] != "sensor_fault"]
    assert len([e for e in jams if e["end"] is not None]) == 2  # detection went on
    faults = [e for e in printed if e["kind"] == "sensor_fault" and e["fault"] == "uplink_refused"]
    assert faults and "revoked or is wrong" in faults[0]["detail"]  # a fault event says why
    stopped = [line for line in err.splitlines() if "uplink stopped:" in line]
    assert stopped and all("HTTP 401" in line and "revoked or is wrong" in line and str(queue) in line
                           for line in stopped)
    assert viewer.get("/events").json()["events"] == []
    with sqlite3.connect(queue) as db:  # every event kept for a later start with a good token
        kept = {k for (k,) in db.execute("SELECT key FROM outbox WHERE kind = 'event'")}
    assert kept == {e["id"] for e in printed}
