"""Jammer location on a simulated field: how far off, and does the confidence region hold it.

A district of polling sites on a square lattice of spacing ``spacing_m`` (each site jittered by
up to 30 % of the spacing, so no three are exactly in line), one jammer at a uniformly random
position in the district's middle, and the ``n_sensors`` sites nearest it hear it (those are
the sites that report the incident). Received levels follow log-distance path loss with a
random exponent (``N_TRUE_RANGE``), a random transmit level and log-normal shadowing of
``sigma_db`` (independent per site); uncalibrated sensors add a fixed per-dongle dBFS offset.
Each trial is a plain function of its seed (it also runs in a Dask ``Client.map``).

Reported per (spacing, sensors): the share located, the median and 90th-percentile error
(metres and in spacings), the median radius of the region, and its coverage (the share of
trials whose region holds the true position) against its stated rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from service.jammer_location import LocalFrame, SensorLevel, locate_jammer

N_TRUE_RANGE = (2.5, 4.0)  # path-loss exponents drawn for the field (suburban to urban)
SIGMA_RANGE_DB = (4.0, 8.0)  # shadowing standard deviations drawn per trial
LATTICE_SIDE = 12  # sites per side of the district
ORIGIN = (-6.2, 106.8)  # the district's corner (lat, lon), Jakarta: any place works


@dataclass(frozen=True)
class FieldTrial:
    """One trial's outcome."""

    located: bool
    error_m: float
    region_radius_m: float
    covered: bool
    method: str


def simulate_field(seed: int, spacing_m: float, n_sensors: int, sigma_db: float | None = None,
                   dongle_offset_db: float = 0.0) -> tuple[list[SensorLevel], tuple[float, float]]:
    """Readings at the sites nearest a jammer, and the jammer's true (lat, lon).

    Parameters
    ----------
    seed : int
        Seed of the trial.
    spacing_m : float
        Distance between neighbouring sites, metres.
    n_sensors : int
        Sites that hear the jammer (the nearest).
    sigma_db : float, optional
        Shadowing standard deviation, dB (default: drawn from ``SIGMA_RANGE_DB``).
    dongle_offset_db : float
        Spread (standard deviation, dB) of the per-sensor dBFS offset of uncalibrated dongles;
        0 gives calibrated dBm readings.
    """
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(*SIGMA_RANGE_DB) if sigma_db is None else sigma_db
    n_true = rng.uniform(*N_TRUE_RANGE)
    p0_dbm = rng.uniform(-10.0, 20.0)
    side = (np.arange(LATTICE_SIDE) + 0.5) * spacing_m
    sites = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)
    sites += rng.uniform(-0.3, 0.3, sites.shape) * spacing_m
    extent = LATTICE_SIDE * spacing_m
    jammer = rng.uniform(0.3 * extent, 0.7 * extent, 2)
    d = np.linalg.norm(sites - jammer, axis=1)
    near = np.argsort(d)[:n_sensors]
    level = p0_dbm - 10 * n_true * np.log10(np.maximum(d[near], 1.0)) + rng.normal(0, sigma, n_sensors)
    frame = LocalFrame(*ORIGIN)
    lat, lon = frame.to_latlon(sites[near])
    offset = rng.normal(0, dongle_offset_db, n_sensors) if dongle_offset_db else np.zeros(n_sensors)
    readings = [SensorLevel(float(a), float(b), float(v + o - 60.0), None if dongle_offset_db else float(v), f"s{i}")
                for i, (a, b, v, o) in enumerate(zip(lat, lon, level, offset))]
    true_lat, true_lon = frame.to_latlon(jammer)
    return readings, (float(true_lat), float(true_lon))


def run_trial(seed: int, spacing_m: float, n_sensors: int, confidence: float = 0.9,
              sigma_db: float | None = None, dongle_offset_db: float = 0.0) -> FieldTrial:
    """Simulate one field and locate its jammer."""
    readings, (lat, lon) = simulate_field(seed, spacing_m, n_sensors, sigma_db, dongle_offset_db)
    fit = locate_jammer(readings, confidence=confidence)
    if not fit.located:
        return FieldTrial(False, math.nan, math.nan, False, fit.reason or "")
    frame = LocalFrame(lat, lon)
    error = float(np.linalg.norm(frame.to_xy(np.array([fit.lat_deg]), np.array([fit.lon_deg]))))
    return FieldTrial(True, error, float(fit.region_radius_m), fit.region_contains(lat, lon), fit.method)


@dataclass(frozen=True)
class FieldRow:
    """Summary of the trials at one spacing and sensor count."""

    spacing_m: float
    n_sensors: int
    trials: int
    located: float
    median_error_m: float
    p90_error_m: float
    median_radius_m: float
    coverage: float
    method: str

    def line(self) -> str:
        return (f"| {self.spacing_m / 1000:g} km | {self.n_sensors} | {self.trials} | {self.located:.2f} | "
                f"{self.median_error_m:,.0f} m ({self.median_error_m / self.spacing_m:.2f}) | "
                f"{self.p90_error_m:,.0f} m | {self.median_radius_m:,.0f} m | {self.coverage:.3f} | {self.method} |")


def run_row(spacing_m: float, n_sensors: int, trials: int, first_seed: int = 0,
            confidence: float = 0.9, dongle_offset_db: float = 0.0, sigma_db: float | None = None) -> FieldRow:
    """Run ``trials`` seeded trials at one spacing and sensor count, and summarise them."""
    results = [run_trial(first_seed + i, spacing_m, n_sensors, confidence, sigma_db, dongle_offset_db)
               for i in range(trials)]
    ok = [r for r in results if r.located]
    errors = np.array([r.error_m for r in ok]) if ok else np.array([math.nan])
    methods = sorted({r.method for r in ok}) or ["-"]
    return FieldRow(spacing_m, n_sensors, trials, len(ok) / trials, float(np.median(errors)),
                    float(np.percentile(errors, 90)),
                    float(np.median([r.region_radius_m for r in ok])) if ok else math.nan,
                    float(np.mean([r.covered for r in ok])) if ok else math.nan, "/".join(methods))


TABLE_HEADER = ("| spacing | sensors | trials | located | median error (× spacing) | 90 % error | "
                "median region radius | coverage | region from |\n|---|---:|---:|---:|---:|---:|---:|---:|---|")
