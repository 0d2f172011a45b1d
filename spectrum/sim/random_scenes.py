"""Randomised labelled scenes: every parameter drawn per seed from wide ranges (issue 12).

Beside the fixed library (`spectrum.sim.scenarios`, one clear case of each kind), these scenes
sample the space a detector meets in the field, so a detector tuned on some seeds can be judged
on others. Two kinds of scene:

* **jammed** — one jammer (or a legitimate emitter appearing: ``new_emitter``) over a random set
  of legitimate backgrounds; each on-window of it is one label;
* **clean** — backgrounds only, for false events per hour.

Splits
------
Seeds are fixed in code and disjoint: `split_seeds` gives development seeds (fit and tune on
these) and test seeds (report these); jammed and clean scenes have their own ranges.

What is drawn (ranges from the issue, not from what a detector passes)
----------------------------------------------------------------------
* sample rate 0.25–3.2 MS/s (log-uniform), centre frequency 30–1760 MHz, duration 10–20 s
  (ramped jammers: as long as the ramp needs, at most 45 s);
* noise floor −40 to −24 dBFS; RTL-SDR impairments (DC offset, IQ imbalance, LO error up to
  ±30 ppm, tuner gain drift of up to ±2 dB in 4 scenes of 10); one scene in seven has a strong
  legitimate carrier (−12 to +3 dBFS) so the 8-bit ADC clips at several levels;
* JNR −6 to 30 dB; barrage width from one 12.5 kHz channel to twice the band (wider than the
  band: white noise over all of it); pulsed noise at duty 1–80 % and period 20 µs–200 ms (a
  third of them at an exact multiple or fraction, 1/8 to 8, of the reference FFT frame);
  sweeps with period 5 µs–2 s, sawtooth or triangle, span inside or wider than the band
  (up to 10×); CW lines single, drifting (10–2000 Hz/s) or several (2–8, evenly spaced);
  new emitters (NBFM voice, a GSM TDMA carrier) switching on;
* onset abrupt, or ramped at 0.2–5 dB/s from −15…−6 dB JNR (one jammer in five); on/off
  patterns of up to three windows;
* backgrounds (0–4 per scene): GSM TDMA carriers (random busy slots), TDD LTE-like downlinks
  (TS 36.211 uplink/downlink configurations 0–6), hopping OFDM bursts, NBFM voice, OOK and
  2-FSK ISM packets, ADS-B-like replies and DME-like pulse pairs, at 5–30 dB over the floor in
  their band but never over −15 dBFS (a receiver's gain is set for them). Backgrounds are on (or
  repeat their bursts, every 0.1–1 s at most) from sample 0, so a detector sees them while it
  learns.

Physical limits on draws: a pulse lasts at least 4 samples and ``2 / width`` (shorter ones do not
exist at that rate and width: the duty is raised to it); a sweep has a time–bandwidth product
(span × period) of at least 20 (below it a "sweep" is a line); every band-limited signal stays
inside ±0.48 of the sample rate.

Labels and JNR
--------------
A label is one on-window of a jammer or new emitter: ``kind`` (the event contract's kinds),
``start_s``/``end_s``, absolute ``freq_low_hz``/``freq_high_hz`` *as received* (LO error
included; clipped to the captured band), and ``jnr_db``: the jammer's power over the noise
floor's power in the jammer's band — for noise (barrage, pulsed) the ratio of power spectral
densities in its band, while a pulse is on; for a sweep its power over the noise in its span
(the mean PSD ratio over the span, also for spans wider than the band); for a CW line its power
over the noise in 1 kHz; for a new emitter its power over the noise in its occupied band
(Carson's rule for FM, 200 kHz for GSM during a burst). For a ramp, ``jnr_db`` is the final
level and ``jnr0_s`` the time it crosses 0 dB (None if it never does). The band of a line is
where it drifted during the window (zero width for a steady line: a scorer applies its own
resolution). ``overload`` labels cover the stretches where at least one in a thousand I/Q
values sits at the converter's rails (``OVERLOAD_SHARE``): that is the capture clipping, not a
detector's decision.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spectrum.errors import ConfigError
from spectrum.sim import scene_backgrounds as bg
from spectrum.sim import scene_jammers as jam
from spectrum.sim import signals
from spectrum.sim.dongle_chain import finish_cu8
from spectrum.sim.impairments import Impairments
from spectrum.sim.scenarios import NOISE_POWER

SPLITS = {
    ("dev", False): 0,
    ("dev", True): 500_000,
    ("test", False): 1_000_000,
    ("test", True): 1_500_000,
}
"""First seed of each (split, clean) range; each range holds ``SPLIT_SIZE`` seeds."""
SPLIT_SIZE = 500_000
REFERENCE_FFT_SIZE = 2048
"""Frame length (samples) that pulse periods are drawn as multiples and fractions of."""
OVERLOAD_SHARE = 1e-3
"""Share of I/Q values at a rail that makes a stretch of the capture an ``overload`` label."""
RENDER_BLOCK = 1 << 17
MAX_DURATION_S = 45.0


def split_seeds(split: str, count: int, clean: bool = False) -> list[int]:
    """The first ``count`` seeds of a split.

    Parameters
    ----------
    split : {"dev", "test"}
        Development seeds (fit, tune) or test seeds (report).
    count : int
        How many, at most ``SPLIT_SIZE``.
    clean : bool, optional
        Seeds of clean scenes (backgrounds only) instead of jammed ones.

    Returns
    -------
    list of int

    Raises
    ------
    ConfigError
        Unknown split or a count out of range.
    """
    if split not in ("dev", "test"):
        raise ConfigError(f"split {split!r}: choose 'dev' or 'test'")
    if not 0 <= count <= SPLIT_SIZE:
        raise ConfigError(f"count {count}: must lie in 0..{SPLIT_SIZE}")
    first = SPLITS[(split, clean)]
    return list(range(first, first + count))


def split_of(seed: int) -> tuple[str, bool]:
    """(split, clean) of a seed, from the fixed ranges."""
    for (split, clean), first in SPLITS.items():
        if first <= seed < first + SPLIT_SIZE:
            return split, clean
    raise ConfigError(f"seed {seed} lies in no split (dev: 0.., test: {SPLITS[('test', False)]}..)")


@dataclass(frozen=True, eq=False)
class Emitter:
    """A component with its schedule: background (``kind`` None, always on) or labelled.

    Attributes
    ----------
    what : str
        Short name of the signal type (``barrage``, ``pulsed``, ``tone``, ``gsm`` …).
    kind : str or None
        Label kind, or None for a legitimate background.
    component : object
        Renders the signal at its full level (see `spectrum.sim.scene_components`).
    windows : tuple of (float, float)
        On-windows in seconds; empty for always on.
    ramp_db_per_s : float
        If positive, the level rises from ``ramp_start_db`` (relative to full) at this rate
        from the start of the (single) window, up to full.
    ramp_start_db : float
        Level at the start of a ramp, dB relative to full (negative).
    params : dict
        The drawn parameters, for breakdowns of the results.
    """

    what: str
    kind: str | None
    component: Any
    windows: tuple[tuple[float, float], ...] = ()
    ramp_db_per_s: float = 0.0
    ramp_start_db: float = 0.0
    params: dict = field(default_factory=dict)

    def gain(self, time_s: np.ndarray) -> np.ndarray | None:
        """Amplitude gain (0…1) at each time, or None when always fully on."""
        if not self.windows:
            return None
        g = np.zeros(time_s.size, np.float32)
        for on_s, off_s in self.windows:  # time_s ascends: each window is one slice
            a, b = np.searchsorted(time_s, on_s), np.searchsorted(time_s, off_s)
            if a >= b:
                continue
            if self.ramp_db_per_s > 0:
                level_db = np.minimum(0.0, self.ramp_start_db + self.ramp_db_per_s * (time_s[a:b] - on_s))
                g[a:b] = 10 ** (level_db / 20)
            else:
                g[a:b] = 1.0
        return g


@dataclass(frozen=True, eq=False)
class RandomScene:
    """One drawn scene (see the module docstring); `render_scene` writes it and its labels."""

    seed: int
    clean: bool
    sample_rate_hz: float
    center_freq_hz: float
    duration_s: float
    floor_dbfs: float
    impairments: Impairments
    emitters: tuple[Emitter, ...]

    @property
    def split(self) -> str:
        return split_of(self.seed)[0]

    def labels(self) -> list[dict]:
        """Labels of the jammer / new emitter windows (overload labels come from rendering)."""
        fs, fc = self.sample_rate_hz, self.center_freq_hz
        shift = self.impairments.lo_shift_hz(fc)
        out = []
        for e in self.emitters:
            if e.kind is None:
                continue
            for on_s, off_s in e.windows:
                low, high = jam.band_during(e.component, fs, on_s, off_s)
                low, high = max(low + shift, -fs / 2), min(high + shift, fs / 2)
                jnr = float(e.component.level_db)
                out.append({
                    "kind": e.kind, "what": e.what, "start_s": on_s, "end_s": off_s,
                    "freq_low_hz": fc + low, "freq_high_hz": fc + high, "jnr_db": round(jnr, 2),
                    "jnr0_s": _crossing_s(e, on_s, jnr), "onset": "ramp" if e.ramp_db_per_s > 0 else "abrupt",
                    "params": e.params,
                })
        return out

    def describe(self) -> dict:
        """The drawn parameters, JSON-ready."""
        return {
            "seed": self.seed, "split": self.split, "clean": self.clean,
            "sample_rate_hz": self.sample_rate_hz, "center_freq_hz": self.center_freq_hz,
            "duration_s": self.duration_s, "floor_dbfs": self.floor_dbfs,
            "impairments": {"dc_offset": [self.impairments.dc_offset.real, self.impairments.dc_offset.imag],
                            "iq_gain_db": self.impairments.iq_gain_db, "iq_phase_deg": self.impairments.iq_phase_deg,
                            "ppm": self.impairments.ppm, "drift_db": self.impairments.drift_db,
                            "drift_period_s": self.impairments.drift_period_s},
            "emitters": [{"what": e.what, "kind": e.kind, "windows": e.windows, "params": e.params}
                         for e in self.emitters],
        }


def _crossing_s(e: Emitter, on_s: float, jnr_db: float) -> float | None:
    """When the JNR first reaches 0 dB in a window starting at ``on_s`` (None if never)."""
    if jnr_db < 0:
        return None
    if e.ramp_db_per_s <= 0 or jnr_db + e.ramp_start_db >= 0:
        return on_s
    return on_s + (-(jnr_db + e.ramp_start_db)) / e.ramp_db_per_s


def _draw_tuning(rng: np.random.Generator) -> tuple[float, float, float]:
    fs = float(round(math.exp(rng.uniform(math.log(0.25e6), math.log(3.2e6))), -3))
    fc = float(round(rng.uniform(30e6, 1760e6), -3))
    return fs, fc, float(rng.uniform(10.0, 20.0))


def clean_duration_s(seed: int) -> float:
    """Duration of a clean scene, without drawing the rest of it."""
    return _draw_tuning(np.random.default_rng([seed, 12]))[2]


def draw_scene(seed: int) -> RandomScene:
    """Draw the scene of a seed (its split and whether it is clean follow from the seed).

    Parameters
    ----------
    seed : int
        A seed from `split_seeds`.

    Returns
    -------
    RandomScene
    """
    _, clean = split_of(seed)
    rng = np.random.default_rng([seed, 12])
    fs, fc, duration = _draw_tuning(rng)
    emitters: list[Emitter] = []
    if not clean:
        emitters, duration = jam.draw_jammer(rng, fs, duration)
    floor_dbfs = float(rng.uniform(-40.0, -24.0))
    backgrounds = bg.draw_backgrounds(rng, fs, duration, floor_dbfs, strong=rng.random() < 1 / 7)
    imp = Impairments(
        dc_offset=complex(rng.normal(0, 0.015), rng.normal(0, 0.015)),
        iq_gain_db=float(rng.uniform(0, 0.6)), iq_phase_deg=float(rng.uniform(0, 3.0)),
        ppm=float(rng.uniform(-30, 30)),
        drift_db=float(rng.uniform(0.3, 2.0)) if rng.random() < 0.4 else 0.0,
        drift_period_s=float(rng.uniform(4.0, 60.0)),
    )
    return RandomScene(seed=seed, clean=clean, sample_rate_hz=fs, center_freq_hz=fc, duration_s=duration,
                       floor_dbfs=floor_dbfs, impairments=imp,
                       emitters=tuple(backgrounds) + tuple(emitters))


def render_ideal(scene: RandomScene, start: int, count: int) -> np.ndarray:
    """Complex128 samples ``[start, start + count)`` at the library's level convention (noise floor
    ``NOISE_POWER``), before the scene's scale and the dongle."""
    n = np.arange(start, start + count, dtype=np.int64)
    return add_emitters(scene, n, signals.white_noise(n, NOISE_POWER, scene.seed, stream=0))


