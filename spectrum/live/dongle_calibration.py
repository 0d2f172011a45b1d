"""Dongle calibration: the offset from dBFS to dBm per gain step and frequency, measured and saved.

``dBm = dBFS + offset_db(gain_db, center_freq_hz)`` for a signal at the antenna port.

References (what the dongle is compared with):

* ``terminator`` (default; no instrument): a 50 ohm terminator on the antenna port. The floor
  is then thermal noise, kT0 = -174 dBm/Hz at T0 = 290 K, plus the tuner's own noise, its noise
  figure NF: the input-referred density is -174 + NF dBm/Hz (Friis, "Noise figures of radio
  receivers", Proc. IRE 32(7), 1944; IEEE Std 161 for T0). NF per tuner: ``TUNERS`` (R820T /
  R820T2: 3.5 dB, Rafael Micro R820T datasheet rev. 1.2, 2011, "noise figure 3.5 dB"); other
  tuners need ``noise_figure_db`` measured once against a known source.
* ``noise``: a noise source of known density (dBm/Hz) on the port; the tuner's noise adds to it.
* ``tone``: a signal generator's CW of known power (dBm) at one frequency: the precise method.

The 8-bit ADC has a noise floor of its own that a terminator cannot raise: at low gain steps
the floor is the ADC's, not thermal noise, and says nothing about the gain. The floor at the
tuner's lowest gain is taken as the ADC's (an upper bound of it) and subtracted; a gain step
counts as measured only when its floor stands ``MIN_EXCESS_DB`` above it. Between and beyond
measured steps the tuner's gain table carries the offset: the measured residual
``offset + gain_db`` is interpolated over gain (flat beyond the ends) and frequency (linear,
flat beyond the ends).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spectrum.errors import ConfigError

FILE_FORMAT = "spectrum-dongle-calibration"
FILE_VERSION = 1
THERMAL_DBM_PER_HZ = -173.98  # 10 log10(k * 290 K / 1 mW)
MIN_EXCESS_DB = 6.0  # a floor this far over the ADC's is thermal enough to measure a gain
MIN_TONE_SNR_DB = 20.0  # a generator's tone must stand this far over the floor in its bins
FFT_SIZE = 1024
FRAMES_PER_ROW = 64
CENTRE_SHARE = 0.6  # bins used for the floor: the middle 60 % (away from the anti-alias roll-off)
DC_GUARD_BINS = 4  # and not the DC spike


@dataclass(frozen=True)
class Tuner:
    """What is known of a tuner: its tuning range and, where documented, its noise figure."""

    low_hz: float
    high_hz: float
    noise_figure_db: float | None
    nf_source: str


TUNERS: dict[str, Tuner] = {
    "r820t": Tuner(24e6, 1766e6, 3.5, "Rafael Micro R820T datasheet rev. 1.2 (2011)"),
    "r820t2": Tuner(24e6, 1766e6, 3.5, "Rafael Micro R820T2 datasheet (2012)"),
    "r828d": Tuner(24e6, 1766e6, None, "not documented: measure it against a known source"),
    "e4000": Tuner(52e6, 2200e6, None, "not documented: measure it against a known source"),
}
LIBRTLSDR_TUNER_TYPES = {1: "e4000", 2: "fc0012", 3: "fc0013", 4: "fc2580", 5: "r820t", 6: "r828d"}


@dataclass(frozen=True)
class Reference:
    """What is on the antenna port: ``terminator``, ``noise`` (level_dbm per Hz) or ``tone``."""

    kind: str = "terminator"
    level_dbm: float = 0.0
    freq_hz: float = 0.0

    @classmethod
    def parse(cls, text: str) -> "Reference":
        """``terminator``, ``noise:DBM_PER_HZ`` or ``tone:DBM@HZ`` (ConfigError otherwise)."""
        kind, _, rest = text.partition(":")
        try:
            if kind == "terminator" and not rest:
                return cls()
            if kind == "noise":
                return cls("noise", float(rest))
            if kind == "tone":
                level, _, freq = rest.partition("@")
                return cls("tone", float(level), float(freq))
        except ValueError:
            pass
        raise ConfigError(f"--reference {text!r}: expected terminator, noise:DBM_PER_HZ (e.g. noise:-150) "
                          "or tone:DBM@HZ (e.g. tone:-60@433.92e6)")


@dataclass
class CalPoint:
    """One measurement: a gain step at a frequency."""

    gain_db: float
    center_freq_hz: float
    floor_dbfs_per_hz: float
    offset_db: float | None  # dBm = dBFS + offset; None when not measurable
    measured: bool
    note: str = ""


@dataclass
class Calibration:
    """A dongle's dBFS-to-dBm offsets, for one serial and tuner."""

    serial: str
    tuner: str
    reference: dict
    sample_rate_hz: float
    points: list[CalPoint]
    created: str = ""
    path: str = field(default="", compare=False)

    def offset_db(self, gain_db: float, center_freq_hz: float) -> float:
        """``dBm = dBFS + offset`` at a gain step (dB) and frequency (Hz)."""
        by_freq: dict[float, list[CalPoint]] = {}
        for p in self.points:
            if p.measured:
                by_freq.setdefault(p.center_freq_hz, []).append(p)
        freqs = sorted(by_freq)
        residual = []
        for f in freqs:
            pts = sorted(by_freq[f], key=lambda p: p.gain_db)
            g = np.array([p.gain_db for p in pts])
            r = np.array([p.offset_db + p.gain_db for p in pts])
            residual.append(float(np.interp(gain_db, g, r)))
        return float(np.interp(center_freq_hz, freqs, residual)) - float(gain_db)

    def to_dbm(self, level_dbfs: float, gain_db: float, center_freq_hz: float) -> float:
        """A level in dBFS (or a density in dBFS/Hz) in dBm (dBm/Hz)."""
        return float(level_dbfs) + self.offset_db(gain_db, center_freq_hz)

    def save(self, path: str | Path) -> None:
        """Write the calibration as JSON."""
        doc = {"format": FILE_FORMAT, "version": FILE_VERSION, **asdict(self)}
        doc.pop("path")
        Path(path).write_text(json.dumps(doc, indent=1) + "\n")


