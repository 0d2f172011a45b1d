"""`spectrum monitor --evidence`: IQ clips around live events."""

import json

from spectrum.cli import main


def test_monitor_keeps_a_clip_of_each_event(tmp_path, capsys):
    evidence = tmp_path / "evidence"
    code = main(["monitor", "--source", "sim:barrage_wide?fast", "--duration", "10", "--json",
                 "--evidence", str(evidence)])
    out = capsys.readouterr().out
    assert code == 0
    closed = [e for e in map(json.loads, out.splitlines()) if e["end"] is not None]
    assert [e["kind"] for e in closed] == ["wideband_noise"]
    clips = list(evidence.glob("*.sigmf-meta"))
    assert len(clips) == 1 and closed[0]["id"][:8] in clips[0].name
    annotation = json.loads(clips[0].read_text())["annotations"][0]
    assert annotation["core:label"] == "wideband_noise"


def test_evidence_with_a_sweep_is_refused(tmp_path, capsys):
    code = main(["monitor", "--source", "sim:barrage_wide?fast", "--plan", "election-core",
                 "--evidence", str(tmp_path / "e")])
    assert code == 2 and "--evidence needs one tuning" in capsys.readouterr().err
