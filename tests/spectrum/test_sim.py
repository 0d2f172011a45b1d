"""Tests of the synthetic scenario library: levels, timing, determinism and seamless chunking."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectrum.errors import ConfigError
from spectrum.sim import signals
from spectrum.sim.impairments import clip_fraction, iq_imbalance, to_cu8
from spectrum.sim.scenarios import (
    LABEL_KINDS,
    NOISE_POWER,
    SCENARIOS,
    get_scenario,
    noise_psd_per_hz,
    render_cu8,
)

FS = 2.4e6
SHORT_S = 0.3  # captures for level tests: jammer on from 0.12 s to 0.24 s


def capture(name: str, duration_s: float, seed: int = 7, chunk_samples: int = 2**17):
    return np.concatenate(list(get_scenario(name).generate(duration_s, seed, chunk_samples)))


def welch_psd(x: np.ndarray, nfft: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Plain two-sided Welch PSD (Hann, 50 % overlap), frequencies ascending, per Hz."""
    window = np.hanning(nfft)
    hop = nfft // 2
    frames = np.lib.stride_tricks.sliding_window_view(x, nfft)[::hop] * window
    psd = np.mean(np.abs(np.fft.fft(frames, axis=1)) ** 2, axis=0) / (FS * np.sum(window**2))
    return np.fft.fftshift(np.fft.fftfreq(nfft, 1 / FS)), np.fft.fftshift(psd)


def jam_interval(name: str, duration_s: float) -> tuple[slice, slice, object]:
    """Slices of the clean part and of the jammed part (edges trimmed) of a capture."""
    (label,) = get_scenario(name).labels(duration_s)
    on, off = round(label.start_s * FS), round(label.end_s * FS)
    guard = 4096
    return slice(guard, on - guard), slice(on + guard, off - guard), label


# ---------------------------------------------------------------------------- determinism


def test_same_seed_same_samples_other_seed_other_samples():
    first = capture("clean_busy", 0.1, seed=3)
    again = capture("clean_busy", 0.1, seed=3)
    other = capture("clean_busy", 0.1, seed=4)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize("name", ["clean_busy", "chirp_fast", "pulsed_50pct", "new_emitter_fm"])
def test_chunk_size_does_not_change_samples(name):
    duration_s = 0.12  # jammer on from 48 ms: the joins fall inside every kind of signal
    reference = capture(name, duration_s, chunk_samples=2**17)
    for chunk_samples in (2**14, 10_007):
        chunks = list(get_scenario(name).generate(duration_s, 7, chunk_samples))
        assert all(chunk.size == chunk_samples for chunk in chunks[:-1])
        assert 0 < chunks[-1].size <= chunk_samples
        assert np.array_equal(np.concatenate(chunks), reference)
    assert reference.dtype == np.complex64
    assert reference.size == round(duration_s * FS)


@settings(max_examples=15, deadline=None)
@given(start=st.integers(-5000, 10**9), length=st.integers(2, 5000), data=st.data())
def test_generators_are_seamless_at_any_split(start, length, data):
    split = data.draw(st.integers(1, length - 1))
    n = np.arange(start, start + length)
    makers = [
        lambda k: signals.bandlimited_noise(k, FS, 150e3, 200e3, 1e-3, seed=1, stream=2),
        lambda k: signals.tdma_gmsk(k, FS, -300e3, 0.1, (0, 3, 4), seed=1, stream=3),
        lambda k: signals.chirp(k, FS, 0.0, 10e6, 1e-3, 0.1),
        lambda k: signals.nbfm(k, FS, 12.5e3, 0.1),
    ]
    for make in makers:
        whole = make(n)
        joined = np.concatenate([make(n[:split]), make(n[split:])])
        np.testing.assert_allclose(joined, whole, rtol=0, atol=1e-12)


def test_streams_lazily_so_long_captures_fit_in_memory():
    chunks = get_scenario("clean_busy").generate(600.0, seed=1, chunk_samples=2**12)
    first = next(chunks)  # would take minutes and 11 GB if the capture were built up front
    assert first.shape == (2**12,)


# ---------------------------------------------------------------------------- levels


