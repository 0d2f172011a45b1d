"""Fixtures for the live-sensor tests: a stand-in for pyrtlsdr's RtlSdr with error injection,
sources of every kind behind one factory, and an rtl_tcp server on a free loopback port."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.signal

FS = 2.4e6


class FakeLibUSBError(OSError):
    """What pyrtlsdr raises (its LibUSBError is an IOError)."""


@dataclass
class FakeWorld:
    """What the fake dongle does: which devices exist and which faults to inject.

    ``lose_after``: buffers streamed before the device vanishes (raises from read_async, as
    librtlsdr does on LIBUSB_ERROR_NO_DEVICE); ``stall_after``: buffers before it stops
    delivering without an error; ``short_every``: every k-th buffer is half-length;
    ``open_failures``: opens that fail before one succeeds; ``stale_buffers``: buffers still
    from the old frequency after a retune (USB transfers in flight); ``loud_hz``: a frequency
    with a strong carrier; ``rolloff``: pass the noise through an anti-alias-like FIR whose
    passband ends near 0.43 fs; ``pace``: deliver in real time.
    """

    serials: tuple[str, ...] = ("00000001",)
    lose_after: int | None = None
    stall_after: int | None = None
    short_every: int | None = None
    open_failures: int = 0
    stale_buffers: int = 0
    loud_hz: float | None = None
    rolloff: bool = False
    pace: bool = True
    fail_freqs: tuple[float, ...] = ()
    attenuate_after: int | None = None  # buffers after which the input drops 26 dB (antenna off)
    opens: int = 0
    calls: list = field(default_factory=list)
    faults_once: bool = True  # lose/stall only on the first open


def make_driver(world: FakeWorld):
    """A class with the slice of pyrtlsdr's RtlSdr interface the source uses."""

    class FakeRtlSdr:
        @staticmethod
        def get_device_serial_addresses():
            return list(world.serials)

        def __init__(self, device_index=0, test_mode_enabled=False, serial_number=None,
                     dithering_enabled=True):
            if world.open_failures > 0:
                world.open_failures -= 1
                raise FakeLibUSBError(-1, "Could not open SDR (device index = 0)")
            if serial_number is not None:
                if serial_number not in world.serials:
                    raise FakeLibUSBError(-1, "LIBUSB_ERROR_NOT_FOUND")
                device_index = world.serials.index(serial_number)
            if device_index >= len(world.serials):
                raise FakeLibUSBError(-1, f"Could not open SDR (device index = {device_index})")
            world.opens += 1
            self.open_number = world.opens
            self.rate = 2.048e6
            self.freq = 100e6
            self.gain = 0.0
            self.cancel = threading.Event()
            self.closed = False
            self.stale = 0
            self.old_freq = self.freq
            self.rng = np.random.default_rng(world.opens)
            self.taps = scipy.signal.firwin(95, 0.9) if world.rolloff else None
            self.zi = np.zeros(94, complex) if world.rolloff else None
            self.phase = 0.0

        def set_sample_rate(self, rate):
            self.rate = float(rate)

        def get_sample_rate(self):
            return self.rate

        def set_center_freq(self, freq):
            world.calls.append(("freq", freq))
            if any(abs(freq - f) < 1 for f in world.fail_freqs):
                raise FakeLibUSBError(-9, "Could not set center_freq")
            self.old_freq, self.freq = self.freq, float(freq)
            self.stale = world.stale_buffers

        def set_freq_correction(self, ppm):
            world.calls.append(("ppm", ppm))

        def set_agc_mode(self, on):
            world.calls.append(("agc", on))

        def set_gain(self, gain):
            world.calls.append(("gain", gain))
            self.gain = 0.0 if gain == "auto" else round(float(gain), 1)

        def get_gain(self):
            return self.gain

        def set_bias_tee(self, on):
            world.calls.append(("bias_tee", on))

        def set_direct_sampling(self, mode):
            world.calls.append(("direct", mode))

        def _buffer(self, nbytes):
            n = nbytes // 2
            x = (self.rng.standard_normal(n) + 1j * self.rng.standard_normal(n)) * 0.03
            self.buffers = getattr(self, "buffers", 0) + 1
            if world.attenuate_after is not None and self.buffers > world.attenuate_after:
                x *= 0.05
            freq = self.old_freq if self.stale > 0 else self.freq
            if self.stale > 0:
                self.stale -= 1
            if world.loud_hz is not None and abs(freq - world.loud_hz) < 1:
                x = x + 0.5 * np.exp(1j * (self.phase + 2 * np.pi * 0.1 * np.arange(n)))
                self.phase += 2 * np.pi * 0.1 * n
            if self.taps is not None:
                x, self.zi = scipy.signal.lfilter(self.taps, 1.0, x, zi=self.zi)
            out = np.empty(2 * n, np.uint8)
            out[0::2] = np.clip(np.rint(x.real * 127.5 + 127.5), 0, 255)
            out[1::2] = np.clip(np.rint(x.imag * 127.5 + 127.5), 0, 255)
            return out

        def read_bytes_async(self, callback, num_bytes=1024, context=None):
            faulty = not world.faults_once or self.open_number == 1
            count = 0
            t0 = time.monotonic()
            while not self.cancel.is_set():
                if faulty and world.lose_after is not None and count >= world.lose_after:
                    raise FakeLibUSBError(-4, "LIBUSB_ERROR_NO_DEVICE: Could not read")
                if faulty and world.stall_after is not None and count >= world.stall_after:
                    self.cancel.wait()
                    return
                size = num_bytes
                if world.short_every and count % world.short_every == world.short_every - 1:
                    size = num_bytes // 2
                callback(self._buffer(size), context)
                count += 1
                if world.pace:
                    delay = t0 + count * (num_bytes / 2) / self.rate - time.monotonic()
                    if delay > 0:
                        self.cancel.wait(delay)

        def cancel_read_async(self):
            self.cancel.set()

        def close(self):
            self.closed = True
            self.cancel.set()

    return FakeRtlSdr


@pytest.fixture
def world():
    return FakeWorld()


@pytest.fixture(scope="session")
def capture_file(tmp_path_factory):
    """A short cu8 capture of a simulated scenario (rtl_433-style name carries rate and freq)."""
    from spectrum.sim.scenarios import get_scenario, render_cu8

    path = tmp_path_factory.mktemp("cap") / "g001_1575.42M_2.4M.cu8"
    with open(path, "wb") as f:
        for chunk in render_cu8(get_scenario("clean_gnss"), 0.25, 3, 1 << 16):
            f.write(chunk.tobytes())
    return path


@pytest.fixture
def rtltcp_server():
    """Start our rtl_tcp server on a free loopback port; yields a function (opener, fast)."""
    from spectrum.live.rtltcp_server import RtlTcpServer

    servers = []

    def start(opener, fast=True):
        server = RtlTcpServer(opener, "127.0.0.1", 0, fast=fast)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
