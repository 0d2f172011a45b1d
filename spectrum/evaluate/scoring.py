"""Score detected events against ground-truth labels, one to one.

Rules (issue 12, "honest scoring"):

* **One to one.** Each label is matched to at most one event and each event to at most one
  label, by the Hungarian algorithm (`scipy.optimize.linear_sum_assignment`) on the sum of
  frequency IoU and time overlap share, among admissible pairs only.
* **Admissible pair.** Frequency IoU of at least ``min_freq_iou`` (0.5 by default, the PASCAL
  VOC rule for boxes), computed on the event's *own* reported band and the label's band, both
  widened to at least ``resolution_hz`` (the detector's frequency resolution: nothing can be
  located more finely, and a steady CW line's label has no width); the time overlap covers at
  least half of the shorter of the two; and the event does not start more than
  ``early_tolerance_s`` before the label (a detection cannot precede the signal).
* **Kinds do not decide the match.** A matched event of the wrong kind is a detection with the
  wrong class (the confusion matrix shows it); ``interference`` (unclassified) counts as a
  detection with a wrong class too.
* **Every unmatched event is false**, whatever its kind: fragments of a jammer, a second event
  for one jammer, ``new_emitter`` events on a clean scene, ``sensor_fault`` (simulated
  captures never drop samples).
* **``overload`` is scored in its own lane.** It describes the sensor, not the air, so it is
  matched (one to one, by time only) against ``overload`` labels — the stretches where the
  capture really clips — and never against a jammer's label: a clipping barrage reported only
  as ``overload`` is a *missed* barrage. An overload event with no clipping label is a false
  overload (counted apart from false interference events).

Latency is from the label's start, or for a ramp from when its JNR crosses 0 dB (``jnr0_s``),
to the moment the detector had the evidence (``detected_offset_s``, else ``offset_start_s``).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

import numpy as np
from scipy.optimize import linear_sum_assignment

SENSOR_KINDS = frozenset({"overload", "sensor_fault"})
UNCLASSIFIED = "interference"
MIN_FREQ_IOU = 0.5
EARLY_TOLERANCE_S = 1.0


@dataclass
class LabelScore:
    """The outcome for one label."""

    kind: str
    detected: bool
    detected_kind: str | None = None
    latency_s: float | None = None
    start_error_s: float | None = None
    end_error_s: float | None = None
    freq_iou: float | None = None
    label: dict | None = None
    event: dict | None = None


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _widen(low: float, high: float, width: float) -> tuple[float, float]:
    if high - low >= width:
        return low, high
    centre = (low + high) / 2
    return centre - width / 2, centre + width / 2


def freq_iou(label: dict, event: dict, resolution_hz: float = 0.0) -> float:
    """Intersection over union of two frequency extents, each widened to ``resolution_hz``.

    Parameters
    ----------
    label, event : dict
        With ``freq_low_hz`` and ``freq_high_hz`` (absolute Hz).
    resolution_hz : float, optional
        Smallest width either extent is taken to have, in Hz.

    Returns
    -------
    float
        In [0, 1]; 0 when both extents are points and ``resolution_hz`` is 0.
    """
    a0, a1 = _widen(label["freq_low_hz"], label["freq_high_hz"], resolution_hz)
    b0, b1 = _widen(event["freq_low_hz"], event["freq_high_hz"], resolution_hz)
    union = max(a1, b1) - min(a0, b0)
    return _overlap(a0, a1, b0, b1) / union if union > 0 else 0.0


def _event_end(event: dict, capture_end_s: float) -> float:
    end = event.get("offset_end_s")
    return capture_end_s if end is None else end


def _time_share(label: dict, event: dict, capture_end_s: float) -> float:
    """Overlap in time over the shorter of the two durations."""
    e0, e1 = event["offset_start_s"], _event_end(event, capture_end_s)
    shorter = max(min(label["end_s"] - label["start_s"], e1 - e0), 1e-9)
    return _overlap(label["start_s"], label["end_s"], e0, e1) / shorter


def _pair_score(label: dict, event: dict, resolution_hz: float, min_iou: float, capture_end_s: float,
                use_freq: bool) -> float | None:
    """Matching score of an admissible pair (higher is better), None when not admissible."""
    if event["offset_start_s"] < label["start_s"] - EARLY_TOLERANCE_S:
        return None
    share = _time_share(label, event, capture_end_s)
    if share < 0.5:
        return None
    if not use_freq:
        return share
    iou = freq_iou(label, event, resolution_hz)
    return None if iou < min_iou else iou + share


def _match(labels: list[dict], events: list[dict], resolution_hz: float, min_iou: float,
           capture_end_s: float, use_freq: bool) -> list[tuple[int, int]]:
    """Admissible one-to-one pairs (label index, event index) maximising the total score."""
    if not labels or not events:
        return []
    score = np.full((len(labels), len(events)), -1.0)
    for i, label in enumerate(labels):
        for j, event in enumerate(events):
            s = _pair_score(label, event, resolution_hz, min_iou, capture_end_s, use_freq)
            if s is not None:
                score[i, j] = s
    rows, cols = linear_sum_assignment(score, maximize=True)
    return [(int(i), int(j)) for i, j in zip(rows, cols) if score[i, j] >= 0]


def score_labels(labels: list[dict], events: list[dict], resolution_hz: float = 0.0,
                 min_freq_iou: float = MIN_FREQ_IOU, capture_end_s: float | None = None,
                 ) -> tuple[list[LabelScore], list[dict]]:
    """Match contract-shaped events to labels one to one (see the module docstring).

    Parameters
    ----------
    labels : list of dict
        ``kind``, ``start_s``, ``end_s``, ``freq_low_hz``, ``freq_high_hz`` (absolute Hz);
        optionally ``jnr0_s``. ``overload`` labels are matched to ``overload`` events only.
    events : list of dict
        Events as `spectrum.events.Event.to_dict` gives them.
    resolution_hz : float, optional
        The detector's frequency resolution in Hz (both extents are widened to it).
    min_freq_iou : float, optional
        Smallest frequency IoU of a match.
    capture_end_s : float, optional
        End of the capture (for events still open); defaults to the latest label end.

    Returns
    -------
    scores : list of LabelScore
        One per label, in the labels' order.
    unmatched : list of dict
        Events matched to no label: false events (``overload`` ones included; see
        `split_false` to tell them apart).
    """
    end = capture_end_s if capture_end_s is not None else max([l["end_s"] for l in labels] + [0.0])
    lanes = [([i for i, l in enumerate(labels) if (l["kind"] == "overload") == sensor],
              [j for j, e in enumerate(events) if (e["kind"] == "overload") == sensor]) for sensor in (False, True)]
    scores: list[LabelScore | None] = [None] * len(labels)
    used: set[int] = set()
    for lane, (li, ej) in enumerate(lanes):
        pairs = _match([labels[i] for i in li], [events[j] for j in ej], resolution_hz, min_freq_iou, end,
                       use_freq=lane == 0)
        for a, b in pairs:
            i, j = li[a], ej[b]
            used.add(j)
            scores[i] = _detected(labels[i], events[j], resolution_hz)
    out = [s if s is not None else LabelScore(l["kind"], False, label=l) for s, l in zip(scores, labels)]
    return out, [e for j, e in enumerate(events) if j not in used]


def _detected(label: dict, event: dict, resolution_hz: float) -> LabelScore:
    onset = label.get("jnr0_s") if label.get("jnr0_s") is not None else label["start_s"]
    end = event.get("offset_end_s")
    return LabelScore(
        kind=label["kind"], detected=True, detected_kind=event["kind"],
        latency_s=event.get("detected_offset_s", event["offset_start_s"]) - onset,
        start_error_s=event["offset_start_s"] - label["start_s"],
        end_error_s=None if end is None else end - label["end_s"],
        freq_iou=freq_iou(label, event, resolution_hz), label=label, event=event,
    )


def split_false(unmatched: list[dict]) -> tuple[list[dict], list[dict]]:
    """(false interference events, false overload events) among unmatched events."""
    return ([e for e in unmatched if e["kind"] != "overload"], [e for e in unmatched if e["kind"] == "overload"])


def event_correct(event: dict, labels: list[dict], resolution_hz: float = 0.0) -> bool:
    """Whether one event, on its own, reports a label's signal with the right kind.

    Used to judge each report of the confidence (``spectrum.evaluate.reliability``): the event
    is an admissible match for some label of its own kind under the rules above.
    """
    end = max([l["end_s"] for l in labels] + [event["offset_start_s"]])
    return any(label["kind"] == event["kind"]
               and _pair_score(label, event, resolution_hz, MIN_FREQ_IOU, end, label["kind"] != "overload") is not None
               for label in labels)


def summarise(scores: list[LabelScore]) -> dict[str, float | None]:
    """Pd, class accuracy among detections, median latency and IoU over a set of labels."""
    detected = [s for s in scores if s.detected]
    return {
        "labels": len(scores),
        "pd": len(detected) / len(scores) if scores else None,
        "class_accuracy": sum(s.detected_kind == s.kind for s in detected) / len(detected) if detected else None,
        "median_latency_s": median(s.latency_s for s in detected) if detected else None,
        "median_freq_iou": median(s.freq_iou for s in detected) if detected else None,
    }
