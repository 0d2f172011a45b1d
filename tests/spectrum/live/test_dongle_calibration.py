"""Dongle calibration against simulated dongles whose gain and noise figure are known."""

import json

import numpy as np
import pytest

from spectrum.errors import ConfigError
from spectrum.live.dongle_calibration import (Reference, calibrate, calibration_for_source, event_levels,
                                              load_calibration, source_identity)
from spectrum.sources.simdongle_source import SimDongleSource, parse_simdongle

FREQS = (100e6, 900e6)
SECONDS = 0.05


def run(spec, gains, reference=Reference(), nf=None, freqs=FREQS):
    model = parse_simdongle(spec)
    cal = calibrate(lambda g: SimDongleSource(model, g), gains, freqs, reference, model.tuner, model.serial,
                    nf, SECONDS)
    return model, cal


@pytest.mark.parametrize("spec, nf", [
    ("simdongle:A1?seed=1", None),  # R820T, documented NF 3.5 dB
    ("simdongle:B2?seed=2&nf=6&gain0=22&slope=-4&adc=-47", 6.0),  # another chain, its NF given
])
def test_terminator_recovers_the_offset_at_every_gain_and_frequency(spec, nf):
    model, cal = run(spec, [20.7, 44.5, 48.0, 49.6], nf=nf)
    measured = [p for p in cal.points if p.measured]
    assert measured and all(p.gain_db >= 44.5 for p in measured)  # only where thermal noise shows
    for p in measured:
        assert p.offset_db == pytest.approx(model.true_offset_db(p.gain_db, p.center_freq_hz), abs=0.3)
    # between and below measured steps, and between frequencies: the gain table and interpolation
    for g in (0.0, 12.5, 29.7, 43.9, 49.6):
        for f in (100e6, 400e6, 900e6):
            assert cal.offset_db(g, f) == pytest.approx(model.true_offset_db(g, f), abs=0.3), (g, f)
    low = [p for p in cal.points if p.gain_db == 20.7]
    assert all(not p.measured and "ADC" in p.note for p in low)


def test_a_wrong_noise_figure_shifts_the_offset_by_its_error():
    model, cal = run("simdongle:C3?seed=3&nf=6", [49.6])  # the file assumes the documented 3.5 dB
    p = cal.points[0]
    assert p.measured
    assert p.offset_db - model.true_offset_db(49.6, p.center_freq_hz) == pytest.approx(-2.5, abs=0.3)


def test_a_signal_generator_calibrates_low_gains_and_refuses_clipping():
    model, cal = run("simdongle:D4?seed=4&input=tone:-60@433.92e6", [0.0, 20.7, 49.6], Reference.parse("tone:-60@433.92e6"))
    by_gain = {p.gain_db: p for p in cal.points}
    for g in (0.0, 20.7):
        assert by_gain[g].measured
        assert by_gain[g].offset_db == pytest.approx(model.true_offset_db(g, by_gain[g].center_freq_hz), abs=0.3)
    assert not by_gain[49.6].measured and by_gain[49.6].note.startswith("clipping")


def test_a_noise_source_reference():
    # a -140 dBm/Hz source stays under the ADC floor at the lowest step (where that floor is taken)
    model, cal = run("simdongle:E5?seed=5&input=noise:-140", [20.7, 29.7], Reference.parse("noise:-140"))
    for p in cal.points:
        assert p.measured
        assert p.offset_db == pytest.approx(model.true_offset_db(p.gain_db, p.center_freq_hz), abs=0.3)


def test_file_round_trip_and_refusal_for_another_dongle(tmp_path):
    model, cal = run("simdongle:F6?seed=6", [49.6], freqs=(100e6,))
    path = tmp_path / "cal.json"
    cal.save(path)
    back = load_calibration(path, "F6", "r820t")
    assert back.offset_db(29.7, 433e6) == pytest.approx(cal.offset_db(29.7, 433e6))
    assert event_levels(-40.0, back, 29.7, 100e6) == {"calibrated": True,
                                                      "peak_dbm": pytest.approx(-40.0 + cal.offset_db(29.7, 100e6), abs=0.01)}
    assert event_levels(-40.0, None, 29.7, 100e6) == {"calibrated": False}
    assert event_levels(-40.0, back, None, 100e6) == {"calibrated": False}  # AGC: no fixed gain
    with pytest.raises(ConfigError) as err:
        load_calibration(path, "G7", "r820t")
    text = str(err.value)
    assert "\n" not in text and "F6" in text and "G7" in text and str(path) in text
    with pytest.raises(ConfigError, match="tuner e4000"):
        load_calibration(path, "F6", "e4000")
    cal_back, note = calibration_for_source(path, SimDongleSource(model))
    assert cal_back.serial == "F6" and note == "checked serial F6 and tuner r820t"
    with pytest.raises(ConfigError, match="serial G7"):
        calibration_for_source(path, SimDongleSource(parse_simdongle("simdongle:G7")))
    with pytest.raises(ConfigError, match="does not say which dongle"):
        calibration_for_source(path, object())

    class RtlTcp:  # an rtl_tcp client knows the server's tuner type, not the dongle's serial
        tuner_type = 5

    assert source_identity(RtlTcp()) == (None, "r820t")
    _, note = calibration_for_source(path, RtlTcp())
    assert "tuner (r820t) only" in note and "F6" in note
    RtlTcp.tuner_type = 1
    with pytest.raises(ConfigError, match="tuner e4000"):
        calibration_for_source(path, RtlTcp())