def test_noise_floor_is_minus_30_dbfs_before_and_after_quantisation():
    x = capture("clean_quiet", 0.5)
    power_dbfs = 10 * np.log10(np.mean(np.abs(x - x.mean()) ** 2))
    assert power_dbfs == pytest.approx(-30.0, abs=0.3)
    codes = np.concatenate(list(render_cu8(get_scenario("clean_quiet"), 0.5, 7, 2**17)))
    rails = (codes.astype(np.float64) - 127.5) / 127.5
    iq = rails[0::2] + 1j * rails[1::2]
    assert 10 * np.log10(np.mean(np.abs(iq - iq.mean()) ** 2)) == pytest.approx(-30.0, abs=0.3)
    # sqrt(1e-3 / 2) * 127.5 = 2.85 LSB rms per rail (4.0 LSB rms of the magnitude).
    assert np.std(codes[0::2].astype(float)) == pytest.approx(2.85, abs=0.1)


@pytest.mark.parametrize("name", ["barrage_wide", "barrage_narrow", "barrage_0db", "barrage_m3db",
                                  "gnss_l1_barrage", "jammer_over_carrier"])
def test_barrage_jnr_matches_label(name):
    duration_s = SHORT_S
    x = capture(name, duration_s)
    clean, jammed, label = jam_interval(name, duration_s)
    freqs_hz, psd_clean = welch_psd(x[clean])
    _, psd_jammed = welch_psd(x[jammed])
    centre_hz = (label.freq_low_hz + label.freq_high_hz) / 2
    half_width_hz = 0.4 * (label.freq_high_hz - label.freq_low_hz)  # inner 80 % of the band
    inside = (np.abs(freqs_hz - centre_hz) < half_width_hz) & (np.abs(freqs_hz) > 10e3)  # no DC
    jammer_psd = np.mean(psd_jammed[inside] - psd_clean[inside])
    jnr_db = 10 * np.log10(jammer_psd / noise_psd_per_hz(FS))
    assert jnr_db == pytest.approx(label.jnr_db, abs=0.5)
    # And no jammer outside its band: the spectrum far from it does not change.
    outside = np.abs(freqs_hz - centre_hz) > 0.5 * (label.freq_high_hz - label.freq_low_hz) + 60e3
    if outside.any():
        assert np.mean(psd_jammed[outside]) / np.mean(psd_clean[outside]) < 1.05


def test_tone_power_matches_label():
    x = capture("tone", SHORT_S)
    _, jammed, label = jam_interval("tone", SHORT_S)
    freqs_hz, psd = welch_psd(x[jammed])
    bin_hz = FS / freqs_hz.size
    centre_hz = (label.freq_low_hz + label.freq_high_hz) / 2  # includes the LO error
    near = np.abs(freqs_hz - centre_hz) <= 5 * bin_hz
    tone_power = (np.sum(psd[near]) - np.count_nonzero(near) * noise_psd_per_hz(FS)) * bin_hz
    snr_db = 10 * np.log10(tone_power / (noise_psd_per_hz(FS) * 1e3))
    assert snr_db == pytest.approx(label.jnr_db, abs=0.3)
    nearby = np.abs(freqs_hz - centre_hz) < 20e3  # the label's band is where the tone is
    assert freqs_hz[nearby][np.argmax(psd[nearby])] == pytest.approx(centre_hz, abs=bin_hz)


@pytest.mark.parametrize("name", ["tone", "tone_weak"])
def test_tone_component_power_is_its_snr_in_1_khz(name):
    # Measured without noise: a 0 dB tone in a short capture cannot be measured to 0.5 dB.
    tone = get_scenario(name).events[0].component
    x = tone.render(np.arange(4096), FS, seed=0, stream=0)
    snr_db = 10 * np.log10(np.mean(np.abs(x) ** 2) / (noise_psd_per_hz(FS) * 1e3))
    assert snr_db == pytest.approx(tone.level_db, abs=1e-6)


