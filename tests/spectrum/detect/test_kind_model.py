"""The fitted kind model: its JSON export decides as scikit-learn's forest does, it is loaded
without pickle and refused when it does not fit, and it is part of the detector's provenance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.kind_features import FEATURE_NAMES
from spectrum.detect.kind_model import MODEL_PATH, load_forest, save_forest
from spectrum.errors import DetectorError
from spectrum.evaluate.kind_fit import fit_forest, training_rows

KINDS = ("wideband_noise", "tone", "swept", "pulsed", "new_emitter")


def _examples(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Random features whose kind is a nonlinear function of a few of them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURE_NAMES)))
    code = (x[:, 0] > 0).astype(int) + 2 * (x[:, 4] * x[:, 7] > 0.3)
    code[x[:, 9] > 1.2] = 4
    return x, [KINDS[c] for c in code]


def test_exported_forest_predicts_as_sklearn(tmp_path):
    from sklearn.ensemble import RandomForestClassifier

    from spectrum.evaluate import kind_fit

    x, kinds = _examples(400, 1)
    classes, trees = fit_forest(x, kinds)
    save_forest(classes, trees, {"test": True}, tmp_path / "kinds.json")
    forest = load_forest(str(tmp_path / "kinds.json"))
    reference = RandomForestClassifier(n_estimators=kind_fit.TREES, max_depth=kind_fit.MAX_DEPTH,
                                       min_samples_leaf=kind_fit.MIN_LEAF, class_weight="balanced",
                                       random_state=kind_fit.SEED).fit(x, kinds)
    unseen, _ = _examples(300, 2)
    expected = reference.predict_proba(unseen)
    got = np.array([forest.probabilities(row) for row in unseen])
    assert list(forest.classes) == list(reference.classes_)
    np.testing.assert_allclose(got, expected, atol=1e-3)  # the export rounds shares to 4 digits
    assert [forest.kind(row) for row in unseen] == list(reference.predict(unseen))


def test_training_rows_take_matched_labels_only():
    features = [0.5] * len(FEATURE_NAMES)
    records = [{"labels": [
        {"kind": "tone", "detected": True, "event": {"kind": "swept", "features": features}},
        {"kind": "pulsed", "detected": False, "event": None},
        {"kind": "swept", "detected": True, "event": {"kind": "swept"}},  # a baseline-free event
        {"kind": "overload", "detected": True, "event": {"kind": "overload"}},
    ], "false_events": [{"kind": "tone", "features": features}]}]
    x, kinds, skipped = training_rows(records)
    assert kinds == ["tone"] and x.shape == (1, len(FEATURE_NAMES))
    assert skipped == {"missed": 1, "baseline-free or overload event": 1}


def test_bad_models_are_refused_in_one_line(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{not json")
    with pytest.raises(DetectorError, match="not a kind model"):
        load_forest(str(path))
    x, kinds = _examples(60, 3)
    classes, trees = fit_forest(x, kinds)
    save_forest(classes, trees, {}, path)
    model = json.loads(path.read_text())
    model["features"] = model["features"][:-1]
    path.write_text(json.dumps(model))
    load_forest.cache_clear()
    with pytest.raises(DetectorError, match="other features"):
        load_forest(str(path))
    with pytest.raises(DetectorError, match="packaged"):
        save_forest(classes, trees, {}, MODEL_PATH)


def test_kind_model_is_part_of_the_config_hash(tmp_path):
    x, kinds = _examples(60, 4)
    path = tmp_path / "k.json"
    save_forest(*fit_forest(x, kinds), {}, path)
    first = DetectorConfig(kind_model=str(path)).config_hash()
    save_forest(*fit_forest(x[:50], kinds[:50]), {}, path)
    hashes = {DetectorConfig().config_hash(), DetectorConfig(kind_model="rules").config_hash(), first,
              DetectorConfig(kind_model=str(path)).config_hash()}
    assert len(hashes) == 4
