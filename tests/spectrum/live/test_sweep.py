"""Band plans and sweeping: hop layout, seam flatness of stitched white noise, settling
blanking (measured on a stand-in with stale USB buffers), retune failures."""

from __future__ import annotations

import time

import pytest

from spectrum.live.band_plans import Band, BandPlan, list_presets, load_plan, parse_plan
from spectrum.errors import ConfigError, SourceError
from spectrum.live.monitor import Monitor, MonitorOptions
from spectrum.sources import open_source
from spectrum.sources.rtlsdr_source import RtlSdrSource
from spectrum.live.sweep import Sweeper, measure_settling, seam_flatness_db

from source_helpers import FakeWorld, make_driver


@pytest.mark.parametrize("name", list_presets())
def test_presets_cover_their_bands_within_the_tuner(name):
    plan = load_plan(name)
    assert plan.bands and plan.description
    for band in plan.bands:
        hops = band.hops()
        assert hops[0].keep_low_hz == band.low_hz and hops[-1].keep_high_hz == band.high_hz
        for a, b in zip(hops, hops[1:]):
            assert a.keep_high_hz == pytest.approx(b.keep_low_hz)
        for hop in hops:
            assert hop.keep_high_hz - hop.center_freq_hz <= band.usable_hz / 2 + 1
            assert hop.center_freq_hz - hop.keep_low_hz <= band.usable_hz / 2 + 1
            assert plan.tuner_range_hz[0] <= hop.center_freq_hz <= plan.tuner_range_hz[1]


def test_election_site_has_the_bands_that_matter():
    names = {b.name for b in load_plan("election-site").bands}
    assert names == {"gsm900-dl", "dcs1800-ul", "gnss-l1", "vhf-public-safety", "uhf-public-safety", "ism433"}


@pytest.mark.parametrize("text, message", [
    ("name = 'x'\n[[bands]]\nname='a'\nlow_hz=1805e6\nhigh_hz=1880e6\n", "outside the tuner"),
    ("name = 'x'\n[[bands]]\nname='a'\nlow_hz=433e6\nhigh_hz=434e6\nsample_rate_hz=500e3\n", "RTL2832U accepts"),
    ("name = 'x'\n[[bands]]\nname='a'\nlow_hz=433e6\nhigh_hz=434e6\ncrop=0.6\n", "crop"),
    ("name = 'x'\n[[bands]]\nname='a'\nlow_hz=433e6\nhigh_hz=434e6\ndwel_s=1\n", "unknown key"),
    ("name = 'x'\n", "no \\[\\[bands\\]\\]"),
    ("name = \n", "not valid TOML"),
])
def test_bad_plans_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_plan(text, "plan.toml")


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ConfigError, match="election-site"):
        load_plan("nowhere")


def rolloff_source(world=None, **kw):
    world = world or FakeWorld(rolloff=True)
    return RtlSdrSource(0, 2.4e6, 100e6, driver=make_driver(world), buffer_samples=8192, **kw)


def sweep_once(source, band):
    """Run the monitor over a one-band plan until one full sweep is done."""
    import threading

    monitor = Monitor(source, BandPlan("test", (band,)), lambda e: None, MonitorOptions())

    def stopper():
        while monitor.sweeper is None or monitor.sweeper.stats.sweeps < 1:
            time.sleep(0.02)
        monitor.stop.set()

    threading.Thread(target=stopper, daemon=True).start()
    monitor.run()
    return monitor


@pytest.mark.parametrize("crop, overlap, flat", [(0.1, 0.05, True), (0.0, 0.0, False)])
def test_stitched_white_noise_is_flat_across_seams_with_crop(crop, overlap, flat):
    band = Band("test", 100e6, 106e6, dwell_s=0.2, crop=crop, overlap=overlap, settle_s=0.0)
    with rolloff_source() as source:
        monitor = sweep_once(source, band)
    freqs, level_db = monitor.stitcher.spectrum()
    assert freqs[0] == pytest.approx(100e6, abs=3e3) and freqs[-1] == pytest.approx(106e6, abs=3e3)
    flatness = seam_flatness_db(level_db, 64)
    print(f"crop={crop} overlap={overlap} hops={len(band.hops())}: flat within {flatness:.3f} dB")
    assert (flatness <= 0.5) == flat, flatness


def test_settling_measured_and_blanked():
    world = FakeWorld(stale_buffers=10, loud_hz=101e6)
    with rolloff_source(world) as source:
        settle_s = measure_settling(source, quiet_hz=100e6, loud_hz=101e6, repeats=2,
                                    look_samples=240_000)
        # ten stale 8192-sample buffers in flight: 34 ms; the source's own estimate covers it
        assert 0.030 <= settle_s <= 0.040
        assert source.settle_samples / source.sample_rate_hz >= settle_s
        band = Band("t", 100e6, 103e6, dwell_s=0.05, settle_s=0.001)
        sweeper = Sweeper(source, BandPlan("t", (band,)), lambda b: 1024 * 59)
        blocks = []
        for hop, block, first in sweeper.blocks():
            blocks.append((hop.index, block))
            if sweeper.stats.hops == 2 and hop.index == 1 and len(blocks) > 3:
                break
        assert sweeper.stats.settle_samples_discarded >= 2 * source.settle_samples
        assert sweeper.stats.retune_overhead_s > sweeper.stats.tune_call_s >= 0


def test_retune_failure_skips_the_hop_and_raises_a_fault():
    band = Band("t", 100e6, 106e6, dwell_s=0.05, settle_s=0.0)
    world = FakeWorld(fail_freqs=(band.hops()[1].center_freq_hz,))
    events = []
    with rolloff_source(world) as source:
        monitor = Monitor(source, BandPlan("t", (band,)), events.append,
                          MonitorOptions(duration_s=1.2, status_interval_s=0.1))
        health = monitor.run()
    assert health["retune_failures"] >= 1
    faults = [e for e in events if e.kind == "sensor_fault" and e.extra["fault"] == "retune_failed"]
    assert faults and faults[-1].offset_end_s is not None


def test_a_source_that_cannot_retune_cannot_sweep(capture_file):
    with open_source(f"file:{capture_file}") as source, pytest.raises(SourceError, match="cannot sweep"):
        Sweeper(source, load_plan("election-core"), lambda b: 60416)
