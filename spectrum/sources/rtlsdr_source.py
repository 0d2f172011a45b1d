"""RTL-SDR source through pyrtlsdr, with the driver injected so tests need no hardware.

``rtlsdr`` (pyrtlsdr) is imported only by :func:`load_driver`, never at module import, so
``import spectrum`` works on a machine without librtlsdr. Import failures become one
:class:`~spectrum.errors.SourceError` saying what to install:

* no librtlsdr at all (``ImportError: Error loading librtlsdr``);
* pyrtlsdr ≥ 0.4 against the librtlsdr 0.6.0 that Debian and Ubuntu ship, or some vendor
  builds: ``AttributeError: ... undefined symbol: rtlsdr_set_dithering``.

The project depends on ``pyrtlsdr`` 0.5 plus ``pyrtlsdrlib`` (a librtlsdr build that pyrtlsdr
loads before any system library) on the machines it has wheels for; see docs/dongles.md.

Streaming: a thread runs ``read_bytes_async`` and puts each USB buffer, copied and stamped,
into a bounded queue; when the consumer is slow the newest buffers are dropped and counted
(the gap in ``sample_index``). Samples lost inside libusb are not reported by librtlsdr; the
monitor sees them as a sample-rate deficit.
"""

from __future__ import annotations

import importlib

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from spectrum.errors import SourceError
from spectrum.sources.source_base import DropCounter, SourceBase, SourceBlock, SourceLost, SourceStalled

INSTALL_HINT = (
    "install a librtlsdr that pyrtlsdr 0.5 can load: `pip install pyrtlsdrlib` (bundles one, "
    "x86-64 and 64-bit ARM), or `sudo bash scripts/install-rtlsdr.sh` and, where the system "
    "librtlsdr is 0.6.0, `pip install 'pyrtlsdr<0.4'`; see docs/dongles.md"
)
ACCESS_HINT = (
    "check the USB cable, that udev lets you open the dongle (rtl-sdr.rules, plugdev group) "
    "and that the kernel DVB driver dvb_usb_rtl28xxu is not holding it (docs/dongles.md)"
)
ASYNC_BUFFERS = 15  # librtlsdr's default number of USB transfers in flight (buf_num=0)
PLL_SETTLE_S = 0.005  # R820T PLL lock plus register writes, before samples are at the new frequency
DEFAULT_GAIN_DB = 29.7  # a mid-range manual gain (R820T step); AGC off so a floor rise shows


def load_driver() -> Callable[..., Any]:
    """Import pyrtlsdr and return its ``RtlSdr`` class.

    Raises
    ------
    SourceError
        pyrtlsdr or librtlsdr is missing or they do not match; the message says what to do.
    """
    try:
        # imported here, on first use, never at module import: `import spectrum` must work
        # on machines without librtlsdr
        rtlsdr = importlib.import_module("rtlsdr")
    except ImportError as exc:
        if getattr(exc, "name", None) == "rtlsdr":
            raise SourceError("pyrtlsdr is not installed: `pip install pyrtlsdr pyrtlsdrlib`") from exc
        raise SourceError(f"librtlsdr could not be loaded ({exc}); {INSTALL_HINT}") from exc
    except (OSError, AttributeError) as exc:
        text = str(exc)
        if "undefined symbol" in text:
            symbol = text.rsplit("undefined symbol:", 1)[-1].strip()
            raise SourceError(
                f"the librtlsdr found is older than pyrtlsdr expects (undefined symbol {symbol}); "
                f"{INSTALL_HINT}") from exc
        raise SourceError(f"librtlsdr could not be loaded ({text}); {INSTALL_HINT}") from exc
    driver = getattr(rtlsdr, "RtlSdr", None)
    if driver is None:
        raise SourceError("pyrtlsdr is in client-only mode (RTLSDR_CLIENT_MODE is set); unset it "
                          "to use a local dongle, or use --source rtltcp://HOST:PORT")
    return driver


def parse_device(text: str) -> int | str:
    """``0``..``99`` is a device index; anything else (``00000001``, ``site7``) a serial."""
    if text.isdigit() and len(text) <= 2 and (text == "0" or not text.startswith("0")):
        return int(text)
    return text


