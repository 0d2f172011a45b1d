"""Plain NumPy references for the kernels: slow, obvious, and the yardstick of the tests."""

from __future__ import annotations

import numpy as np

from kernels.convert import DC_STRIDE, SCALING


def naive_convert(raw: np.ndarray, datatype: str, window: np.ndarray, num_frames: int) -> tuple[np.ndarray, int]:
    offset, scale, lo, hi = SCALING[datatype]
    n = window.size
    vals = raw[: 2 * n * num_frames].astype(np.float64)
    x = (vals[0::2] - offset) * scale + 1j * (vals[1::2] - offset) * scale
    x = x - x[::DC_STRIDE].mean()  # the kernel's DC estimate: every DC_STRIDE-th sample
    frames = x.reshape(num_frames, n) * window
    at_rail = int(np.count_nonzero((vals <= lo) | (vals >= hi)))
    return frames, at_rail


def naive_power_rows(frames: np.ndarray, frames_per_row: int, window: np.ndarray):
    p = np.abs(np.fft.fftshift(np.fft.fft(frames, axis=1), axes=1)) ** 2 / window.sum() ** 2
    rows = p.reshape(-1, frames_per_row, p.shape[1])
    enbw = window.size * np.sum(window**2) / window.sum() ** 2
    return rows.mean(axis=1), (rows**2).sum(axis=1), rows.max(axis=1), p.sum(axis=1) / enbw


def naive_envelope_kurtosis(raw, datatype, frame_samples, num_frames, stride, window=32):
    _, scale, _, _ = SCALING[datatype]
    out = []
    for f in range(0, num_frames, stride):
        vals = raw[2 * f * frame_samples : 2 * (f + 1) * frame_samples].astype(np.float64)
        i, q = vals[0::2], vals[1::2]
        p = ((i - i.mean()) * scale) ** 2 + ((q - q.mean()) * scale) ** 2
        windows = p.reshape(-1, window)
        weight = (windows.sum(axis=1) ** 2 / window).sum()
        out.append((windows**2).sum() / weight)
    return np.array(out)


def naive_multiscale(z, e, time_scales, freq_scales, inv_std, z_threshold, min_rise_db):
    rows, n = z.shape
    hot = np.zeros((rows, n), bool)
    score = np.zeros((rows, n))
    for i in range(rows):
        for a, k in enumerate(time_scales):
            if i + 1 < k or (i + 1) % max(1, k // 8):
                continue
            zk, ek = z[i - k + 1 : i + 1].mean(axis=0), e[i - k + 1 : i + 1].mean(axis=0)
            for b, w in enumerate(freq_scales):
                if w > n or inv_std[a, b] == 0:
                    continue
                step = max(1, w // 8)
                for k0 in range(0, n, step):
                    centre = min(k0 + step // 2, n - 1)
                    lo = min(max(centre - w // 2, 0), n - w)
                    s = zk[lo : lo + w].mean() * inv_std[a, b]
                    if s > z_threshold and ek[lo : lo + w].mean() > min_rise_db:
                        hot[i, k0 : k0 + step] = True
                        score[i, k0 : k0 + step] = np.maximum(score[i, k0 : k0 + step], s)
    return hot, score


def naive_os_cfar(power, alpha, rank, guard_bins, cells_per_side, stride=2):
    """power / (alpha · rank-th smallest reference cell); windows keep their size at the edges."""
    n = power.size
    out = np.zeros(n)
    offsets = guard_bins + 1 + stride * np.arange(4 * cells_per_side)
    for i in range(n):
        left = [i - o for o in offsets if i - o >= 0]
        right = [i + o for o in offsets if i + o < n]
        take_left = min(len(left), max(cells_per_side, 2 * cells_per_side - len(right)))
        take_right = min(len(right), 2 * cells_per_side - take_left)
        cells = left[:take_left] + right[:take_right]
        if len(cells) < rank:
            continue
        level = np.sort(power[cells])[rank - 1]
        out[i] = power[i] / (alpha * level)
    return out


def naive_merged_runs(mask, max_step):
    """(starts, ends) of runs of True, joining True values at most max_step apart."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    breaks = np.flatnonzero(np.diff(idx) > max_step)
    return np.concatenate([[idx[0]], idx[breaks + 1]]), np.concatenate([idx[breaks], [idx[-1]]])


def naive_occupied_band(e_rows, z_rows, lo, hi, z_scale, dc_lo, dc_hi, min_significance, floor_share, tail, out):
    """The occupied band as the detector computed it with whole-array NumPy steps; ``out``
    receives the counted bins' power."""
    box = np.ones(4) / 4
    ratio = np.convolve(np.maximum(10.0 ** (e_rows.mean(axis=0) / 10.0) - 1.0, 0.0), box, mode="same")
    significance = np.convolve(z_rows.mean(axis=0), box, mode="same") * z_scale
    ratio[dc_lo:dc_hi] = 0.0
    significance[dc_lo:dc_hi] = 0.0
    power = np.where(significance[lo : hi + 1] >= min_significance, ratio[lo : hi + 1], 0.0)
    out[: len(power)] = power
    if not power.any():
        return -1, -1
    strong = np.sort(power[power > 0])
    power[power < floor_share * strong[int(0.9 * (len(strong) - 1))]] = 0.0
    out[: len(power)] = power
    cumulative = np.cumsum(power) / power.sum()
    return int(np.searchsorted(cumulative, tail)), min(int(np.searchsorted(cumulative, 1.0 - tail)), len(power) - 1)