def add_emitters(scene: RandomScene, n: np.ndarray, x: np.ndarray, backgrounds_only: bool = False) -> np.ndarray:
    """Add the scene's emitters (only its legitimate backgrounds with ``backgrounds_only``) at
    absolute indices ``n`` to ``x`` (complex128, in place) and return it. Each keeps its stream
    number, so it renders the same samples however it is selected."""
    fs = scene.sample_rate_hz
    time_s = n / fs
    for stream, e in enumerate(scene.emitters, start=1):
        if backgrounds_only and e.kind is not None:
            continue
        gain = e.gain(time_s)
        if gain is not None and not gain.any():
            continue
        part = e.component.render(n, fs, scene.seed, stream)
        x += part if gain is None else part * gain
    return x


def scene_scale(scene: RandomScene) -> float:
    """Amplitude factor from the library's noise floor to the scene's ``floor_dbfs``."""
    return math.sqrt(10 ** (scene.floor_dbfs / 10) / NOISE_POWER)


def render_scene(scene: RandomScene, data_path: Path) -> list[dict]:
    """Write a scene as headerless cu8 to ``data_path``; return its labels (overload included).

    Memory stays bounded by ``RENDER_BLOCK`` samples whatever the duration.
    """
    fs = scene.sample_rate_hz
    total = int(round(scene.duration_s * fs))
    clipped_blocks: list[tuple[float, float]] = []
    with open(data_path, "wb") as f:
        for start in range(0, total, RENDER_BLOCK):
            count = min(RENDER_BLOCK, total - start)
            codes, clipped = finish_cu8(render_ideal(scene, start, count), start, fs, scene.center_freq_hz,
                                        scene_scale(scene), scene.impairments)
            if clipped >= OVERLOAD_SHARE * codes.size:
                clipped_blocks.append((start / fs, (start + count) / fs))
            codes.tofile(f)
    return scene.labels() + _overload_labels(clipped_blocks, scene)


