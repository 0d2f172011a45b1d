"""Narrowband lines by OS-CFAR across frequency, with thresholds from the exact false-alarm
probability.

Statistics. Every 4 rows the mean spectrum of those rows is tested (kernels.cfar). Under
noise alone each bin of a Welch mean of L = 4·M frames (M frames per row) is Gamma(L)
distributed, and cells two bins apart are practically independent. For a cell under test X₀
and the k-th smallest Y of N reference cells, the probability of a false alarm at scale
factor α is

    Pfa(α) = E[Q(L, α·Y)] = ∫₀¹ Q(L, α·F⁻¹(u)) · Beta(u; k, N − k + 1) du,

where Q is the regularised upper incomplete gamma function (the survival function of X₀),
F⁻¹ the Gamma(L) quantile function, and Beta(·; k, N − k + 1) the density of F(Y), since the
k-th order statistic of N uniform values is Beta distributed. The integral is evaluated
numerically, with no Gaussian or large-L approximation. For L = 1 (square-law cells) it
reduces to Rohling's closed form, Pfa = Π_{i=0}^{k−1} (N − i)/(N − i + α). The tests check
both: the closed form, and rates measured on noise. Reference: H. Rohling, "Radar CFAR
thresholding in clutter and multiple target situations", IEEE Trans. AES-19(4), 1983.

What is reported. A spectrum is not empty: legitimate carriers are lines as well. A CFAR hit
counts only where

* no line stood in the learning rows (``known_lines``). Known lines are lines in any
  4-row learning block, or in the mean of all learning rows at a looser Pfa, which also
  catches weak steady carriers. Each is widened by a few bins for drift;
* the bin rose over its baseline by at least the detector's ``min_rise_db``;
* the line was also there at the previous test, within one bin. A line must last about
  0.2 s, which short legitimate bursts (telemetry, keying) rarely do.

The line then stays hot for the rows until the next test, for as long as its row-by-row
excess holds.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kernels.cfar import os_cfar

ROWS_PER_TEST = 4
CELLS_PER_SIDE = 16
RANK = 24  # of 32: three quarters, so up to 8 reference cells may hold other emitters
GUARD_BINS = 2  # a Hann-windowed line spills into the next bin or two
STRIDE = 2  # every other bin: nearly independent cells (see kernels.cfar)
LEARN_PFA = 1e-3  # looser, for lines in the mean of all learning rows: better too many known
KNOWN_WIDEN_BINS = 3  # a known line may drift this far and still be known
# os_cfar_alpha's answers for the default settings at the usual rates and FFT sizes, written by
# spectrum/detect/cfar_alpha_table.py: solving imports scipy.integrate and scipy.optimize, about
# 0.3 s of a replay's start-up for two numbers
ALPHA_TABLE = Path(__file__).with_name("cfar_alpha.json")


def os_cfar_pfa(alpha: float, cells: int, rank: int, looks: int) -> float:
    """Exact false-alarm probability of OS-CFAR with iid Gamma(``looks``) cells."""
    if looks == 1:  # Rohling's closed form
        i = np.arange(rank)
        return float(np.prod((cells - i) / (cells - i + alpha)))
    return _pfa_integral(alpha, cells, rank, looks)


def _pfa_integral(alpha: float, cells: int, rank: int, looks: int) -> float:
    """The false-alarm integral of the module docstring, for any number of looks."""
    import scipy.integrate  # here, not at import: a replay that never needs them starts faster
    import scipy.special

    a, b = rank, cells - rank + 1  # the rank-th smallest of `cells` uniforms is Beta(a, b)
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)

    def order_pdf(u: float) -> float:
        if u <= 0.0 or u >= 1.0:
            return 0.0
        return math.exp(log_norm + (a - 1) * math.log(u) + (b - 1) * math.log1p(-u))

    def integrand(u: float) -> float:
        return scipy.special.gammaincc(looks, alpha * scipy.special.gammaincinv(looks, u)) * order_pdf(u)

    # the order statistic's density sits around rank/(cells+1): tell the integrator where
    centre = rank / (cells + 1)
    value, _ = scipy.integrate.quad(integrand, 0.0, 1.0, points=[centre], epsabs=0.0, epsrel=1e-9, limit=400)
    return float(value)


@functools.lru_cache(maxsize=64)
def os_cfar_alpha(pfa: float, cells: int, rank: int, looks: int) -> float:
    """Scale factor α for which :func:`os_cfar_pfa` equals ``pfa``: from ``ALPHA_TABLE`` when it
    holds these arguments, else solved."""
    if not 0.0 < pfa < 1.0:
        raise ValueError(f"pfa must be within (0, 1), got {pfa}")
    known = _alpha_table().get(alpha_key(pfa, cells, rank, looks))
    return known if known is not None else solve_os_cfar_alpha(pfa, cells, rank, looks)


def alpha_key(pfa: float, cells: int, rank: int, looks: int) -> str:
    return f"{float(pfa)!r} {int(cells)} {int(rank)} {int(looks)}"


@functools.lru_cache(maxsize=1)
def _alpha_table() -> dict[str, float]:
    return json.loads(ALPHA_TABLE.read_text())["alpha"]


def solve_os_cfar_alpha(pfa: float, cells: int, rank: int, looks: int) -> float:
    """Solve :func:`os_cfar_pfa` = ``pfa`` for α (root finding on the exact integral)."""
    import scipy.optimize  # here, not at import (start-up)

    def log_excess(alpha: float) -> float:
        return math.log(max(os_cfar_pfa(alpha, cells, rank, looks), 1e-300)) - math.log(pfa)

    high = 2.0
    while log_excess(high) > 0:
        high *= 2.0
    return float(scipy.optimize.brentq(log_excess, 1e-6, high, xtol=1e-10, rtol=1e-10))


def cfar_scan(power: NDArray[np.float32], pfa: float, looks: int) -> NDArray[np.float32]:
    """``power / threshold`` per bin of one mean spectrum of ``looks`` frames (> 1: a line)."""
    alpha = os_cfar_alpha(pfa, 2 * CELLS_PER_SIDE, RANK, looks)
    return os_cfar(power, alpha, RANK, GUARD_BINS, CELLS_PER_SIDE, STRIDE)


def _widen(mask: NDArray[np.bool_], bins: int) -> NDArray[np.bool_]:
    out = mask.copy()
    for shift in range(1, bins + 1):
        out[shift:] |= mask[:-shift]
        out[:-shift] |= mask[shift:]
    return out


def known_lines(rows_power: NDArray[np.float32], frames_per_row: int, pfa: float) -> NDArray[np.bool_]:
    """Bins of the lines in the learning rows ``(rows, bins)`` of linear mean power."""
    rows = rows_power.shape[0] // ROWS_PER_TEST * ROWS_PER_TEST
    blocks = rows_power[:rows].reshape(-1, ROWS_PER_TEST, rows_power.shape[1]).mean(axis=1)
    lines = np.zeros(rows_power.shape[1], bool)
    for block in blocks:
        lines |= cfar_scan(block, pfa, ROWS_PER_TEST * frames_per_row) > 1.0
    lines |= cfar_scan(rows_power.mean(axis=0), LEARN_PFA, rows_power.shape[0] * frames_per_row) > 1.0
    return _widen(lines, KNOWN_WIDEN_BINS)


def known_lines_of_level(level_db: NDArray[np.float32], looks: int) -> NDArray[np.bool_]:
    """Known lines from a learned level alone (a baseline file saved without them)."""
    power = (10.0 ** (level_db.astype(np.float64) / 10.0)).astype(np.float32)
    return _widen(cfar_scan(power, LEARN_PFA, looks) > 1.0, KNOWN_WIDEN_BINS)


class NarrowbandCfar:
    """New narrowband lines, row by row (see the module docstring)."""

    def __init__(self, fft_size: int, frames_per_row: int, pfa: float, min_rise_db: float, z_threshold: float) -> None:
        self.looks = ROWS_PER_TEST * frames_per_row
        self.pfa = pfa
        self.min_rise_db = min_rise_db
        self.z_threshold = z_threshold
        self._sum = np.zeros(fft_size, np.float64)
        self._rows = 0
        self._previous = np.zeros(fft_size, bool)  # raw hits of the previous test, widened by a bin
        self._lines = np.zeros(fft_size, bool)  # reported lines until the next test
        self._score = np.zeros(fft_size, np.float32)

    @functools.cached_property
    def alpha(self) -> float:
        """The CFAR scale, solved on first use: a short clip never runs the CFAR and skips the
        solve and its scipy imports (about a second of start-up)."""
        return os_cfar_alpha(self.pfa, 2 * CELLS_PER_SIDE, RANK, self.looks)

    def row(self, power: NDArray[np.float32], excess_db: NDArray[np.float32], known: NDArray[np.bool_],
            block_excess_db) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
        """Feed one row of linear mean power and its excess over the baseline (dB); return
        the bins of new lines now and a score per bin (z-like, ``z_threshold`` at the CFAR
        threshold). ``block_excess_db()`` gives the mean excess of the last 4 rows; it is
        called only on test rows."""
        self._sum += power
        self._rows += 1
        if self._rows == ROWS_PER_TEST:
            ratio = os_cfar((self._sum / ROWS_PER_TEST).astype(np.float32), self.alpha, RANK, GUARD_BINS,
                            CELLS_PER_SIDE, STRIDE)
            self._sum[:] = 0.0
            self._rows = 0
            hits = ratio > 1.0
            lines = hits & self._previous & ~known
            if lines.any():
                lines &= block_excess_db() >= self.min_rise_db
            self._previous = _widen(hits, 1) if hits.any() else hits
            self._lines = lines
            self._score[:] = 0.0
            if lines.any():
                # ln(power/level) against ln(alpha): z_threshold at the threshold, more above it
                self._score[lines] = self.z_threshold * (1.0 + np.log(ratio[lines]) / math.log(self.alpha))
        self._lines &= excess_db >= self.min_rise_db  # a line that ended stops at once
        return self._lines, self._score
