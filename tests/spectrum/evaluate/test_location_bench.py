"""The location bench: the confidence region's coverage is a statistic, tested as one."""

import math

import pytest

from spectrum.evaluate.location_bench import run_row, simulate_field


def test_simulated_field_puts_the_nearest_sites_around_the_jammer():
    readings, (lat, lon) = simulate_field(7, 1000.0, 6, sigma_db=0.0)
    assert len(readings) == 6 and all(r.level_dbm is not None for r in readings)
    lats = [r.lat_deg for r in readings]
    lons = [r.lon_deg for r in readings]
    assert min(lats) < lat < max(lats) or min(lons) < lon < max(lons)
    uncal, _ = simulate_field(7, 1000.0, 6, sigma_db=0.0, dongle_offset_db=5.0)
    assert all(r.level_dbm is None for r in uncal)


def test_region_holds_the_true_position_at_its_stated_rate():
    # 200 independent fields (shadowing 4-8 dB, exponent 2.5-4), 10 sensors: the 90 % region
    # from the residuals. Binomial standard error at 0.9 over 200 trials is 0.021; 0.07 is 3.3 of them.
    row = run_row(1000.0, 10, 200, first_seed=90_000, confidence=0.9)
    assert row.located == 1.0 and row.method == "f_residuals"
    assert abs(row.coverage - 0.9) < 0.07, row


def test_error_falls_with_more_sensors_and_scales_with_spacing():
    few = run_row(1000.0, 4, 60, first_seed=70_000)
    many = run_row(1000.0, 20, 60, first_seed=70_000)
    wide = run_row(3000.0, 20, 60, first_seed=70_000)
    assert many.median_error_m < few.median_error_m
    # the field is scale-free (path loss in log distance): same seeds, three times the spacing
    assert wide.median_error_m / many.median_error_m == pytest.approx(3.0, rel=0.02)
    assert math.isfinite(few.median_radius_m) and few.median_radius_m > many.median_radius_m


def test_bench_location_command(cli):
    result = cli("bench-location", "--spacings", "1", "--sensors", "3,8", "--trials", "10")
    assert result.code == 0, result.err
    lines = [line for line in result.out.splitlines() if line.startswith("| 1 km")]
    assert len(lines) == 2 and "sigma_prior" in lines[0] and "f_residuals" in lines[1]


def test_bench_location_bad_options(cli):
    for args, needle in ((("--sensors", "2"), "--sensors"), (("--trials", "3"), "--trials"),
                         (("--confidence", "1.2"), "--confidence"), (("--spacings", "x"), "--spacings"),
                         (("--shadowing", "-1"), "--shadowing")):
        result = cli("bench-location", *args)
        assert result.code == 2
        assert needle in result.err.strip().splitlines()[-1]
