"""The detector on the scenario library, and its statistics measured on noise."""

import dataclasses
import json
import math

import numpy as np
import pytest
import scipy.stats

from captures import open_capture
from kernels.kurtosis import spectral_kurtosis
from kernels.multiscale import multiscale_excess
from spectrum.detect.band_baseline import Baseline
from spectrum.detect.baseline_free import box_threshold, periodicity
from spectrum.detect.narrowband_cfar import (
    NarrowbandCfar, _pfa_integral, cfar_scan, known_lines, known_lines_of_level, os_cfar_alpha, os_cfar_pfa,
)
from spectrum.detect.detector import EMITTER_MIN_S, JAMMER_MIN_S, BandDetector
from spectrum.detect.detector_config import DetectorConfig
from spectrum.evaluate.randomized_bench import resolution_hz
from spectrum.evaluate.scoring import score_labels
from spectrum.detect.sk_stats import sk_moments, sk_thresholds
from spectrum.detect.spectral_frontend import SpectralFrontEnd
from spectrum.replay import ReplayResult, replay_events

SECONDS = 5.0  # jammer on from 2 s to 4 s (0.4 T to 0.8 T); the baseline needs 1.5 s

JAMMED = [
    "barrage_wide", "barrage_narrow", "barrage_0db", "barrage_m3db", "gnss_l1_barrage", "tone", "tone_weak",
    "chirp_fast", "chirp_slow", "pulsed_5pct", "pulsed_50pct", "new_emitter_fm", "jammer_over_carrier", "overload",
]
CLEAN = ["clean_quiet", "clean_busy", "clean_drift", "clean_pmr", "clean_gnss", "clean_ism"]


def replay(path):
    result = ReplayResult()
    with open_capture(path) as reader:
        for _ in replay_events(reader, result=result):
            pass
    return [e.to_dict() for e in result.events]


def sidecar_of(meta):
    return json.loads(meta.with_name(meta.name.removesuffix(".sigmf-meta") + ".labels.json").read_text())


def labels_of(meta):
    return sidecar_of(meta)["labels"]


def scored(meta, events, config=None):
    """Labels against events, granting the detector's frequency resolution (a CW line's label
    is a point; its event is the line's frequency ± half the Hann main lobe)."""
    sidecar = sidecar_of(meta)
    return score_labels(sidecar["labels"], events, resolution_hz(sidecar["sample_rate_hz"], config or DetectorConfig()))


@pytest.mark.parametrize("name", JAMMED)
def test_jammer_is_found_once_with_its_kind_times_and_band(name, scenario_capture):
    meta = scenario_capture(name, SECONDS)
    events = replay(meta)
    (score,), unmatched = scored(meta, events)
    assert score.detected, events
    assert score.detected_kind == score.kind
    if name == "overload":  # the noise transmitter behind the clipping is named too, flagged (issue 12)
        assert [(e["kind"], e["overload"]) for e in unmatched] == [("wideband_noise", True)], unmatched
    else:
        assert not unmatched, unmatched
    assert abs(score.start_error_s) < 0.15
    if name != "new_emitter_fm":  # it stays on to the end of the capture
        assert abs(score.end_error_s) < 0.2
    # a new emitter is announced once it has stayed on (EMITTER_MIN_S): packets and hops are not
    # news; a jammer once it has lasted JAMMER_MIN_S (bursts of legitimate traffic last less)
    allowed_s = {"tone_weak": JAMMER_MIN_S + 0.5, "new_emitter_fm": EMITTER_MIN_S + 0.15}.get(name, JAMMER_MIN_S + 0.15)
    assert score.latency_s < allowed_s
    # an FM emitter's label is its 12.5 kHz channel; the event reports its occupied bandwidth
    # (±2.5 kHz deviation of a 1 kHz tone: Carson's rule gives 7 kHz), so IoU ~0.56 is right
    assert score.freq_iou > (0.5 if name == "new_emitter_fm" else 0.7)
    assert len([e for e in events if e["kind"] == score.kind]) == 1  # a pulsed jammer is one event


def test_a_jammer_that_comes_back_is_a_second_event_with_its_own_start(scenario_capture):
    meta = scenario_capture("barrage_intermittent", SECONDS)
    events = replay(meta)
    scores, unmatched = scored(meta, events)
    assert [s.detected_kind for s in scores] == ["wideband_noise"] * 2 and not unmatched
    assert len(events) == 2
    for score in scores:  # the second onset is not pulled back to the first burst
        assert abs(score.start_error_s) < 0.15 and abs(score.end_error_s) < 0.2


@pytest.mark.parametrize("name, kind", [("tone", "tone"), ("new_emitter_fm", "new_emitter")])
def test_a_line_is_a_tone_at_coarser_resolution_too(name, kind, scenario_capture):
    """At 1024 bins (2.3 kHz each) a strong CW line's main lobe spans 5 bins, 12 kHz."""
    meta = scenario_capture(name, SECONDS)
    result = ReplayResult()
    config = DetectorConfig(fft_size=1024)
    with open_capture(meta) as reader:
        for _ in replay_events(reader, config, result=result):
            pass
    (score,), unmatched = scored(meta, [e.to_dict() for e in result.events], config)
    assert score.detected_kind == kind and not unmatched


