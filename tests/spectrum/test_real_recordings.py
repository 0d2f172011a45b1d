"""Real recordings of legitimate signals (../shared/data/real, see its README): none is jamming.

Each file is replayed through the CLI (``spectrum replay --json``). What counts as calling it
jamming: any event of a jamming kind (``wideband_noise``, ``tone``, ``swept``, ``pulsed``) or
``interference`` (real interference of no known kind). ``new_emitter`` is allowed (these are
emitters), and so is ``overload`` where the file really sits at its converter's rails
(integer formats only: float samples have no full scale and never clip).

Files the detector gets wrong today are marked ``xfail(strict=True)`` with the reason, so the
fix shows up as an unexpected pass that must be unmarked.
"""

from __future__ import annotations

import numpy as np
import pytest

JAMMING = {"wideband_noise", "tone", "swept", "pulsed", "interference"}

RECORDINGS = [
    ("adsb_1090M_2M.cu8", ()),
    ("skylink_433.92M_250k.cu8", ()),
    ("sensible_living_433.92M_250k.cu8", ()),
    ("gsm_downlink_941M_500k.cf32", ()),
    ("gsm_downlink_953.6M_1M.cf32", ()),
    ("gsm_uplink_bursts.cf32", ("--rate", "1083333.33", "--freq", "890.2M")),
    ("rc_remote_2475M_2M.cs8", ()),
    ("drone_id_ofdm_2457.5M_50M.cf32", ()),
]


def rail_share(path) -> float:
    """Share of I/Q values at the converter's end codes (0.0 for float files)."""
    if path.suffix == ".cu8":
        codes = np.fromfile(path, np.uint8)
        return float(np.mean((codes == 0) | (codes == 255)))
    if path.suffix == ".cs8":
        codes = np.fromfile(path, np.int8)
        return float(np.mean((codes == -128) | (codes == 127)))
    return 0.0


@pytest.mark.parametrize("name, options", RECORDINGS)
def test_a_real_legitimate_recording_is_not_called_jamming(name, options, real_dir, cli):
    path = real_dir / name
    result = cli("replay", path, "--json", *options)
    assert result.code == 0, result.err
    events = result.json_lines()
    jamming = [(e["kind"], e["freq_low_hz"], e["freq_high_hz"]) for e in events if e["kind"] in JAMMING]
    assert not jamming, f"{name}: legitimate signals reported as {jamming}"
    overloads = [e for e in events if e["kind"] == "overload"]
    assert not overloads or rail_share(path) > 0, f"{name} never reaches its rails but is reported as overload"
    assert not [e for e in events if e["kind"] == "sensor_fault"]


def test_the_float_files_really_exceed_one_without_clipping(real_dir):
    """These cf32 files hold raw receiver units far above 1.0 (and are not overload)."""
    samples = np.fromfile(real_dir / "gsm_downlink_941M_500k.cf32", np.float32)
    assert np.abs(samples).max() > 10
