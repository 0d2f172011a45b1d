"""What the detector learns as the band's normal traffic: bursts seen while learning (per bin,
spectrum.detect.learned_bursts), a TDD downlink already on when learning began, and
packets that are not a new emitter; against which a signal that stays on is still news."""

from __future__ import annotations

import dataclasses

import numpy as np

from spectrum.detect.detector import EMITTER_MIN_S, BandDetector
from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.learned_bursts import LearnedBursts


def _rows_db(rng, rows: int, bins: int, burst_bins: slice, every: int, burst_db: float) -> np.ndarray:
    """Noise levels (dB, spread ~1 dB) with a burst of ``burst_db`` in ``burst_bins`` every ``every`` rows."""
    rows_db = rng.normal(0.0, 1.0, (rows, bins)).astype(np.float32)
    rows_db[::every, burst_bins] += burst_db
    return rows_db


def test_learned_bursts_explain_the_same_traffic_only():
    rng = np.random.default_rng(3)
    packets = slice(10, 21)
    learning = _rows_db(rng, 60, 64, packets, 8, 12.0)
    level, spread = np.median(learning, axis=0), np.full(64, 1.0, np.float32)
    bursts = LearnedBursts.learn(learning, level, spread)
    assert bursts.duty[packets].min() > 0.1 and bursts.duty[30:].max() == 0.0

    same = _rows_db(rng, 40, 64, packets, 8, 12.0)
    assert bursts.explains(same, 10, 20, min_rise_db=0.8)
    assert not bursts.explains(same, 30, 40, min_rise_db=0.8), "bins that never burst: any detection is news"
    floor_up = same + np.float32(3.0)  # a weak jammer that stays on over the packets' channel
    assert not bursts.explains(floor_up, 10, 20, min_rise_db=0.8)
    every_row = _rows_db(rng, 40, 64, packets, 1, 12.0)  # on in every row: no longer the packets
    every_row[:, packets] -= 9.0  # keep the floor's median rise small
    assert not bursts.explains(every_row, 10, 20, min_rise_db=0.8)
    stronger = _rows_db(rng, 40, 64, packets, 8, 30.0)  # a much stronger transmitter on that channel
    assert not bursts.explains(stronger, 10, 20, min_rise_db=0.8)


def _carrier_rows(rng, rows, m, n, gain, sk):
    """Noise rows (see test_detect._noise_rows) whose bins with ``gain > 1`` have spectral kurtosis ``sk``."""
    from kernels.psd import PowerRows

    mean = (rng.gamma(m, 1.0 / m, size=(rows, n)) * 1e-6 * gain).astype(np.float32)
    sk_per_bin = np.where(gain > 1.0, sk, 1.0)
    s1 = mean.astype(np.float64) * m
    s2 = ((sk_per_bin * (m - 1) / (m + 1) + 1.0) * s1 ** 2 / m).astype(np.float32)
    frame_power = np.repeat(mean.sum(axis=1), m).astype(np.float32) / 1.5
    return PowerRows(mean, s2, mean, frame_power, m, np.full(rows, 2.0, np.float32))


def _run(detector, rng, gain, sk):
    events = {}
    for start in range(0, len(gain), 64):
        chunk = _carrier_rows(rng, min(64, len(gain) - start), detector.frames_per_row, detector.fft_size,
                              gain[start : start + 64], sk)
        events.update((e.id, e) for e in detector.process(chunk, np.zeros(len(chunk.mean), np.int64)))
    events.update((e.id, e) for e in detector.finish())
    return list(events.values())


def test_packets_are_not_a_new_emitter_but_a_carrier_that_stays_on_is_after_a_second():
    """Keyed packets (one row in eight, 12 dB, impulsive bins) from the start, and a modulated
    carrier (SK 1.8) that comes on at 5 s and stays: only the carrier is reported, once it has
    stayed on EMITTER_MIN_S."""
    config = DetectorConfig()
    detector = BandDetector(config, 2.4e6, 100e6)
    rng = np.random.default_rng(8)
    rows = int(9.0 / detector.row_s)
    gain = np.ones((rows, config.fft_size))
    gain[::8, 400:410] = 10 ** 1.2  # packets, on from the first row
    onset_row = int(5.0 / detector.row_s)
    gain[onset_row:, 1500:1508] = 10 ** 1.5  # the carrier
    events = _run(detector, rng, gain, sk=1.8)
    kinds = [(e.kind, round((e.freq_low_hz - 100e6) / detector.bin_hz + config.fft_size / 2)) for e in events]
    assert len(events) == 1, kinds
    (carrier,) = events
    assert carrier.kind == "new_emitter" and abs(carrier.offset_start_s - 5.0) < 0.15
    assert EMITTER_MIN_S <= carrier.extra["detected_offset_s"] - 5.0 < EMITTER_MIN_S + 0.3


