"""J/(N+I): how far a scene's legitimate signals lift the floor under a jammer's band."""

from __future__ import annotations

import dataclasses
import math

import pytest

from spectrum.evaluate.label_background import background_rise_db
from spectrum.sim.random_scenes import Emitter, draw_scene
from spectrum.sim.scene_components import NoiseBand


def _label(scene, low_hz, high_hz, onset="abrupt"):
    at = scene.center_freq_hz + scene.impairments.lo_shift_hz(scene.center_freq_hz)  # as received
    return {"start_s": 2.0, "end_s": 4.0, "freq_low_hz": at + low_hz, "freq_high_hz": at + high_hz, "onset": onset}


@pytest.mark.parametrize("level_db", [-3.0, 6.0, 15.0])
def test_a_background_over_the_band_lifts_it_by_its_level_and_nowhere_else(level_db):
    scene = draw_scene(3)
    fs = scene.sample_rate_hz
    background = Emitter("ofdm", None, NoiseBand(-0.2 * fs, 0.2 * fs, level_db))
    scene = dataclasses.replace(scene, emitters=(background,))
    under = background_rise_db(scene, _label(scene, -0.25 * fs, -0.15 * fs))
    line = background_rise_db(scene, _label(scene, -0.2 * fs, -0.2 * fs, onset="ramp"))
    beside = background_rise_db(scene, _label(scene, 0.15 * fs, 0.25 * fs))
    expected = 10 * math.log10(1 + 10 ** (level_db / 10))
    assert under == pytest.approx(expected, abs=0.3)
    assert line == pytest.approx(expected, abs=0.6)  # a few bins: fewer averages
    assert beside < 0.1


def test_a_scene_without_backgrounds_has_no_rise():
    scene = draw_scene(3)
    scene = dataclasses.replace(scene, emitters=tuple(e for e in scene.emitters if e.kind is not None))
    assert background_rise_db(scene, _label(scene, -1e3, 1e3)) == 0.0