def test_chirp_sweeps_its_span_at_its_period():
    chirp = get_scenario("chirp_fast").events[0].component
    n = np.arange(20_000)
    x = chirp.render(n, FS, seed=0, stream=0)
    step_hz = np.diff(np.unwrap(np.angle(x))) * FS / (2 * np.pi)
    resets = np.flatnonzero(np.diff(step_hz) < 0)  # the frequency only falls at a sweep's end
    period_samples = chirp.period_s * FS  # 48
    assert np.allclose(np.diff(resets), period_samples, atol=1)
    sweeping = step_hz[step_hz > 0]
    rate_hz = chirp.span_hz / period_samples
    assert sweeping.min() == pytest.approx(chirp.center_hz - chirp.span_hz / 2, abs=rate_hz)
    assert sweeping.max() == pytest.approx(chirp.center_hz + chirp.span_hz / 2, abs=rate_hz)
    assert np.allclose(np.abs(x), np.abs(x[0]))  # in band: constant envelope


def test_wide_chirp_is_seen_only_while_in_band():
    scenario = get_scenario("chirp_wide")
    chirp = scenario.events[0].component
    x = chirp.render(np.arange(round(10 * chirp.period_s * FS)), FS, seed=0, stream=0)
    visible = np.mean(np.abs(x) > 0.5 * np.abs(x).max())
    # Half amplitude at 95 % of the Nyquist frequency (raised-cosine roll-off from 90 %).
    assert visible == pytest.approx(0.95 * FS / chirp.span_hz, abs=0.01)
    (label,) = scenario.labels(1.0)
    assert (label.freq_low_hz, label.freq_high_hz) == (-FS / 2, FS / 2)


@pytest.mark.parametrize("name", ["pulsed_5pct", "pulsed_50pct"])
def test_pulsed_duty_cycle_and_period(name):
    duration_s = SHORT_S
    x = capture(name, duration_s)
    clean, jammed, _ = jam_interval(name, duration_s)
    jammer = get_scenario(name).events[0].component
    smooth = 120  # 50 µs moving average of the power
    envelope = np.convolve(np.abs(x) ** 2, np.ones(smooth) / smooth, mode="same")
    floor = np.median(envelope[clean])
    burst = np.median(envelope[jammed][envelope[jammed] > 3 * floor])
    on = envelope[jammed] > (floor + burst) / 2
    assert np.mean(on) == pytest.approx(jammer.duty, abs=0.1 * jammer.duty)
    rising = np.flatnonzero(np.diff(on.astype(int)) == 1)
    assert np.median(np.diff(rising)) == pytest.approx(jammer.period_s * FS, rel=0.01)


def test_only_overload_clips():
    for name, scenario in SCENARIOS.items():
        x = np.concatenate(list(scenario.generate(0.1, seed=2)))
        fraction = clip_fraction(x)
        if name == "overload":
            (label,) = scenario.labels(0.1)
            on, off = round(label.start_s * FS), round(label.end_s * FS)
            assert clip_fraction(x[:on]) == 0
            assert 0.005 < clip_fraction(x[on:off]) < 0.2
        else:
            assert fraction == 0, name


def test_gain_drift_spans_its_range_and_scales_the_noise_floor():
    scenario = get_scenario("clean_drift")
    period_s = scenario.impairments.drift_period_s
    # The noise floor around the gain's peak (period / 4) and trough (3 period / 4).
    powers_db = []
    for at_s in (period_s / 4, 3 * period_s / 4):
        n = np.arange(round(at_s * FS), round(at_s * FS) + 2**15)
        x = scenario.impairments.apply(signals.white_noise(n, NOISE_POWER, 1), n, FS,
                                       scenario.center_freq_hz)
        powers_db.append(10 * np.log10(np.mean(np.abs(x - x.mean()) ** 2)))
    assert powers_db[0] - (-30) == pytest.approx(1.5, abs=0.1)
    assert powers_db[1] - (-30) == pytest.approx(-1.5, abs=0.1)