def load_calibration(path: str | Path, serial: str | None = None, tuner: str | None = None) -> Calibration:
    """Read a calibration file and check it belongs to this dongle.

    Parameters
    ----------
    path : str or Path
        File written by ``spectrum calibrate``.
    serial, tuner : str, optional
        The dongle's serial and tuner; checked when given.

    Raises
    ------
    ConfigError
        Unreadable or malformed file, or one made for another serial or tuner (one line,
        naming the file, both dongles and the fix).
    """
    name = str(path)
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"--calibration {name}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ConfigError(f"--calibration {name}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
        raise ConfigError(f"--calibration {name}: not a dongle calibration (no \"format\": \"{FILE_FORMAT}\")")
    if doc.get("version") != FILE_VERSION:
        raise ConfigError(f"--calibration {name}: version {doc.get('version')!r}, this spectrum reads {FILE_VERSION}")
    try:
        points = [CalPoint(**p) for p in doc["points"]]
        cal = Calibration(str(doc["serial"]), str(doc["tuner"]).lower(), dict(doc["reference"]),
                          float(doc["sample_rate_hz"]), points, str(doc.get("created", "")), name)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"--calibration {name}: malformed ({type(exc).__name__}: {exc})") from None
    if not any(p.measured and p.offset_db is not None and math.isfinite(p.offset_db) for p in points):
        raise ConfigError(f"--calibration {name}: holds no measured point")
    check_dongle(cal, serial, tuner)
    return cal


def calibration_for_source(path: str | Path, source: Any) -> tuple[Calibration, str]:
    """Load ``--calibration FILE`` for an open source, refusing any other dongle's file.

    A local dongle (or a simulated one) names its serial and tuner and both are checked. An
    rtl_tcp server names only its tuner type: that alone is checked, and the returned note says
    so (the serial of the dongle behind the server is the operator's to match).

    Returns
    -------
    (Calibration, str)
        The calibration and a one-line note of what was checked.

    Raises
    ------
    ConfigError
        The file is bad or for another serial or tuner, or the source cannot name its dongle
        at all (a capture file or a scenario: their levels are not this dongle's).
    """
    serial, tuner = source_identity(source)
    if serial is None and tuner is None:
        raise ConfigError(f"--calibration {path}: the source {getattr(source, 'name', '?')} does not say which "
                          "dongle it is (a calibration needs a dongle: rtlsdr:SERIAL|INDEX, rtltcp://, simdongle:)")
    cal = load_calibration(path, serial, tuner)
    if serial is None:
        note = (f"checked the tuner ({tuner}) only: the source does not report the dongle's serial, "
                f"make sure it is {cal.serial}")
    else:
        note = f"checked serial {serial} and tuner {tuner or '?'}"
    return cal, note


