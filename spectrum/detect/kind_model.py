"""A band track's kind from a fitted forest of decision trees over its physical features
(spectrum.detect.kind_features), the hand rules' verdict among them.

The forest is fitted on development seeds of the randomised scenes by ``spectrum bench-detect
--fit-kinds N --model-out FILE`` (spectrum/evaluate/kind_fit.py) and saved as plain JSON: per
tree, its nodes' children, feature, threshold and class shares. Loading it needs no pickle and
no machine-learning library: walking a few dozen shallow trees once per event update is
microseconds of NumPy-free Python. ``DetectorConfig.kind_model`` names the file ("" for the
packaged ``kind_model.json``, ``"rules"`` for the hand rules alone); its bytes are part of
``config_hash``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spectrum.detect.kind_features import FEATURE_NAMES
from spectrum.errors import DetectorError

MODEL_PATH = Path(__file__).with_name("kind_model.json")
MODEL_FORMAT = "spectrum-kind-forest/1"
RULES = "rules"  # DetectorConfig.kind_model for the hand rules alone


class KindForest:
    """A fitted forest: ``classes`` and trees of (left, right, feature, threshold, value)."""

    def __init__(self, classes: list[str], trees: list[dict]) -> None:
        self.classes = tuple(classes)
        self.trees = [(t["left"], t["right"], t["feature"], t["threshold"], t["value"]) for t in trees]

    def probabilities(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Class shares averaged over the trees, in the order of ``classes``."""
        values = x.tolist()
        total = np.zeros(len(self.classes))
        for left, right, feature, threshold, value in self.trees:
            node = 0
            while left[node] >= 0:
                node = left[node] if values[feature[node]] <= threshold[node] else right[node]
            total += value[node]
        return total / len(self.trees)

    def kind(self, x: NDArray[np.float64]) -> str:
        return self.classes[int(np.argmax(self.probabilities(x)))]


@lru_cache(maxsize=8)
def load_forest(path: str = "") -> KindForest:
    """The forest at ``path`` ("" for the packaged one), checked against FEATURE_NAMES."""
    model_path = Path(path) if path else MODEL_PATH
    try:
        model = json.loads(model_path.read_text())
        if model.get("format") != MODEL_FORMAT:
            raise ValueError(f"format {model.get('format')!r}, expected {MODEL_FORMAT!r}")
        forest = KindForest(model["classes"], model["trees"])
        names = tuple(model["features"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DetectorError(f"{model_path}: not a kind model written by --fit-kinds ({exc})") from None
    if names != FEATURE_NAMES:
        raise DetectorError(f"{model_path}: fitted on other features; refit it with "
                            "`spectrum bench-detect --fit-kinds N --model-out FILE`")
    return forest


def save_forest(classes: list[str], trees: list[dict], provenance: dict, path: str | Path) -> None:
    """Write a fitted forest as JSON to ``path`` (a file the user names: never the packaged one;
    a new packaged model is that file, reviewed and copied in by a commit)."""
    path = Path(path)
    if path.resolve() == MODEL_PATH.resolve():
        raise DetectorError(f"{path}: will not overwrite the packaged kind model; name another file")
    try:
        path.write_text(json.dumps({"format": MODEL_FORMAT, "features": list(FEATURE_NAMES), "classes": classes,
                                    "fitted_on": provenance, "trees": trees}, separators=(",", ":")) + "\n")
    except OSError as exc:
        raise DetectorError(f"{path}: cannot write the kind model ({exc.strerror})") from None
    load_forest.cache_clear()
