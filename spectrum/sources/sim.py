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
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict

import numpy as np
from numpy.typing import NDArray

from spectrum.errors import ConfigError
from spectrum.sources.base import Pacer, SourceBase, SourceBlock

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

    Raises
    ------
    ConfigError
        Unknown scenario or bad loop length.
    """

    datatype = "cu8"
    can_retune = True

    def __init__(self, scenario: str, realtime: bool = True, loop_s: float | None = None,
                 noise_loop_s: float = 1.0, seed: int = 0) -> None:
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
        self._stop = threading.Event()
        self._index = 0
        self._select()
        self._pacer = Pacer(self.sample_rate_hz)  # after rendering: its clock starts now

    def _select(self) -> None:
        if math.isclose(self.center_freq_hz, self.scenario.center_freq_hz, abs_tol=1.0):
            self._loop = render_loop(self.scenario, self.loop_s, self.seed)
        else:
            self._loop = render_loop(self._quiet, min(self.noise_loop_s, self.loop_s), self.seed)
        self._pos = (2 * self._index) % self._loop.size  # the scene's clock runs on while away

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
        take = min(n_values, loop.size - self._pos)
        samples = loop[self._pos:self._pos + take].copy()
        self._pos = (self._pos + take) % loop.size
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
