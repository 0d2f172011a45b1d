"""Simulator source: a scenario from :mod:`spectrum.sim`, as a dongle would deliver it (cu8).

Rendering a scenario costs about one core-second per second of signal (the FM and TDMA
generators), far more than the whole live pipeline, so the source renders a *loop* once
(``loop_s`` seconds, the scenario's own duration by default, ~48 MB of cu8 for 10 s at
2.4 MS/s) and replays it endlessly: a jammer switches on and off again in every loop. Loops
are cached per process and shared read-only between sources (the rtl_tcp server opens one
source per client).

The scenario lives at its own centre frequency. Tuned anywhere else, the source delivers the
scenario's dongle (noise floor and impairments) without its signals, from one shared loop of
``noise_loop_s`` seconds. The scene's clock runs on while the source is tuned away (a jammer
seen on return is where the loop's time says). Retuning is instant and needs no settling.

Two options shape a demonstration without rendering more: ``clean_s`` keeps the scene clean
until then (its clean opening, before the first jammer, repeats) so the first jammer switches
on at ``clean_s`` seconds; ``hold`` then keeps the jammer on (the loop's jammed stretch
repeats) instead of switching it off and on again every loop.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict

import numpy as np
from numpy.typing import NDArray

from spectrum.errors import ConfigError
from spectrum.sources.source_base import Pacer, SourceBase, SourceBlock

_CACHE: OrderedDict[tuple, NDArray[np.uint8]] = OrderedDict()
_CACHE_MAX = 4  # loops kept; memory stays bounded by 4 loops
_CACHE_LOCK = threading.Lock()


def render_loop(scenario, loop_s: float, seed: int) -> NDArray[np.uint8]:
    """The scenario's first ``loop_s`` seconds as interleaved cu8, cached."""
    from spectrum.sim.scenarios import render_cu8

    key = (scenario, round(loop_s, 6), seed)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        loop = np.concatenate(list(render_cu8(scenario, loop_s, seed, 1 << 18)))
        loop.flags.writeable = False
        _CACHE[key] = loop
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
        return loop


class SimSource(SourceBase):
    """A simulated RTL-SDR playing a scenario in a loop.

    Parameters
    ----------
    scenario : str
        Name in :data:`spectrum.sim.SCENARIOS`.
    realtime : bool
        Pace delivery at the sample rate (as a dongle would); False delivers as fast as read.
    loop_s : float, optional
        Length of the rendered loop, seconds (default: the scenario's duration, 10 s).
    noise_loop_s : float
        Length of the noise-only loop served away from the scenario's frequency, seconds.
    seed : int
        Seed of the rendering.
    clean_s : float, optional
        The first jammer switches on at this many seconds (not before its usual ``0.4 T``);
        until then the scene's clean opening repeats. Ignored for clean scenes.
    hold : bool
        Once on, the jammer stays on (its stretch of the loop repeats).

    Raises
    ------
    ConfigError
        Unknown scenario or bad loop length.
    """

    datatype = "cu8"
    can_retune = True

    def __init__(self, scenario: str, realtime: bool = True, loop_s: float | None = None,
                 noise_loop_s: float = 1.0, seed: int = 0, clean_s: float | None = None,
                 hold: bool = False) -> None:
        from spectrum.sim.scenarios import get_scenario

        self.scenario = get_scenario(scenario)
        super().__init__(self.scenario.sample_rate_hz, self.scenario.center_freq_hz)
        self.name = f"sim:{scenario}"
        self.realtime = bool(realtime)
        self.loop_s = float(loop_s if loop_s is not None else self.scenario.default_duration_s)
        if not (math.isfinite(self.loop_s) and 0 < self.loop_s <= 60):
            raise ConfigError(f"{self.name}: loop={loop_s!r} must be between 0 and 60 seconds")
        self.noise_loop_s = noise_loop_s
        self.seed = seed
        self._quiet = dataclasses.replace(self.scenario, background=(), events=())
        if clean_s is not None and not (math.isfinite(clean_s) and clean_s >= 0):
            raise ConfigError(f"{self.name}: clean={clean_s!r} must be a number of seconds >= 0")
        labels = self.scenario.labels(self.loop_s)
        fs = self.sample_rate_hz
        # Stretches of the loop in interleaved values (2 per sample): the clean opening ends
        # at on_v, the jammer at off_v; clean_v values of clean opening come before the loop.
        self._on_v = 2 * int(round(min(lb.start_s for lb in labels) * fs)) if labels else 0
        self._off_v = 2 * int(round(max(lb.end_s for lb in labels) * fs)) if labels else 0
        self._clean_v = 2 * int(round(max(0.0, (clean_s or 0.0) - self._on_v / 2 / fs) * fs)) if self._on_v else 0
        self._hold = bool(hold) and self._off_v > self._on_v > 0
        self._stop = threading.Event()
        self._index = 0
        self._select()
        self._pacer = Pacer(self.sample_rate_hz)  # after rendering: its clock starts now

    def _select(self) -> None:
        if math.isclose(self.center_freq_hz, self.scenario.center_freq_hz, abs_tol=1.0):
            self._loop = render_loop(self.scenario, self.loop_s, self.seed)
        else:
            self._loop = render_loop(self._quiet, min(self.noise_loop_s, self.loop_s), self.seed)
        self._scene = math.isclose(self.center_freq_hz, self.scenario.center_freq_hz, abs_tol=1.0)

    def _position(self, index: int) -> tuple[int, int]:
        """Where sample ``index`` is in the current loop, and where its stretch ends (values).

        The scene's clock runs on while the source is tuned away.
        """
        v = 2 * index
        size = self._loop.size
        if not self._scene or not (self._clean_v or self._hold):
            return v % size, size
        if v < self._clean_v:  # the clean opening, repeated
            p = v % self._on_v
            return p, min(self._on_v, p + self._clean_v - v)
        v -= self._clean_v
        if self._hold and v >= self._on_v:  # the jammer's stretch, repeated
            return self._on_v + (v - self._on_v) % (self._off_v - self._on_v), self._off_v
        return v % size, size

    def tune(self, center_freq_hz: float) -> None:
        self._check_open()
        self.center_freq_hz = float(center_freq_hz)
        self._select()
        self._retuned = True
        self.health.retunes += 1

    def read_block(self, num_samples: int, timeout_s: float = 2.0) -> SourceBlock:
        self._check_open()
        n_values = 2 * int(num_samples)
        loop = self._loop
        pos, end = self._position(self._index)
        take = min(n_values, end - pos)
        samples = loop[pos:pos + take].copy()
        n = take // 2
        if self.realtime:
            stamp = self._pacer.wait(n, self._stop)
        else:
            stamp = self._pacer.wall0 + self._index / self.sample_rate_hz
        block = self._block(samples, self._index, stamp)
        self._index += n
        return block

    def _close(self) -> None:
        self._stop.set()
        self._loop = np.zeros(0, np.uint8)