def check_dongle(cal: Calibration, serial: str | None, tuner: str | None) -> None:
    """Refuse a calibration made for another dongle (ConfigError, one line)."""
    wrong_serial = serial is not None and serial != cal.serial
    wrong_tuner = tuner is not None and tuner.lower() != cal.tuner
    if wrong_serial or wrong_tuner:
        raise ConfigError(
            f"--calibration {cal.path or '(file)'}: made for dongle serial {cal.serial} (tuner {cal.tuner}), "
            f"but this dongle is serial {serial or '?'} (tuner {tuner or '?'}); "
            f"run `spectrum calibrate` on this dongle or give its own file")


def source_identity(source: Any) -> tuple[str | None, str | None]:
    """(serial, tuner) of an open source, as far as it can say; None where it cannot.

    A simulated dongle carries both; an rtl_tcp server only its tuner. An RTL-SDR source is
    asked through its pyrtlsdr device (the serial by index from librtlsdr's list, the tuner from
    ``get_tuner_type``).
    """
    serial, tuner = getattr(source, "serial", None), getattr(source, "tuner", None)
    if serial is not None or tuner is not None:
        return serial, tuner
    tuner_type = getattr(getattr(source, "inner", source), "tuner_type", None)
    if tuner_type is not None:  # rtl_tcp's greeting names the tuner (librtlsdr's numbering), not the serial
        return None, LIBRTLSDR_TUNER_TYPES.get(int(tuner_type), f"type {tuner_type}")
    dev = getattr(getattr(source, "inner", source), "_dev", None)
    device = getattr(getattr(source, "inner", source), "device", None)
    if dev is None:
        return None, None
    try:
        tuner = LIBRTLSDR_TUNER_TYPES.get(int(dev.get_tuner_type()))
    except Exception:  # noqa: BLE001 - an older pyrtlsdr or a stand-in: the tuner stays unknown
        tuner = None
    if isinstance(device, str):
        return device, tuner
    try:
        return str(type(dev).get_device_serial_addresses()[int(device)]), tuner
    except Exception:  # noqa: BLE001 - unknown serial is reported as such
        return None, tuner


# ------------------------------------------------------------------ measuring
@dataclass(frozen=True)
class Spectrum:
    """Mean power per bin (tone-calibrated, frequency order) over a measurement, and its scale."""

    bins: np.ndarray
    enbw_hz: float
    clipped_share: float

    def floor_dbfs_per_hz(self) -> float:
        """Median density of the middle bins (no DC, no band edges), dBFS/Hz."""
        n = self.bins.size
        half = int(n * CENTRE_SHARE / 2)
        centre = n // 2
        idx = np.r_[centre - half:centre - DC_GUARD_BINS, centre + DC_GUARD_BINS + 1:centre + half]
        return 10 * math.log10(float(np.median(self.bins[idx])) / self.enbw_hz)


def measure_spectrum(source: Any, center_freq_hz: float, seconds: float) -> Spectrum:
    """Tune, drop the settling samples, and average ``seconds`` of spectra.

    Uses the project's spectral front end (DC removal, Hann window, Welch mean per bin).
    """
    from kernels.psd import window_gains
    from spectrum.detect.spectral_frontend import SpectralFrontEnd

    source.tune(center_freq_hz)
    front = SpectralFrontEnd(source.datatype, FFT_SIZE, FRAMES_PER_ROW)
    skip = int(getattr(source, "settle_samples", 0))
    want = max(1, int(seconds * source.sample_rate_hz / front.samples_per_row)) * front.samples_per_row
    total, rows, clipped, got = np.zeros(FFT_SIZE), 0, 0, 0
    while got < want:
        block = source.read_block(min(1 << 18, want - got + skip))
        raw = block.samples
        if skip:
            drop = min(skip, block.num_samples)
            raw, skip = raw[2 * drop:], skip - drop
        got += raw.size // 2
        for power, clip in front.process(raw):
            total += power.mean.sum(axis=0, dtype=np.float64)
            rows += power.mean.shape[0]
            clipped += int(clip.sum())
    enbw_bins = window_gains(front.window)[1]
    return Spectrum(total / max(rows, 1), enbw_bins * source.sample_rate_hz / FFT_SIZE,
                    clipped / max(2 * rows * front.samples_per_row, 1))