def test_a_tdd_downlink_on_from_the_first_row_is_the_bands_traffic(tmp_path):
    """A TDD LTE-like downlink on from the first sample: the baseline-free path sees a pulsed,
    periodic, impulsive band while the baseline is being learned; once learned it is normal."""
    from captures.reader import CaptureReader, Segment
    from spectrum.evaluate.randomized_bench import START_TIME
    from spectrum.replay import ReplayResult, replay_events
    from spectrum.sim.random_scenes import draw_scene, write_scene

    scene = draw_scene(500_026)  # a clean development scene: one TDD downlink, nothing else
    assert [e.what for e in scene.emitters] == ["tdd_lte"]
    scene = dataclasses.replace(scene, duration_s=4.0)
    data, _ = write_scene(scene, tmp_path / "tdd")
    result = ReplayResult()
    with CaptureReader(data, datatype="cu8", sample_rate_hz=scene.sample_rate_hz,
                       segments=[Segment(0, scene.center_freq_hz, START_TIME)]) as reader:
        for _ in replay_events(reader, DetectorConfig(), result=result):
            pass
    assert [e.kind for e in result.events] == []


def test_skew_of_bursty_bins_and_a_saved_baseline_keeps_what_was_learned(tmp_path):
    """Bursty bins' mean lies over their median (the long boxes would see that as a rise);
    noise bins' does not. A saved baseline keeps the skew and the learned bursts."""
    from spectrum.detect.band_baseline import Baseline

    rng = np.random.default_rng(5)
    rows_db = _rows_db(rng, 80, 64, slice(10, 21), 4, 10.0)
    baseline = Baseline.learn(rows_db, 100e6, 2.4e6, 16)
    baseline.skew_db = Baseline.skew_of(rows_db, baseline.level_db)
    assert baseline.skew_db[10:21].min() > 1.5  # a quarter of the rows 10 dB up: ~2.5 dB over the median
    assert baseline.skew_db[30:].max() < 0.4
    baseline.bursts = LearnedBursts.learn(rows_db, baseline.level_db + baseline.skew_db, baseline.spread_db)
    baseline.save(tmp_path / "b.npz")
    loaded = Baseline.load(tmp_path / "b.npz")
    assert np.array_equal(loaded.skew_db, baseline.skew_db)
    assert np.array_equal(loaded.bursts.duty, baseline.bursts.duty) and loaded.bursts.learn_rows == 80


def test_a_barrage_over_the_whole_band_rising_slowly_is_not_taken_for_gain():
    """Every bin rises 0.5 dB/s from 5 s up to 10 dB: slower than the gain slew limit, so only
    the bound on the gain's excursion (a tuner drifts a dB or two) leaves it to the detectors."""
    config = DetectorConfig()
    detector = BandDetector(config, 2.4e6, 100e6)
    rng = np.random.default_rng(12)
    rows = int(30.0 / detector.row_s)
    t = np.arange(rows) * detector.row_s
    rise_db = np.clip((t - 5.0) * 0.5, 0.0, 10.0)
    gain = np.repeat(10 ** (rise_db[:, None] / 10), config.fft_size, axis=1)
    events = _run(detector, rng, gain, sk=1.0)
    wide = [e for e in events if e.freq_high_hz - e.freq_low_hz > 0.5 * 2.4e6]
    assert wide, [(e.kind, e.freq_high_hz - e.freq_low_hz) for e in events]
    # found once the rise passed the gain bound (3 dB, at 11 s), within a few seconds of it
    assert min(e.extra["detected_offset_s"] for e in wide) < 11.0 + 3.0


def test_a_jammer_that_comes_on_while_the_baseline_is_learned_is_still_found():
    """A 3 dB barrage from 1.0 s (two thirds into learning) to the end: the learning rows' skew
    in its bins is its own, and must not hide it (the skew is the smaller of the halves')."""
    config = DetectorConfig()
    detector = BandDetector(config, 2.4e6, 100e6)
    rng = np.random.default_rng(2)
    rows = int(4.0 / detector.row_s)
    gain = np.ones((rows, config.fft_size))
    gain[int(1.0 / detector.row_s):, 300:500] = 10 ** 0.3
    events = _run(detector, rng, gain, sk=1.0)
    bins = [((e.freq_low_hz - 100e6) / detector.bin_hz + config.fft_size / 2,
             (e.freq_high_hz - 100e6) / detector.bin_hz + config.fft_size / 2) for e in events]
    assert any(lo < 320 and hi > 480 for lo, hi in bins), bins
