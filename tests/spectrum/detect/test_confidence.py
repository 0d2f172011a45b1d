"""The event confidence: its fit, its calibration measures, and the shipped model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spectrum.detect import confidence as model
from spectrum.evaluate.scoring import event_correct
from spectrum.evaluate.reliability import brier, calibration_error, reliability_rows


def _synthetic(n, weights, rng):
    kinds = rng.choice(["wideband_noise", *model.KINDS], size=n)
    z_max = 7.0 * np.exp(rng.exponential(1.0, n))
    hits = rng.integers(2, 300, n)
    kappa = rng.uniform(1.0, 2.0, n)
    x = np.array([model.features(k, z, 7.0, h, e) for k, z, h, e in zip(kinds, z_max, hits, kappa)])
    p = 1.0 / (1.0 + np.exp(-x @ weights))
    return x, rng.random(n) < p, p


def test_fit_recovers_a_known_model_and_its_probabilities_are_calibrated():
    rng = np.random.default_rng(3)
    true = np.array([0.5, -1.0, 0.3, -0.5, 0.2, 0.4, -1.5, 0.4, 0.3])
    x, y, _ = _synthetic(20000, true, rng)
    weights = model.fit(x, y)
    assert np.abs(weights - true).max() < 0.5  # intercept and near-threshold term trade off a little
    x_test, y_test, p_true = _synthetic(20000, true, rng)
    predicted = 1.0 / (1.0 + np.exp(-x_test @ weights))
    assert np.abs(predicted - p_true).mean() < 0.02
    assert calibration_error(predicted, y_test) < 0.02


def test_calibration_error_tells_calibrated_from_overconfident():
    rng = np.random.default_rng(4)
    conf = rng.uniform(0.3, 1.0, 50000)
    outcome = (rng.random(conf.size) < conf).astype(float)
    assert calibration_error(conf, outcome) < 0.01
    overconfident = np.ones(10000)
    right_70 = (rng.random(10000) < 0.7).astype(float)
    assert calibration_error(overconfident, right_70) == pytest.approx(0.3, abs=0.02)
    assert brier(overconfident, right_70) == pytest.approx(0.3, abs=0.02)
    rows = reliability_rows(conf, outcome)
    assert sum(n for _, n, _, _ in rows) == conf.size
    for _, _, mean, share in rows:
        assert abs(mean - share) < 0.02


def test_an_event_is_correct_only_over_interference_of_its_kind():
    label = {"kind": "tone", "start_s": 4.0, "end_s": 8.0, "freq_low_hz": 100.0e6, "freq_high_hz": 100.001e6}
    event = {"kind": "tone", "offset_start_s": 4.1, "offset_end_s": 8.0,
             "freq_low_hz": 100.0000e6, "freq_high_hz": 100.001e6}
    assert event_correct(event, [label])
    assert not event_correct({**event, "kind": "new_emitter"}, [label])
    assert not event_correct({**event, "offset_start_s": 9.0, "offset_end_s": 9.5}, [label])
    assert not event_correct({**event, "freq_low_hz": 101e6, "freq_high_hz": 101.001e6}, [label])
    assert not event_correct(event, [])


def test_the_shipped_model_matches_the_features_and_grows_with_the_evidence():
    saved = json.loads(model.MODEL_PATH.read_text())
    assert tuple(saved["features"]) == model.FEATURES
    assert saved["fitted_on"]["reports"] > 100
    for kind in ("wideband_noise", *model.KINDS):
        weak = model.calibrated_confidence(kind, 7.5, 7.0, 2, 1.5)
        strong = model.calibrated_confidence(kind, 200.0, 7.0, 200, 1.9)
        assert 0.0 < weak < strong < 1.0


def test_a_model_fitted_on_other_features_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "confidence_model.json"
    path.write_text(json.dumps({"features": ["intercept", "something_else"], "weights": [0.0, 1.0], "fitted_on": {}}))
    monkeypatch.setattr(model, "MODEL_PATH", path)
    model._model_weights.cache_clear()
    try:
        with pytest.raises(ValueError, match="refit"):
            model.calibrated_confidence("tone", 10.0, 7.0, 5, 1.8)
    finally:
        model._model_weights.cache_clear()


def test_reports_of_a_replayed_scene_are_judged_at_each_stage():
    """A weak FM radio keying up: reported when it opens and when the capture ends, each report
    judged against the label (a new emitter), and each with the detector's confidence."""
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.evaluate.reliability import collect

    snapshots = collect([5], 5.0, DetectorConfig(), progress=lambda _: None, names=["fm_pmr_10"])
    stages = [s.stage for s in snapshots]
    assert stages[0] == "open" and stages[-1] == "final"
    assert all(s.correct and s.event["kind"] == "new_emitter" for s in snapshots)
    first, last = snapshots[0].event, snapshots[-1].event
    assert 0.0 < first["confidence"] <= last["confidence"] < 1.0
    assert last["hits"] > first["hits"] >= 2


