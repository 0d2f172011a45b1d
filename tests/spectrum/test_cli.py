"""The CLI contract: results on stdout, one clear line and exit 2 for bad input."""

import json
import subprocess
import sys

import pytest

from spectrum.events import INTERFERENCE_KINDS as JAMMING_KINDS

CONTRACT_FIELDS = {
    "id", "kind", "start", "end", "offset_start_s", "offset_end_s", "freq_low_hz", "freq_high_hz",
    "peak_dbfs", "rise_db", "severity", "confidence", "site", "sensor", "detector",
}


def meta(tmp_path, name="rec", data=b"\x80" * 4096, **global_fields):
    g = {"core:datatype": "cu8", "core:sample_rate": 2.4e6, "core:version": "1.0.0", **global_fields}
    g = {k: v for k, v in g.items() if v is not None}
    doc = {"global": g, "captures": [{"core:sample_start": 0, "core:frequency": 942.2e6}], "annotations": []}
    (tmp_path / f"{name}.sigmf-meta").write_text(json.dumps(doc))
    if data is not None:
        (tmp_path / f"{name}.sigmf-data").write_bytes(data)
    return tmp_path / f"{name}.sigmf-meta"


def assert_one_line_error(result, *needles):
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_odd_byte_count(cli, tmp_path):
    path = tmp_path / "odd.cu8"
    path.write_bytes(b"\x80" * 1001)
    assert_one_line_error(cli("replay", path, "--rate", "2.4M", "--freq", "942.2M"), "odd.cu8", "1001 bytes")


def test_empty_data_file(cli, tmp_path):
    assert_one_line_error(cli("replay", meta(tmp_path, data=b"")), "rec.sigmf-data", "empty")


def test_metadata_without_sample_rate(cli, tmp_path):
    assert_one_line_error(cli("replay", meta(tmp_path, **{"core:sample_rate": None})), "rec.sigmf-meta", "sample_rate")


def test_unknown_datatype(cli, tmp_path):
    assert_one_line_error(cli("replay", meta(tmp_path, **{"core:datatype": "cu4"})), "rec.sigmf-meta", "cu4")


def test_metadata_not_json(cli, tmp_path):
    path = tmp_path / "bad.sigmf-meta"
    path.write_text("{not json")
    (tmp_path / "bad.sigmf-data").write_bytes(b"\x80" * 64)
    assert_one_line_error(cli("replay", path), "bad.sigmf-meta", "JSON")


def test_missing_data_file(cli, tmp_path):
    assert_one_line_error(cli("replay", meta(tmp_path, data=None)), "rec.sigmf-data")


def test_path_that_does_not_exist(cli, tmp_path):
    assert_one_line_error(cli("replay", tmp_path / "nowhere.cu8"), "nowhere.cu8", "no such file")


def test_unknown_extension_without_format(cli, tmp_path):
    path = tmp_path / "capture.xyz"
    path.write_bytes(b"\x80" * 64)
    assert_one_line_error(cli("replay", path, "--rate", "1M", "--freq", "100M"), "capture.xyz", "--format")


def test_bad_option_values_are_usage_errors(cli, tmp_path):
    assert cli("replay", tmp_path / "x.cu8", "--rate", "fast").code == 2
    assert_one_line_error(cli("simulate", "no_such_scenario", "--out", tmp_path / "x"), "no_such_scenario")


def test_debug_shows_the_traceback(cli, tmp_path):
    result = cli("--debug", "replay", tmp_path / "nowhere.cu8")
    assert result.code == 2 and "Traceback" in result.err


def test_real_exit_code_from_a_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "spectrum", "replay", str(tmp_path / "none.cu8")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "none.cu8" in proc.stderr


def test_real_recordings_replay_without_jamming(cli, real_dir):
    for path in sorted(real_dir.glob("*.cu8")):
        result = cli("replay", path, "--json")
        assert result.code == 0, result.err
        kinds = {e["kind"] for e in result.json_lines()}
        assert not kinds & JAMMING_KINDS, (path.name, kinds)


def test_simulate_then_replay_reports_the_jammer_as_contract_json(cli, tmp_path):
    out = tmp_path / "site"
    assert cli("simulate", "barrage_wide", "--seconds", "5", "--out", out, "--seed", "3").code == 0
    labels = json.loads((tmp_path / "site.labels.json").read_text())["labels"]
    result = cli("replay", tmp_path / "site.sigmf-meta", "--json", "--site", "polling-17")
    assert result.code == 0, result.err
    events = result.json_lines()
    assert [e["kind"] for e in events] == ["wideband_noise"]
    event = events[0]
    assert CONTRACT_FIELDS <= set(event)
    assert event["site"] == "polling-17" and event["end"].endswith("Z") and event["start"] < event["end"]
    assert event["detector"]["config_hash"] and event["detector"]["version"]
    assert abs(event["offset_start_s"] - labels[0]["start_s"]) < 0.1
    assert abs(event["offset_end_s"] - labels[0]["end_s"]) < 0.1
    assert event["freq_low_hz"] == pytest.approx(labels[0]["freq_low_hz"], abs=30e3)
    assert event["freq_high_hz"] == pytest.approx(labels[0]["freq_high_hz"], abs=30e3)


