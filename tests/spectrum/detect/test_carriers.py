"""A few separate lines: several CW carriers (one tone event each) or one sweep faster than a
frame (one swept event), told apart by their envelope (spectrum.detect.carrier_envelope)."""

import json

import numpy as np
import pytest

from captures import open_capture
from kernels.psd import RawRows
from spectrum.cli.simulate_cmd import write_scenario
from spectrum.detect.carrier_envelope import CarrierJudge
from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.region_features import MAX_CARRIERS, carrier_pieces, comb_runs
from spectrum.detect.spectral_frontend import analysis_window
from spectrum.evaluate.randomized_bench import resolution_hz
from spectrum.evaluate.scoring import score_labels
from spectrum.replay import ReplayResult, replay_events
from spectrum.sim.scenarios import UHF_PMR_HZ, Chirp, Event, Scenario, Tone

FS_HZ = 2.4e6
FFT = 2048
FRAMES = 16


def _rows(signal: np.ndarray, noise_power: float, seed: int) -> list[RawRows]:
    """cf32 rows of ``signal`` plus complex Gaussian noise of ``noise_power``."""
    rng = np.random.default_rng(seed)
    noise = np.sqrt(noise_power / 2) * (rng.standard_normal(signal.size) + 1j * rng.standard_normal(signal.size))
    x = (signal + noise).astype(np.complex64)
    window = analysis_window("hann", FFT)
    per_row = FFT * FRAMES
    return [RawRows(x[i : i + per_row].view(np.float32), "cf32_le", window) for i in range(0, x.size, per_row)]