def tone_power_dbfs(spectrum: Spectrum, offset_hz: float, sample_rate_hz: float) -> tuple[float, float]:
    """Power of a tone near ``offset_hz`` from the centre (dBFS), and its peak over the floor (dB).

    The bins around the peak are summed and the floor under them taken away; divided by the
    window's noise bandwidth in bins that is the tone's power wherever it falls in its bin.
    """
    n = spectrum.bins.size
    bin_hz = sample_rate_hz / n
    guess = int(round(offset_hz / bin_hz)) + n // 2
    lo, hi = max(guess - 16, 0), min(guess + 17, n)
    peak = lo + int(np.argmax(spectrum.bins[lo:hi]))
    floor_bin = 10 ** (spectrum.floor_dbfs_per_hz() / 10) * spectrum.enbw_hz
    near = spectrum.bins[max(peak - 8, 0):peak + 9]
    enbw_bins = spectrum.enbw_hz / bin_hz
    power = (float(near.sum()) - floor_bin * near.size) / enbw_bins
    snr_db = 10 * math.log10(max(float(spectrum.bins[peak]) / floor_bin, 1e-12))
    return 10 * math.log10(max(power, 1e-30)), snr_db


def _density_point(floor: float, adc: float, expected_dbm_per_hz: float, gain_db: float,
                   freq_hz: float, clipped: float) -> CalPoint:
    """A floor against a known input density, with the ADC's floor taken away."""
    excess = 10 ** (floor / 10) - 10 ** (adc / 10)
    if clipped > 1e-4:
        return CalPoint(gain_db, freq_hz, floor, None, False, f"clipping ({clipped:.1e} of samples)")
    if excess <= 0 or floor - adc < MIN_EXCESS_DB:
        return CalPoint(gain_db, freq_hz, floor, None, False,
                        f"floor {floor - adc:.1f} dB over the ADC's (needs {MIN_EXCESS_DB:g}): from the gain table")
    return CalPoint(gain_db, freq_hz, floor, expected_dbm_per_hz - 10 * math.log10(excess), True)


