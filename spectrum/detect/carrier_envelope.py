"""A few separate lines: several carriers, or one sweep faster than a frame? Their envelope says.

Both show the same average spectrum, lines 1/period apart. Their envelopes differ: a linear
sweep has a constant envelope (kurtosis E|x|⁴ / (E|x|²)² = 1), while N independent carriers
beat, with kurtosis 2 − 1/N on average (exactly 1.5 for two, whatever their phases). So the
lines' own signal decides: the row's frames (windowed, transformed) keep only the lines' bins;
the inverse transform over the middle third of each frame, where the Hann window is ≥ ¾ and
divided out, is that signal. Noise in those bins pulls the kurtosis towards noise's 2; the
lines' in-band SNR ρ corrects for it: κ = (κₛ·ρ² + 4ρ + 2) / (1 + ρ)².

The kurtosis is taken within each frame and the frames are weighted by their power squared
(Σ E_f|y|⁴ / Σ (E_f|y|²)²), so what the lines do while they are on decides: an FSK or FM burst
keeps a constant envelope while it lasts, and its coming and going from frame to frame is no
beat.

One row is a noisy estimate. A place's moments add up over the rows in which it shows lines,
and it is judged a comb only once the sum says so with enough samples. Until then the lines
are carriers: a comb split by mistake heals (its next unsplit row bridges the pieces into one
track), while carriers joined by mistake never part again. A place once seen as part of a wider
comb (the caller's test) stays one emission while it lasts.

NumPy rather than a numba kernel: this runs only for rows that show a few separate lines.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kernels.convert import convert_frames
from kernels.psd import RawRows

COMB_KURTOSIS = 1.25  # signal kurtosis under this: a constant envelope (1), not carriers (≥ 1.5)
MIN_SNR = 1.0  # in-band signal-to-noise ratio below which the correction is too shaky to judge
MIN_SAMPLES = 400  # independent samples (time × the lines' share of the band) before a verdict
SETTLED_SAMPLES = 4000  # … and after this many the verdict stands (no more transforms there)
FORGET_ROWS = 80  # a place not seen for this many rows starts afresh


class CarrierJudge:
    """Whether the lines of a band are separate carriers; keeps the moments of each place.

    Parameters
    ----------
    fft_size, frames_per_row : int
        The detector's frames.
    """

    def __init__(self, fft_size: int, frames_per_row: int) -> None:
        self.fft_size = fft_size
        self._frames = np.empty((frames_per_row, fft_size), np.complex64)
        third = fft_size // 3
        self._middle = slice(third, fft_size - third)
        self._row = -1
        self._spectra: NDArray[np.complexfloating] | None = None
        self.places: list[dict] = []  # lo, hi, power_sq, fourth, samples, rho_sum, rows, comb, last_row

    def separate(self, row: int, raw_row: RawRows | None, pieces: list[tuple[int, int]], rho: float,
                 part_of_comb: bool = False) -> bool:
        """Whether ``pieces`` (detector bins, inclusive) of ``row`` are separate carriers.

        ``raw_row`` is the row's IQ (None: no IQ at hand, so carriers); ``rho`` the lines'
        in-band SNR (their mean excess power ratio over the baseline); ``part_of_comb``: the
        caller saw the lines' comb go on past them, so this place is one emission from now on."""
        self.places = [p for p in self.places if row - p["last_row"] <= FORGET_ROWS]
        lo, hi = pieces[0][0], pieces[-1][1]
        place = next((p for p in self.places if p["lo"] <= hi and p["hi"] >= lo), None)
        if place is None:
            place = {"lo": lo, "hi": hi, "power_sq": 0.0, "fourth": 0.0, "samples": 0.0, "rho_sum": 0.0, "rows": 0,
                     "comb": False}
            self.places.append(place)
        place.update(lo=min(place["lo"], lo), hi=max(place["hi"], hi), last_row=row)
        place["comb"] = place["comb"] or part_of_comb
        if place["comb"]:
            return False
        if raw_row is None:
            return True
        if place["samples"] >= SETTLED_SAMPLES:
            return not self._is_comb(place)
        power_sq, fourth, samples = self._moments(row, raw_row, pieces)
        place["power_sq"] += power_sq
        place["fourth"] += fourth
        place["samples"] += samples
        place["rho_sum"] += rho
        place["rows"] += 1
        return not self._is_comb(place)

    def _is_comb(self, place: dict) -> bool:
        rho = place["rho_sum"] / place["rows"]
        if place["samples"] < MIN_SAMPLES or rho < MIN_SNR or place["power_sq"] <= 0:
            return False
        kurtosis = place["fourth"] / place["power_sq"]
        signal_kurtosis = (kurtosis * (1.0 + rho) ** 2 - 4.0 * rho - 2.0) / rho**2
        return signal_kurtosis < COMB_KURTOSIS

    def _moments(self, row: int, raw_row: RawRows, pieces: list[tuple[int, int]]) -> tuple[float, float, float]:
        """Σ_f (E_f|y|²)², Σ_f E_f|y|⁴ over the row's frames f of the lines' signal y, and the
        independent samples behind them."""
        if row != self._row:  # several candidates in one row share its transform
            convert_frames(raw_row.values, raw_row.datatype, raw_row.window, self._frames, self._frames.shape[0])
            self._spectra = np.fft.fft(self._frames, axis=1)
            self._row = row
        mask = np.zeros(self.fft_size, bool)
        for a, b in pieces:
            mask[a : b + 1] = True
        mask = np.fft.ifftshift(mask)  # detector bins are in frequency order, the transform's are not
        y = np.fft.ifft(self._spectra * mask, axis=1)[:, self._middle] / raw_row.window[self._middle]
        power = (y.real**2 + y.imag**2).astype(np.float64)
        # the lines' signal is smooth over fft_size / bins samples: that many samples count as one
        independent = power.size * mask.sum() / self.fft_size
        return float((power.mean(axis=1) ** 2).sum()), float((power**2).mean(axis=1).sum()), independent