@pytest.mark.parametrize("name", CLEAN)
def test_clean_scenes_raise_nothing(name, scenario_capture):
    assert replay(scenario_capture(name, SECONDS)) == []


def noise_rows(seconds, seed, fft_size=1024, rate=2.4e6):
    """Power rows of complex white noise through the real front end (cf32, no quantisation)."""
    rng = np.random.default_rng(seed)
    config = DetectorConfig(fft_size=fft_size)
    m = config.frames_per_row(rate)
    fe = SpectralFrontEnd("cf32_le", fft_size, m)
    out = []
    total = int(seconds * rate)
    for start in range(0, total, 1 << 20):
        n = min(1 << 20, total - start)
        x = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * 0.02).astype(np.complex64)
        out += [rows for rows, _ in fe.process(x.view(np.float32))]
    mean = np.vstack([r.mean for r in out])
    s2 = np.vstack([r.s2 for r in out])
    return mean, s2, m


def test_multiscale_false_alarm_matches_design():
    """At a 3-sigma threshold each (K rows, W bins) box test should fire with the Gaussian tail
    probability Q(3) = 1.35e-3; measured on noise through the real front end."""
    mean, _, m = noise_rows(16.0, seed=1)
    level = 10 * np.log10(mean)
    learn, test = level[:60], level[60:]
    med = np.median(learn, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(learn - med), axis=0), 1e-6)
    z = ((test - med) / spread).astype(np.float32)
    design = scipy.stats.norm.sf(3.0)
    for k, w in [(1, 16), (4, 4), (16, 1), (1, 64), (4, 16)]:
        # the std of the box mean under noise, measured on the first half, applied to the second
        half = len(z) // 2
        calib, _ = _box_means(z[:half], k, w)
        inv_std = np.array([[1.0 / (1.4826 * np.median(np.abs(calib - np.median(calib))))]], np.float32)
        test_rows = z[half:]
        sums = np.zeros((1, z.shape[1]), np.float32), np.zeros((1, z.shape[1]), np.float32)
        hot, _ = multiscale_excess(test_rows, test_rows * 0, len(test_rows), 0, np.array([k]), np.array([w]),
                                   inv_std, 3.0, -np.inf, *sums)
        rate = hot[k - 1 :, w // 2 : hot.shape[1] - w // 2].mean()  # rows with a full K-row box
        assert design / 2 < rate < design * 2, (k, w, rate, design)


def _box_means(z, k, w):
    ck = np.cumsum(np.vstack([np.zeros((1, z.shape[1])), z]), axis=0)
    zk = (ck[k:] - ck[:-k]) / k
    cw = np.cumsum(np.hstack([np.zeros((zk.shape[0], 1)), zk]), axis=1)
    return ((cw[:, w:] - cw[:, :-w]) / w).ravel(), zk


@pytest.mark.parametrize("pfa", [1e-2, 1e-3])
def test_spectral_kurtosis_thresholds_hold_their_false_alarm_rate(pfa):
    mean, s2, m = noise_rows(8.0, seed=2)
    sk = spectral_kurtosis(mean, s2, m)[:, 8:-8]  # the DC bin is emptied by DC removal
    low, high = sk_thresholds(m, pfa)
    assert pfa / 2 < (sk > high).mean() < pfa * 2
    assert pfa / 2 < (sk < low).mean() < pfa * 2


def test_os_cfar_false_alarm_integral_reduces_to_rohlings_closed_form():
    for alpha in (2.0, 6.0, 20.0):
        closed = os_cfar_pfa(alpha, 32, 24, looks=1)
        assert _pfa_integral(alpha, 32, 24, 1) == pytest.approx(closed, rel=1e-6)
    # more looks: a narrower cell distribution, so the same alpha gives far fewer alarms
    assert os_cfar_pfa(2.0, 32, 24, looks=64) < 1e-6 < os_cfar_pfa(2.0, 32, 24, looks=1)
    alpha = os_cfar_alpha(1e-6, 32, 24, 116)
    assert os_cfar_pfa(alpha, 32, 24, 116) == pytest.approx(1e-6, rel=1e-6)


@pytest.mark.parametrize("pfa", [1e-2, 1e-3])
def test_os_cfar_holds_its_false_alarm_rate_on_noise(pfa):
    """Noise through the real front end: single rows (M looks) and the detector's 4-row means."""
    mean, _, m = noise_rows(10.0, seed=5)
    body = slice(40, mean.shape[1] // 2 - 8), slice(mean.shape[1] // 2 + 8, mean.shape[1] - 40)
    blocks = mean[: len(mean) // 4 * 4].reshape(-1, 4, mean.shape[1]).mean(axis=1)
    for spectra, looks in ((mean, m), (blocks, 4 * m)):
        hits = np.array([cfar_scan(row.astype(np.float32), pfa, looks) > 1.0 for row in spectra])
        rate = np.concatenate([hits[:, b] for b in body], axis=1).mean()  # off the DC notch
        assert pfa / 2 < rate < pfa * 2, (looks, rate, pfa)


def test_narrowband_cfar_reports_a_new_lasting_line_only():
    rng = np.random.default_rng(6)
    m, n = 29, 512
    cfar = NarrowbandCfar(n, m, pfa=1e-6, min_rise_db=0.8, z_threshold=7.0)
    known = np.zeros(n, bool)
    known[195:206] = True  # a legitimate carrier at bin 200, seen while learning
    found = []
    for r in range(40):
        power = rng.gamma(m, 1.0 / m, n)
        power[200] *= 20.0  # the known carrier
        if 12 <= r < 32:
            power[300] *= 3.0  # a new line, +4.8 dB, on for 20 rows
        if 20 <= r < 24:
            power[400] *= 30.0  # a strong burst of one test's length
        excess = 10 * np.log10(power)  # the baseline is the unit floor
        lines, score = cfar.row(power.astype(np.float32), excess.astype(np.float32), known,
                                lambda: excess.astype(np.float32))
        found.append(np.flatnonzero(lines).tolist())
        assert (score[lines] >= 7.0).all()
    rows_with_line = [r for r, bins in enumerate(found) if bins]
    assert all(found[r] == [300] for r in rows_with_line)  # never the carrier, never the burst
    assert rows_with_line[0] == 19  # tests on rows 3, 7, …: the second test after the onset
    assert rows_with_line[-1] == 31  # and the line stops with the signal


def test_baseline_file_keeps_the_known_lines_and_older_files_find_them_in_the_level(tmp_path):
    rng = np.random.default_rng(7)
    m, rows, n = 29, 60, 512
    power = rng.gamma(m, 1.0 / m, (rows, n))
    power[:, 100] *= 30.0  # a steady carrier
    power[20:24, 300] *= 30.0  # one that keyed up for a moment while learning
    rows_db = (10 * np.log10(power)).astype(np.float32)
    baseline = Baseline.learn(rows_db, 433.92e6, 2.4e6, m)
    baseline.known_lines = known_lines(power.astype(np.float32), m, pfa=1e-6)
    assert baseline.known_lines[[97, 100, 103, 297, 300, 303]].all()
    assert baseline.known_lines.sum() < 20  # two lines widened by 3 bins each, and little else
    baseline.save(tmp_path / "b.npz")
    np.testing.assert_array_equal(Baseline.load(tmp_path / "b.npz").known_lines, baseline.known_lines)
    # a file saved before the known lines existed: the steady carrier is in the level
    with np.load(tmp_path / "b.npz") as data:
        np.savez(tmp_path / "old.npz", **{k: data[k] for k in data.files if k != "known_lines"})
    old = Baseline.load(tmp_path / "old.npz")
    assert old.known_lines is None
    assert known_lines_of_level(old.level_db, rows * m)[100]


def test_sk_moments_are_exact():
    m = 64
    mean, var, _ = sk_moments(m)
    assert mean == pytest.approx(1.0)
    assert var == pytest.approx(4 * m * m / ((m - 1) * (m + 2) * (m + 3)))  # Nita & Gary (2010)
    rng = np.random.default_rng(4)
    p = rng.exponential(size=(200_000, m))
    sk = (m + 1) / (m - 1) * (m * (p * p).sum(1) / p.sum(1) ** 2 - 1)
    assert scipy.stats.skew(sk) == pytest.approx(sk_moments(m)[2], rel=0.05)


def test_short_clip_runs_only_baseline_free_detectors(cli, scenario_capture, tmp_path):
    meta = scenario_capture("overload", SECONDS)
    with open_capture(meta) as reader:
        clip = reader.read(int(2.5 * reader.sample_rate_hz), int(0.5 * reader.sample_rate_hz))
    path = tmp_path / "clip_433.92M_2.4M.cu8"
    path.write_bytes(clip.tobytes())
    result = cli("replay", path, "--json")
    assert result.code == 0
    assert [e["kind"] for e in result.json_lines()] == ["overload"]
    assert "shorter than" in result.err and "baseline" in result.err


@pytest.mark.parametrize("name, clip_s, kind", [
    ("pulsed_50pct", 0.05, "pulsed"),  # 25 periods of 2 ms
    ("pulsed_5pct", 0.1, "pulsed"),  # 10 pulses of 0.5 ms
    ("chirp_slow", 0.05, "swept"),  # a 1 MHz sweep slower than a row: the impulsive band slides
    ("chirp_wide", 0.05, "swept"),  # a sweep wider than the band enters as periodic pulses
    ("barrage_wide", 0.5, None),  # noise-like: without a baseline it is not told from a carrier
    ("clean_busy", 1.0, None),  # bursty TDMA carriers are impulsive but narrow
    ("clean_pmr", 1.0, None),  # FM voice moves, but does not travel
])
def test_short_clips_find_pulsed_and_swept_jammers_without_a_baseline(name, clip_s, kind, cli, scenario_capture,
                                                                       tmp_path):
    meta = scenario_capture(name, SECONDS)
    with open_capture(meta) as reader:  # the jammer is on from 2 s to 4 s
        clip = reader.read(int(2.5 * reader.sample_rate_hz), int(clip_s * reader.sample_rate_hz))
        path = tmp_path / f"clip_{reader.center_freq_hz / 1e6:.6f}M_2.4M.cu8"
    path.write_bytes(clip.tobytes())
    result = cli("replay", path, "--json")
    assert result.code == 0, result.err
    assert [e["kind"] for e in result.json_lines()] == ([kind] if kind else [])
    assert "rows of 8 frames" in result.err


def test_band_mean_kurtosis_threshold_holds_its_false_alarm_rate():
    """The baseline-free pulsed test's SK threshold for a W-bin mean (4-row sums), at design
    tail probabilities Q(2) and Q(2.5) where noise gives enough samples to measure."""
    mean, s2, m = noise_rows(16.0, seed=1)
    rows = len(mean) // 4 * 4
    s1 = (mean[:rows] * m).reshape(-1, 4, mean.shape[1]).sum(axis=1)
    sq = s2[:rows].reshape(-1, 4, mean.shape[1]).sum(axis=1)
    frames = 4 * m
    sk = spectral_kurtosis(s1 / frames, sq, frames)[:, 8 : mean.shape[1] // 2 - 8]  # one side of DC
    cumulative = np.cumsum(np.hstack([np.zeros((len(sk), 1)), sk]), axis=1)
    for bins in (16, 64):
        box = (cumulative[:, bins:] - cumulative[:, :-bins]) / bins
        for sigmas in (2.0, 2.5):
            design = scipy.stats.norm.sf(sigmas)
            rate = (box > box_threshold(frames, bins, sigmas)).mean()
            assert design / 2 < rate < design * 2, (bins, sigmas, rate, design)


def test_periodicity_tells_pulse_trains_from_noise():
    rng = np.random.default_rng(8)
    noise = rng.standard_normal((5000, 56)).astype(np.float32)
    assert np.mean([periodicity(x) > 0 for x in noise]) < 1e-3
    frame_s = 2048 / 2.4e6  # periods are not whole numbers of frames
    t = (np.arange(56 * 64) + 0.5) * frame_s / 64
    for period_s, duty in ((2e-3, 0.5), (10e-3, 0.05), (1e-3, 0.24)):
        on = ((t % period_s) < duty * period_s).reshape(56, 64).mean(axis=1)  # each frame's share of pulse
        train = (on + 0.05 * rng.standard_normal(56)).astype(np.float32)
        assert periodicity(train) > 0.5, (period_s, duty)


def test_config_hash_tracks_settings():
    assert DetectorConfig().config_hash() == DetectorConfig().config_hash()
    assert DetectorConfig(z_threshold=6.5).config_hash() != DetectorConfig().config_hash()
    config = DetectorConfig()
    assert math.isclose(config.frames_per_row(2.4e6) * config.fft_size / 2.4e6, config.row_s, rel_tol=0.05)
    assert DetectorConfig(fft_size=1024).frames_per_row(250e3) == 8  # never fewer frames than SK needs


def test_build_digest_covers_thresholds_and_model_files(tmp_path):
    """Two builds that differ in a module-level threshold or in the model file never share a
    hash: the digest reads the detector's and kernels' sources and the model files."""
    from spectrum.detect.detector_config import build_digest, files_digest

    (tmp_path / "detect").mkdir()
    (tmp_path / "kernels").mkdir()
    (tmp_path / "detect" / "classify.py").write_text("SK_IMPULSIVE = 1.3\n")
    (tmp_path / "detect" / "model.json").write_text('{"weights": [1.0]}\n')
    (tmp_path / "kernels" / "cfar.py").write_text("GUARD = 2\n")
    roots = {"spectrum/detect": tmp_path / "detect", "kernels": tmp_path / "kernels"}
    first = files_digest(roots)
    assert files_digest(roots) == first
    (tmp_path / "detect" / "classify.py").write_text("SK_IMPULSIVE = 1.4\n")
    second = files_digest(roots)
    (tmp_path / "detect" / "model.json").write_text('{"weights": [1.1]}\n')
    third = files_digest(roots)
    (tmp_path / "kernels" / "cfar.py").write_text("GUARD = 3\n")
    assert len({first, second, third, files_digest(roots)}) == 4
    assert len(build_digest()) == 64


def test_running_box_sums_stay_the_sums_of_their_rows(monkeypatch):
    """The float32 running K-row sums match a recount from the history, and the periodic
    resync (every RESYNC_ROWS rows) leaves them consistent with what the kernel adds next."""
    import spectrum.detect.detector as detector_module
    from spectrum.evaluate.bench_detect import noise_false_events

    monkeypatch.setattr(detector_module, "RESYNC_ROWS", 50)
    seen = []
    original = detector_module.BandDetector._resync_sums

    def checked(self):
        before = self._sums_z.copy()
        original(self)
        seen.append(float(np.abs(self._sums_z - before).max()))

    monkeypatch.setattr(detector_module.BandDetector, "_resync_sums", checked)
    events, _ = noise_false_events(0.01, DetectorConfig(), seed=9)
    assert len(seen) >= 5 and max(seen) < 1e-3
    assert events == 0


def test_a_row_seen_in_pieces_counts_as_one_width_for_classification():
    """A weak band is outlined in fragments each row; its width per row is all of them
    together, or a steady band would look like a narrow signal moving about (a sweep)."""
    from spectrum.detect.classify import classify
    from spectrum.detect.tracks import Region, Track

    rng = np.random.default_rng(9)
    track = Track("band", 0, 0, 100, 900)
    for row in range(40):
        pieces = sorted(rng.choice(np.arange(100, 900, 20), size=6, replace=False))
        for lo in pieces:  # six 10-bin fragments scattered over bins 100-900, every row
            track.add(Region(row=row, lo_bin=int(lo), hi_bin=int(lo) + 9, score=8.0, rise_db=1.0, level_db=-60.0,
                             sk_mean=1.7, centroid_bin=lo + 4.5, pulsing=4.0, unreliable=False,
                             envelope_kurtosis=1.9))
    assert len(track.widths) == 40  # one per row
    assert np.median(track.widths) > 500
    assert classify(track, 1171.875) == "pulsed"  # impulsive bins, total power pulsing, noise envelope


def _steady_track(lo_bin, hi_bin, rise_db, sk, pulsing=1.0, kappa=1.8, rows=40):
    from spectrum.detect.tracks import Region, Track

    track = Track("band", 0, 0, lo_bin, hi_bin)
    for row in range(rows):
        track.add(Region(row=row, lo_bin=lo_bin, hi_bin=hi_bin, score=20.0, rise_db=rise_db, level_db=-60.0,
                         sk_mean=sk, centroid_bin=(lo_bin + hi_bin) / 2, pulsing=pulsing, unreliable=False,
                         envelope_kurtosis=kappa))
    return track


def test_a_narrow_line_is_a_tone_only_if_its_kurtosis_fits_a_line_at_its_level():
    """SK of a CW line over noise is (1+2ρ)/(1+ρ)² ≤ 1; a weak FM voice carrier (SK above 1)
    at 8 dB is a new emitter, a line at the same level a tone; at 1.5 dB SK cannot tell."""
    from spectrum.detect.classify import classify, line_sk

    bin_hz = 1171.875
    assert line_sk(0.0) == 1.0 and line_sk(10.0) < 0.2
    assert classify(_steady_track(500, 505, rise_db=8.0, sk=1.15), bin_hz) == "new_emitter"
    assert classify(_steady_track(500, 505, rise_db=8.0, sk=0.55), bin_hz) == "tone"
    assert classify(_steady_track(500, 503, rise_db=1.5, sk=1.1), bin_hz) == "tone"
    assert classify(_steady_track(500, 505, rise_db=20.0, sk=0.75), bin_hz) == "new_emitter"


def test_narrow_signals_impulsive_in_their_bins_are_emitters_not_sweeps():
    """A 25 kHz-channel FM radio wanders over its bins (SK ≈ 1.8): a new emitter, not a sweep."""
    from spectrum.detect.classify import classify

    assert classify(_steady_track(500, 510, rise_db=10.0, sk=1.8), 1171.875) == "new_emitter"


def test_constant_envelope_bursts_over_the_whole_band_are_a_sweep_wider_than_it():
    """Weak sweep wider than the band: bursts, SK near 1 per bin; its envelope tells it from
    pulsed noise (kurtosis ≈ 1.2-1.4 against ≈ 1.7-2)."""
    from spectrum.detect.classify import classify

    bin_hz = 1171.875
    assert classify(_steady_track(50, 1990, rise_db=3.0, sk=1.1, pulsing=16.0, kappa=1.3), bin_hz) == "swept"
    assert classify(_steady_track(50, 1990, rise_db=3.0, sk=1.1, pulsing=16.0, kappa=1.75), bin_hz) == "pulsed"


def test_a_wide_jammer_on_and_off_over_rows_is_pulsed_not_a_sweep():
    """Pulses longer than a row (40 ms every 200 ms): the frame power within a row is steady
    and the off rows leave scraps that wander, which looked like a sweep. The rows' own
    excess coming and going says pulsed; a sweep keeps its power from row to row."""
    from spectrum.detect.classify import classify
    from spectrum.detect.tracks import Region, Track

    rng = np.random.default_rng(21)

    def track_of(on_off: bool) -> Track:
        track = Track("band", 0, 0, 300, 700)
        for row in range(60):
            on = not on_off or row % 7 < 2
            if on:  # the whole band, with its own excess
                lo, hi, rise = 300, 700, 3.0
            else:  # a scrap the long boxes still see, anywhere in the band
                lo = int(rng.integers(300, 650))
                hi, rise = lo + 20, 0.05
            track.add(Region(row=row, lo_bin=lo, hi_bin=hi, score=20.0, rise_db=rise, level_db=-60.0, sk_mean=1.2,
                             centroid_bin=(lo + hi) / 2, pulsing=1.2, unreliable=False, envelope_kurtosis=1.75,
                             concentration=0.4 if on else 0.1))
        return track

    steady = track_of(False)
    assert steady.row_modulation < 0.1
    assert classify(steady, 1171.875) == "wideband_noise"
    pulsed = track_of(True)
    assert pulsed.row_modulation > 1.0
    assert classify(pulsed, 1171.875) == "pulsed"


def _noise_rows(rng, rows: int, m: int, n: int, gain: np.ndarray) -> "PowerRows":
    """Rows of Welch means of exponential powers (noise) times a per-row, per-bin ``gain``."""
    from kernels.psd import PowerRows

    mean = (rng.gamma(m, 1.0 / m, size=(rows, n)) * 1e-6 * gain).astype(np.float32)
    s2 = ((mean * m) ** 2 * (1 + (m - 1) / (m + 1)) / m).astype(np.float32)  # SK 1: noise-like
    frame_power = np.repeat(mean.sum(axis=1), m).astype(np.float32) / 1.5
    return PowerRows(mean, s2, mean, frame_power, m, np.full(rows, 2.0, np.float32))


def _replay_noise_rows(detector: BandDetector, rng, gain: np.ndarray, clipped: np.ndarray) -> dict:
    """Noise rows times ``gain`` (rows × bins) through ``detector`` in batches of 64, with
    ``clipped`` I/Q values at a rail per row; every event's last state by id, after the finish."""
    m, n = detector.frames_per_row, detector.fft_size
    events = {}
    for start in range(0, len(gain), 64):
        chunk = _noise_rows(rng, min(64, len(gain) - start), m, n, gain[start : start + 64])
        events.update((e.id, e) for e in detector.process(chunk, clipped[start : start + len(chunk.mean)]))
    events.update((e.id, e) for e in detector.finish())
    return events


@pytest.mark.parametrize("rate_db_per_s", [0.1, 0.2])
def test_a_slowly_rising_jammer_is_not_learned_as_baseline(rate_db_per_s):
    """A barrage over a third of the band that rises slower than the baseline follows (its lag
    rate·τ under the minimum rise) is still reported as one wide event while on: the baseline
    may not wander more than its spread above the learned level. (Without that bound the
    band is only ever seen in scraps.)"""
    config = DetectorConfig()
    detector = BandDetector(config, 2.4e6, 100e6)
    m, n, row_s = detector.frames_per_row, config.fft_size, detector.row_s
    rng = np.random.default_rng(4)
    onset_s, seconds = 5.0, 5.0 + 3.0 / rate_db_per_s  # up to 3 dB over the floor
    rows = int(seconds / row_s)
    t = np.arange(rows) * row_s
    rise_db = np.clip((t - onset_s) * rate_db_per_s, 0.0, None)
    gain = np.ones((rows, n))
    gain[:, 300:1000] = 10 ** (rise_db[:, None] / 10)
    events = {}
    for start in range(0, rows, 64):
        chunk = _noise_rows(rng, min(64, rows - start), m, n, gain[start : start + 64])
        events.update((e.id, e) for e in detector.process(chunk, np.zeros(len(chunk.mean), np.int64)))
    band_lo, band_hi = 100e6 + (300 - n / 2) * detector.bin_hz, 100e6 + (1000 - n / 2) * detector.bin_hz
    covered = [min(e.freq_high_hz, band_hi) - max(e.freq_low_hz, band_lo) for e in events.values()]
    assert max(covered, default=0.0) > 0.6 * (band_hi - band_lo), "the rising barrage was only seen in scraps"


def test_a_jammer_behind_clipping_learned_as_normal_is_found_and_named():
    """A band that clips from the start (a strong legitimate carrier: the clipping is part of
    what was learned) still reports a barrage that arrives later, with its kind and an
    ``overload`` flag and clip share on the event, beside the overload event itself."""
    config = DetectorConfig()
    detector = BandDetector(config, 2.4e6, 100e6)
    m, n, row_s = detector.frames_per_row, config.fft_size, detector.row_s
    rng = np.random.default_rng(6)
    rows = int(8.0 / row_s)
    gain = np.ones((rows, n))
    gain[int(4.0 / row_s) :, 300:1000] = 10.0  # a 10 dB barrage from 4 s on
    clipped = np.full(rows, int(0.01 * 2 * n * m), np.int64)  # 1 % of values at a rail, throughout
    events = _replay_noise_rows(detector, rng, gain, clipped)
    kinds = sorted(e.kind for e in events.values())
    assert kinds == ["overload", "wideband_noise"]
    barrage = next(e for e in events.values() if e.kind == "wideband_noise")
    assert barrage.extra["overload"] and barrage.extra["clip_share"] == pytest.approx(0.01, rel=0.01)
    assert abs(barrage.offset_start_s - 4.0) < 0.2


def test_a_barrage_that_clips_the_adc_is_reported_with_its_kind_beside_the_overload():
    """A 30 dB barrage over a band that did not clip while learning drives the ADC into its
    rails from its first row: the desk gets the overload event and, behind it, the barrage by
    its kind, flagged ``overload`` with its clip share, on the barrage's own bins (nothing made
    of the clipping's spread over the rest of the band)."""
    config = DetectorConfig()
    detector = BandDetector(config, 2.4e6, 100e6)
    m, n, row_s = detector.frames_per_row, config.fft_size, detector.row_s
    rng = np.random.default_rng(8)
    rows, onset = int(8.0 / row_s), int(4.0 / row_s)
    gain = np.ones((rows, n))
    gain[onset:, 300:1000] = 1000.0  # 30 dB over the floor from 4 s on
    gain[onset:, 1400:1420] = 4.0  # a clipping product elsewhere, 6 dB
    clipped = np.zeros(rows, np.int64)
    clipped[onset:] = int(0.05 * 2 * n * m)  # 5 % of values at a rail while it is on
    events = _replay_noise_rows(detector, rng, gain, clipped)
    kinds = sorted(e.kind for e in events.values())
    assert kinds == ["overload", "wideband_noise"]
    barrage = next(e for e in events.values() if e.kind == "wideband_noise")
    assert barrage.extra["overload"] and barrage.extra["clip_share"] == pytest.approx(0.05, rel=0.01)
    assert abs(barrage.offset_start_s - 4.0) < 0.2
    band_lo, band_hi = 100e6 + (300 - n / 2) * detector.bin_hz, 100e6 + (1000 - n / 2) * detector.bin_hz
    overlap = min(barrage.freq_high_hz, band_hi) - max(barrage.freq_low_hz, band_lo)
    assert overlap / (max(barrage.freq_high_hz, band_hi) - min(barrage.freq_low_hz, band_lo)) > 0.85


def test_learning_calibrates_the_box_test_on_the_common_mode_swings_the_detector_will_see():
    """Dense broadband bursty traffic lifts every bin together by a varying amount from row to
    row (here a common-mode swing of 0.5 dB std). The baseline's shape is learned without those
    swings, but the box test's noise includes them (the gain tracker follows slow drift only,
    so the detector sees them): a whole-band one-row box is then as noisy as the swings, not as
    the noise. A jammer switching on and off during learning is a few steps, not swings, and
    leaves the test as it was. The gain tracker starts at the end of the rows' straight-line
    drift, not at the last row's swing."""
    from spectrum.detect.baseline_learning import learn_band

    config = DetectorConfig()
    rng = np.random.default_rng(3)
    rows, bins, m = 60, config.fft_size, 29
    noise_db = 10 * np.log10(rng.gamma(m, 1.0 / m, size=(rows, bins)))
    drift_db = 0.01 * np.arange(rows)  # 0.4 dB/s at 25 ms rows: a tuner warming up
    swing_db = rng.normal(0.0, 0.5, rows)
    swing_db[-1] = 1.5  # the last learning row is lifted

    def learned(swings):
        levels = (noise_db + drift_db[:, None] + swings[:, None] - 60.0).astype(np.float32)
        return learn_band(list(levels), [1.0] * rows, None, 100e6, 2.4e6, m, config.cfar_pfa,
                          np.asarray(config.time_scales), np.asarray(config.freq_scales), slice(1020, 1028))

    steps_db = np.where((np.arange(rows) // 12) % 2 == 1, 3.0, 0.0)  # a barrage on and off twice
    quiet, swinging, stepping = learned(np.zeros(rows)), learned(swing_db), learned(steps_db)
    one_row, whole_band = list(config.time_scales).index(1), list(config.freq_scales).index(512)
    assert swinging.baseline.box_std[one_row, whole_band] > 3 * quiet.baseline.box_std[one_row, whole_band]
    assert stepping.baseline.box_std[one_row, whole_band] < 1.2 * quiet.baseline.box_std[one_row, whole_band]
    trend_end = drift_db[-1] - drift_db.mean()
    assert abs(quiet.gain_db - trend_end) < 0.05
    assert abs(swinging.gain_db - trend_end) < 0.5  # not the last row's +1.5 dB swing on top


def test_a_waiting_track_absorbed_into_an_older_one_is_still_announced(tmp_path):
    """Development scene 0: a barrage comes on behind clipping (a strong carrier) and is first
    seen as two pieces; the newer piece opens and waits (JAMMER_MIN_S), then a row bridging
    both joins it into the older piece, which had not opened on its own. The joined track is
    announced: the barrage is reported, flagged ``overload``."""
    from captures.reader import CaptureReader, Segment
    from spectrum.evaluate.randomized_bench import START_TIME
    from spectrum.replay import ReplayResult, replay_events
    from spectrum.sim.random_scenes import draw_scene, write_scene

    scene = draw_scene(0)
    (barrage,) = [e for e in scene.emitters if e.kind is not None]
    assert barrage.what == "barrage" and 8.0 < barrage.windows[0][0] < 9.0
    data, labels = write_scene(dataclasses.replace(scene, duration_s=10.5), tmp_path / "scene0")
    result = ReplayResult()
    with CaptureReader(data, datatype="cu8", sample_rate_hz=scene.sample_rate_hz,
                       segments=[Segment(0, scene.center_freq_hz, START_TIME)]) as reader:
        for _ in replay_events(reader, DetectorConfig(), result=result):
            pass
    label = next(lab for lab in labels if lab["kind"] == "wideband_noise")
    found = [e for e in result.events if e.kind != "overload"
             and e.freq_low_hz < label["freq_high_hz"] and e.freq_high_hz > label["freq_low_hz"]]
    assert len(found) == 1 and found[0].extra["overload"]  # its kind is the kind model's to name
    assert abs(found[0].offset_start_s - label["start_s"]) < 0.15


def test_hits_recur_steadily_tells_a_slow_pulse_train_from_random_bursts():
    """Pulse trains slower than a row (some pulses straddling two rows, one now and then
    missed) recur steadily; bursts arriving at random in a share of the rows seldom do; too
    few bursts say nothing yet."""
    from spectrum.detect.tracks import Track

    def steady(rows):
        track = Track("band", int(rows[0]), int(rows[-1]), 0, 10)
        track.hit_rows.extend(int(r) for r in sorted(set(rows)))
        return track.hits_recur_steadily

    rng = np.random.default_rng(11)
    for period_rows in (2.6, 5.4, 8.3):
        pulses = np.arange(20) * period_rows + rng.uniform(0, 1)
        rows = np.concatenate((np.floor(pulses), np.floor(pulses + 0.3)))  # 0.3 rows long
        assert steady(np.delete(rows, [7]))
    assert not steady(np.floor(np.arange(6) * 5.4))  # five gaps: not judged yet
    for share in (0.15, 0.3):
        random_rows = [np.flatnonzero(rng.random(200) < share) for _ in range(300)]
        assert np.mean([steady(r) for r in random_rows]) < 0.05, share


def test_a_slow_sparse_pulse_train_is_still_reported_once_it_recurs_steadily():
    """Wideband pulses 10 dB over the floor in one row out of twenty (2 Hz): seen in few of
    its rows, the track waits until its bursts recur steadily, then it is one pulsed event
    from its onset."""
    config = DetectorConfig()
    detector = BandDetector(config, 2.4e6, 100e6)
    n, row_s = config.fft_size, detector.row_s
    rows, onset = int(9.0 / row_s), int(3.0 / row_s)
    gain = np.ones((rows, n))
    gain[np.arange(onset, rows, 20), 300:400] = 10.0
    events = _replay_noise_rows(detector, np.random.default_rng(12), gain, np.zeros(rows, np.int64))
    (event,) = events.values()
    assert event.kind == "pulsed" and abs(event.offset_start_s - onset * row_s) < 0.1
    assert event.extra["detected_offset_s"] - onset * row_s > 6 * 20 * row_s  # six gaps seen first


@pytest.mark.parametrize("line_db, reported", [(5.0, False), (30.0, True)])
def test_lines_far_under_a_clipping_carrier_are_taken_for_its_products(line_db, reported):
    """A band that clips throughout (a carrier 50 dB over the floor driving the converter into
    its rails, learned as normal): a line coming up later 45 dB under the carrier cannot be told
    from the clipping's intermodulation products and raises nothing; one 20 dB under it is
    reported. The overload event stands either way."""
    config = DetectorConfig()
    detector = BandDetector(config, 2.4e6, 100e6)
    m, n, row_s = detector.frames_per_row, config.fft_size, detector.row_s
    rows, onset = int(8.0 / row_s), int(4.0 / row_s)
    gain = np.ones((rows, n))
    gain[:, 1500:1504] = 1e5  # the clipping carrier
    gain[onset:, 600:602] = 10 ** (line_db / 10)
    clipped = np.full(rows, int(0.05 * 2 * n * m), np.int64)
    events = _replay_noise_rows(detector, np.random.default_rng(13), gain, clipped)
    kinds = sorted(e.kind for e in events.values())
    assert kinds.count("overload") == 1 and len(kinds) == (2 if reported else 1), kinds
