"""Summaries of randomised-scene records and the bench-detect options around them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spectrum.evaluate.bench_detect import interleave
from spectrum.evaluate.randomized_report import bucket, confusion, pd_table, poisson_upper, summary


def lab(kind, jnr, detected_kind=None, onset="abrupt", latency=0.2, iou=0.9, jnr0=None, width=2e5):
    return {"kind": kind, "what": kind, "jnr_db": jnr, "onset": onset, "detected": detected_kind is not None,
            "detected_kind": detected_kind, "latency_s": latency if detected_kind else None,
            "freq_iou": iou if detected_kind else None, "jnr0_s": jnr0, "freq_low_hz": 0.0, "freq_high_hz": width,
            "params": {}}


def record(labels, clean=False, false_events=(), duration=3600.0, false_overloads=0):
    return {"seed": 1, "clean": clean, "duration_s": duration, "labels": list(labels),
            "false_events": list(false_events), "false_overloads": false_overloads, "events": 0}


RECORDS = [
    record([lab("tone", 5.0, "tone"), lab("tone", -4.0), lab("pulsed", 12.0, "swept")]),
    record([lab("wideband_noise", -2.0, "interference", width=1.2e6), lab("swept", 20.0, "swept", onset="ramp",
                                                                              latency=1.5, jnr0=9.0)]),
    record([], clean=True, false_events=[{"kind": "pulsed"}], duration=1800.0, false_overloads=1),
]


def test_confusion_counts_reported_kinds_and_misses():
    matrix = confusion([l for r in RECORDS for l in r["labels"]])
    assert matrix["tone"] == {"tone": 1, "missed": 1}
    assert matrix["pulsed"] == {"swept": 1} and matrix["wideband_noise"] == {"interference": 1}


def test_pd_is_per_kind_and_bucket():
    table = pd_table([l for r in RECORDS for l in r["labels"]])
    assert table["tone"] == {"3..6": (1, 1), "-6..-3": (0, 1)}
    assert bucket(-3.0) == "-3..0" and bucket(30.0) == "20..30" and bucket(0.0) == "0..3"


def test_summary_headlines():
    s = summary(RECORDS)
    assert s["labels"] == 5 and s["pd"] == pytest.approx(0.8)
    assert s["class_accuracy"] == pytest.approx(2 / 4)  # interference and swept-for-pulsed are wrong
    assert s["median_ramp_latency_s"] == pytest.approx(1.5) and s["median_latency_s"] == pytest.approx(0.2)
    assert s["pd_barrage_1mhz_m3db"] == 1.0 and s["clean_false_per_h"] == pytest.approx(2.0)
    assert s["false_overloads"] == 1 and s["clean_false_kinds"] == {"pulsed": 1}


def test_pd_apart_from_jammers_under_a_stronger_legitimate_signal():
    """Labels at JNR ≥ 0 whose J/(N+I) < 0 are counted apart; records without J/(N+I) give none."""
    labels = [{**lab("tone", 5.0, "tone"), "jinr_db": 2.0}, {**lab("tone", 8.0), "jinr_db": -6.0},
              {**lab("pulsed", 3.0), "jinr_db": 1.0}, {**lab("swept", -2.0), "jinr_db": -9.0}]
    s = summary([record(labels)])
    assert s["labels_jnr_ge_0_judged"] == 3 and s["labels_under_background"] == 1
    assert s["pd_jinr_ge_0"] == pytest.approx(0.5)
    assert s["pd_jinr_ge_0_kinds"]["tone"] == 1.0 and s["pd_jinr_ge_0_kinds"]["pulsed"] == 0.0
    assert summary(RECORDS)["labels_jnr_ge_0_judged"] == 0 and summary(RECORDS)["pd_jinr_ge_0"] is None


def test_poisson_upper_bound_is_the_exact_one():
    assert poisson_upper(0, 1.0) == pytest.approx(-np.log(0.05))  # 2.996: the "rule of three"
    rng = np.random.default_rng(3)  # the bound covers the true rate at least 95 % of the time
    hits = [poisson_upper(int(rng.poisson(4.0)), 1.0) >= 4.0 for _ in range(2000)]
    assert np.mean(hits) >= 0.95


def test_interleave_keeps_both_orders_in_proportion():
    merged = interleave([1, 2, 3, 4], [10, 11])
    assert sorted(merged) == [1, 2, 3, 4, 10, 11]
    assert [s for s in merged if s < 10] == [1, 2, 3, 4] and merged.index(10) < merged.index(3)


def test_bench_detect_summarises_a_results_file(cli, tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    png = tmp_path / "pd.png"
    result = cli("bench-detect", "--from-results", path, "--png", png)
    assert result.code == 0, result.err
    assert "confusion" in result.out and "1 false events in 0.50 h" in result.out
    assert png.stat().st_size > 1000


@pytest.mark.parametrize("args, fragment", [
    (("--randomized", "0"), "--randomized 0"),
    (("--randomized", "3", "--jobs", "0"), "--jobs 0"),
    (("--from-results", "missing.jsonl"), "--from-results missing.jsonl"),
    (("--write-scenes", "5"), "--out"),
    (("--write-scenes", "99999999", "--out", "."), "seed 99999999"),
    (("--randomized", "3", "--scene-cache", "pyproject.toml"), "--scene-cache pyproject.toml"),
])
def test_bad_options_are_one_line_and_exit_2(cli, args, fragment):
    result = cli("bench-detect", *args)
    assert result.code == 2 and fragment in result.err and len(result.err.strip().splitlines()) == 1


def test_scene_cache_renders_once_and_leaves_no_partial_files(tmp_path, monkeypatch):
    import dataclasses

    from spectrum.evaluate.randomized_bench import cached_scene
    from spectrum.sim import random_scenes
    from spectrum.sim.random_scenes import draw_scene, split_seeds

    scene = dataclasses.replace(draw_scene(split_seeds("dev", 1)[0]), duration_s=0.2)
    data, labels = cached_scene(scene, tmp_path)
    assert data.stat().st_size == 2 * round(0.2 * scene.sample_rate_hz)  # cu8: two bytes a sample
    kept = sorted(p.name for p in data.parent.iterdir())
    assert kept == sorted([data.name, data.name.replace(".cu8", ".labels.json")])  # no partial names

    def no_render(*_args, **_kw):
        raise AssertionError("a cached scene was rendered again")

    monkeypatch.setattr(random_scenes, "write_scene", no_render)
    again, labels_again = cached_scene(scene, tmp_path)
    assert again == data and labels_again == labels
