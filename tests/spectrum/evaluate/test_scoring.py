"""Honest scoring: one to one, a minimum IoU, every extra event false, overload in its own lane."""

from __future__ import annotations

import pytest

from spectrum.evaluate.scoring import freq_iou, score_labels, split_false, summarise

F0 = 100e6


def label(kind="wideband_noise", start=4.0, end=8.0, low=-100e3, high=100e3, **extra):
    return {"kind": kind, "start_s": start, "end_s": end, "freq_low_hz": F0 + low, "freq_high_hz": F0 + high, **extra}


def event(kind="wideband_noise", start=4.05, end=8.1, low=-100e3, high=100e3, **extra):
    return {"kind": kind, "offset_start_s": start, "offset_end_s": end, "freq_low_hz": F0 + low,
            "freq_high_hz": F0 + high, **extra}


def test_one_event_satisfies_one_label_only():
    """An event spanning two neighbouring jammers detects one of them; the other is missed."""
    labels = [label(low=-100e3, high=0.0), label(low=0.0, high=100e3)]
    scores, unmatched = score_labels(labels, [event(low=-100e3, high=20e3)])
    assert [s.detected for s in scores] == [True, False]
    assert not unmatched


def test_a_second_event_for_one_jammer_is_false_whatever_its_kind():
    scores, unmatched = score_labels([label()], [event(), event(kind="tone", low=-5e3, high=5e3)])
    assert scores[0].detected and scores[0].detected_kind == "wideband_noise"
    assert [e["kind"] for e in unmatched] == ["tone"]


def test_an_event_far_wider_than_the_jammer_does_not_match():
    """IoU 0.2 < 0.5: the event reports the wrong place, so the jammer is missed and the event is false."""
    scores, unmatched = score_labels([label()], [event(low=-500e3, high=500e3)])
    assert not scores[0].detected and len(unmatched) == 1


def test_the_kind_does_not_decide_the_match_but_is_judged():
    scores, unmatched = score_labels([label()], [event(kind="interference")])
    assert scores[0].detected and scores[0].detected_kind == "interference" and not unmatched
    assert summarise(scores)["class_accuracy"] == 0.0  # unclassified counts as wrong


def test_an_event_that_began_long_before_the_signal_is_not_its_detection():
    scores, unmatched = score_labels([label(start=6.0, end=9.0)], [event(start=1.0, end=9.0)])
    assert not scores[0].detected and len(unmatched) == 1


def test_a_fragment_shorter_than_half_the_overlap_rule_fails():
    """Time overlap must cover half of the shorter span: an event mostly after the jammer is not it."""
    scores, _ = score_labels([label(start=4.0, end=5.0)], [event(start=4.8, end=9.0)])
    assert not scores[0].detected


def test_a_steady_line_is_located_to_the_resolution():
    """A CW label has no width; the event reports 1.5 kHz: both are widened to the 4.7 kHz resolution."""
    line = label(kind="tone", low=10e3, high=10e3)
    near = event(kind="tone", low=9.4e3, high=10.9e3)
    assert freq_iou(line, near, 0.0) == 0.0
    scores, _ = score_labels([line], [near], resolution_hz=4.7e3)
    assert scores[0].detected and scores[0].freq_iou > 0.9
    scores, unmatched = score_labels([line], [event(kind="tone", low=30e3, high=31e3)], resolution_hz=4.7e3)
    assert not scores[0].detected and unmatched


def test_the_assignment_maximises_the_total_not_the_first_label():
    """Greedy by label order would give event A to label 1 and leave label 2 unmatched."""
    labels = [label(low=0.0, high=100e3), label(low=40e3, high=140e3)]
    a = event(low=20e3, high=120e3)   # IoU 0.67 with label 1 and with label 2
    b = event(low=0.0, high=60e3)     # IoU 0.6 with label 1, 0.14 with label 2
    scores, unmatched = score_labels(labels, [a, b])
    assert all(s.detected for s in scores) and not unmatched
    assert scores[1].event is a


def test_overload_is_its_own_lane():
    """A clipping barrage reported only as overload is a missed barrage; the overload event
    matches the clipping label instead; an overload with no clipping is a false overload."""
    labels = [label(), label(kind="overload", start=4.0, end=8.0, low=-1e6, high=1e6)]
    scores, unmatched = score_labels(labels, [event(kind="overload", low=-1e6, high=1e6)])
    assert [s.detected for s in scores] == [False, True]
    assert not unmatched
    scores, unmatched = score_labels([label()], [event(), event(kind="overload", start=1.0, end=2.0)])
    false_events, false_overloads = split_false(unmatched)
    assert scores[0].detected and not false_events and len(false_overloads) == 1


def test_sensor_fault_on_a_simulated_capture_is_false():
    _, unmatched = score_labels([label()], [event(), event(kind="sensor_fault", start=5.0, end=6.0, low=-1e6, high=1e6)])
    assert [e["kind"] for e in unmatched] == ["sensor_fault"]


def test_latency_of_a_ramp_counts_from_its_0_db_crossing():
    ramp = label(start=3.0, end=20.0, jnr0_s=9.0)
    scores, _ = score_labels([ramp], [event(start=8.5, end=20.0, detected_offset_s=10.2)])
    assert scores[0].latency_s == pytest.approx(1.2)
    scores, _ = score_labels([label()], [event(detected_offset_s=4.3)])
    assert scores[0].latency_s == pytest.approx(0.3)


def test_an_open_event_lasts_to_the_capture_end():
    scores, _ = score_labels([label(start=4.0, end=10.0)], [event(start=4.1, end=None)], capture_end_s=10.0)
    assert scores[0].detected and scores[0].end_error_s is None