def _bins(offsets_hz, half_width: int = 2) -> list[tuple[int, int]]:
    centres = [int(round(f / (FS_HZ / FFT))) + FFT // 2 for f in offsets_hz]
    return [(c - half_width, c + half_width) for c in sorted(centres)]


def _verdicts(rows: list[RawRows], pieces, rho: float) -> list[bool]:
    judge = CarrierJudge(FFT, FRAMES)
    return [judge.separate(r, raw, pieces, rho) for r, raw in enumerate(rows)]


@pytest.mark.parametrize("count", [2, 3, 5])
def test_independent_carriers_stay_separate(count):
    """N carriers at unrelated frequencies and phases beat (envelope kurtosis 2 − 1/N ≥ 1.5):
    every row's verdict is 'separate carriers', however many rows are summed."""
    rng = np.random.default_rng(count)
    n = np.arange(FFT * FRAMES * 12)
    offsets = 100e3 + 37e3 * np.arange(count) + rng.uniform(-3e3, 3e3, count)
    signal = sum(np.exp(1j * (2 * np.pi * f / FS_HZ * n + rng.uniform(0, 2 * np.pi))) for f in offsets)
    snr_per_bin = 100.0  # each line (power 1) 20 dB over the noise in a Hann bin (1.5 bins wide)
    noise_power = FFT / (1.5 * snr_per_bin)
    assert all(_verdicts(_rows(signal, noise_power, 1), _bins(offsets), rho=snr_per_bin / 5))


def test_a_sweep_faster_than_a_frame_is_one_comb_not_carriers():
    """A linear sweep over 160 kHz every 50 µs puts its power on lines 20 kHz apart (8 of
    them), as separate as carriers in the spectrum; its constant envelope makes it a comb once
    enough rows are summed, and the first rows (too little evidence) say carriers."""
    n = np.arange(FFT * FRAMES * 12)
    period = int(round(50e-6 * FS_HZ))
    t = (n % period) / FS_HZ
    span, centre = 160e3, 200e3
    signal = np.exp(1j * 2 * np.pi * ((centre - span / 2) * t + 0.5 * span / 50e-6 * t**2))
    lines = centre - span / 2 + 20e3 * np.arange(9)
    verdicts = _verdicts(_rows(signal, 1e-2 * FFT / 100, 2), _bins(lines), rho=10.0)
    assert verdicts[0]
    assert not any(verdicts[4:])


def test_pieces_are_lines_only_when_few_narrow_and_apart():
    """carrier_pieces: lines further apart than the gap, each line-narrow, a handful of them."""
    power = np.zeros(200)
    for c in (10, 40, 70):
        power[c : c + 4] = 5.0
    assert carrier_pieces(power, 10) == [(10, 13), (40, 43), (70, 73)]
    assert carrier_pieces(power * 0.5 / 5.0, 10) is None  # no line clearly over the floor
    wide = power.copy()
    wide[40:80] = 5.0
    assert carrier_pieces(wide, 10) is None  # a band is no line
    close = np.zeros(200)
    close[[10, 11, 20, 21]] = 5.0
    assert carrier_pieces(close, 10) is None  # within the merge gap: one signal
    comb = np.zeros(400)
    for k in range(MAX_CARRIERS + 1):
        comb[5 + 25 * k : 8 + 25 * k] = 5.0
    assert carrier_pieces(comb, 10) is None  # a sweep's comb of many lines


def test_equally_spaced_narrow_runs_beyond_a_few_carriers_are_one_comb():
    """comb_runs: more equally spaced line places than MAX_CARRIERS, half of them or more hot
    in the row (up to two empty places in a row), are one run; a few carriers stay apart, and so
    do lines at unrelated spacings or a wide run among them."""
    places = 5 + 27 * np.arange(MAX_CARRIERS + 7)  # 19 places, 27 bins apart
    shown = np.delete(places, [4, 7, 9, 11, 14, 15])  # 13 of them hot in this row
    assert comb_runs(shown - 1, shown + 1) == ([int(shown[0] - 1)], [int(shown[-1] + 1)])
    few = places[:MAX_CARRIERS]
    assert comb_runs(few - 1, few + 1) == ((few - 1).tolist(), (few + 1).tolist())
    sparse = places[::3]  # 7 lines 81 bins apart: 7 places
    assert comb_runs(sparse - 1, sparse + 1) == ((sparse - 1).tolist(), (sparse + 1).tolist())
    scattered = np.cumsum(np.r_[5, 20 + 7 * np.arange(MAX_CARRIERS + 4)])  # spacing grows
    assert len(comb_runs(scattered - 1, scattered + 1)[0]) == scattered.size
    wide_ends = shown + 1
    wide_ends[6] += 20  # one of them a band, not a line: the comb stops there
    assert len(comb_runs(shown - 1, wide_ends)[0]) > 1


def _replay_labelled(scenario: Scenario, tmp_path, seconds: float = 10.0) -> tuple[list[dict], list[dict]]:
    meta, _ = write_scenario(scenario, tmp_path / scenario.name, seconds, seed=5)
    result = ReplayResult()
    with open_capture(meta) as reader:
        for _ in replay_events(reader, result=result):
            pass
    labels = json.loads(meta.with_name(meta.name.removesuffix(".sigmf-meta") + ".labels.json").read_text())
    return labels["labels"], [e.to_dict() for e in result.events]


def _score(labels: list[dict], events: list[dict]):
    """One-to-one scoring that grants the detector's resolution (a line's label is a point)."""
    return score_labels(labels, events, resolution_hz(FS_HZ, DetectorConfig()))


def test_eight_carriers_a_channel_apart_are_eight_tones(tmp_path):
    """Eight CW carriers 25 kHz apart (one PMR channel each) switched on together: eight
    tone events, each at its own line, and nothing else."""
    lines = tuple(Event("tone", Tone(50e3 + 25e3 * k, 15.0), f"line {k}") for k in range(8))
    scene = Scenario(name="eight_lines", description="eight CW carriers", center_freq_hz=UHF_PMR_HZ, events=lines)
    labels, events = _replay_labelled(scene, tmp_path)
    scores, unmatched = _score(labels, events)
    assert [s.detected_kind for s in scores] == ["tone"] * 8, events
    assert not unmatched, unmatched


def test_a_narrow_fast_sweep_is_one_swept_event(tmp_path):
    """A sweep over 160 kHz every 50 µs (its comb: 8 lines 20 kHz apart) is one swept event."""
    sweep = Event("swept", Chirp(+200e3, 160e3, 50e-6, 10.0), "fast narrow sweep")
    scene = Scenario(name="fast_sweep", description="a fast narrow sweep", center_freq_hz=UHF_PMR_HZ, events=(sweep,))
    labels, events = _replay_labelled(scene, tmp_path)
    (score,), unmatched = _score(labels, events)
    assert score.detected_kind == "swept", events
    assert not unmatched, unmatched



def test_a_wide_fast_sweep_is_one_swept_event_not_a_tone_per_comb_line(tmp_path):
    """A sweep over 800 kHz every 25 µs, 3 dB under the noise in its span, puts its power on
    32 lines 40 kHz apart, each a separate run of hot bins (more than the merge gap apart) and
    not all of them hot in every row: one swept event, not a tone per line (17 tones and 4
    swept pieces before comb_runs)."""
    sweep = Event("swept", Chirp(-400e3, 800e3, 25e-6, -3.0), "fast wide sweep")
    scene = Scenario(name="fast_wide_sweep", description="a fast sweep, comb lines apart", center_freq_hz=UHF_PMR_HZ,
                     events=(sweep,))
    labels, events = _replay_labelled(scene, tmp_path)
    (score,), unmatched = _score(labels, events)
    assert score.detected_kind == "swept", events
    assert not unmatched, unmatched