def _overload_labels(blocks: list[tuple[float, float]], scene: RandomScene) -> list[dict]:
    merged: list[list[float]] = []
    for a, b in blocks:
        if merged and a - merged[-1][1] < 0.3:  # a few blocks apart: one clipping stretch
            merged[-1][1] = b
        else:
            merged.append([a, b])
    fc, fs = scene.center_freq_hz, scene.sample_rate_hz
    return [{"kind": "overload", "what": "clipping", "start_s": a, "end_s": b,
             "freq_low_hz": fc - fs / 2, "freq_high_hz": fc + fs / 2, "jnr_db": None, "jnr0_s": None,
             "onset": "abrupt", "params": {}} for a, b in merged]


def scene_stem(scene: RandomScene) -> str:
    """File stem carrying the tuning the rtl_433 way (``scene17_433920k_250k``), so ``spectrum
    replay`` reads centre frequency and rate from the name."""
    return f"scene{scene.seed}_{round(scene.center_freq_hz / 1e3)}k_{round(scene.sample_rate_hz / 1e3)}k"


def write_scene(scene: RandomScene, base: Path) -> tuple[Path, list[dict]]:
    """Write ``base.cu8`` and ``base.labels.json`` (labels and drawn parameters); return both.

    With ``base`` a directory, the files are named by `scene_stem` inside it.
    """
    if base.is_dir():
        base = base / scene_stem(scene)
    data = base.with_name(base.name + ".cu8")
    labels = render_scene(scene, data)
    sidecar = {**scene.describe(), "labels": labels}
    base.with_name(base.name + ".labels.json").write_text(json.dumps(sidecar, indent=1, default=_jsonable) + "\n")
    return data, labels


def _jsonable(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, complex):
        return [value.real, value.imag]
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