@pytest.mark.parametrize("content, needle", [
    ("{not json", "not JSON"),
    ('{"format": "other"}', "not a dongle calibration"),
    ('{"format": "spectrum-dongle-calibration", "version": 9}', "version 9"),
    ('{"format": "spectrum-dongle-calibration", "version": 1, "serial": "x"}', "malformed"),
])
def test_bad_calibration_files_are_refused_naming_the_file(tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=needle) as err:
        load_calibration(path)
    assert "bad.json" in str(err.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_calibration(tmp_path / "missing.json")


def test_frequencies_outside_the_tuner_and_unknown_noise_figures_are_refused():
    with pytest.raises(ConfigError, match="--freqs 2000 MHz"):
        run("simdongle:H8", [49.6], freqs=(2000e6,))
    with pytest.raises(ConfigError, match="--noise-figure"):
        run("simdongle:H8?tuner=r828d", [49.6])
    with pytest.raises(ConfigError, match="--reference"):
        Reference.parse("tone:-60")
    with pytest.raises(ConfigError, match="unknown option"):
        parse_simdongle("simdongle:H8?gain=3")


def test_identity_of_an_rtlsdr_source_from_its_driver():
    class Dev:
        @staticmethod
        def get_device_serial_addresses():
            return ["00000001", "00000042"]

        def get_tuner_type(self):
            return 5

    class Source:  # what RtlSdrSource holds: the device index and the pyrtlsdr device
        device = 1
        _dev = Dev()

    assert source_identity(Source()) == ("00000042", "r820t")
    Source.device = "site7"
    assert source_identity(Source()) == ("site7", "r820t")
    assert source_identity(object()) == (None, None)


def test_calibrate_command(cli, tmp_path):
    out = tmp_path / "c.json"
    result = cli("calibrate", "--source", "simdongle:CLI1?seed=9", "--out", out, "--gains", "29.7,49.6",
                 "--freqs", "100M", "--seconds", "0.05")
    assert result.code == 0, result.err
    assert "| 49.6 | 100 |" in result.out and "yes" in result.out
    doc = json.loads(out.read_text())
    assert doc["serial"] == "CLI1" and doc["tuner"] == "r820t"
    for args, needle in ((("--reference", "tone:x"), "--reference"), (("--freqs", "3G"), "--freqs"),
                         (("--seconds", "0"), "--seconds"), (("--gains", "a,b"), "--gains")):
        bad = cli("calibrate", "--source", "simdongle:CLI1", "--out", out, *args)
        assert bad.code == 2
        lines = [line for line in bad.err.splitlines() if line.strip()]
        assert "Traceback" not in bad.err and needle in lines[-1], bad.err  # argparse adds its usage above
    assert np.isfinite(load_calibration(out, "CLI1").offset_db(10.0, 500e6))


def test_a_gain_table_error_is_seen_only_where_measured_and_interpolated_between():
    # the real gain runs 3 dB over the nominal table at its top step (linearly less below)
    spec = "simdongle:T9?seed=9&tableerr=3&input=tone:-65@433.92e6"
    model, tone = run(spec, [0.0, 25.4, 38.6], Reference.parse("tone:-65@433.92e6"))
    assert all(p.measured for p in tone.points)
    f = tone.points[0].center_freq_hz
    for g in (0.0, 8.7, 25.4, 33.8, 38.6):  # measured, and between measured steps
        assert tone.offset_db(g, f) == pytest.approx(model.true_offset_db(g, f), abs=0.3), g
    _, term = run(spec.replace("input=tone:-65@433.92e6", "input=terminator"), [49.6], freqs=(f,))
    assert term.offset_db(49.6, f) == pytest.approx(model.true_offset_db(49.6, f), abs=0.3)
    # from the top step down, the nominal table carries the terminator's offset: off by the table's error
    assert term.offset_db(0.0, f) - model.true_offset_db(0.0, f) == pytest.approx(-3.0, abs=0.3)
