"""Envelope kurtosis, the multi-scale box test and the baseline updates against NumPy references."""

import numpy as np
import pytest

from kernels.baseline import follow, quiet_median_offset
from kernels.cfar import os_cfar
from kernels.envelope import envelope_kurtosis
from kernels.multiscale import multiscale_excess
from naive import naive_envelope_kurtosis, naive_multiscale, naive_os_cfar


def test_envelope_kurtosis_matches_reference_and_tells_noise_from_a_tone():
    rng = np.random.default_rng(1)
    raw = np.clip(rng.normal(127.5, 6, 2 * 256 * 12), 0, 255).astype(np.uint8)
    got = envelope_kurtosis(raw, "cu8", 256, 12, frame_stride=4)
    np.testing.assert_allclose(got, naive_envelope_kurtosis(raw, "cu8", 256, 12, 4), rtol=1e-4)
    assert got.dtype == np.float32 and got.mean() == pytest.approx(2.0, abs=0.15)  # Gaussian noise
    n = np.arange(256 * 4)
    tone = (0.5 * np.exp(2j * np.pi * 0.1 * n)).astype(np.complex64).view(np.float32)
    assert envelope_kurtosis(tone, "cf32_le", 256, 4).max() < 1.01  # constant envelope


def test_multiscale_matches_reference_row_by_row():
    rng = np.random.default_rng(2)
    rows, n = 40, 256
    # eighths are exact in float32, so the running sums equal the reference's means exactly
    z = (np.round(rng.normal(0, 1, (rows, n)) * 8) / 8).astype(np.float32)
    z[20:, 100:140] += 3.0  # a band that switches on
    z[10:, 30] += 2.0  # a weak line
    e = (z / 2).astype(np.float32)
    ts, ws = np.array([1, 4, 16]), np.array([1, 4, 16, 64])
    inv = np.ones((3, 4), np.float32)
    inv[0, 0] = 0.0  # a skipped (K, W) pair
    sums = np.zeros((3, n), np.float32), np.zeros((3, n), np.float32)
    hot = np.zeros((rows, n), bool)
    score = np.zeros((rows, n), np.float32)
    history = np.zeros((0, n), np.float32)
    for i in range(rows):  # fed one row at a time, as the detector does
        history_z = np.vstack([history, z[i : i + 1]])[-17:]
        history_e = history_z / 2
        h, s = multiscale_excess(history_z, history_e, 1, i, ts, ws, inv, 2.5, 0.5, *sums)
        hot[i], score[i] = h[0], s[0]
        history = history_z
    ref_hot, ref_score = naive_multiscale(z, e, ts, ws, inv, 2.5, 0.5)
    assert hot.any() and np.array_equal(hot, ref_hot)
    np.testing.assert_allclose(score, ref_score, rtol=1e-5, atol=1e-6)


def test_quiet_median_offset_and_follow_match_reference():
    rng = np.random.default_rng(3)
    level = rng.normal(-60, 1, 512).astype(np.float32)
    baseline = rng.normal(-60, 1, 512).astype(np.float32)
    excluded = np.zeros(512, bool)
    excluded[100:300] = True
    ref = np.median((level - baseline)[::4][~excluded[::4]])
    assert quiet_median_offset(level, baseline, excluded, stride=4) == pytest.approx(ref, abs=1e-5)
    assert np.isnan(quiet_median_offset(level, baseline, np.ones(512, bool)))

    spread = np.full(512, 0.5, np.float32)
    before = baseline.copy()
    follow(baseline, spread, level, excluded, 0.1)
    expected = np.where(excluded, before, before + 0.1 * np.clip(level - before, -1.5, 1.5))
    np.testing.assert_allclose(baseline, expected, rtol=1e-6, atol=1e-5)
    with pytest.raises(ValueError, match="float32"):
        follow(before.astype(np.float64), spread, level, excluded, 0.1)


