"""spectrum record: from a file and a simulated source, to HDF5 and SigMF; killed recorders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from captures import open_capture
from captures.hdf5 import partial_path

ROOT = Path(__file__).resolve().parents[2]


def contract(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k not in ("id", "start", "end")} for e in lines]


def test_record_file_source_to_hdf5_replays_the_same(cli, scenario_capture, tmp_path: Path) -> None:
    meta = scenario_capture("barrage_wide", 5.0)
    out = tmp_path / "rec.h5"
    res = cli("record", "--source", f"file:{meta}", "--seconds", "10", "--out", out, "--fast",
              "--site", "S1", "--json")
    assert res.code == 0, res.err
    assert "% of one core" in res.err
    recorded = res.json_lines()
    replayed = cli("replay", out, "--json", "--site", "S1").json_lines()
    assert recorded and contract(recorded) == contract(replayed)
    with open_capture(out) as reader:
        assert reader.complete and reader.num_samples == 12_000_000 and reader.attrs["site"] == "S1"
        assert contract(reader.events) == contract(recorded)
    assert cli("verify", out).code == 0


def test_record_sim_to_sigmf(cli, tmp_path: Path) -> None:
    sigmf = pytest.importorskip("sigmf")
    out = tmp_path / "sim.sigmf-meta"
    res = cli("record", "--source", "sim:clean_quiet?fast&loop=0.5", "--seconds", "1", "--out", out)
    assert res.code == 0, res.err
    sigmf.sigmffile.fromfile(str(out)).validate()
    with open_capture(out) as reader:
        assert reader.num_samples == 2_400_000


def test_record_bad_options_exit_2(cli, tmp_path: Path) -> None:
    for args in (["--source", "nope:1"], ["--source", "sim:clean_quiet", "--out", tmp_path / "x.txt"],
                 ["--source", "sim:clean_quiet", "--out", tmp_path / "no" / "x.h5"]):
        full = ["record", "--seconds", "1", "--out", tmp_path / "x.h5", *args]
        res = cli(*full)
        assert res.code == 2, res.err
    assert list(tmp_path.iterdir()) == []


def _start_realtime_recorder(meta: Path, out: Path) -> tuple[dict, subprocess.Popen]:
    """`spectrum record` of a 12 s capture paced in real time, flushing every 0.3 s, in a child
    process (to be killed mid-recording: long enough that a slow or busy host that starts late
    or falls behind is still recording when the kill comes); returns its environment and the
    process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "spectrum", "record", "--source", f"file:{meta}?realtime",
         "--seconds", "12", "--out", str(out), "--flush-s", "0.3"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return env, proc


def test_killed_recorder_leaves_a_readable_partial_file(scenario_capture, tmp_path: Path) -> None:
    meta = scenario_capture("barrage_wide", 12.0)
    out = tmp_path / "live.h5"
    env, proc = _start_realtime_recorder(meta, out)
    part = partial_path(out)
    deadline = time.monotonic() + 60
    # wait for a couple of flushes' worth of data (≥ 1 s of cu8 at 2.4 MS/s), however loaded the box
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 5_000_000):
        time.sleep(0.1)
    time.sleep(0.7)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert part.exists() and not out.exists(), proc.stderr.read().decode()
    with open_capture(part) as reader:
        assert not reader.complete and reader.num_samples > 0
        reader.read(0, reader.num_samples)
    res = subprocess.run([sys.executable, "-m", "spectrum", "verify", str(part)], env=env,
                         capture_output=True, text=True)
    assert res.returncode == 1 and "incomplete" in res.stderr


def test_killed_sigmf_recorder_leaves_a_readable_checkpoint(scenario_capture, tmp_path: Path) -> None:
    meta = scenario_capture("barrage_wide", 12.0)
    out = tmp_path / "live.sigmf-meta"
    checkpoint = tmp_path / "live.partial.sigmf-meta"
    _, proc = _start_realtime_recorder(meta, out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not checkpoint.exists():
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists() and not out.exists(), proc.stderr.read().decode()
    with open_capture(checkpoint) as reader:  # whatever came after the checkpoint is ignored
        assert reader.num_samples > 0
        assert reader.read(0, reader.num_samples).size == 2 * reader.num_samples


def test_finished_sigmf_recording_removes_its_checkpoint(scenario_capture, tmp_path: Path) -> None:
    meta = scenario_capture("barrage_wide", 5.0)
    out = tmp_path / "done.sigmf-meta"
    from spectrum.cli import main

    assert main(["record", "--source", f"file:{meta}", "--seconds", "2", "--out", str(out), "--flush-s", "0.05"]) == 0
    assert out.exists() and not (tmp_path / "done.partial.sigmf-meta").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_sigmf_checkpoint_ignores_a_half_written_tail(tmp_path: Path) -> None:
    import numpy as np

    from captures import SigMFWriter

    writer = SigMFWriter(tmp_path / "rec", "cu8", 2.4e6, 942.2e6, None)
    writer.write(np.full(2000, 128, np.uint8))
    checkpoint = writer.checkpoint()
    writer.write(np.full(500, 130, np.uint8))
    writer._file.write(b"\x01")  # a crash in the middle of a sample
    writer._file.flush()
    with open_capture(checkpoint) as reader:
        assert reader.num_samples == 1000
    writer.abort()
    assert not checkpoint.exists()