def test_iq_imbalance_keeps_power_and_images_a_tone_at_the_expected_rejection():
    n = np.arange(2**16)
    x = signals.tone(n, FS, FS / 8, 0.5)
    y = iq_imbalance(x, gain_db=0.3, phase_deg=1.5)
    assert np.mean(np.abs(y) ** 2) == pytest.approx(0.25, rel=1e-3)
    spectrum = np.abs(np.fft.fft(y)) ** 2
    rejection_db = 10 * np.log10(spectrum[n.size // 8] / spectrum[-n.size // 8])
    gain_error = np.log(10) * 0.3 / 20
    expected_db = 10 * np.log10(4 / (gain_error**2 + np.deg2rad(1.5) ** 2))
    assert rejection_db == pytest.approx(expected_db, abs=0.3)


# ---------------------------------------------------------------------------- quantisation


def test_to_cu8_maps_full_scale_and_clips():
    x = np.array([0 + 0j, 1 - 1j, 2 - 3j, 0.5 + 0.25j], np.complex64)
    codes = to_cu8(x)
    assert codes.dtype == np.uint8
    assert codes.tolist() == [128, 128, 255, 0, 255, 0, 191, 159]  # rint(127.5 + 127.5 v)
    assert clip_fraction(x) == clip_fraction(codes) == 0.5


@settings(max_examples=50, deadline=None)
@given(st.lists(st.complex_numbers(max_magnitude=0.99), min_size=1, max_size=50))
def test_to_cu8_error_is_at_most_half_a_code_in_range(values):
    x = np.array(values, np.complex128)
    x = x.real.clip(-0.99, 0.99) + 1j * x.imag.clip(-0.99, 0.99)
    rails = (to_cu8(x).astype(np.float64) - 127.5) / 127.5
    assert np.all(np.abs(rails[0::2] - x.real) <= 0.5 / 127.5 + 1e-12)
    assert np.all(np.abs(rails[1::2] - x.imag) <= 0.5 / 127.5 + 1e-12)
    assert clip_fraction(x) == 0.0


# ---------------------------------------------------------------------------- labels, names


def test_labels_are_valid_and_follow_the_timing_rule():
    for name, scenario in SCENARIOS.items():
        for duration_s in (scenario.default_duration_s, 6.0):
            labels = scenario.labels(duration_s)
            assert scenario.jammed == bool(labels) == (not name.startswith("clean_")), name
            for label in labels:
                assert label.kind in LABEL_KINDS
                assert 0 <= label.start_s < label.end_s <= duration_s
                assert -FS / 2 <= label.freq_low_hz < label.freq_high_hz <= FS / 2
                assert label.description
            if name == "barrage_intermittent":
                spans = [bound for label in labels for bound in (label.start_s, label.end_s)]
                assert spans == pytest.approx([f * duration_s for f in (0.4, 0.55, 0.7, 0.85)])
                continue
            for label in labels:
                assert label.start_s == pytest.approx(0.4 * duration_s)
                expected_end = duration_s if label.kind == "new_emitter" else 0.8 * duration_s
                assert label.end_s == pytest.approx(expected_end)
    (barrage,) = get_scenario("barrage_wide").labels(10.0)
    shift_hz = -3e-6 * get_scenario("barrage_wide").center_freq_hz  # the dongle's 3 ppm
    assert (barrage.start_s, barrage.end_s) == (4.0, 8.0)
    assert barrage.freq_low_hz == pytest.approx(-800e3 + shift_hz)
    assert barrage.jnr_db == 10.0


def test_unknown_scenario_names_the_bad_name_and_the_valid_ones():
    with pytest.raises(ConfigError, match="barage_wide") as caught:
        get_scenario("barage_wide")
    assert "barrage_wide" in str(caught.value) and "clean_quiet" in str(caught.value)


def test_bad_generation_arguments_raise_config_error():
    scenario = get_scenario("clean_quiet")
    for kwargs in ({"duration_s": 0.0, "seed": 1}, {"duration_s": 1.0, "seed": -1},
                   {"duration_s": 1.0, "seed": 1, "chunk_samples": 0}):
        with pytest.raises(ConfigError):
            next(scenario.generate(**kwargs))


def test_clean_backgrounds_do_not_change_over_the_capture():
    """No legitimate signal appears mid-capture: both halves have the same spectrum."""
    x = capture("clean_busy", 0.4)
    _, first = welch_psd(x[: x.size // 2])
    _, second = welch_psd(x[x.size // 2:])
    assert np.max(np.abs(10 * np.log10(second / first))) < 1.5