class RtlSdrSource(SourceBase):
    """A local RTL-SDR dongle.

    Parameters
    ----------
    device : int or str
        Device index, or serial number (set with ``rtl_eeprom -s``).
    sample_rate_hz, center_freq_hz : float
        Initial tuning, S/s and Hz.
    gain_db : float, "auto" or None
        Manual tuner gain in dB (nearest supported step); ``"auto"`` enables the tuner's
        AGC, which hides a rise of the noise floor and so is off by default; None uses
        ``DEFAULT_GAIN_DB``.
    ppm : int
        Frequency correction, parts per million.
    bias_tee : bool
        Power an active antenna through the coax.
    direct_sampling : int
        0 off, 1 I branch, 2 Q branch (HF on the RTL-SDR Blog V3).
    rtl_agc : bool
        The RTL2832's digital AGC (off by default: it too moves the floor).
    buffer_samples : int
        Samples per USB transfer (a multiple of 256). The stale samples after a retune are up
        to ``ASYNC_BUFFERS`` of these (15 × 8192 = 51 ms at 2.4 MS/s), so small transfers
        keep sweeping cheap; ~290 callbacks a second cost well under 1 % of a core.
    queue_buffers : int
        Transfers the queue holds before dropping the oldest (bounded: 128 × 16 KiB = 2 MiB,
        0.44 s at 2.4 MS/s).
    driver : callable, optional
        ``RtlSdr``-like class; tests pass a stand-in. Default: :func:`load_driver`.

    Raises
    ------
    SourceError
        Driver missing, no such dongle, or a setting the dongle refuses.
    """

    datatype = "cu8"
    can_retune = True
    realtime = True

    def __init__(self, device: int | str = 0, sample_rate_hz: float = 2.4e6,
                 center_freq_hz: float = 100e6, gain_db: float | str | None = None,
                 ppm: int = 0, bias_tee: bool = False, direct_sampling: int = 0,
                 rtl_agc: bool = False, buffer_samples: int = 8192, queue_buffers: int = 128,
                 driver: Callable[..., Any] | None = None) -> None:
        super().__init__(sample_rate_hz, center_freq_hz)
        self.name = f"rtlsdr:{device}"
        self.device = device
        self.buffer_samples = int(buffer_samples)
        self.settle_samples = ASYNC_BUFFERS * self.buffer_samples + int(PLL_SETTLE_S * self.sample_rate_hz)
        self._driver = driver if driver is not None else load_driver()
        self._dev = self._open()
        try:
            self._configure(gain_db, ppm, bias_tee, direct_sampling, rtl_agc)
        except BaseException:
            self._safe_close_dev()
            raise
        self._queue = DropCounter(queue_buffers)
        self._lock = threading.Lock()
        self._gen = 0
        self._produced = 0  # samples produced by the device (index of the next buffer)
        self._carry: tuple | None = None
        self._error: BaseException | None = None
        self._finished = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._pump, name=f"{self.name} reader", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ opening
    def _open(self) -> Any:
        try:
            if isinstance(self.device, str):
                return self._driver(serial_number=self.device)
            return self._driver(device_index=self.device)
        except (OSError, ValueError, AttributeError) as exc:
            found = self._attached()
            if isinstance(self.device, str):
                what = f"no RTL-SDR dongle with serial {self.device!r}"
            else:
                what = f"cannot open RTL-SDR dongle #{self.device}"
            if found == []:
                what = "no RTL-SDR dongle found"
            listing = "librtlsdr sees none attached" if found == [] else (
                f"attached serials: {', '.join(found)}" if found else f"driver said: {exc}")
            raise SourceError(f"{self.name}: {what} ({listing}); {ACCESS_HINT}") from exc

    def _attached(self) -> list[str] | None:
        lister = getattr(self._driver, "get_device_serial_addresses", None)
        try:
            return list(lister()) if lister is not None else None
        except Exception:  # noqa: BLE001 - only used to word the message
            return None

    def _configure(self, gain_db, ppm, bias_tee, direct_sampling, rtl_agc) -> None:
        dev = self._dev
        try:
            if direct_sampling:
                dev.set_direct_sampling(int(direct_sampling))
            dev.set_sample_rate(self.sample_rate_hz)
            if ppm:
                dev.set_freq_correction(int(ppm))
            dev.set_center_freq(self.center_freq_hz)
            dev.set_agc_mode(bool(rtl_agc))
            if gain_db == "auto":
                dev.set_gain("auto")
                self.gain_db = None
            else:
                dev.set_gain(float(DEFAULT_GAIN_DB if gain_db is None else gain_db))
                self.gain_db = float(dev.get_gain())
            if bias_tee:
                dev.set_bias_tee(True)
            self.sample_rate_hz = float(dev.get_sample_rate())
        except (OSError, ValueError, AttributeError) as exc:
            raise SourceError(f"{self.name}: the dongle refused a setting: {exc}") from exc

    # ------------------------------------------------------------------ streaming
    def _pump(self) -> None:
        try:
            self._dev.read_bytes_async(self._on_buffer, 2 * self.buffer_samples)
            if not self._closing:
                self._error = SourceLost(f"{self.name}: the dongle stopped streaming")
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            if not self._closing:
                self._error = SourceLost(f"{self.name}: dongle lost: {exc}")
        finally:
            self._finished.set()
            self._queue.wake()

    def _on_buffer(self, values: Any, context: Any = None) -> None:
        now = time.time()
        data = np.frombuffer(values, dtype=np.uint8).copy()
        n = data.size // 2
        if data.size != 2 * self.buffer_samples:
            self.health.short_reads += 1
            data = data[: 2 * n]
        with self._lock:
            index = self._produced
            self._produced += n
            gen = self._gen
        self._queue.put((data, index, now - n / self.sample_rate_hz, gen))

    def tune(self, center_freq_hz: float) -> None:
        self._check_open()
        try:
            self._dev.set_center_freq(float(center_freq_hz))
        except (OSError, ValueError) as exc:
            self.health.retune_failures += 1
            raise SourceError(f"{self.name}: cannot tune to {center_freq_hz:.0f} Hz: {exc}") from exc
        with self._lock:
            self._gen += 1
            self._next_index = self._produced  # discarded old-frequency buffers are not drops
        self._queue.clear()  # buffers from the old frequency
        self._carry = None
        self.center_freq_hz = float(center_freq_hz)
        self._retuned = True
        self.health.retunes += 1

    def read_block(self, num_samples: int, timeout_s: float = 2.0) -> SourceBlock:
        self._check_open()
        if self._carry is not None:
            item, self._carry = self._carry, None
        else:
            deadline = time.monotonic() + timeout_s
            while True:
                item = self._queue.get(min(0.25, max(deadline - time.monotonic(), 0.0)))
                if item is not None and item[3] != self._gen:
                    continue  # tagged before the last retune
                if item is not None:
                    break
                if self._finished.is_set() and len(self._queue) == 0:
                    raise self._error or SourceLost(f"{self.name}: the dongle stopped streaming")
                if time.monotonic() >= deadline:
                    raise SourceStalled(f"{self.name}: no samples for {timeout_s:g} s (dongle stalled)")
        data, index, stamp, gen = item
        n = data.size // 2
        if n > num_samples:
            cut = 2 * int(num_samples)
            self._carry = (data[cut:], index + num_samples, stamp + num_samples / self.sample_rate_hz, gen)
            data = data[:cut]
        return self._block(data, index, stamp)

    # ------------------------------------------------------------------ closing
    def _close(self) -> None:
        self._closing = True
        try:
            self._dev.cancel_read_async()
        except Exception:  # noqa: BLE001 - the device may already be gone
            pass
        self._thread.join(timeout=2.0)
        self._safe_close_dev()
        self._queue.clear()

    def _safe_close_dev(self) -> None:
        try:
            self._dev.close()
        except Exception:  # noqa: BLE001 - best effort on a lost device
            pass
