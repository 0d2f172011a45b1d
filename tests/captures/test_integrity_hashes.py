"""Integrity: stored hashes match until anything changes."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from captures import CaptureError, SigMFWriter
from captures.hdf5 import HDF5Writer, partial_path
from captures.integrity import verify_capture


def make_h5(path: Path) -> Path:
    with HDF5Writer(path, "cu8", 1e6, 1e8, attrs={"site": "S1"}, chunk_values=4096) as w:
        w.write(np.arange(20_000, dtype=np.uint8))
        w.add_rows(np.full((4, 16), -50, np.float32), np.arange(4) * 0.01, 1e8,
                   fft_size=16, frames_per_row=8, row_s=0.01)
        w.add_event({"id": "e1", "kind": "tone", "severity": "warning"})
    return path


def test_intact_h5_verifies(tmp_path: Path) -> None:
    report = verify_capture(make_h5(tmp_path / "c.h5"))
    assert report.ok and report.checked == ["iq_sha256", "waterfall_sha256", "metadata_sha256"]


@pytest.mark.parametrize("tamper, what", [
    (lambda f: f["iq"].__setitem__(5, 99), "iq_sha256"),
    (lambda f: f["waterfall/power_dbfs"].__setitem__((1, 1), -10.0), "waterfall_sha256"),
    (lambda f: f["events"].__setitem__(0, json.dumps({"id": "e1", "kind": "tone", "severity": "info"})),
     "metadata_sha256"),
    (lambda f: f.attrs.__setitem__("site", "S2"), "metadata_sha256"),
    (lambda f: f.attrs.__setitem__("sample_rate_hz", 2e6), "metadata_sha256"),
    (lambda f: f["segments"].__setitem__(0, (0, 2e8, np.nan)), "metadata_sha256"),
])
def test_any_change_is_caught(tmp_path: Path, tamper, what: str) -> None:
    path = make_h5(tmp_path / "c.h5")
    with h5py.File(path, "a") as f:
        tamper(f)
    report = verify_capture(path)
    assert not report.ok and any(p.startswith(what) for p in report.problems)


def test_incomplete_and_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "c.h5"
    w = HDF5Writer(path, "cu8", 1e6, 1e8)
    w.write(np.zeros(100, np.uint8))
    w.flush()
    report = verify_capture(partial_path(path))
    assert not report.ok and "incomplete" in report.problems[0]
    w.close()
    (tmp_path / "bad.h5").write_bytes(b"nope")
    with pytest.raises(CaptureError, match="not a readable HDF5"):
        verify_capture(tmp_path / "bad.h5")
    (tmp_path / "x.cu8").write_bytes(b"\0\0")
    with pytest.raises(CaptureError, match="raw files have none"):
        verify_capture(tmp_path / "x.cu8")


def test_sigmf_sha512(tmp_path: Path) -> None:
    with SigMFWriter(tmp_path / "r", "cu8", 1e6, 1e8, None) as w:
        w.write(np.arange(1000, dtype=np.uint8))
    assert verify_capture(tmp_path / "r.sigmf-meta").ok
    data = tmp_path / "r.sigmf-data"
    raw = bytearray(data.read_bytes())
    raw[10] ^= 1
    data.write_bytes(bytes(raw))
    report = verify_capture(tmp_path / "r.sigmf-meta")
    assert not report.ok and "mismatch" in report.problems[0]
    meta = json.loads((tmp_path / "r.sigmf-meta").read_text())
    del meta["global"]["core:sha512"]
    (tmp_path / "r.sigmf-meta").write_text(json.dumps(meta))
    report = verify_capture(tmp_path / "r.sigmf-meta")
    assert not report.ok and "nothing to verify" in report.problems[0]
