"""HDF5 capture: round trips, streaming reads, crash safety and bad input."""

from __future__ import annotations

import errno
import io
import json
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest

from capture_helpers import ALL_DATATYPES, random_samples
from captures import CaptureError, open_capture
from captures.hdf5 import HDF5Writer, open_hdf5, partial_path

START = datetime(2026, 5, 3, 7, 0, tzinfo=timezone.utc)
EVENT = {"id": "e1", "kind": "tone", "start": None, "end": None, "offset_start_s": 0.1,
         "offset_end_s": None, "freq_low_hz": 1.0e8, "freq_high_hz": 1.0e8 + 1e3, "peak_dbfs": -20.0,
         "rise_db": 30.0, "severity": "critical", "confidence": 0.9, "site": None, "sensor": None,
         "detector": {"version": "0.1.0", "config_hash": "abc"}, "spectral_kurtosis": 0.5}


def write_capture(path: Path, datatype: str = "cu8", num_samples: int = 50_000, **kwargs) -> np.ndarray:
    data = random_samples(datatype, num_samples, seed=3)
    with HDF5Writer(path, datatype, 1e6, 1e8, START, attrs={"site": "S1", "gain_db": 20.0},
                    chunk_values=4096, **kwargs) as w:
        w.write(data[: data.size // 2])
        w.new_segment(1.01e8, START)
        w.write(data[data.size // 2 :])
        w.add_rows(np.full((3, 16), -50, np.float32), np.arange(3) * 0.01, 1e8,
                   fft_size=16, frames_per_row=8, row_s=0.01)
        w.add_event(EVENT)
    return data


@pytest.mark.parametrize("datatype", ALL_DATATYPES)
def test_round_trip_every_datatype(tmp_path: Path, datatype: str) -> None:
    path = tmp_path / "c.h5"
    data = write_capture(path, datatype)
    assert not partial_path(path).exists()
    with open_capture(path) as reader:
        assert reader.datatype == datatype and reader.num_samples == data.size // 2
        assert reader.complete and reader.attrs["site"] == "S1"
        assert [s.center_freq_hz for s in reader.segments] == [1e8, 1.01e8]
        assert reader.start_time == START
        np.testing.assert_array_equal(np.concatenate([b.samples for b in reader.blocks(7777)]), data)
        assert reader.events == [EVENT]
        wf = reader.waterfall()
        assert wf.power_dbfs.shape == (3, 16) and wf.row_s == 0.01
        assert wf.freq_hz[8] == 1e8


def test_plain_h5py_can_read_everything(tmp_path: Path) -> None:
    path = tmp_path / "c.h5"
    data = write_capture(path, "ci16_le", compression="gzip")
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["iq"][...], data)
        assert f.attrs["datatype"] == "ci16_le" and f.attrs["sample_rate_hz"] == 1e6
        assert json.loads(f["events"].asstr()[0])["kind"] == "tone"
        assert f["waterfall/power_dbfs"].dtype == np.float32
        assert f["segments"]["center_freq_hz"][1] == 1.01e8


@pytest.mark.parametrize("compression", ["gzip", "lzf"])
def test_compressed_reads_back(tmp_path: Path, compression: str) -> None:
    data = write_capture(tmp_path / "c.h5", compression=compression)
    with open_capture(tmp_path / "c.h5") as reader:
        np.testing.assert_array_equal(reader.read(0, reader.num_samples), data)


def test_reader_accepts_a_buffer_and_close_twice(tmp_path: Path) -> None:
    data = write_capture(tmp_path / "c.h5")
    buf = io.BytesIO((tmp_path / "c.h5").read_bytes())
    reader = open_hdf5(buf)
    np.testing.assert_array_equal(reader.read(100, 10), data[200:220])
    reader.close()
    reader.close()
    with pytest.raises(CaptureError, match="closed"):
        reader.read(0, 1)


def test_exception_inside_with_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "c.h5"
    with pytest.raises(RuntimeError):
        with HDF5Writer(path, "cu8", 1e6, 1e8) as w:
            w.write(np.zeros(100, np.uint8))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_full_disk_is_one_clear_error_and_no_file(tmp_path: Path, monkeypatch) -> None:
    """A write failing with ENOSPC (injected into h5py) → one CaptureError, no file left."""
    real = h5py.Dataset.write_direct
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "write_direct", failing)
    path = tmp_path / "c.h5"
    with pytest.raises(CaptureError, match="No space left on device"):
        with HDF5Writer(path, "cu8", 1e6, 1e8, chunk_values=4096) as w:
            for _ in range(10):
                w.write(np.zeros(20_000, np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="does not exist"):
        HDF5Writer(tmp_path / "missing" / "c.h5", "cu8", 1e6, 1e8)
    with pytest.raises(CaptureError, match="must end in .h5"):
        HDF5Writer(tmp_path / "c.txt", "cu8", 1e6, 1e8)
    (tmp_path / "d.h5").mkdir()
    with pytest.raises(CaptureError, match="directory"):
        HDF5Writer(tmp_path / "d.h5", "cu8", 1e6, 1e8)


def test_bad_files_raise_capture_error(tmp_path: Path) -> None:
    path = tmp_path / "c.h5"
    write_capture(path)
    raw = path.read_bytes()
    (tmp_path / "trunc.h5").write_bytes(raw[: len(raw) // 3])
    (tmp_path / "junk.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    for name in ("trunc.h5", "junk.h5"):
        with pytest.raises(CaptureError):
            with open_capture(tmp_path / name) as reader:
                reader.read(0, reader.num_samples)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1]
    with pytest.raises(CaptureError, match="not a spectrum HDF5 capture"):
        open_capture(tmp_path / "other.h5")
    broken = tmp_path / "noiq.h5"
    broken.write_bytes(raw)
    with h5py.File(broken, "a") as f:
        del f["iq"]
    with pytest.raises(CaptureError, match="/iq is missing"):
        open_capture(broken)
    with h5py.File(broken, "a") as f:
        f["iq"] = np.zeros(10, np.float32)
    with pytest.raises(CaptureError, match="dtype float32"):
        open_capture(broken)


def test_flushed_partial_file_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "live.h5"
    script = f"""
import sys, time, numpy as np
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from captures.hdf5 import HDF5Writer
w = HDF5Writer({str(path)!r}, "cu8", 1e6, 1e8, chunk_values=4096)
for i in range(10_000):
    w.write(np.full(8192, i % 256, np.uint8))
    if i % 5 == 4:
        w.flush()
        print(w.num_samples, flush=True)
    time.sleep(0.001)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    flushed = [int(proc.stdout.readline()) for _ in range(6)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    part = partial_path(path)
    assert part.exists() and not path.exists()
    with open_capture(part) as reader:
        assert not reader.complete
        assert reader.num_samples >= flushed[-1]
        head = reader.read(0, flushed[-1])
        assert head[0] == 0 and head[-1] == (flushed[-1] * 2 // 8192 - 1) % 256
