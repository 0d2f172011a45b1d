"""Calibrated confidence: the probability that an event is real interference of the kind it names.

A logistic model (Platt scaling) over the evidence an event carries when it is reported:

    P(correct) = 1 / (1 + exp(-w·x)),
    x = [1, one-hot kind (wideband_noise is the reference), ln(z_max / z_threshold),
         exp(1 - z_max / z_threshold), ln(hits), envelope margin]

``z_max`` is the strongest test statistic of the event so far: its logarithm says how strong
the evidence is, and the exponential term how close to the threshold it stays (reports that
barely pass are often a fragment of something larger, or noise). ``hits`` are its row
detections. The envelope margin is for ``pulsed`` and ``swept`` only: 10·|κ − 1.5| for the
mean envelope kurtosis κ, the statistic that tells noise bursts (κ ≈ 2) from constant-envelope
ones (κ ≈ 1); near 1.5 the kind is a guess (a GSM carrier's bursts sit there). Clipping is not
a feature: events held through an overload are flagged ``unreliable``, and in the scenes
measured they were as often right as others. An event is *correct* when it overlaps real
interference of the same kind (``spectrum.evaluate.scoring.event_correct``): a false alarm
and a wrong kind both count against it.

The weights are fitted by ``spectrum bench-detect --fit-confidence SEEDS --model-out FILE`` on
labelled near-threshold scenes (``spectrum.sim.near_threshold``) and written to FILE (never into
the installed package; ``DetectorConfig.confidence_model`` loads it, and its bytes are part of
``config_hash``); the packaged ``confidence_model.json`` is the default.
``spectrum bench-detect --reliability SEEDS`` measures how well they hold on other seeds
(reliability table, expected calibration error, Brier score). The fit is L2-regularised, so a
kind never seen wrong still gets a confidence below 1, and the evidence terms keep their signs
(``MONOTONE_BOUNDS``), so within a kind confidence never falls as the evidence grows.

Events of the baseline-free detectors and overload events are not modelled here (see
``spectrum.detect.event_builder``).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spectrum.detect.classify import CONSTANT_ENVELOPE as ENVELOPE_BOUNDARY
from spectrum.errors import DetectorError

MODEL_PATH = Path(__file__).with_name("confidence_model.json")
KINDS = ("tone", "new_emitter", "swept", "pulsed")  # one-hot; wideband_noise is the reference
FEATURES = ("intercept", *(f"kind={k}" for k in KINDS), "ln_z_margin", "near_threshold", "ln_hits", "envelope_margin")
ENVELOPE_MARGIN_MAX = 5.0  # |κ - 1.5| beyond 0.5 is as clear as it gets
L2 = 1.0  # ridge on every weight but the intercept: a little shrinkage where data are few


def features(kind: str, z_max: float, z_threshold: float, hits: int, envelope_kurtosis: float) -> NDArray[np.float64]:
    """The model's input for one event (see module docstring)."""
    ratio = max(z_max, z_threshold) / z_threshold
    envelope_margin = 0.0
    if kind in ("pulsed", "swept"):
        envelope_margin = min(10.0 * abs(envelope_kurtosis - ENVELOPE_BOUNDARY), ENVELOPE_MARGIN_MAX)
    return np.array([
        1.0,
        *(float(kind == k) for k in KINDS),
        math.log(ratio),
        math.exp(1.0 - ratio),
        math.log(max(hits, 1)),
        envelope_margin,
    ])


def event_features(event: dict, z_threshold: float) -> NDArray[np.float64] | None:
    """Features of a contract-shaped event dict, or None for events the model does not cover."""
    if "z_max" not in event or event["kind"] == "overload":
        return None
    return features(event["kind"], event["z_max"], z_threshold, event["hits"], event["envelope_kurtosis"])


def predict(x: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    return float(1.0 / (1.0 + np.exp(-float(x @ weights))))


@lru_cache(maxsize=8)
def _model_weights(path: str = "") -> NDArray[np.float64]:
    """Weights of the model at ``path`` ("" for the packaged one), read without pickle."""
    model_path = Path(path) if path else MODEL_PATH
    try:
        model = json.loads(model_path.read_text())
        names, weights = tuple(model["features"]), np.asarray(model["weights"], dtype=float)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DetectorError(f"{model_path}: not a confidence model written by --fit-confidence ({exc})") from None
    if names != FEATURES or weights.shape != (len(FEATURES),):
        raise ValueError(f"{model_path.name} was fitted on other features; refit it with "
                         "`spectrum bench-detect --fit-confidence SEEDS --model-out FILE`")
    return weights


def calibrated_confidence(kind: str, z_max: float, z_threshold: float, hits: int, envelope_kurtosis: float,
                          model_path: str = "") -> float:
    """P(the event is real interference of this kind), from the fitted model at ``model_path``
    (default: the packaged one)."""
    return predict(features(kind, z_max, z_threshold, hits, envelope_kurtosis), _model_weights(model_path))


# Signs the evidence terms must keep, so that within a kind the confidence never falls as the
# evidence grows: stronger statistic (ln z margin ≥ 0, near-threshold penalty ≤ 0), more rows
# (ln hits ≥ 0), a clearer envelope (≥ 0). None: free (the intercept and the kinds).
MONOTONE_BOUNDS = {"ln_z_margin": (0.0, None), "near_threshold": (None, 0.0), "ln_hits": (0.0, None),
                   "envelope_margin": (0.0, None)}


def fit(x: NDArray[np.float64], correct: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Weights maximising the L2-penalised log-likelihood of the outcomes (rows of x), with the
    evidence terms held to the signs in MONOTONE_BOUNDS (a bounded L-BFGS-B fit).

    Ten weights, fitted offline: scipy's optimiser does it in a few lines, where
    scikit-learn's LogisticRegression would be a large dependency for the same result (and
    has no sign constraints).
    """
    from scipy.optimize import minimize

    y = np.asarray(correct, dtype=float)
    penalty = np.full(x.shape[1], L2)
    penalty[0] = 0.0

    def loss(w):
        t = x @ w
        # log(1 + e^t) - y t, written to stay finite for large |t|
        nll = np.sum(np.logaddexp(0.0, t) - y * t)
        grad = x.T @ (1.0 / (1.0 + np.exp(-t)) - y)
        return nll + 0.5 * np.sum(penalty * w * w), grad + penalty * w

    bounds = [MONOTONE_BOUNDS.get(name, (None, None)) for name in FEATURES]
    result = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds)
    if not result.success:
        raise DetectorError(f"confidence fit did not converge: {result.message}")
    return result.x


def save_model(weights: NDArray[np.float64], provenance: dict, path: str | Path) -> None:
    """Write a fitted model as JSON to ``path`` (a file the user names: never the packaged one)."""
    path = Path(path)
    if path.resolve() == MODEL_PATH.resolve():
        raise DetectorError(f"{path}: will not overwrite the packaged confidence model; name another file")
    try:
        path.write_text(json.dumps({
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in weights],
            "fitted_on": provenance,
        }, indent=2) + "\n")
    except OSError as exc:
        raise DetectorError(f"{path}: cannot write the confidence model ({exc.strerror})") from None
    _model_weights.cache_clear()