@pytest.mark.parametrize("n", [2048, 80, 40])  # a full band, one narrower than two windows, one too narrow
def test_os_cfar_matches_reference_including_the_band_edges(n):
    rng = np.random.default_rng(5)
    power = rng.gamma(8, 1.0, n).astype(np.float32)
    power[[0, 7, n // 2, n - 1]] *= 12.0  # lines, two of them at the edges
    if n > 100:
        power[900:960] *= 30.0  # a wide emitter: its own inside is flat, its edges are not lines
    alpha = 2.0
    got = os_cfar(power, alpha, rank=24, guard_bins=2, cells_per_side=16)
    want = naive_os_cfar(power.astype(np.float64), alpha, 24, 2, 16)
    np.testing.assert_array_equal(got > 1.0, want > 1.0)
    hits = want > 1.0
    np.testing.assert_allclose(got[hits], want[hits], rtol=1e-5)
    # every bin the kernel did not settle by its bound carries the reference's value
    computed = got > 0
    np.testing.assert_allclose(got[computed], want[computed], rtol=1e-5)
    if n >= 80:
        assert hits[[0, 7, n // 2, n - 1]].all()
    else:
        assert not hits.any()  # 40 bins leave fewer than 24 reference cells: nothing is tested
    if n > 100:
        assert not hits[905:955].any()


def test_os_cfar_rejects_a_rank_outside_the_window():
    with pytest.raises(ValueError, match="rank"):
        os_cfar(np.ones(64, np.float32), 2.0, rank=33, guard_bins=2, cells_per_side=16)


def test_merged_runs_match_reference():
    from kernels.regions import merged_runs
    from naive import naive_merged_runs

    rng = np.random.default_rng(11)
    for density in (0.0, 0.02, 0.2, 1.0):
        mask = rng.random(500) < density
        for step in (1, 5):
            got, want = merged_runs(mask, step), naive_merged_runs(mask, step)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])


def test_occupied_band_matches_reference():
    """Edges of a band's 99 % power span among significant bins, against the NumPy steps
    the detector used before, over random bands, row counts and the DC guard."""
    from kernels.regions import occupied_band
    from naive import naive_occupied_band

    rng = np.random.default_rng(12)
    n = 512
    for trial in range(40):
        k = int(rng.choice([4, 16]))
        e = rng.normal(0.0, 0.3, (k, n)).astype(np.float32)
        lo_band = int(rng.integers(20, 400))
        width = int(rng.integers(3, 80))
        e[:, lo_band : lo_band + width] += np.float32(rng.uniform(0.5, 10.0))
        z = (e / np.float32(0.3)).astype(np.float32)
        lo, hi = max(lo_band - 8, 0), min(lo_band + width + 8, n - 1)
        args = (lo, hi, 1.0 / np.sqrt(k * 4 / 1.5), 250, 257 if trial % 2 else 250, 4.0, 0.15, 0.005)
        got, want = np.full(n, 7.0), np.full(n, 7.0)
        assert occupied_band(e, z, *args, got) == naive_occupied_band(e, z, *args, want)
        np.testing.assert_allclose(got[: hi - lo + 1], want[: hi - lo + 1], rtol=1e-6)  # the counted bins' power
    quiet = np.zeros((4, n), np.float32)
    assert occupied_band(quiet, quiet, 10, 40, 1.0, 250, 257, 4.0, 0.15, 0.005, np.empty(n)) == (-1, -1)


def test_region_sums_match_numpy():
    from kernels.regions import region_sums

    rng = np.random.default_rng(13)
    z = rng.normal(0, 1, (40, 300)).astype(np.float32)
    e = rng.normal(0, 1, (40, 300)).astype(np.float32)
    for row, lo, hi in ((39, 100, 140), (2, 0, 9), (20, 299, 299)):
        ratio = (10.0 ** (e[row, lo : hi + 1] / 10.0)).astype(np.float32)
        weights = np.empty(hi - lo + 1, np.float32)
        got = region_sums(ratio, z, e, row, lo, hi, weights)
        want_w = np.maximum(ratio - 1.0, 0.0)
        np.testing.assert_allclose(weights, want_w, rtol=1e-6)
        sl = slice(lo, hi + 1)
        want = (ratio.sum(), want_w.sum(), (want_w * np.arange(lo, hi + 1)).sum(), z[row, sl].sum(),
                z[max(row - 3, 0) : row + 1, sl].sum(), z[max(row - 15, 0) : row + 1, sl].sum(),
                e[max(row - 3, 0) : row + 1, sl].sum())
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_first_reaching_matches_cumsum_and_searchsorted():
    from kernels.regions import first_reaching

    rng = np.random.default_rng(14)
    for size in (1, 7, 2000):
        values = np.sort(rng.exponential(1.0, size).astype(np.float32))[::-1].copy()
        for share in (0.0, 0.3, 0.5, 1.0, 1.5):
            target = share * values.sum()
            assert first_reaching(values, target) == np.searchsorted(np.cumsum(values), target)