def test_table_output_and_simulate_list(cli, tmp_path):
    listing = cli("simulate", "--list")
    assert listing.code == 0 and "barrage_m3db" in listing.out and "clean_busy" in listing.out
    out = tmp_path / "quiet"
    cli("simulate", "clean_quiet", "--seconds", "3", "--out", out)
    result = cli("replay", tmp_path / "quiet.sigmf-meta")
    assert result.code == 0 and "no jamming or interference detected" in result.out


def test_baseline_round_trip_catches_a_jammer_already_on(cli, tmp_path, scenario_capture):
    clean = scenario_capture("clean_gsm", 3.0)
    baseline = tmp_path / "site.npz"
    assert cli("replay", clean, "--save-baseline", baseline).code == 0
    # a capture that starts with the jammer already on: its own first seconds would be learned as normal
    jammed = scenario_capture("barrage_wide", 5.0)
    from captures import open_capture

    with open_capture(jammed) as reader:
        tail = reader.read(int(2.2 * reader.sample_rate_hz), int(1.6 * reader.sample_rate_hz))
    raw = tmp_path / "late_942.2M_2.4M.cu8"
    raw.write_bytes(tail.tobytes())
    without = cli("replay", raw, "--json").json_lines()
    with_baseline = cli("replay", raw, "--json", "--baseline", baseline).json_lines()
    assert not [e for e in without if e["kind"] in JAMMING_KINDS]
    assert [e["kind"] for e in with_baseline] == ["wideband_noise"]
    assert with_baseline[0]["offset_start_s"] < 0.1


def test_baseline_for_another_tuning_is_refused(cli, tmp_path, scenario_capture):
    baseline = tmp_path / "b.npz"
    cli("replay", scenario_capture("clean_gsm", 3.0), "--save-baseline", baseline)
    assert_one_line_error(cli("replay", scenario_capture("clean_pmr", 3.0), "--baseline", baseline), "b.npz", "centre")


def test_replay_writes_evidence_clips_and_a_plot(cli, tmp_path, scenario_capture):
    meta = scenario_capture("barrage_wide", 5.0)
    evidence, plot = tmp_path / "evidence", tmp_path / "waterfall.png"
    result = cli("replay", meta, "--json", "--evidence", evidence, "--plot", plot)
    assert result.code == 0, result.err
    (event,) = result.json_lines()
    clips = sorted(evidence.glob("*.sigmf-meta"))
    assert len(clips) == 1 and event["id"][:8] in clips[0].name
    annotation = json.loads(clips[0].read_text())["annotations"][0]
    assert annotation["core:label"] == "wideband_noise"
    from captures import open_capture

    with open_capture(clips[0]) as clip:  # the IQ spans the event plus a second either side
        assert clip.duration_s == pytest.approx(event["offset_end_s"] - event["offset_start_s"] + 2.0, abs=0.1)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(evidence.glob("*.png"))


def test_plot_to_an_unwritable_place_is_one_line(cli, tmp_path, scenario_capture):
    result = cli("replay", scenario_capture("clean_gsm", 3.0), "--plot", tmp_path / "no" / "such" / "dir" / "w.png")
    assert_one_line_error(result, "--plot")


def test_a_later_segment_keeps_capture_time(cli, tmp_path, scenario_capture):
    """Two tunings in one SigMF: the second band's event is timed from the capture's start."""
    from captures import SigMFWriter, open_capture

    quiet, jammed = scenario_capture("clean_gsm", 3.0), scenario_capture("gnss_l1_barrage", 5.0)
    with open_capture(quiet) as a, open_capture(jammed) as b:
        with SigMFWriter(tmp_path / "two", "cu8", a.sample_rate_hz, a.center_freq_hz, a.start_time) as writer:
            writer.write(a.read(0, a.num_samples))
            writer.new_segment(b.center_freq_hz)
            writer.write(b.read(0, b.num_samples))
    events = cli("replay", tmp_path / "two.sigmf-meta", "--json").json_lines()
    assert [e["kind"] for e in events] == ["wideband_noise"]
    assert events[0]["freq_low_hz"] > 1.5e9
    assert events[0]["offset_start_s"] == pytest.approx(3.0 + 2.0, abs=0.15)  # 3 s segment, then on at 0.4·5 s
