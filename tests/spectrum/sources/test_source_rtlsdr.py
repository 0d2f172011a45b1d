"""The RTL-SDR source through a stand-in driver: settings, errors, injected faults, recovery,
and the driver-loading failure modes (no librtlsdr, librtlsdr 0.6.0's missing symbol)."""

from __future__ import annotations

import builtins
import sys
import time

import pytest

from spectrum.errors import SourceError
from spectrum.sources import ResilientSource, SourceLost, SourceStalled, open_source
from spectrum.sources.rtlsdr_source import RtlSdrSource, load_driver, parse_device

from source_helpers import make_driver


def source(world, **kw):
    kw.setdefault("buffer_samples", 8192)
    return RtlSdrSource(kw.pop("device", 0), 2.4e6, 433.92e6, driver=make_driver(world), **kw)


def test_settings_reach_the_driver_agc_off_by_default(world):
    with source(world, ppm=3, bias_tee=True, direct_sampling=2, gain_db=40) as src:
        assert ("agc", False) in world.calls and ("ppm", 3) in world.calls
        assert ("bias_tee", True) in world.calls and ("direct", 2) in world.calls
        assert ("gain", 40.0) in world.calls and src.gain_db == 40.0
        assert src.sample_rate_hz == 2.4e6 and src.center_freq_hz == 433.92e6
    world.calls.clear()
    with source(world) as src:  # default: a fixed manual gain, never the tuner AGC
        assert [c for c in world.calls if c[0] == "gain"] == [("gain", 29.7)]


def test_select_by_index_or_serial(world):
    world.serials = ("00000001", "SITE7")
    assert parse_device("1") == 1 and parse_device("00000001") == "00000001"
    with source(world, device="SITE7") as src:
        assert src.read_block(100).num_samples == 100
    with pytest.raises(SourceError, match=r"serial 'nope'.*attached serials: 00000001, SITE7"):
        source(world, device="nope")
    with pytest.raises(SourceError, match=r"dongle #5.*dvb_usb_rtl28xxu"):
        source(world, device=5)


def test_no_dongle_message(world):
    world.serials = ()
    with pytest.raises(SourceError, match=r"no RTL-SDR dongle found.*none attached.*udev"):
        source(world)


def test_device_lost_mid_stream_raises_source_lost(world):
    world.lose_after = 3
    with source(world) as src:
        with pytest.raises(SourceLost, match="LIBUSB_ERROR_NO_DEVICE"):
            for _ in range(10):
                src.read_block(8192, timeout_s=1.0)


def test_stall_raises_source_stalled(world):
    world.stall_after = 2
    with source(world) as src:
        src.read_block(8192)
        src.read_block(8192)
        t0 = time.monotonic()
        with pytest.raises(SourceStalled, match="stalled"):
            src.read_block(8192, timeout_s=0.3)
        assert 0.25 < time.monotonic() - t0 < 2.0


def test_short_reads_are_counted_and_delivered(world):
    world.short_every = 2
    with source(world) as src:
        sizes = [src.read_block(8192).num_samples for _ in range(4)]
        assert sorted(set(sizes)) == [4096, 8192]
        assert src.health.short_reads >= 2


def test_slow_consumer_drops_with_a_count_never_grows(world):
    world.pace = False  # the stand-in produces as fast as it can
    with source(world, queue_buffers=4) as src:
        first = src.read_block(8192)
        time.sleep(0.3)
        assert len(src._queue) <= 4
        later = src.read_block(8192)
        assert later.dropped_samples > 0  # the oldest went; what is read is recent
        assert later.sample_index == first.sample_index + 8192 + later.dropped_samples
        # the stand-in keeps producing (and dropping) after the read, so the count only grows
        assert src.health.dropped_samples >= later.dropped_samples


def test_retune_discards_old_buffers_and_is_not_a_drop(world):
    with source(world) as src:
        src.read_block(8192)
        src.tune(434.5e6)
        block = src.read_block(8192)
        assert block.retuned and block.dropped_samples == 0
        assert src.settle_samples >= 15 * 8192
    world.fail_freqs = (2.0e9,)
    with source(world) as src, pytest.raises(SourceError, match="cannot tune"):
        src.tune(2.0e9)


def test_resilient_source_reopens_with_backoff_and_reports(world):
    world.lose_after = 4
    world.open_failures = 0
    faults = []
    factory_calls = []

    def factory():
        factory_calls.append(1)
        if len(factory_calls) == 2:  # the first reopen finds no dongle yet
            world.serials, saved = (), world.serials
            try:
                return source(world)
            finally:
                world.serials = saved
        return source(world)

    with ResilientSource(factory, on_fault=lambda *a: faults.append(a), backoff_s=0.05) as src:
        got = 0
        last = None
        while got < 12 * 8192:
            block = src.read_block(8192)
            got += block.num_samples
            last = block
        assert [f[0] for f in faults] == ["source_lost", "source_lost"]
        assert faults[0][2] is True and faults[1][2] is False
        assert src.health.losses == 1 and src.health.reopens == 1
        assert len(factory_calls) == 3
        assert last.sample_index >= got  # the gap while the dongle was away counts as dropped


def test_stall_recovered_by_reopen(world):
    world.stall_after = 2
    faults = []
    with ResilientSource(lambda: source(world), on_fault=lambda *a: faults.append(a[:1] + a[2:]),
                         backoff_s=0.01) as src:
        for _ in range(5):
            src.read_block(8192, timeout_s=0.3)
    assert faults == [("stall", True), ("stall", False)]


def test_import_failures_become_one_clear_error(monkeypatch):
    real_import = builtins.__import__

    def failing(message, exc_type):
        def fake_import(name, *args, **kwargs):
            if name == "rtlsdr":
                raise exc_type(message)
            return real_import(name, *args, **kwargs)
        return fake_import

    monkeypatch.delitem(sys.modules, "rtlsdr", raising=False)
    monkeypatch.setattr(builtins, "__import__", failing(
        "/usr/lib/x86_64-linux-gnu/librtlsdr.so.0: undefined symbol: rtlsdr_set_dithering", AttributeError))
    with pytest.raises(SourceError, match=r"undefined symbol rtlsdr_set_dithering.*pyrtlsdrlib.*install-rtlsdr.sh"):
        load_driver()
    monkeypatch.setattr(builtins, "__import__", failing(
        "Error loading librtlsdr. Make sure librtlsdr (and all of its dependencies) are in your path", ImportError))
    with pytest.raises(SourceError, match=r"librtlsdr could not be loaded.*pyrtlsdrlib"):
        load_driver()


def test_spectrum_import_does_not_load_pyrtlsdr():
    import subprocess

    code = ("import sys, spectrum, spectrum.sources, spectrum.live.monitor, spectrum.sources.rtlsdr_source; "
            "print('rtlsdr' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_without_a_dongle_exits_2_with_one_line(capsys):
    """Real pyrtlsdr here: either the driver is missing or no dongle is attached."""
    from spectrum.cli import main

    code = main(["monitor", "--source", "rtlsdr:0", "--freq", "433.92M", "--duration", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("spectrum monitor: error: ")
    assert "pyrtlsdrlib" in err[0] or "none attached" in err[0] or "dongle" in err[0]


def test_open_source_rtlsdr_spec(world):
    with open_source("rtlsdr:0?bias_tee=1", center_freq_hz=446e6, driver=make_driver(world)) as src:
        assert src.center_freq_hz == 446e6 and ("bias_tee", True) in world.calls
