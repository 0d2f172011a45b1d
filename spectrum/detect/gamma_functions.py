"""Two special functions the detector's thresholds need, in plain Python.

Hand-written rather than taken from ``scipy.special`` because importing that package costs about
0.35 s of every ``spectrum replay`` start-up (it pulls in SciPy's array-API layer), and the
detector calls these a few times per (frames, false-alarm) pair, never on the hot path. Both are
checked against SciPy to 1e-10 in ``tests/spectrum/test_startup_imports.py``.

- :func:`trigamma`: ψ'(x), by the recurrence ψ'(x) = ψ'(x+1) + 1/x² up to x ≥ 10, then its
  asymptotic series (Abramowitz & Stegun 6.4.12).
- :func:`gammaincc_inv`: x with Q(a, x) = p, Q the regularised upper incomplete gamma function,
  Q evaluated by its power series or Lentz's continued fraction (Numerical Recipes §6.2), the root
  found by Newton steps on log Q kept inside a bracket, started from Wilson & Hilferty (1931).
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-16
_TINY = 1e-300


def trigamma(x: float) -> float:
    """ψ'(x) for x > 0."""
    if not x > 0:
        raise ValueError(f"trigamma: x must be > 0, got {x}")
    total = 0.0
    while x < 10.0:
        total += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    # 1/x + 1/(2x²) + Σ B_2k / x^(2k+1): B2 = 1/6, B4 = -1/30, B6 = 1/42, B8 = -1/30, B10 = 5/66
    series = inv2 * (1 / 6 + inv2 * (-1 / 30 + inv2 * (1 / 42 + inv2 * (-1 / 30 + inv2 * 5 / 66))))
    return total + inv + 0.5 * inv2 + inv * series


def _log_prefactor(a: float, x: float) -> float:
    """log(x^a e^-x / Γ(a))."""
    return a * math.log(x) - x - math.lgamma(a)


def gammaincc(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x ≥ 0."""
    if x <= 0.0:
        return 1.0
    if x < a + 1.0:  # series for P(a, x), Q = 1 - P
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * _EPS:
            n += 1.0
            term *= x / n
            total += term
        return max(0.0, 1.0 - total * math.exp(_log_prefactor(a, x)))
    b = x + 1.0 - a  # continued fraction for Q(a, x), modified Lentz
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    i = 0
    while True:
        i += 1
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS or i > 10_000:
            break
    return math.exp(_log_prefactor(a, x)) * h


def gammaincc_inv(a: float, p: float) -> float:
    """x ≥ 0 with Q(a, x) = p, for a > 0 and 0 < p < 1."""
    if not (a > 0 and 0 < p < 1):
        raise ValueError(f"gammaincc_inv: need a > 0 and 0 < p < 1, got a={a}, p={p}")
    z = NormalDist().inv_cdf(1.0 - p)
    guess = a * (1.0 - 1.0 / (9.0 * a) + z / (3.0 * math.sqrt(a))) ** 3
    x = guess if guess > 0 else a * 0.5
    lo, hi = 0.0, math.inf  # Q(lo) > p > Q(hi): Q falls with x
    log_p = math.log(p)
    for _ in range(200):
        q = gammaincc(a, x)
        if q > p:
            lo = x
        else:
            hi = x
        if q <= 0.0:
            step_x = None
        else:  # Newton on log Q: d/dx log Q = -x^(a-1) e^-x / (Γ(a) Q)
            slope = -math.exp(_log_prefactor(a, x) - math.log(x)) / q
            step_x = x - (math.log(q) - log_p) / slope if slope < 0 else None
        if step_x is None or not lo < step_x < hi:
            step_x = 0.5 * (lo + hi) if hi < math.inf else 2.0 * x + 1.0
        if abs(step_x - x) <= 4 * _EPS * x:
            return step_x
        x = step_x
    return x
