"""Band plans: which frequencies a sensor sweeps, and how (TOML, presets in ``spectrum/live/presets``).

A plan is a list of bands. Each band is covered by *hops*: tunings of the dongle at
``sample_rate_hz``, each dwelling ``dwell_s`` after ``settle_s`` of discarded settling. Only
the centre of each hop is trusted: ``crop`` is the fraction of the sample rate dropped at each
edge (the RTL2832U's decimation filter rolls off there, and aliases fold in), so a hop keeps
``usable = sample_rate_hz * (1 - 2*crop)``; neighbouring kept regions overlap by
``overlap`` of that, and the stitched spectrum splits the overlap at its midpoint. With the
defaults (crop 0.1, i.e. the central 1.92 of 2.4 MHz) a stitched spectrum of white noise is
flat within 0.5 dB across seams (``tests/spectrum/live/test_sweep.py``).

File format::

    name = "my-site"
    description = "..."
    [defaults]                 # any band key; these are the built-in defaults
    sample_rate_hz = 2.4e6
    fft_size = 2048
    dwell_s = 0.25
    settle_s = 0.01
    crop = 0.1
    overlap = 0.05
    [tuner]                    # R820T/R828D range
    min_hz = 24e6
    max_hz = 1766e6
    [[bands]]
    name = "gsm900-dl"
    low_hz = 925e6             # or center_hz + span_hz
    high_hz = 960e6
    dwell_s = 0.2              # per-band override
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from spectrum.errors import ConfigError

BAND_DEFAULTS: dict[str, Any] = {
    "sample_rate_hz": 2.4e6,
    "fft_size": 2048,  # the detector's default: 1.2 kHz bins at 2.4 MS/s (weak tones need them)
    "dwell_s": 0.25,
    "settle_s": 0.01,
    "crop": 0.1,
    "overlap": 0.05,
    "gain_db": None,
}
TUNER_RANGE_HZ = (24e6, 1766e6)  # R820T / R828D (RTL-SDR Blog V3/V4), without direct sampling
RTL_RATES_HZ = ((225_001, 300_000), (900_001, 3_200_000))  # rates the RTL2832U accepts


@dataclass(frozen=True)
class Hop:
    """One tuning of a sweep.

    Attributes
    ----------
    band : Band
    index : int
        Position within the band.
    center_freq_hz : float
    keep_low_hz, keep_high_hz : float
        The part of this hop the stitched spectrum (and event ownership) uses, absolute Hz.
    """

    band: "Band"
    index: int
    center_freq_hz: float
    keep_low_hz: float
    keep_high_hz: float

    @property
    def key(self) -> str:
        return f"{self.band.name}#{self.index}"


@dataclass(frozen=True)
class Band:
    """A frequency range swept with one set of parameters (units in the names)."""

    name: str
    low_hz: float
    high_hz: float
    sample_rate_hz: float = BAND_DEFAULTS["sample_rate_hz"]
    fft_size: int = BAND_DEFAULTS["fft_size"]
    dwell_s: float = BAND_DEFAULTS["dwell_s"]
    settle_s: float = BAND_DEFAULTS["settle_s"]
    crop: float = BAND_DEFAULTS["crop"]
    overlap: float = BAND_DEFAULTS["overlap"]
    gain_db: float | None = None
    description: str = ""

    @property
    def usable_hz(self) -> float:
        """Width of a hop that is kept, Hz."""
        return self.sample_rate_hz * (1.0 - 2.0 * self.crop)

    def hops(self) -> list[Hop]:
        """Hop centres spread evenly so the kept regions cover ``[low_hz, high_hz]``."""
        span = self.high_hz - self.low_hz
        usable = self.usable_hz
        if span <= usable:
            c = (self.low_hz + self.high_hz) / 2
            return [Hop(self, 0, c, self.low_hz, self.high_hz)]
        step_max = usable * (1.0 - self.overlap)
        n = math.ceil((span - usable) / step_max) + 1
        step = (span - usable) / (n - 1)
        centres = [self.low_hz + usable / 2 + k * step for k in range(n)]
        hops = []
        for k, c in enumerate(centres):
            lo = self.low_hz if k == 0 else c - step / 2
            hi = self.high_hz if k == n - 1 else c + step / 2
            hops.append(Hop(self, k, c, lo, hi))
        return hops


@dataclass(frozen=True)
class BandPlan:
    """A named list of bands."""

    name: str
    bands: tuple[Band, ...]
    description: str = ""
    source: str = ""
    tuner_range_hz: tuple[float, float] = TUNER_RANGE_HZ

    def hops(self) -> list[Hop]:
        return [hop for band in self.bands for hop in band.hops()]

    def nominal_sweep_s(self) -> float:
        """Dwell plus settling over all hops (retune and USB overheads come on top), seconds."""
        return sum((b.dwell_s + b.settle_s) * len(b.hops()) for b in self.bands)


def single_band(center_freq_hz: float, sample_rate_hz: float, name: str = "fixed") -> BandPlan:
    """A plan of one hop that never retunes (``monitor --freq --rate``)."""
    band = Band(name, center_freq_hz - sample_rate_hz / 2, center_freq_hz + sample_rate_hz / 2,
                sample_rate_hz=sample_rate_hz, crop=0.0, dwell_s=math.inf, settle_s=0.0)
    return BandPlan(name, (band,), source="--freq/--rate")


def list_presets() -> list[str]:
    """Names of the shipped band plans."""
    folder = resources.files("spectrum.live") / "presets"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_plan(name_or_path: str) -> BandPlan:
    """Load a preset by name (``election-site``) or a TOML file by path.

    Raises
    ------
    ConfigError
        Unknown preset, unreadable file, bad TOML, or a band that cannot be swept.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--plan {name_or_path}: cannot read: {exc.strerror or exc}") from exc
        where = str(path)
    else:
        preset = resources.files("spectrum.live") / "presets" / f"{name_or_path}.toml"
        if not preset.is_file():
            raise ConfigError(f"--plan {name_or_path}: no such preset or file; presets: "
                              f"{', '.join(list_presets())}")
        text = preset.read_text(encoding="utf-8")
        where = f"preset {name_or_path}"
    return parse_plan(text, where)


