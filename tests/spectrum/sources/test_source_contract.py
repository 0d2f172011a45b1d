"""One contract, every source: sim, file, rtl_tcp (over loopback against our own server) and
RTL-SDR (through a stand-in for pyrtlsdr's RtlSdr)."""

from __future__ import annotations

import numpy as np
import pytest

from spectrum.errors import SourceError
from spectrum.sources import EndOfStream, IQSource, SourceBlock, open_source
from spectrum.sources.rtlsdr_source import RtlSdrSource
from spectrum.sources.rtltcp_client import RtlTcpSource

from source_helpers import make_driver

KINDS = ["sim", "file", "rtltcp", "rtlsdr", "simdongle"]
GNSS_HZ = 1575.42e6


@pytest.fixture(params=KINDS)
def make_source(request, capture_file, rtltcp_server, world):
    kind = request.param

    def make():
        if kind == "sim":
            return open_source("sim:clean_gnss?fast&loop=0.25")
        if kind == "simdongle":  # calibration's simulated dongle (spectrum/sources/simdongle_source.py)
            from spectrum.sources.simdongle_source import SimDongleSource, parse_simdongle
            return SimDongleSource(parse_simdongle("simdongle:C1"), center_freq_hz=GNSS_HZ)
        if kind == "file":
            return open_source(f"file:{capture_file}")
        if kind == "rtltcp":
            server = rtltcp_server(lambda: open_source("sim:clean_gnss?loop=0.25", realtime=False))
            return RtlTcpSource("127.0.0.1", server.port, 2.4e6, GNSS_HZ, gain_db=30.0)
        return RtlSdrSource(0, 2.4e6, GNSS_HZ, driver=make_driver(world), buffer_samples=8192)

    make.kind = kind
    return make


def test_block_stream_is_contiguous_and_stamped(make_source):
    with make_source() as source:
        assert isinstance(source, IQSource)
        assert source.datatype == "cu8"
        assert source.sample_rate_hz == pytest.approx(2.4e6)
        expected = 0
        for _ in range(6):
            block = source.read_block(5000)
            assert isinstance(block, SourceBlock)
            assert block.samples.dtype == np.uint8 and block.samples.ndim == 1
            assert 1 <= block.num_samples <= 5000 and block.samples.size == 2 * block.num_samples
            assert block.sample_index == expected and block.dropped_samples == 0
            assert block.center_freq_hz == pytest.approx(GNSS_HZ)
            assert block.timestamp_s > 1e9
            expected += block.num_samples
        assert source.health.samples == expected


def test_tune_marks_the_next_block_or_refuses(make_source):
    with make_source() as source:
        source.read_block(1000)
        if source.can_retune:
            source.tune(GNSS_HZ + 2e6)
            block = source.read_block(1000)
            assert block.retuned and block.center_freq_hz == pytest.approx(GNSS_HZ + 2e6)
            assert not source.read_block(1000).retuned
        else:
            with pytest.raises(SourceError, match="cannot tune"):
                source.tune(GNSS_HZ + 2e6)


def test_close_is_idempotent_and_final(make_source):
    source = make_source()
    source.read_block(100)
    source.close()
    source.close()
    with pytest.raises(SourceError, match="closed"):
        source.read_block(100)


def test_finite_source_ends_with_end_of_stream(capture_file):
    with open_source(f"file:{capture_file}") as source:
        total = 0
        with pytest.raises(EndOfStream):
            while True:
                total += source.read_block(1 << 16).num_samples
        assert total == int(0.25 * 2.4e6)


def test_file_source_loops_and_paces(capture_file):
    with open_source(f"file:{capture_file}?loop") as source:
        for _ in range(12):
            block = source.read_block(1 << 16)
        assert block.sample_index > 0.25 * 2.4e6  # past the end, no EndOfStream


def test_sim_realtime_pacing_and_fast_mode():
    import time

    with open_source("sim:clean_gnss?loop=0.25") as paced:
        assert paced.realtime
        t0 = time.monotonic()
        for _ in range(4):
            paced.read_block(24_000)  # 4 × 10 ms
        assert time.monotonic() - t0 >= 0.035
    with open_source("sim:clean_gnss?fast&loop=0.25") as fast:
        assert not fast.realtime


def test_sim_scenario_lives_at_its_frequency():
    def power_mid_loop(source):  # the jammer is on from 0.4 to 0.8 of the loop
        source.read_block(int(0.5 * 2.4e6))
        x = source.read_block(50_000).samples.astype(np.float32) - 127.5
        return float(np.mean(x * x))

    with open_source("sim:gnss_l1_barrage?fast&loop=1") as source:
        jammed = power_mid_loop(source)
        source.tune(GNSS_HZ + 10e6)
        away = power_mid_loop(source)
        source.tune(GNSS_HZ)
        again = power_mid_loop(source)  # 1.5 s in: the loop's clock ran on, jammed again
    assert jammed == pytest.approx(again, rel=0.1)
    assert jammed > 1.5 * away


@pytest.mark.parametrize("spec, message", [
    ("nope:1", "expected one of"),
    ("sim:no_such", "unknown scenario"),
    ("file:/nonexistent/x.cu8", "no such file"),
    ("rtltcp://127.0.0.1:notaport", "rtltcp://HOST:PORT"),
    ("rtltcp://127.0.0.1:1", "cannot connect"),
    ("sim:clean_gnss?loop=abc", "not a number"),
])
def test_bad_specs_raise_one_clear_error(spec, message):
    from spectrum.errors import SpectrumError

    with pytest.raises(SpectrumError, match=message):
        open_source(spec)
