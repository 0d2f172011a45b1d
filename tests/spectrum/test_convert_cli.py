"""spectrum convert / verify / export-csv on a short simulated scenario."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from captures import SigMFWriter, open_capture
from spectrum.cli.convert_cmd import transcode

SCENARIO = ("barrage_wide", 5.0)  # jammer on 2–4 s: one wideband event after the 1.5 s learning


def contract(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "id"} for e in lines]


@pytest.fixture(scope="module")
def converted(scenario_capture, tmp_path_factory) -> tuple[Path, Path]:
    from spectrum.cli import main

    meta = scenario_capture(*SCENARIO)
    out = tmp_path_factory.mktemp("conv") / "bw.h5"
    assert main(["convert", str(meta), str(out)]) == 0
    return meta, out


def test_replay_of_hdf5_equals_replay_of_sigmf(cli, converted) -> None:
    meta, h5 = converted
    a = cli("replay", meta, "--json")
    b = cli("replay", h5, "--json")
    assert a.code == b.code == 0
    assert a.json_lines() and contract(a.json_lines()) == contract(b.json_lines())
    with open_capture(h5) as reader:  # the stored events are the replay's
        assert contract(reader.events) == contract(a.json_lines())
        assert reader.has_waterfall and reader.attrs["detector_config_hash"]


def test_hdf5_to_sigmf_validates_and_keeps_events(cli, converted, tmp_path: Path) -> None:
    sigmf = pytest.importorskip("sigmf")
    _, h5 = converted
    res = cli("convert", h5, tmp_path / "back.sigmf-meta")
    assert res.code == 0, res.err
    sigmf.sigmffile.fromfile(str(tmp_path / "back.sigmf-meta")).validate()
    meta = json.loads((tmp_path / "back.sigmf-meta").read_text())
    assert [a["core:label"] for a in meta["annotations"]] == ["wideband_noise"]
    assert cli("verify", tmp_path / "back.sigmf-meta").code == 0


def test_verify_cli(cli, converted, tmp_path: Path) -> None:
    _, h5 = converted
    ok = cli("verify", h5)
    assert ok.code == 0 and "OK" in ok.out
    copy = tmp_path / "t.h5"
    copy.write_bytes(h5.read_bytes())
    with h5py.File(copy, "a") as f:
        f["iq"][1000] ^= 1
    bad = cli("verify", copy)
    assert bad.code == 1 and "INTEGRITY FAILED" in bad.err and "iq_sha256" in bad.err
    assert len(bad.err.strip().splitlines()) == 1


def test_export_csv_is_rtl_power_layout(cli, converted, tmp_path: Path) -> None:
    _, h5 = converted
    out = tmp_path / "p.csv"
    assert cli("export-csv", h5, "--out", out).code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 5  # 5 s at the default 1 s integration, one hop
    fields = [f.strip() for f in lines[0].split(",")]
    assert fields[0] == "2026-05-03" and fields[1] == "07:00:00"
    low, high, step, samples = int(fields[2]), int(fields[3]), float(fields[4]), int(fields[5])
    dbs = [float(v) for v in fields[6:]]
    assert len(dbs) == 2048 and high - low == 2_400_000 and step == pytest.approx(1171.875, abs=0.01)  # the detector's 2048 bins
    assert low == 942_200_000 - 1_200_000 and samples > 2_000_000
    assert ", " in lines[0] and not lines[0].endswith(",")
    # a barrage second (2–3 s) is louder than a quiet one (0–1 s)
    quiet, jammed = (np.array([float(v) for v in lines[i].split(",")[6:]]) for i in (0, 2))
    assert jammed[300:700].mean() > quiet[300:700].mean() + 5


def test_datatype_conversion_scales_and_clips(tmp_path: Path, cli) -> None:
    u8 = np.arange(256, dtype=np.uint8).repeat(2)
    f32, clipped = transcode(u8, "cu8", "cf32_le")
    assert clipped == 0 and f32.min() == -1.0 and f32.max() == 1.0
    back, clipped = transcode(f32, "cf32_le", "cu8")
    np.testing.assert_array_equal(back, u8)
    loud = np.array([2.0, -2.0, 0.5, 0.0], np.float32)
    out, clipped = transcode(loud, "cf32_le", "ci8")
    assert clipped == 2 and out.tolist() == [127, -128, 64, 0]

    with SigMFWriter(tmp_path / "loud", "cf32_le", 1e6, 1e8, None) as w:
        w.write(np.tile(loud, 1000))
    res = cli("convert", tmp_path / "loud.sigmf-meta", tmp_path / "loud.cu8")
    assert res.code == 0 and "clipped" in res.err and "quantises" in res.err
    assert (tmp_path / "loud.cu8").stat().st_size == 4000
    res = cli("convert", tmp_path / "loud.cu8", tmp_path / "loud16.sigmf-meta", "--to", "cs16",
              "--rate", "1M", "--freq", "100M")
    assert res.code == 0
    with open_capture(tmp_path / "loud16.sigmf-meta") as r:
        assert r.datatype == "ci16_le"


def test_bad_input_and_outputs_exit_2(cli, tmp_path: Path, converted) -> None:
    _, h5 = converted
    (tmp_path / "bad.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    for args in (("convert", tmp_path / "bad.h5", tmp_path / "x.sigmf-meta"),
                 ("convert", h5, tmp_path / "missing" / "x.h5"),
                 ("convert", h5, h5),
                 ("plot", tmp_path / "bad.h5"),
                 ("verify", tmp_path / "bad.h5"),
                 ("export-csv", tmp_path / "bad.h5", "--out", tmp_path / "x.csv")):
        res = cli(*args)
        assert res.code == 2, (args, res.err)
        assert len(res.err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5"]  # nothing half-written


def test_full_disk_during_convert_leaves_nothing(cli, converted, tmp_path: Path, monkeypatch) -> None:
    import errno

    _, h5 = converted
    real = h5py.Dataset.write_direct
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "write_direct", failing)
    res = cli("convert", h5, tmp_path / "copy.h5", "--no-analysis")
    assert res.code == 2 and "No space left on device" in res.err
    assert list(tmp_path.iterdir()) == []
