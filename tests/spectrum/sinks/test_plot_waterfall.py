"""Waterfall sink and pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spectrum.sinks.waterfall_png import save_waterfall_png
from spectrum.sinks.waterfall_sink import WaterfallSink

PNG = b"\x89PNG\r\n\x1a\n"


def test_sink_decimates_within_bounds_and_keeps_levels() -> None:
    sink = WaterfallSink(max_rows=8)
    power = np.full((3, 16), 1e-3, np.float32)  # -30 dBFS
    for batch in range(10):
        sink.add(power, batch * 3 * 0.025, 0.025, 1e8, 1.6e6, 32)
    db, times, freqs = sink.arrays()
    assert db.shape[0] <= 8 + 1 and sink.decimation > 1
    np.testing.assert_allclose(db, -30.0, atol=1e-4)
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    assert freqs[8] == 1e8 and freqs[1] - freqs[0] == 1e5
    sink.add(power, 0.0, 0.025, 2e8, 1.6e6, 32)  # another tuning: not kept
    assert sink.skipped_rows == 3


def test_save_waterfall_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    power = rng.normal(-60, 1, (50, 64)).astype(np.float32)
    events = [{"kind": "tone", "offset_start_s": 0.2, "offset_end_s": 0.6, "freq_low_hz": 1.0001e8,
               "freq_high_hz": 1.00011e8, "severity": "critical"},
              {"kind": "wideband_noise", "offset_start_s": 0.8, "offset_end_s": None,
               "freq_low_hz": 0.9995e8, "freq_high_hz": 1.0005e8}]
    out = save_waterfall_png(tmp_path / "w.png", power, np.arange(50) * 0.025,
                             1e8 + (np.arange(64) - 32) * 2e3, events, title="t")
    assert out.read_bytes()[:8] == PNG
    assert [p.name for p in tmp_path.iterdir()] == ["w.png"]
    with pytest.raises(ValueError):
        save_waterfall_png(tmp_path / "x.png", power, np.arange(3), np.arange(64), [])


def test_plot_cli_on_sigmf_and_hdf5(cli, scenario_capture, tmp_path: Path) -> None:
    meta = scenario_capture("barrage_wide", 5.0)
    res = cli("plot", meta, "--out", tmp_path / "a.png")
    assert res.code == 0 and "1 event(s)" in res.err
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG
    assert cli("convert", meta, tmp_path / "c.h5").code == 0
    res = cli("plot", tmp_path / "c.h5")
    assert res.code == 0 and (tmp_path / "c.png").read_bytes()[:8] == PNG
    res = cli("plot", tmp_path / "c.h5", "--out", tmp_path / "nodir" / "x.png")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1
