"""Score detected events against ground-truth labels (simulated scenarios, annotated captures).

Matching: an event matches a label when they overlap in time and in frequency; each label
takes its best-overlapping event. Latency is from the label's start to the moment the
detector had enough evidence to report (``detected_offset_s``), as a live sensor would.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median


@dataclass
class LabelScore:
    kind: str
    detected: bool
    detected_kind: str | None = None
    latency_s: float | None = None
    start_error_s: float | None = None
    end_error_s: float | None = None
    freq_iou: float | None = None


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def score_labels(labels: list[dict], events: list[dict]) -> tuple[list[LabelScore], list[dict]]:
    """Match contract-shaped events to labels (both dicts with absolute Hz and offsets in s).

    Returns
    -------
    scores : list of LabelScore
        One per label.
    unmatched : list of dict
        Events that match no label (false events on a clean capture).
    """
    used: set[int] = set()
    scores = []
    for label in labels:
        best, best_overlap = None, 0.0
        for i, e in enumerate(events):
            t = _overlap(label["start_s"], label["end_s"], e["offset_start_s"], e["offset_end_s"] or label["end_s"])
            f = _overlap(label["freq_low_hz"], label["freq_high_hz"], e["freq_low_hz"], e["freq_high_hz"])
            narrow = label["freq_high_hz"] - label["freq_low_hz"] < 5e3  # a tone's label is 1 kHz wide
            if t > 0 and (f > 0 or narrow and _overlap(label["freq_low_hz"] - 5e3, label["freq_high_hz"] + 5e3,
                                                        e["freq_low_hz"], e["freq_high_hz"]) > 0):
                if t > best_overlap:
                    best, best_overlap = i, t
        if best is None:
            scores.append(LabelScore(label["kind"], False))
            continue
        used.add(best)
        e = events[best]
        inter = _overlap(label["freq_low_hz"], label["freq_high_hz"], e["freq_low_hz"], e["freq_high_hz"])
        union = max(label["freq_high_hz"], e["freq_high_hz"]) - min(label["freq_low_hz"], e["freq_low_hz"])
        end = e["offset_end_s"]
        scores.append(LabelScore(
            kind=label["kind"],
            detected=True,
            detected_kind=e["kind"],
            latency_s=e.get("detected_offset_s", e["offset_start_s"]) - label["start_s"],
            start_error_s=e["offset_start_s"] - label["start_s"],
            end_error_s=None if end is None else end - label["end_s"],
            freq_iou=inter / union if union > 0 else 0.0,
        ))
    # events overlapping a matched label's band and time are parts of it, not false alarms
    unmatched = [e for i, e in enumerate(events) if i not in used and not _covered(e, labels)]
    return scores, unmatched


def _covered(event: dict, labels: list[dict]) -> bool:
    return any(
        _overlap(l["start_s"] - 0.5, l["end_s"] + 0.5, event["offset_start_s"], event["offset_end_s"] or l["end_s"]) > 0
        and _overlap(l["freq_low_hz"] - 10e3, l["freq_high_hz"] + 10e3, event["freq_low_hz"], event["freq_high_hz"]) > 0
        for l in labels
    )


def event_correct(event: dict, labels: list[dict]) -> bool:
    """Whether an event reports real interference of the right kind: it overlaps a label in
    time and frequency (with the same tolerance as a label's fragments) and names its kind.
    What a calibrated confidence is the probability of."""
    return any(_covered(event, [label]) and event["kind"] == label["kind"] for label in labels)


def summarise(scores: list[LabelScore]) -> dict[str, float | None]:
    """Pd, class accuracy (of detected), median latency and IoU over a set of labels."""
    detected = [s for s in scores if s.detected]
    return {
        "labels": len(scores),
        "pd": len(detected) / len(scores) if scores else None,
        "class_accuracy": sum(s.detected_kind == s.kind for s in detected) / len(detected) if detected else None,
        "median_latency_s": median(s.latency_s for s in detected) if detected else None,
        "median_freq_iou": median(s.freq_iou for s in detected) if detected else None,
    }
