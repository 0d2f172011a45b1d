"""`spectrum demo`: the desk and three simulated sensors in one command; and the sim source's
``clean``/``hold`` options that time its jammers without rendering more."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest

from spectrum.sources.sim_source import SimSource


def _power_per_tenth(source: SimSource, seconds: float) -> np.ndarray:
    """Mean |x|² of the delivered cu8 samples per 0.1 s."""
    fs = source.sample_rate_hz
    n = int(seconds * fs)
    got, parts = 0, []
    while got < n:
        block = source.read_block(min(1 << 17, n - got))
        parts.append(block.samples)
        got += block.num_samples
    x = np.concatenate(parts).astype(np.float32) - 127.5
    p = x[0::2] ** 2 + x[1::2] ** 2
    tenth = int(fs / 10)
    return p[: len(p) // tenth * tenth].reshape(-1, tenth).mean(axis=1)


@pytest.mark.parametrize("hold", [True, False])
def test_clean_then_jammer_timing(hold):
    # loop 2 s: the jammer is on over 0.8..1.6 s of the loop; clean=3 puts its first onset at 3 s
    with SimSource("barrage_wide", realtime=False, loop_s=2.0, clean_s=3.0, hold=hold) as source:
        p = _power_per_tenth(source, 6.0)
    quiet = np.median(p[:25])
    jammed = p > 1.5 * quiet
    assert not jammed[:30].any()  # clean up to 3 s (the opening repeats)
    assert jammed[30:38].all()  # on from 3 s
    if hold:
        assert jammed[30:].all()  # and it stays on
    else:  # off at 3.8 s, the loop restarts at 4.2 s, on again at 5.0 s
        assert not jammed[39:49].any() and jammed[50:58].all()


def test_clean_option_is_parsed_and_checked():
    from spectrum.errors import ConfigError
    from spectrum.sources import open_source

    with open_source("sim:barrage_wide?fast&loop=1&clean=5&hold") as source:
        assert source._clean_v == 2 * round((5 - 0.4) * source.sample_rate_hz) and source._hold
    with pytest.raises(ConfigError, match="clean"):
        SimSource("barrage_wide", realtime=False, loop_s=1.0, clean_s=-1)


def test_bad_options_exit_2(capsys):
    from spectrum.cli import main

    assert main(["demo", "--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err
    assert main(["demo", "--seconds", "5", "--jam-after", "1"]) == 2
    assert "--jam-after 1" in capsys.readouterr().err


def test_demo_runs_three_sensors_into_the_service_and_cleans_up():
    from spectrum.live.demo_network import run_demo

    out, err = io.StringIO(), io.StringIO()
    # 30 s: three sensors start on a 2-core machine in about 10 s (imports, rendering the simulated loop)
    summary = run_demo(30, port=0, jam_after_s=4, pulsed_after_s=4, out=out, err=err, stop=threading.Event())
    text = out.getvalue()
    first = text.splitlines()[0]
    assert first.startswith("spectrum demo: dashboard at http://127.0.0.1:") and "/#token=" in first
    assert summary["exit_codes"] == [0, 0, 0]
    assert summary["sensors_heard"] == ["gsm-1", "gsm-2", "pmr-1"]
    assert summary["spectra"] >= 6
    by_site = summary["events_by_site"]
    assert by_site.get("PS-014 Riverside School", 0) >= 1 and by_site.get("PS-027 Town Hall", 0) >= 1
    assert "[PS-014 Riverside School] START" in text
    town_hall = [i for i in summary["incidents"] if i["site"] == "PS-027 Town Hall" and i["kinds"] != ["sensor_fault"]]
    assert len(town_hall) == 1 and town_hall[0]["state"] == "active"  # its bursts are one incident
    assert not Path(summary["work_dir"]).exists()
