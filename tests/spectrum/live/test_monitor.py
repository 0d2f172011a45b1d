"""`spectrum monitor`: events stream as they start and end, with session times, per hop when
sweeping; faults (device lost, drops, antenna) become sensor_fault events; Ctrl-C ends cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from spectrum.live.band_plans import Band, BandPlan
from spectrum.detect.detector_config import DetectorConfig
from spectrum.live.monitor import Monitor, MonitorOptions
from spectrum.sources import ResilientSource, open_source
from spectrum.sources.rtlsdr_source import RtlSdrSource

from source_helpers import FakeWorld, make_driver

GNSS_HZ = 1575.42e6


def test_fixed_tuning_events_open_then_close_in_session_time(capsys):
    from spectrum.cli import main

    code = main(["monitor", "--source", "sim:gnss_l1_barrage?fast&loop=4", "--duration", "8",
                 "--json", "--site", "PS-042", "--sensor", "s1"])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    jams = [e for e in out if e["kind"] != "sensor_fault"]
    ids = []
    for event in jams:
        if event["end"] is None:
            ids.append(event["id"])
        else:
            assert event["id"] in ids  # every close follows its open
    closed = [e for e in jams if e["end"] is not None]
    assert len(closed) == 2  # the jammer of each loop: on at 1.6 s, off at 3.2 s
    for event, on_s in zip(closed, (1.6, 5.6)):
        assert event["offset_start_s"] == pytest.approx(on_s, abs=0.15)
        assert event["offset_end_s"] == pytest.approx(on_s + 1.6, abs=0.4)
        assert event["site"] == "PS-042" and event["sensor"] == "s1"
        assert event["freq_low_hz"] < GNSS_HZ < event["freq_high_hz"]
        assert set(event) >= {"id", "kind", "start", "end", "peak_dbfs", "rise_db", "severity",
                              "confidence", "detector"}


def test_sweep_detects_in_the_hop_that_holds_the_jammer():
    band = Band("gnss", GNSS_HZ - 1.92e6, GNSS_HZ + 1.92e6, dwell_s=0.25, settle_s=0.01)
    assert [round(h.center_freq_hz) for h in band.hops()][1] == round(GNSS_HZ)
    events = []
    with open_source("sim:gnss_l1_barrage?fast&loop=4") as source:
        monitor = Monitor(source, BandPlan("t", (band,)), events.append,
                          MonitorOptions(duration_s=9.5, status_interval_s=0.05))
        health = monitor.run()
    closed = [e for e in events if not e.ongoing]
    jams = [e for e in closed if e.kind != "sensor_fault"]
    assert jams, events
    assert {e.extra["center_freq_hz"] for e in jams} == {GNSS_HZ}
    # the second loop's jammer (5.6-7.2 s), seen after the hop learned its baseline
    assert any(5.3 <= e.offset_start_s <= 6.2 for e in jams), [e.offset_start_s for e in jams]
    assert health["sweeps"] >= 10 and health["hops_visited"] >= 30


def test_device_lost_is_a_fault_event_not_a_crash(world):
    world.lose_after = 40
    events = []
    holder = []

    def factory():
        return RtlSdrSource(0, 2.4e6, GNSS_HZ, driver=make_driver(world), buffer_samples=8192)

    src = ResilientSource(factory, on_fault=lambda *a: holder[0].on_fault(*a), backoff_s=0.05)
    with src:
        monitor = Monitor(src, BandPlan("t", (Band("f", GNSS_HZ - 1.2e6, GNSS_HZ + 1.2e6, crop=0.0,
                                                   dwell_s=float("inf"), settle_s=0.0),)),
                          events.append, MonitorOptions(duration_s=0.6))
        holder.append(monitor)
        health = monitor.run()
    faults = [e for e in events if e.kind == "sensor_fault"]
    assert [(e.extra["fault"], e.ongoing) for e in faults] == [("source_lost", True), ("source_lost", False)]
    assert health["losses"] == 1 and health["reopens"] == 1


def test_antenna_disconnected_is_reported():
    world = FakeWorld(attenuate_after=120)  # ~0.4 s of floor, then 26 dB down
    events = []
    # A queue of 8 s of buffers: on a loaded host the pipeline's first block (loading its
    # compiled kernels) took ~2.7 s, the default 0.4 s queue dropped those samples, the gap
    # counted as session time and the 1.2 s session ended before a floor was learned.
    source = RtlSdrSource(0, 2.4e6, 433.92e6, driver=make_driver(world), buffer_samples=8192,
                          queue_buffers=2400)
    options = MonitorOptions(config=DetectorConfig(learn_s=0.3), duration_s=1.2, antenna_hold_s=0.2)
    with source:
        band = Band("f", 432.72e6, 435.12e6, crop=0.0, dwell_s=float("inf"), settle_s=0.0)
        health = Monitor(source, BandPlan("t", (band,)), events.append, options).run()
    faults = [e for e in events if e.kind == "sensor_fault"]
    antenna = [e for e in faults if e.extra["fault"] == "antenna"]
    assert antenna and antenna[0].ongoing and antenna[0].extra["floor_drop_db"] > 10
    assert not antenna[-1].ongoing  # closed when monitoring ended
    assert health["antenna_suspect"] == []
    assert health["dropped_samples"] == 0  # the check above saw the whole session


def test_slow_pipeline_drops_are_counted_and_reported(monkeypatch):
    world = FakeWorld(pace=False)  # the stand-in delivers as fast as it can
    events = []
    source = RtlSdrSource(0, 2.4e6, 433.92e6, driver=make_driver(world), buffer_samples=8192,
                          queue_buffers=8)
    process = Monitor._process

    def slow_process(self, *args, **kwargs):  # a pipeline slower than the dongle, whatever the host
        time.sleep(0.01)  # 8192 samples are 3.4 ms at 2.4 MS/s
        return process(self, *args, **kwargs)

    monkeypatch.setattr(Monitor, "_process", slow_process)
    with source:
        band = Band("f", 432.72e6, 435.12e6, crop=0.0, dwell_s=float("inf"), settle_s=0.0)
        monitor = Monitor(source, BandPlan("t", (band,)), events.append,
                          MonitorOptions(duration_s=1.0, status_interval_s=0.1))
        health = monitor.run()
    assert health["dropped_samples"] > 0
    drops = [e for e in events if e.kind == "sensor_fault" and e.extra["fault"] == "dropped_samples"]
    assert drops and drops[-1].extra["dropped_samples"] > 0 and not drops[-1].ongoing


def test_ctrl_c_closes_ongoing_events_and_exits_0():
    """The real command, paced in real time; SIGINT while a jammer is on."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "spectrum", "monitor", "--source", "sim:gnss_l1_barrage?loop=4",
         "--json", "--status-interval", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # blocks until the jammer's START (1.6 s into the loop)
        opened = json.loads(first)
        assert opened["end"] is None
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    closed = [json.loads(line) for line in rest.splitlines()]
    assert any(e["id"] == opened["id"] and e["end"] is not None for e in closed)
    assert "status:" in err and "CPU" in err and "stopped;" in err
