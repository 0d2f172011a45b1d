"""Thresholds for the generalised spectral kurtosis of M exponential power samples.

For complex Gaussian noise the M frame powers p_i of one bin are i.i.d. exponential, so
u_i = p_i / Σp is Dirichlet(1, …, 1) and independent of Σp. Hence Q = S2/S1² = Σu_i² has
moments from the Dirichlet moment formula E[Π u_i^a_i] = Γ(M)·Π a_i! / Γ(M + Σa_i), and
SK = (M+1)/(M−1)·(M·Q − 1) inherits them exactly.

Upper threshold: a Pearson type III curve matched to the exact mean, variance and skewness,
as Nita & Gary (2010), MNRAS 406 L60, §3 fit Pearson curves to the exact moments; measured
false-alarm rate 1.6e-3 for a design of 1e-3 at M = 64.
Lower threshold: that curve's lower tail is badly off (measured 1.3e-2 for 1e-3 at M = 64;
its support ends above the estimator's), so the lower quantile is taken from a seeded Monte
Carlo of the exact model (M exponential powers), which costs ~50 ms once per (M, Pfa).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from spectrum.detect.gamma_functions import gammaincc_inv  # not scipy: see that module


def _rising(m: int, s: int) -> float:
    """M·(M+1)·…·(M+s−1) = Γ(M+s)/Γ(M)."""
    return math.prod(m + i for i in range(s))


@lru_cache(maxsize=64)
def sk_moments(frames: int) -> tuple[float, float, float]:
    """Exact (mean, variance, skewness) of the GSK estimator on Gaussian noise, M = ``frames``."""
    m = frames
    if m < 4:
        raise ValueError(f"spectral-kurtosis thresholds need at least 4 frames, got {m}")
    # raw moments of Q = Σ u_i², u ~ Dirichlet(1^M)
    q1 = m * 2 / _rising(m, 2)
    q2 = (m * 24 + m * (m - 1) * 4) / _rising(m, 4)
    q3 = (m * 720 + 3 * m * (m - 1) * 24 * 2 + m * (m - 1) * (m - 2) * 8) / _rising(m, 6)
    var_q = q2 - q1 * q1
    mu3_q = q3 - 3 * q1 * q2 + 2 * q1**3
    a = (m + 1) / (m - 1) * m  # SK = a·Q − (M+1)/(M−1)
    mean = a * q1 - (m + 1) / (m - 1)
    variance = a * a * var_q
    skewness = mu3_q / var_q**1.5
    return mean, variance, skewness


@lru_cache(maxsize=256)
def sk_thresholds(frames: int, false_alarm: float) -> tuple[float, float]:
    """Lower and upper SK thresholds, each crossed by noise with probability ``false_alarm``.

    Parameters
    ----------
    frames : int
        M, frames per accumulation.
    false_alarm : float
        One-sided false-alarm probability per bin and accumulation, in (0, 0.5).

    Returns
    -------
    (low, high) : tuple of float
        SK below ``low`` flags a constant envelope; above ``high`` impulsive power.
    """
    if not 0 < false_alarm < 0.5:
        raise ValueError(f"false_alarm must be in (0, 0.5), got {false_alarm}")
    if false_alarm < 1e-5:
        raise ValueError(f"false_alarm {false_alarm} is below what the lower threshold can resolve (1e-5)")
    mean, variance, skewness = sk_moments(frames)
    high = _pearson3_isf(false_alarm, mean, variance, skewness)
    return _lower_quantile_monte_carlo(frames, false_alarm), high


def _pearson3_isf(false_alarm: float, mean: float, variance: float, skewness: float) -> float:
    """Upper quantile of the Pearson type III law with these moments (``scipy.stats.pearson3.isf``).

    With skewness γ > 0 the law is a shifted Gamma: X = ζ + G/β, G ~ Gamma(4/γ²),
    β = 2/(γσ), ζ = mean − (4/γ²)/β (Pearson 1895; Johnson, Kotz & Balakrishnan, vol. 1, §17.1).
    """
    if skewness <= 0:
        raise ValueError(f"SK skewness {skewness} must be > 0 (it is for every M >= 2)")
    shape = 4.0 / skewness**2
    rate = 2.0 / (skewness * math.sqrt(variance))
    return float(mean - shape / rate + gammaincc_inv(shape, false_alarm) / rate)


def _lower_quantile_monte_carlo(frames: int, false_alarm: float) -> float:
    draws = int(min(max(200 / false_alarm, 100_000), 40_000_000 // frames))
    rng = np.random.default_rng(20100601)  # fixed: thresholds must not change between runs
    sk = np.empty(draws)
    chunk = max(1, 2_000_000 // frames)
    for start in range(0, draws, chunk):
        p = rng.exponential(size=(min(chunk, draws - start), frames))
        q = (p * p).sum(axis=1) / p.sum(axis=1) ** 2
        sk[start : start + len(p)] = (frames + 1) / (frames - 1) * (frames * q - 1)
    return float(np.quantile(sk, false_alarm))
