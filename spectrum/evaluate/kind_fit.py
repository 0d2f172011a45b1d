"""Fit the detector's kind model (spectrum.detect.kind_model) on development scenes.

The examples are the events that the one-to-one scorer matched to a jammer label in randomised
development scenes replayed with the hand rules (``kind_model="rules"``), each with the kind
features it carried when it was last reported and its label's kind. A random forest of
shallow trees fits them: it takes thresholds on features of any scale without tuning, and its
trees export to plain JSON. scikit-learn fits it (a development dependency; the detector only
walks the exported trees). The classes are weighted to equal total weight, so the rare kinds
are not sacrificed to the common ones; the seed is fixed, so one command reproduces the file.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from spectrum.detect.kind_features import FEATURE_NAMES
from spectrum.detect.kind_model import save_forest
from spectrum.errors import ConfigError

TREES = 60
MAX_DEPTH = 7
MIN_LEAF = 3  # examples per leaf: no leaf decided by one or two scenes
SEED = 12


def training_rows(records: list[dict]) -> tuple[np.ndarray, list[str], Counter]:
    """(features, kinds, skipped) of the matched jammer labels of ``records`` (bench-detect
    --randomized records). Skipped: why labels gave no example (missed, overload, no features)."""
    rows, kinds, skipped = [], [], Counter()
    for record in records:
        for label in record["labels"]:
            event = label.get("event")
            if label["kind"] == "overload":
                continue
            if not label["detected"] or event is None:
                skipped["missed"] += 1
            elif "features" not in event:
                skipped["baseline-free or overload event"] += 1
            elif len(event["features"]) != len(FEATURE_NAMES):
                raise ConfigError("the results were written with other kind features; run the scenes again")
            else:
                rows.append(event["features"])
                kinds.append(label["kind"])
    return np.asarray(rows, dtype=float), kinds, skipped


def fit_forest(x: np.ndarray, kinds: list[str]) -> tuple[list[str], list[dict]]:
    """A balanced random forest over ``x``; returns (classes, trees as plain lists)."""
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=TREES, max_depth=MAX_DEPTH, min_samples_leaf=MIN_LEAF,
                                    class_weight="balanced", random_state=SEED, n_jobs=1)
    forest.fit(x, kinds)
    trees = []
    for estimator in forest.estimators_:
        tree = estimator.tree_
        value = tree.value[:, 0, :]
        value = value / np.maximum(value.sum(axis=1, keepdims=True), 1e-12)  # class shares per node
        trees.append({
            "left": tree.children_left.tolist(), "right": tree.children_right.tolist(),
            "feature": [max(int(f), 0) for f in tree.feature],  # leaves have -2: never read
            "threshold": [round(float(t), 6) for t in tree.threshold],
            "value": [[round(float(v), 4) for v in row] for row in value],
        })
    return [str(c) for c in forest.classes_], trees


def fit_kinds(records: list[dict], model_out: str, provenance: dict) -> str:
    """Fit on ``records`` and write the model to ``model_out``; return a one-line summary."""
    x, kinds, skipped = training_rows(records)
    if len(set(kinds)) < 2:
        raise ConfigError(f"only {len(kinds)} matched events of {len(set(kinds))} kind(s): too few to fit on")
    classes, trees = fit_forest(x, kinds)
    counts = Counter(kinds)
    save_forest(classes, trees, {**provenance, "examples": dict(sorted(counts.items())),
                                 "trees": TREES, "max_depth": MAX_DEPTH, "min_leaf": MIN_LEAF, "seed": SEED},
                model_out)
    return (f"kind model: {len(kinds)} examples ({', '.join(f'{k} {n}' for k, n in sorted(counts.items()))}); "
            f"not used: {', '.join(f'{n} {why}' for why, n in skipped.items()) or 'none'}; wrote {model_out}")