def test_bench_detect_refuses_bad_or_shared_seeds(capsys):
    from spectrum.cli import main

    with pytest.raises(SystemExit) as exit_info:  # argparse: usage error, status 2
        main(["bench-detect", "--reliability", "1,x"])
    assert exit_info.value.code == 2
    assert "integer seeds" in capsys.readouterr().err
    assert main(["bench-detect", "--fit-confidence", "1,2", "--reliability", "2,3"]) != 0
    assert "not fitted on" in capsys.readouterr().err


def test_a_clipping_transmitter_is_named_apart_and_does_not_cut_a_jammer_seen_through_it():
    """A CW jammer on before a 35 dB noise transmitter clips the ADC: one tone event held through
    the overload and marked unreliable, the overload event, and the transmitter itself as a
    barrage on its own band flagged ``overload`` (the scenario labels only the tone and the
    overload). The clipping's spread between them makes nothing: it used to stretch the tone
    into a false 1 MHz sweep, and a culprit track cut to its run of strong bins keeps it apart."""
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.evaluate.reliability import collect

    snapshots = collect([12], 10.0, DetectorConfig(), progress=lambda _: None, names=["overload_and_tone_20"])
    finals = {s.event["kind"]: s.event for s in snapshots if s.stage == "final"}
    assert sorted(finals) == ["overload", "tone", "wideband_noise"]
    assert all(s.correct for s in snapshots if s.event["kind"] != "wideband_noise")
    tone, overload, transmitter = finals["tone"], finals["overload"], finals["wideband_noise"]
    assert tone["offset_start_s"] < overload["offset_start_s"] < overload["offset_end_s"] < tone["offset_end_s"]
    assert tone["unreliable"] is True
    assert transmitter["overload"] is True and transmitter["freq_low_hz"] > tone["freq_high_hz"] + 100e3
    assert abs(transmitter["offset_start_s"] - overload["offset_start_s"]) < 0.1


def test_the_fit_keeps_confidence_rising_with_the_evidence():
    """Outcomes that (by chance of a small sample) fall with a stronger statistic and more rows
    still give a model whose confidence never falls as z_max and hits grow, within a kind."""
    rng = np.random.default_rng(5)
    falling = np.array([1.0, 0.0, 0.0, 0.0, 0.0, -0.8, 1.0, -0.3, -0.2])
    x, y, _ = _synthetic(5000, falling, rng)
    weights = model.fit(x, y)
    named = dict(zip(model.FEATURES, weights))
    assert named["ln_z_margin"] >= 0 and named["near_threshold"] <= 0
    assert named["ln_hits"] >= 0 and named["envelope_margin"] >= 0
    z = np.geomspace(7.0, 2000.0, 60)
    for kind in ("wideband_noise", *model.KINDS):
        conf = [model.predict(model.features(kind, zi, 7.0, 20, 1.8), weights) for zi in z]
        assert np.all(np.diff(conf) >= -1e-12)


def test_a_fitted_model_goes_to_the_named_file_and_into_the_hash(tmp_path):
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.errors import DetectorError

    weights = np.array([0.1, 0.0, 0.0, 0.0, 0.0, 1.0, -1.0, 0.2, 0.1])
    with pytest.raises(DetectorError, match="packaged"):
        model.save_model(weights, {}, model.MODEL_PATH)
    path = tmp_path / "fitted.json"
    model.save_model(weights, {"seeds": [1]}, path)
    assert json.loads(path.read_text())["weights"][5] == 1.0
    own = model.calibrated_confidence("tone", 20.0, 7.0, 10, 1.8, str(path))
    assert own == pytest.approx(model.predict(model.features("tone", 20.0, 7.0, 10, 1.8), weights))
    hashes = {DetectorConfig().config_hash(), DetectorConfig(confidence_model=str(path)).config_hash()}
    model.save_model(weights * 1.01, {"seeds": [1]}, path)
    hashes.add(DetectorConfig(confidence_model=str(path)).config_hash())
    assert len(hashes) == 3
    with pytest.raises(DetectorError, match="not a confidence model"):
        model.calibrated_confidence("tone", 20.0, 7.0, 10, 1.8, str(tmp_path / "missing.json"))


def test_fitting_without_a_named_output_file_is_a_usage_error(capsys):
    from spectrum.cli import main

    assert main(["bench-detect", "--fit-confidence", "1"]) == 2
    assert "--model-out" in capsys.readouterr().err
