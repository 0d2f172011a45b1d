"""`spectrum replay` over many captures: folders and globs, one JSON-lines stream naming each
file, a bad capture reported while the rest go on, and the same events serially, in local
processes and on a Dask cluster."""

from __future__ import annotations

import json
import shutil

import pytest

from spectrum.archive_replay import find_captures
from spectrum.errors import ConfigError


def _without_ids(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "id"} for e in lines]  # ids are fresh UUIDs per run


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Three 4 s scenes (jammer on from 1.6 to 3.2 s), one in a sub-folder, and a bad raw file."""
    from spectrum.cli.simulate_cmd import write_scenario
    from spectrum.sim.scenarios import get_scenario

    root = tmp_path_factory.mktemp("archive")
    (root / "day2").mkdir()
    for i, (name, folder) in enumerate((("tone", root), ("pulsed_50pct", root), ("barrage_wide", root / "day2"))):
        write_scenario(get_scenario(name), folder / name, 4.0, seed=20 + i)
    return root


def test_folders_globs_and_files_are_expanded(archive, tmp_path):
    (archive / "day2" / "notes.txt").write_text("not a capture")
    (archive / "day2" / "rec.partial.sigmf-meta").write_text("{}")  # a recorder's checkpoint
    found = find_captures([str(archive)])
    assert [p.rsplit("/", 1)[1] for p in found] == ["barrage_wide.sigmf-meta", "pulsed_50pct.sigmf-meta",
                                                    "tone.sigmf-meta"]
    assert find_captures([str(archive / "*.sigmf-meta"), str(archive / "tone.sigmf-meta")]) == found[1:]
    assert find_captures([str(tmp_path / "missing.cu8")]) == [str(tmp_path / "missing.cu8")]  # reported by replay
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no captures in this folder"):
        find_captures([str(tmp_path / "empty")])


def test_one_stream_names_each_file_and_a_bad_capture_does_not_stop_the_rest(cli, archive, tmp_path):
    bad = tmp_path / "bad_433.92M_250k.cu8"
    bad.write_bytes(b"\x01")  # half an IQ pair
    result = cli("replay", archive, bad, "--json")
    assert result.code == 2, result.err
    assert f"{bad}: error:" in result.err and "3 of 4 captures replayed" in result.err
    events = result.json_lines()
    assert {e["file"] for e in events} == set(find_captures([str(archive)]))
    one = cli("replay", archive / "tone.sigmf-meta", "--json")  # the single-capture path, same detector
    assert one.code == 0
    alone = [{**e, "file": str(archive / "tone.sigmf-meta")} for e in one.json_lines()]
    assert _without_ids([e for e in events if e["file"].endswith("tone.sigmf-meta")]) == _without_ids(alone)


def test_local_processes_and_dask_give_the_serial_events(cli, archive):
    serial = cli("replay", archive, "--json")
    assert serial.code == 0, serial.err
    assert serial.json_lines(), "the scenes hold jammers"
    pooled = cli("replay", archive, "--json", "--jobs", "2")
    assert pooled.code == 0, pooled.err
    assert _without_ids(pooled.json_lines()) == _without_ids(serial.json_lines())

    distributed = pytest.importorskip("dask.distributed", reason="Dask is an optional extra ([dask])")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on_dask = cli("replay", archive, "--json", "--dask", cluster.scheduler_address)
    assert on_dask.code == 0, on_dask.err
    assert _without_ids(on_dask.json_lines()) == _without_ids(serial.json_lines())


def test_out_dir_writes_one_file_per_capture_even_when_names_repeat(cli, archive, tmp_path):
    twin = tmp_path / "twin"
    twin.mkdir()
    for suffix in (".sigmf-meta", ".sigmf-data"):
        shutil.copy(archive / f"tone{suffix}", twin / f"tone{suffix}")
    out = tmp_path / "out"
    result = cli("replay", archive / "tone.sigmf-meta", twin / "tone.sigmf-meta", "--out-dir", out)
    assert result.code == 0, result.err
    files = sorted(p.name for p in out.iterdir())
    assert files == ["tone-2.events.jsonl", "tone.events.jsonl"]
    first = [json.loads(line) for line in (out / "tone.events.jsonl").read_text().splitlines()]
    second = [json.loads(line) for line in (out / "tone-2.events.jsonl").read_text().splitlines()]
    assert first and [e["file"] for e in second] == [str(twin / "tone.sigmf-meta")] * len(second)
    assert result.out == ""


@pytest.mark.parametrize("option,value", [("--plot", "x.png"), ("--save-baseline", "b.npz"), ("--evidence", "clips")])
def test_single_capture_options_are_refused_for_several(cli, archive, option, value, tmp_path):
    result = cli("replay", archive, option, tmp_path / value)
    assert result.code == 2
    assert f"{option} takes one capture; 3 were given" in result.err


def test_bad_archive_options_are_one_line_errors(cli, archive):
    assert "--jobs 0: must be at least 1" in cli("replay", archive, "--jobs", "0").err
    refused = cli("replay", archive, "--dask", "tcp://127.0.0.1:9")
    assert refused.code == 2 and "--dask tcp://127.0.0.1:9:" in refused.err
