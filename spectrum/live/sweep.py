"""Sweeping: drive a source over a band plan's hops, blank settling, time everything, stitch.

For each hop: ``tune()``, discard ``max(settle_s * fs, source.settle_samples)`` samples (the
tuner's PLL settling plus the old-frequency samples still in flight in the USB or TCP
buffers), then deliver a dwell of whole detector rows, so a hop's front end never carries a
partial frame from one visit into the next. A plan of one hop with an infinite dwell (``monitor
--freq``) never retunes and streams continuously.

Figures kept in :class:`SweepStats`: full-sweep time, per-hop retune overhead (the ``tune()``
call, and tune + settle discard until the first kept sample), retune failures.

:class:`Stitcher` puts the hops' average spectra side by side over the plan, each hop
contributing only its kept region (``Hop.keep_low_hz .. keep_high_hz``), and fills the DC spike
of every hop by interpolation.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from spectrum.live.band_plans import BandPlan, Hop
from spectrum.errors import SourceError
from spectrum.sources.source_base import SourceBlock

READ_BLOCK_SAMPLES = 1 << 16  # ~27 ms at 2.4 MS/s: the stop flag is seen at least this often


@dataclass
class SweepStats:
    """Timings of the sweep (seconds) and its failures."""

    sweeps: int = 0
    last_sweep_s: float = 0.0
    hops: int = 0
    tune_call_s_total: float = 0.0
    retune_overhead_s_total: float = 0.0  # tune() + settle discard, until the first kept sample
    settle_samples_discarded: int = 0
    retune_failures: int = 0
    failed_hops: dict[str, str] = field(default_factory=dict)

    @property
    def tune_call_s(self) -> float:
        return self.tune_call_s_total / self.hops if self.hops else 0.0

    @property
    def retune_overhead_s(self) -> float:
        return self.retune_overhead_s_total / self.hops if self.hops else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"sweeps": self.sweeps, "sweep_s": round(self.last_sweep_s, 4), "hops_visited": self.hops,
                "tune_call_ms": round(1e3 * self.tune_call_s, 3),
                "retune_overhead_ms": round(1e3 * self.retune_overhead_s, 3),
                "retune_failures": self.retune_failures}


class Sweeper:
    """Yield ``(hop, block, first_of_dwell)`` over a plan, hop after hop, until stopped.

    Parameters
    ----------
    source : IQSource
    plan : BandPlan
    samples_per_row : callable
        ``samples_per_row(band) -> int``: the dwell is rounded to whole rows of this size.
    stop : threading.Event, optional
        Set to end the iteration after the current block.
    read_timeout_s : float
        Passed to ``read_block``.
    """

    def __init__(self, source, plan: BandPlan, samples_per_row: Callable[[object], int],
                 stop: threading.Event | None = None, read_timeout_s: float = 2.0) -> None:
        self.source = source
        self.plan = plan
        self.hops = plan.hops()
        self.samples_per_row = samples_per_row
        self.stop = stop or threading.Event()
        self.read_timeout_s = read_timeout_s
        self.stats = SweepStats()
        self.fixed = len(self.hops) == 1 and math.isinf(self.hops[0].band.dwell_s)
        if len(self.hops) > 1 and not source.can_retune:
            raise SourceError(f"{getattr(source, 'name', 'source')}: cannot retune, so it cannot "
                              f"sweep plan {plan.name!r} ({len(self.hops)} hops); use --freq")

    def dwell_samples(self, hop: Hop) -> int:
        row = self.samples_per_row(hop.band)
        return max(1, round(hop.band.dwell_s * hop.band.sample_rate_hz / row)) * row

    def settle_samples(self, hop: Hop) -> int:
        return max(int(round(hop.band.settle_s * hop.band.sample_rate_hz)),
                   int(getattr(self.source, "settle_samples", 0)))

    def blocks(self) -> Iterator[tuple[Hop, SourceBlock, bool]]:
        if self.fixed:
            yield from self._stream(self.hops[0])
            return
        while not self.stop.is_set():
            sweep_t0 = time.monotonic()
            for hop in self.hops:
                if self.stop.is_set():
                    return
                yield from self._visit(hop)
            self.stats.sweeps += 1
            self.stats.last_sweep_s = time.monotonic() - sweep_t0

    def _stream(self, hop: Hop) -> Iterator[tuple[Hop, SourceBlock, bool]]:
        src = self.source
        if not math.isclose(src.center_freq_hz, hop.center_freq_hz, abs_tol=1.0) and src.can_retune:
            src.tune(hop.center_freq_hz)
        first = True
        while not self.stop.is_set():
            block = src.read_block(READ_BLOCK_SAMPLES, self.read_timeout_s)
            yield hop, block, first
            first = False

    def _visit(self, hop: Hop) -> Iterator[tuple[Hop, SourceBlock, bool]]:
        src = self.source
        t0 = time.monotonic()
        try:
            src.tune(hop.center_freq_hz)
        except SourceError as exc:
            self.stats.retune_failures += 1
            self.stats.failed_hops[hop.key] = str(exc)
            return
        t_tuned = time.monotonic()
        discard = self.settle_samples(hop)
        while discard > 0 and not self.stop.is_set():
            block = src.read_block(min(discard, READ_BLOCK_SAMPLES), self.read_timeout_s)
            discard -= block.num_samples
            self.stats.settle_samples_discarded += block.num_samples
        self.stats.hops += 1
        self.stats.tune_call_s_total += t_tuned - t0
        self.stats.retune_overhead_s_total += time.monotonic() - t0
        want = self.dwell_samples(hop)
        first = True
        while want > 0 and not self.stop.is_set():
            block = src.read_block(min(want, READ_BLOCK_SAMPLES), self.read_timeout_s)
            want -= block.num_samples
            yield hop, block, first
            first = False


class Stitcher:
    """The plan's spectrum from the hops' latest dwells (power in dBFS per bin)."""

    def __init__(self, plan: BandPlan, dc_guard_hz: float = 3000.0) -> None:
        self.plan = plan
        self.dc_guard_hz = dc_guard_hz
        self._latest: dict[str, NDArray[np.float64]] = {}
        self._hops = {hop.key: hop for hop in plan.hops()}

    def update(self, hop: Hop, mean_power: NDArray[np.floating]) -> None:
        """Record a hop's average power spectrum (linear, bins in frequency order)."""
        self._latest[hop.key] = np.asarray(mean_power, np.float64)

    def spectrum(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(freq_hz, level_db)`` over every hop seen so far, ascending in frequency."""
        freqs, levels = [], []
        for key, power in self._latest.items():
            hop = self._hops[key]
            n = power.size
            fs = hop.band.sample_rate_hz
            f = hop.center_freq_hz + (np.arange(n) - n // 2) * fs / n
            p = power.copy()
            dc = np.abs(f - hop.center_freq_hz) <= self.dc_guard_hz
            if dc.any() and (~dc).any():
                p[dc] = np.interp(f[dc], f[~dc], p[~dc])
            keep = (f >= hop.keep_low_hz) & (f < hop.keep_high_hz)
            freqs.append(f[keep])
            levels.append(10 * np.log10(np.maximum(p[keep], 1e-20)))
        if not freqs:
            return np.zeros(0), np.zeros(0)
        f = np.concatenate(freqs)
        order = np.argsort(f, kind="stable")
        return f[order], np.concatenate(levels)[order]


def seam_flatness_db(level_db: NDArray[np.floating], smooth_bins: int = 32) -> float:
    """Largest deviation (dB) of the ``smooth_bins``-bin running mean from the median level.

    For a stitched spectrum of white noise this measures steps and dips at the seams.
    """
    k = np.ones(smooth_bins) / smooth_bins
    smoothed = np.convolve(np.asarray(level_db, np.float64), k, mode="valid")
    return float(np.max(np.abs(smoothed - np.median(level_db))))


def measure_settling(source, quiet_hz: float, loud_hz: float, repeats: int = 4,
                     chunk_samples: int = 1024, look_samples: int | None = None,
                     tolerance_db: float = 1.0) -> float:
    """Measure how long after ``tune()`` the samples are at the new frequency, seconds.

    Alternates between a frequency with a strong signal (``loud_hz``) and a quiet one; after
    each move to the quiet one, finds the last ``chunk_samples`` chunk whose power is more
    than ``tolerance_db`` above the settled (last quarter) level. Returns the worst case over
    ``repeats``. Run it on the dongle at hand with a known carrier (e.g. a GSM BCCH) to set a
    band plan's ``settle_s``.
    """
    fs = source.sample_rate_hz
    look = look_samples or int(0.5 * fs)
    worst = 0
    for _ in range(repeats):
        source.tune(loud_hz)
        _read(source, look // 4)
        source.tune(quiet_hz)
        x = _read(source, look).astype(np.float32)
        if source.datatype == "cu8":
            x = x - 127.5
        n = x.size // (2 * chunk_samples)
        power = (x[: n * 2 * chunk_samples].reshape(n, -1) ** 2).mean(axis=1)
        settled = np.median(power[-max(1, n // 4):])
        loud = np.flatnonzero(10 * np.log10(power / settled) > tolerance_db)
        last = int(loud[-1]) + 1 if loud.size else 0
        worst = max(worst, last * chunk_samples)
    return worst / fs


def _read(source, num_samples: int) -> NDArray:
    parts, got = [], 0
    while got < num_samples:
        block = source.read_block(num_samples - got)
        parts.append(block.samples)
        got += block.num_samples
    return np.concatenate(parts)
