"""Randomised scenes: fixed disjoint splits, the issue's ranges, JNR as defined, a faithful dongle."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from spectrum.errors import ConfigError
from spectrum.sim import signals
from spectrum.sim.dongle_chain import finish_cu8
from spectrum.sim.impairments import Impairments, to_cu8
from spectrum.sim.random_scenes import (
    Emitter,
    RandomScene,
    draw_scene,
    render_ideal,
    render_scene,
    split_of,
    split_seeds,
)
from spectrum.sim.random_signals import sweep
from spectrum.sim.scene_components import Lines, NoiseBand

DEV = split_seeds("dev", 400)


@pytest.fixture(scope="module")
def drawn():
    return [draw_scene(seed) for seed in DEV]


def test_splits_are_fixed_and_disjoint():
    ranges = [set(split_seeds(split, 1000, clean)) for split in ("dev", "test") for clean in (False, True)]
    assert sum(len(r) for r in ranges) == len(set().union(*ranges))
    assert split_of(split_seeds("test", 5)[-1]) == ("test", False)
    assert split_of(split_seeds("dev", 3, clean=True)[0]) == ("dev", True)
    with pytest.raises(ConfigError, match="split 'train'"):
        split_seeds("train", 3)


def test_a_seed_always_draws_the_same_scene():
    a, b = draw_scene(17), draw_scene(17)
    assert json.dumps(a.describe(), default=str) == json.dumps(b.describe(), default=str)
    assert a.labels() == b.labels()
    assert draw_scene(18).describe() != a.describe()


def test_draws_cover_the_issues_ranges(drawn):
    rates = [s.sample_rate_hz for s in drawn]
    assert 0.25e6 <= min(rates) < 0.35e6 and 2.8e6 < max(rates) <= 3.2e6
    labels = [l for s in drawn for l in s.labels()]
    assert set(Counter(l["kind"] for l in labels)) == {"wideband_noise", "tone", "swept", "pulsed", "new_emitter"}
    jnrs = [l["jnr_db"] for l in labels if l["onset"] == "abrupt"]
    assert -6 <= min(jnrs) < -4 and 27 < max(jnrs) <= 30
    assert max(l["jnr_db"] for l in labels) <= 30  # a slow ramp may end below -6 dB: its label says so
    params = [l["params"] for l in labels]
    pulsed = [p for p, l in zip(params, labels) if l["kind"] == "pulsed"]
    assert min(p["duty"] for p in pulsed) < 0.03 and max(p["duty"] for p in pulsed) > 0.5
    assert any(p["frame_aligned"] for p in pulsed) and not all(p["frame_aligned"] for p in pulsed)
    assert 20e-6 <= min(p["period_s"] for p in pulsed) < 1e-4 and max(p["period_s"] for p in pulsed) > 0.05
    sweeps = [p for p, l in zip(params, labels) if l["kind"] == "swept"]
    assert {p["shape"] for p in sweeps} == {"sawtooth", "triangle"}
    assert {p["wider_than_band"] for p in sweeps} == {True, False}
    assert all(p["span_hz"] * p["period_s"] >= 20 for p in sweeps)  # a sweep, not a line
    ramps = [p["ramp_db_per_s"] for p in params if p["ramp_db_per_s"] > 0]
    assert ramps and 0.2 <= min(ramps) and max(ramps) <= 5.0
    assert {"multitone", "tone", "barrage", "nbfm", "gsm"} <= {l["what"] for l in labels}
    backgrounds = Counter(e.what for s in drawn for e in s.emitters if e.kind is None)
    assert {"gsm", "tdd_lte", "ofdm_bursts", "nbfm", "ism_packets", "aviation", "strong_carrier"} <= set(backgrounds)


def test_labels_lie_inside_the_captured_band_and_the_capture(drawn):
    for s in drawn:
        for l in s.labels():
            assert s.center_freq_hz - s.sample_rate_hz / 2 <= l["freq_low_hz"] <= l["freq_high_hz"] \
                <= s.center_freq_hz + s.sample_rate_hz / 2
            assert 1.5 < l["start_s"] < l["end_s"] <= s.duration_s


def test_clean_scenes_have_no_labelled_emitter():
    for seed in split_seeds("test", 30, clean=True):
        scene = draw_scene(seed)
        assert scene.clean and not scene.labels()


def _scene(component, windows=((0.0, 1.0),), ramp=0.0, start_db=0.0, fs=1e6):
    return RandomScene(seed=3, clean=False, sample_rate_hz=fs, center_freq_hz=100e6, duration_s=1.0,
                       floor_dbfs=-30.0, impairments=Impairments(dc_offset=0j, iq_gain_db=0, iq_phase_deg=0, ppm=0),
                       emitters=(Emitter("x", "wideband_noise", component, windows, ramp, start_db),))


def _psd(x, nfft=1024):
    frames = x[: x.size // nfft * nfft].reshape(-1, nfft) * np.hanning(nfft)
    return np.fft.fftshift(np.mean(np.abs(np.fft.fft(frames, axis=1)) ** 2, axis=0))


@pytest.mark.parametrize("jnr_db", [0.0, 10.0])
def test_a_barrage_jnr_is_its_psd_over_the_floors_in_its_band(jnr_db):
    fs = 1e6
    scene = _scene(NoiseBand(100e3, 200e3, jnr_db), fs=fs)
    psd = _psd(render_ideal(scene, 0, 1 << 19))
    f = (np.arange(psd.size) - psd.size // 2) * fs / psd.size
    inside = psd[(f > 30e3) & (f < 170e3)].mean()
    floor = psd[(f < -100e3)].mean()
    assert 10 * np.log10(inside / floor - 1) == pytest.approx(jnr_db, abs=0.3)


def test_a_line_jnr_is_its_power_over_the_noise_in_1_khz():
    fs = 1e6
    x = render_ideal(_scene(Lines((123e3,), 10.0), fs=fs), 0, 1 << 18)
    n = np.arange(x.size)
    line = np.mean(x * np.exp(-2j * np.pi * 123e3 * n / fs))  # the line's complex amplitude
    assert 10 * np.log10(abs(line) ** 2 / (1e-3 * 1e3 / fs)) == pytest.approx(10.0, abs=0.2)


def test_a_ramp_rises_at_its_rate_and_reports_when_it_crosses_0_db():
    scene = _scene(NoiseBand(0.0, 400e3, 6.0), windows=((2.0, 10.0),), ramp=2.0, start_db=-12.0)
    (label,) = scene.labels()
    assert label["onset"] == "ramp" and label["jnr0_s"] == pytest.approx(2.0 + 6.0 / 2.0)
    gain = scene.emitters[0].gain(np.array([1.9, 2.0, 4.0, 8.0, 9.0]))
    assert 20 * np.log10(gain[1:]) == pytest.approx([-12.0, -8.0, 0.0, 0.0], abs=1e-4)
    assert gain[0] == 0


def test_overload_labels_follow_the_capture_clipping(tmp_path):
    quiet = _scene(NoiseBand(0.0, 400e3, 10.0))
    assert [l["kind"] for l in render_scene(quiet, tmp_path / "q.cu8")] == ["wideband_noise"]
    loud = _scene(NoiseBand(0.0, 400e3, 33.0))  # about +1 dBFS: the rails clip
    kinds = [l["kind"] for l in render_scene(loud, tmp_path / "l.cu8")]
    assert kinds == ["wideband_noise", "overload"]
    codes = np.fromfile(tmp_path / "l.cu8", np.uint8)
    assert np.mean((codes == 0) | (codes == 255)) > 1e-3


def test_the_fused_dongle_chain_matches_the_impairments_module():
    rng = np.random.default_rng(4)
    n0, count, fs, fc = 5_000_000, 50_000, 2.4e6, 900e6
    x = (rng.standard_normal(count) + 1j * rng.standard_normal(count)) * 0.3
    imp = Impairments(dc_offset=0.02 - 0.01j, iq_gain_db=0.4, iq_phase_deg=2.0, ppm=12.0, drift_db=1.5, drift_period_s=7.0)
    n = np.arange(n0, n0 + count)
    reference = to_cu8(imp.apply(x * 0.5, n, fs, fc))
    fused, clipped = finish_cu8(x, n0, fs, fc, 0.5, imp)
    diff = np.abs(fused.astype(int) - reference.astype(int))
    assert diff.max() <= 1 and np.mean(diff > 0) < 0.02  # rounding at code boundaries only
    assert clipped == np.count_nonzero((fused == 0) | (fused == 255))


@pytest.mark.parametrize("shape", ["sawtooth", "triangle"])
def test_a_sweep_follows_its_shape_and_is_seamless(shape):
    fs, span, period = 1e6, 200e3, 1e-3
    n = np.arange(3000, 6000)
    x = sweep(n, fs, 50e3, span, period, 1.0, shape)
    inst = np.angle(x[1:] * np.conj(x[:-1])) * fs / (2 * np.pi)
    u = (n[1:] / fs) % period
    expected = (-50e3 + span * u / period if shape == "sawtooth"
                else np.where(u < period / 2, -50e3 + 2 * span * u / period, 150e3 - 2 * span * (u - period / 2) / period))
    jumps = np.abs(np.diff(expected, prepend=expected[0])) > 1e4
    assert np.abs(inst - expected)[~jumps].max() < 2e3
    halves = np.concatenate([sweep(n[:1234], fs, 50e3, span, period, 1.0, shape),
                             sweep(n[1234:], fs, 50e3, span, period, 1.0, shape)])
    assert np.allclose(halves, x, atol=1e-5)
    assert np.all(np.abs(np.abs(x) - 1.0) < 1e-5)  # inside the band: constant envelope


def test_pulsed_noise_is_on_for_its_duty():
    fs = 1e6
    component = NoiseBand(0.0, 400e3, 20.0, period_s=1e-3, duty=0.1, delay_s=0.0003)
    x = component.render(np.arange(0, 200_000), fs, 5, 1)
    on = np.abs(x) > 0
    assert np.mean(on) == pytest.approx(0.1, abs=0.005)
    assert not on[:300].any() and on[300:400].all()


def test_white_barrage_is_wider_than_the_band():
    component = NoiseBand(0.0, None, 0.0)
    assert component.band_hz(1e6) == (-5e5, 5e5)
    x = component.render(np.arange(1 << 16), 1e6, 2, 1)
    assert np.mean(np.abs(x) ** 2) == pytest.approx(1e-3, rel=0.03)
    assert signals.NOISE_BLOCK_SAMPLES  # the same block noise as the library


def test_fsk_packets_sit_at_plus_and_minus_the_deviation_and_ook_keys_the_bits():
    from spectrum.sim.scene_components import KeyedBursts

    fs, rate, dev = 1e6, 10e3, 40e3
    bits = np.array([[1, 0, 0, 1, 1, 0, 1, 0]], np.int8)
    starts, stops = np.array([1000]), np.array([1000 + 8 * 100])
    fsk = KeyedBursts("fsk", 100e3, 20.0, rate, dev, starts, stops, bits)
    n = np.arange(0, 3000)
    x = fsk.render(n, fs, 1, 1)
    assert not x[:1000].any() and not x[1800:].any()
    inst = np.angle(x[1001:1800] * np.conj(x[1000:1799])) * fs / (2 * np.pi)
    expected = 100e3 + np.where(bits[0][(np.arange(1001, 1800) - 1000) // 100] == 1, dev, -dev)
    assert np.median(np.abs(inst - expected)) < 100
    ook = KeyedBursts("ook", 100e3, 20.0, rate, 0.0, starts, stops, bits).render(n, fs, 1, 1)
    on = np.abs(ook[1000:1800]).reshape(8, 100).mean(axis=1) > 0
    assert on.tolist() == bits[0].astype(bool).tolist()


def test_ofdm_bursts_are_the_band_noise_of_their_channel_inside_each_burst_only():
    from spectrum.sim.scene_components import OfdmBursts

    fs = 1e6
    starts, stops, channel = np.array([500, 5000]), np.array([1500, 9000]), np.array([1, 0])
    bursts = OfdmBursts((-200e3, 150e3), 100e3, 10.0, starts, stops, channel)
    n = np.arange(0, 8000)
    x = bursts.render(n, fs, 4, 2)
    power = 10 ** 1.0 * 1e-3 / fs * signals.noise_bandwidth_hz(fs, 100e3)
    whole = signals.bandlimited_noise(n, fs, 150e3, 100e3, power, 4, 64 * 2 + 1)
    assert np.allclose(x[500:1500], whole[500:1500], atol=1e-12)
    assert not x[:500].any() and not x[1500:5000].any() and x[5000:].all()