def calibrate(open_at_gain: Callable[[float], Any], gains_db: Sequence[float], freqs_hz: Sequence[float],
              reference: Reference, tuner: str, serial: str, noise_figure_db: float | None = None,
              seconds: float = 0.25, progress: Callable[[str], None] = lambda msg: None) -> Calibration:
    """Measure a dongle's dBFS-to-dBm offsets at gain steps and frequencies.

    Parameters
    ----------
    open_at_gain : callable
        ``open_at_gain(gain_db)`` opens the dongle at a manual gain (a source; closed here).
    gains_db : sequence of float
        Gain steps to measure; the tuner's lowest is added for the ADC floor.
    freqs_hz : sequence of float
        Centre frequencies, Hz (ignored for a tone: it is measured at its own frequency).
    reference : Reference
        What is on the antenna port.
    tuner, serial : str
        The dongle, written into the file.
    noise_figure_db : float, optional
        The tuner's noise figure (default: the documented one in ``TUNERS``).
    seconds : float
        Averaging per point, seconds.

    Returns
    -------
    Calibration

    Raises
    ------
    ConfigError
        Unknown tuner without a noise figure, a frequency outside the tuner's range, or no
        gain step measurable.
    """
    spec = TUNERS.get(tuner.lower())
    if spec is None:
        raise ConfigError(f"--tuner {tuner!r}: expected one of {', '.join(TUNERS)}")
    freqs = [reference.freq_hz] if reference.kind == "tone" else list(freqs_hz)
    for f in freqs:
        if not spec.low_hz <= f <= spec.high_hz:
            raise ConfigError(f"--freqs {f / 1e6:g} MHz: outside the {tuner} tuner's "
                              f"{spec.low_hz / 1e6:g}-{spec.high_hz / 1e6:g} MHz")
    nf = noise_figure_db if noise_figure_db is not None else spec.noise_figure_db
    if nf is None and reference.kind != "tone":
        raise ConfigError(f"--noise-figure: the {tuner} tuner's noise figure is {spec.nf_source}; give --noise-figure DB")
    ref_doc = {**asdict(reference), "noise_figure_db": nf,
               "nf_source": "given" if noise_figure_db is not None else spec.nf_source}
    if reference.kind == "tone":
        points, rate = _tone_points(open_at_gain, gains_db, reference, seconds, progress)
    else:
        points, rate = _density_points(open_at_gain, gains_db, freqs, reference, nf, seconds, progress)
    cal = Calibration(serial, tuner.lower(), ref_doc, rate, points,
                      dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    if not any(p.measured for p in points):
        raise ConfigError("no gain step could be measured (floors at the ADC's, or clipping): "
                          "use higher --gains, or a stronger reference")
    return cal


def _density_points(open_at_gain, gains_db, freqs, reference, nf, seconds, progress):
    port = THERMAL_DBM_PER_HZ + nf
    if reference.kind == "noise":
        port = 10 * math.log10(10 ** (reference.level_dbm / 10) + 10 ** (port / 10))
    adc: dict[float, float] = {}
    points = []
    for g in [None, *gains_db]:  # None: the lowest step, for the ADC's floor
        with open_at_gain(0.0 if g is None else g) as src:
            actual = float(src.gain_db)
            for f in freqs:
                s = measure_spectrum(src, f, seconds)
                floor = s.floor_dbfs_per_hz()
                if g is None:
                    adc[f] = floor
                    progress(f"ADC floor at gain {actual:g} dB, {f / 1e6:g} MHz: {floor:.1f} dBFS/Hz")
                    continue
                points.append(_density_point(floor, adc[f], port, actual, f, s.clipped_share))
                progress(f"gain {actual:g} dB, {f / 1e6:g} MHz: floor {floor:.1f} dBFS/Hz "
                         f"{'offset %.2f dB' % points[-1].offset_db if points[-1].measured else points[-1].note}")
            rate = float(src.sample_rate_hz)
    return points, rate


def _tone_points(open_at_gain, gains_db, reference, seconds, progress):
    points = []
    for g in gains_db:
        with open_at_gain(g) as src:
            rate = float(src.sample_rate_hz)
            centre = reference.freq_hz + rate / 8  # the tone an eighth of the band below the centre
            s = measure_spectrum(src, centre, seconds)
            power, snr = tone_power_dbfs(s, reference.freq_hz - centre, rate)
            actual = float(src.gain_db)
            floor = s.floor_dbfs_per_hz()
            if s.clipped_share > 1e-4 or snr < MIN_TONE_SNR_DB:
                why = "clipping" if s.clipped_share > 1e-4 else f"tone {snr:.0f} dB over the floor (needs {MIN_TONE_SNR_DB:g})"
                points.append(CalPoint(actual, centre, floor, None, False, why))
            else:
                points.append(CalPoint(actual, centre, floor, reference.level_dbm - power, True))
            progress(f"gain {actual:g} dB: tone {power:.1f} dBFS, {snr:.0f} dB over the floor")
    return points, rate


def event_levels(peak_dbfs: float, cal: Calibration | None, gain_db: float | None,
                 center_freq_hz: float) -> dict[str, Any]:
    """Fields an event carries about its level: ``peak_dbm`` when calibrated, and ``calibrated``.

    Without a calibration, or under the tuner's AGC (``gain_db`` None: no fixed gain to look
    up), the level stays in dBFS and ``calibrated`` is False.
    """
    if cal is None or gain_db is None:
        return {"calibrated": False}
    return {"calibrated": True, "peak_dbm": round(cal.to_dbm(peak_dbfs, gain_db, center_freq_hz), 2)}