_BAND_KEYS = {f.name for f in fields(Band)} | {"center_hz", "span_hz"}


def parse_plan(text: str, where: str = "<plan>") -> BandPlan:
    """Parse a plan's TOML text (see the module docstring); ``where`` names it in errors."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    defaults = dict(BAND_DEFAULTS)
    extra = set(doc.get("defaults", {})) - _BAND_KEYS
    if extra:
        raise ConfigError(f"{where}: unknown key(s) in [defaults]: {', '.join(sorted(extra))}")
    defaults.update(doc.get("defaults", {}))
    tuner = doc.get("tuner", {})
    tuner_range = (float(tuner.get("min_hz", TUNER_RANGE_HZ[0])), float(tuner.get("max_hz", TUNER_RANGE_HZ[1])))
    raw_bands = doc.get("bands")
    if not raw_bands:
        raise ConfigError(f"{where}: no [[bands]]")
    bands = []
    names = set()
    for i, raw in enumerate(raw_bands):
        label = f"{where}: band {raw.get('name', i + 1)!r}"
        unknown = set(raw) - _BAND_KEYS
        if unknown:
            raise ConfigError(f"{label}: unknown key(s) {', '.join(sorted(unknown))}")
        values = {**defaults, **raw}
        if "center_hz" in values and "span_hz" in values:
            values["low_hz"] = values["center_hz"] - values["span_hz"] / 2
            values["high_hz"] = values["center_hz"] + values["span_hz"] / 2
        values.pop("center_hz", None)
        values.pop("span_hz", None)
        if "low_hz" not in values or "high_hz" not in values or "name" not in values:
            raise ConfigError(f"{label}: needs name, and low_hz/high_hz or center_hz/span_hz")
        try:
            band = Band(**{k: v for k, v in values.items() if k in {f.name for f in fields(Band)}})
        except TypeError as exc:
            raise ConfigError(f"{label}: {exc}") from exc
        _check_band(band, label, tuner_range)
        if band.name in names:
            raise ConfigError(f"{label}: duplicate band name")
        names.add(band.name)
        bands.append(band)
    return BandPlan(str(doc.get("name", where)), tuple(bands), str(doc.get("description", "")),
                    where, tuner_range)


def _check_band(band: Band, label: str, tuner_range: tuple[float, float]) -> None:
    problems = []
    if not band.low_hz < band.high_hz:
        problems.append(f"low_hz {band.low_hz:.0f} must be below high_hz {band.high_hz:.0f}")
    if band.low_hz - band.sample_rate_hz * band.crop < tuner_range[0] - 1 or \
            band.high_hz > tuner_range[1] + band.sample_rate_hz / 2:
        problems.append(f"{band.low_hz / 1e6:.3f}-{band.high_hz / 1e6:.3f} MHz is outside the tuner's "
                        f"{tuner_range[0] / 1e6:g}-{tuner_range[1] / 1e6:g} MHz")
    if not any(lo <= band.sample_rate_hz <= hi for lo, hi in RTL_RATES_HZ):
        problems.append(f"sample_rate_hz {band.sample_rate_hz:.0f} is not one an RTL2832U accepts "
                        "(225001-300000 or 900001-3200000)")
    if band.fft_size < 16 or band.fft_size & (band.fft_size - 1):
        problems.append(f"fft_size {band.fft_size} must be a power of two >= 16")
    if not 0 <= band.crop < 0.5:
        problems.append(f"crop {band.crop} must be in [0, 0.5)")
    if not 0 <= band.overlap < 1:
        problems.append(f"overlap {band.overlap} must be in [0, 1)")
    if not band.dwell_s > 0 or band.settle_s < 0:
        problems.append("dwell_s must be positive and settle_s not negative")
    if problems:
        raise ConfigError(f"{label}: " + "; ".join(problems))
