"""Front-end kernels against the NumPy references, on analytic and random inputs."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels.convert import convert_frames
from kernels.fft import make_batched_fft
from kernels.kurtosis import spectral_kurtosis
from kernels.psd import power_rows
from naive import naive_convert, naive_power_rows

N = 256
HANN = np.hanning(N + 1)[:-1].astype(np.float32)  # periodic Hann, as the front end uses


def to_cu8(x: np.ndarray) -> np.ndarray:
    iq = np.empty(2 * x.size)
    iq[0::2], iq[1::2] = x.real, x.imag
    return np.clip(np.round(iq * 127.5 + 127.5), 0, 255).astype(np.uint8)


def run_kernels(raw, datatype, frames, frames_per_row):
    out = np.empty((frames, N), np.complex64)
    (rail,) = convert_frames(raw, datatype, HANN, out)
    fft, buf = make_batched_fft(frames, N)
    buf[:] = out
    return rail, power_rows(fft(buf), frames_per_row, HANN)


@pytest.mark.parametrize("datatype,dtype,scale", [("cu8", np.uint8, None), ("ci8", np.int8, 100), ("ci16_le", np.int16, 20000), ("cf32_le", np.float32, 0.6)])
def test_random_input_matches_reference(datatype, dtype, scale):
    rng = np.random.default_rng(3)
    frames, m = 32, 8
    if dtype is np.uint8:
        raw = rng.integers(0, 256, 2 * N * frames, dtype=np.uint8)
    elif dtype is np.float32:
        raw = (rng.standard_normal(2 * N * frames) * scale).astype(np.float32)
    else:
        raw = np.clip(rng.standard_normal(2 * N * frames) * scale, np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)
    rail, rows = run_kernels(raw, datatype, frames, m)
    ref_frames, ref_rail = naive_convert(raw, datatype, HANN, frames)
    mean, s2, peak, fp = naive_power_rows(ref_frames, m, HANN)
    assert rail == ref_rail
    np.testing.assert_allclose(rows.mean, mean, rtol=2e-3, atol=1e-9)
    np.testing.assert_allclose(rows.s2, s2, rtol=5e-3, atol=1e-15)
    np.testing.assert_allclose(rows.peak, peak, rtol=2e-3, atol=1e-9)
    np.testing.assert_allclose(rows.frame_power, fp, rtol=2e-3)
    assert rows.mean.dtype == np.float32 and rows.s2.dtype == np.float32 and rows.frame_power.dtype == np.float32


def test_tone_in_bin_reads_its_power_at_its_bin():
    k, amplitude = 37, 0.5
    n = np.arange(N * 16)
    x = amplitude * np.exp(2j * np.pi * k * n / N)
    _, rows = run_kernels(x.astype(np.complex64).view(np.float32), "cf32_le", 16, 16)
    spectrum = rows.mean[0]
    assert int(np.argmax(spectrum)) == N // 2 + k  # frequency order: centre at N/2
    assert 10 * np.log10(spectrum.max()) == pytest.approx(20 * np.log10(amplitude), abs=0.01)
    sk = spectral_kurtosis(rows.mean, rows.s2, 16)[0]
    assert sk[N // 2 + k] < 0.05  # constant envelope


def test_white_noise_of_known_power():
    rng = np.random.default_rng(5)
    sigma2 = 0.01
    x = (rng.standard_normal(N * 512) + 1j * rng.standard_normal(N * 512)) * np.sqrt(sigma2 / 2)
    _, rows = run_kernels(x.astype(np.complex64).view(np.float32), "cf32_le", 512, 512)
    assert rows.frame_power.mean() == pytest.approx(sigma2, rel=0.02)
    enbw = N * np.sum(HANN.astype(float) ** 2) / HANN.sum() ** 2
    assert rows.mean[0].mean() * N / enbw == pytest.approx(sigma2, rel=0.02)  # Parseval through the bins
    assert spectral_kurtosis(rows.mean, rows.s2, 512).mean() == pytest.approx(1.0, abs=0.02)


def test_impulse_spreads_flat_and_dc_is_removed():
    x = np.zeros(N * 8, np.complex64)
    x[N // 2] = 0.9  # in the first frame, at the window's peak
    rail, rows = run_kernels(x.view(np.float32), "cf32_le", 8, 8)
    frames, _ = naive_convert(x.view(np.float32), "cf32_le", HANN, 8)
    max_hold = (np.abs(np.fft.fft(frames, axis=1)) ** 2 / HANN.sum() ** 2).max(axis=0)
    np.testing.assert_allclose(rows.peak[0], np.fft.fftshift(max_hold), rtol=1e-3, atol=1e-12)
    # away from the DC bins the impulse's frame is flat: |w[N/2]·0.9|² in every bin
    flat = rows.peak[0][N // 2 + 2 : N // 2 + 100]
    np.testing.assert_allclose(flat, flat.mean(), rtol=1e-3)
    const = np.full(N * 8, 0.3 + 0.2j, np.complex64)
    _, rows = run_kernels(const.view(np.float32), "cf32_le", 8, 8)
    assert rows.mean.max() < 1e-10  # a pure DC offset vanishes
    assert rail == 0


def test_clipping_is_counted():
    raw = np.full(2 * N * 4, 128, np.uint8)
    raw[:10] = 255
    raw[100:103] = 0
    rail, _ = run_kernels(raw, "cu8", 4, 4)
    assert rail == 13


def test_empty_and_mismatched_input_raise():
    out = np.empty((2, N), np.complex64)
    with pytest.raises(ValueError, match="raw holds"):
        convert_frames(np.zeros(10, np.uint8), "cu8", HANN, out)
    with pytest.raises(ValueError, match="needs uint8"):
        convert_frames(np.zeros(4 * N, np.int8), "cu8", HANN, out)
    with pytest.raises(ValueError, match="unknown datatype"):
        convert_frames(np.zeros(4 * N, np.uint8), "cu4", HANN, out)
    with pytest.raises(ValueError, match="rows of"):
        power_rows(np.zeros((5, N), np.complex64), 2, HANN)


@settings(max_examples=25, deadline=None)
@given(amplitude=st.floats(0.01, 0.7), seed=st.integers(0, 1000))
def test_power_scales_with_amplitude_squared(amplitude, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(N * 8) + 1j * rng.standard_normal(N * 8)).astype(np.complex64) * np.float32(0.1)
    _, base = run_kernels(x.view(np.float32), "cf32_le", 8, 8)
    scaled = (x * np.float32(amplitude)).astype(np.complex64)
    _, rows = run_kernels(scaled.view(np.float32), "cf32_le", 8, 8)
    np.testing.assert_allclose(rows.mean, base.mean * amplitude**2, rtol=1e-3, atol=1e-12)


def test_float_samples_have_no_full_scale_and_never_clip():
    """cf32 recordings hold raw receiver units (often far above 1.0): none counts as clipped."""
    rng = np.random.default_rng(3)
    x = (rng.normal(0, 40.0, N * 4) + 1j * rng.normal(0, 40.0, N * 4)).astype(np.complex64)
    x[:10] = 1e6 + 1e6j
    rail, rows = run_kernels(x.view(np.float32), "cf32_le", 4, 4)
    assert rail == 0
    assert rows.mean.mean() > 1.0  # the values did go through, unscaled
