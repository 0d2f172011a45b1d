"""Generalised spectral kurtosis (GSK) estimator per bin.

References
----------
Nita, G. M. & Gary, D. E. (2010), "The generalized spectral kurtosis estimator",
MNRAS 406, L60–L64, eq. (8): SK = (M·N·d + 1)/(M − 1) · (M·S2/S1² − 1).
Here each accumulation is one FFT frame (N = 1) of complex Gaussian noise, whose power is
exponential (d = 1), so SK = (M + 1)/(M − 1) · (M·S2/S1² − 1), with mean 1 for Gaussian noise,
→ 0 for a constant envelope (tone) and ≫ 1 for impulsive (pulsed) power.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def spectral_kurtosis(mean_power: NDArray[np.float32], sum_sq_power: NDArray[np.float32], frames: int) -> NDArray[np.float32]:
    """GSK per bin from the Welch mean and Σp² of ``frames`` power spectra.

    Parameters
    ----------
    mean_power : NDArray[np.float32]
        S1/M per bin (any shape).
    sum_sq_power : NDArray[np.float32]
        S2 = Σp² per bin, same shape and units squared.
    frames : int
        M, the frames accumulated (≥ 2).

    Returns
    -------
    NDArray[np.float32]
        SK per bin; bins with zero power read 1 (no evidence either way).
    """
    if frames < 2:
        raise ValueError(f"spectral kurtosis needs at least 2 frames, got {frames}")
    m = np.float32(frames)
    s1 = mean_power.astype(np.float32) * m
    with np.errstate(divide="ignore", invalid="ignore"):
        sk = (m + 1) / (m - 1) * (m * sum_sq_power / (s1 * s1) - 1)
    return np.where(s1 > 0, sk, np.float32(1.0)).astype(np.float32)
