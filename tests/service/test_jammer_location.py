"""Jammer location from received levels: exact recovery, refusals, the region, bad input."""

import json
import math

import numpy as np
import pytest

from service.jammer_location import LocalFrame, SensorLevel, locate_jammer

FRAME = LocalFrame(-6.2, 106.8)


def readings_at(sensors_xy, jammer_xy, p0_db=0.0, n=3.0, noise_db=None, calibrated=True, seed=0):
    sensors_xy = np.asarray(sensors_xy, float)
    d = np.linalg.norm(sensors_xy - np.asarray(jammer_xy, float), axis=1)
    level = p0_db - 10 * n * np.log10(d)
    if noise_db is not None:
        level = level + np.random.default_rng(seed).normal(0, noise_db, len(d))
    lat, lon = FRAME.to_latlon(sensors_xy)
    return [SensorLevel(float(a), float(b), float(v) - 40, float(v) if calibrated else None, f"s{i}")
            for i, (a, b, v) in enumerate(zip(lat, lon, level))]


def error_m(fit, jammer_xy):
    return float(np.linalg.norm(FRAME.to_xy(np.array([fit.lat_deg]), np.array([fit.lon_deg]))[0] - jammer_xy))


RING = [(0, 0), (3000, 0), (3000, 3000), (0, 3000), (1500, -800), (3800, 1500), (1500, 3900), (-700, 1500)]


def test_local_frame_round_trip():
    xy = np.array([[1234.5, -987.6], [0.0, 0.0], [-20_000.0, 35_000.0]])
    assert np.allclose(FRAME.to_xy(*FRAME.to_latlon(xy)), xy, atol=1e-6)
    # a degree of latitude is ~111.2 km
    assert FRAME.to_xy(np.array([-5.2]), np.array([106.8]))[0, 1] == pytest.approx(111_195, rel=1e-3)


@pytest.mark.parametrize("jammer", [(1000, 2000), (2600, 400), (1500, 1500)])
def test_noise_free_levels_give_the_position_exponent_and_power(jammer):
    fit = locate_jammer(readings_at(RING, jammer, p0_db=7.0, n=3.4))
    assert fit.located and fit.method == "f_residuals" and fit.unit == "dBm" and fit.calibrated
    assert error_m(fit, jammer) < 15  # the last zoomed grid's step is ~12 m
    assert fit.path_loss_exponent == pytest.approx(3.4, abs=0.05)
    assert fit.p0_db == pytest.approx(7.0, abs=0.5)
    assert fit.residual_rms_db < 0.1


def test_three_sensors_locate_with_the_fixed_exponent_and_an_assumed_spread():
    fit = locate_jammer(readings_at(RING[:3], (1800, 1200), n=3.0))
    assert fit.located and fit.method == "sigma_prior"
    assert fit.path_loss_exponent == 3.0
    assert error_m(fit, (1800, 1200)) < 15


def test_fewer_than_three_sensors_give_no_position_and_say_why():
    fit = locate_jammer(readings_at(RING[:2], (1000, 1000)))
    assert not fit.located and fit.reason == "too_few_sensors" and "2 sensor" in fit.detail
    assert fit.lat_deg is None and fit.region == []
    with pytest.raises(ValueError, match="too_few_sensors"):
        fit.region_contains(-6.2, 106.8)


@pytest.mark.parametrize("sensors", [
    [(0, 0), (1000, 0), (2500, 0), (4000, 0), (6000, 0)],  # along a road
    [(0, 0), (1000, 1000), (2000, 2001), (3000, 3000)],  # a diagonal line, within a metre
    [(0, 0), (0, 0), (0, 0)],  # one place
])
def test_sensors_on_a_line_give_no_position(sensors):
    fit = locate_jammer(readings_at(sensors, (500, 700)))
    assert not fit.located and fit.reason == "degenerate_geometry"
    assert "line" in fit.detail or "one place" in fit.detail


def test_calibrated_sensors_are_used_alone_when_enough_of_them_heard_it():
    readings = readings_at(RING, (1200, 1700), noise_db=1.0)
    # the uncalibrated two carry dongle offsets of 15 dB that would pull the fit away
    readings = [r if i < 6 else SensorLevel(r.lat_deg, r.lon_deg, r.level_dbfs + 15, None, r.sensor)
                for i, r in enumerate(readings)]
    fit = locate_jammer(readings)
    assert fit.calibrated and fit.unit == "dBm" and fit.sensors == [f"s{i}" for i in range(6)]
    only_two = [r if i < 2 else SensorLevel(r.lat_deg, r.lon_deg, r.level_dbfs, None, r.sensor)
                for i, r in enumerate(readings)]
    fit = locate_jammer(only_two)
    assert not fit.calibrated and fit.unit == "dBFS" and len(fit.sensors) == len(RING)


def test_region_holds_the_estimate_not_far_points_and_shrinks_with_more_sensors():
    jammer = (1500, 1500)
    few = locate_jammer(readings_at(RING[:6], jammer, noise_db=6.0, seed=3))
    grid = [(x, y) for x in range(-1000, 5001, 1000) for y in range(-1000, 5001, 1000)]
    many = locate_jammer(readings_at(grid, jammer, noise_db=6.0, seed=3))
    for fit in (few, many):
        assert fit.region_contains(fit.lat_deg, fit.lon_deg)
        assert not fit.region_contains(*FRAME.to_latlon(np.array([60_000.0, 60_000.0])))
        assert len(fit.region) >= 3 and fit.region_radius_m > 0
    assert many.region_radius_m < few.region_radius_m
    # every hull corner is (about) in the region: the polygon drawn is the region's outline
    lat, lon = zip(*many.region)
    assert all(many.region_contains(a, b) for a, b in zip(lat, lon))


def test_as_dict_is_json():
    fit = locate_jammer(readings_at(RING, (900, 900), noise_db=4.0))
    doc = json.loads(json.dumps(fit.as_dict()))
    assert doc["reason"] is None and doc["unit"] == "dBm" and len(doc["region"]) >= 3
    assert "_fit" not in doc


@pytest.mark.parametrize("bad, field", [
    (SensorLevel(float("nan"), 106.8, -50.0), "readings[1].lat_deg"),
    (SensorLevel(-6.2, 106.8, float("inf")), "readings[1].level_dbfs"),
    (SensorLevel(-6.2, 106.8, -50.0, float("nan")), "readings[1].level_dbm"),
    (SensorLevel(-96.2, 106.8, -50.0), "readings[1]: position"),
])
def test_bad_readings_are_refused_naming_the_field(bad, field):
    good = readings_at(RING[:3], (1000, 1000))
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        locate_jammer([good[0], bad, good[2]])


def test_bad_options_are_refused():
    good = readings_at(RING, (1000, 1000))
    with pytest.raises(ValueError, match="confidence"):
        locate_jammer(good, confidence=1.5)
    with pytest.raises(ValueError, match="n_fixed"):
        locate_jammer(good, n_fixed=12)
    assert math.isfinite(locate_jammer(good, sigma_prior_db=4.0).lat_deg)


def test_a_jammer_far_outside_the_sensors_is_flagged_unbounded():
    # sensors in a 3 km square, the jammer 10 km east: levels barely differ across the square
    fit = locate_jammer(readings_at(RING, (13_000, 1500), noise_db=4.0, seed=1))
    assert fit.located and not fit.region_bounded
