"""A simulated dongle of known gain and noise figure, for calibrating against what is known.

Unlike :mod:`~spectrum.sources.sim_source` (scenes in dBFS), this source models the analogue
chain in absolute units: what is on the antenna port (a 50 ohm terminator: thermal noise at
290 K, -174 dBm/Hz; or a signal generator's tone, or a noise source, of a stated level in dBm)
plus the tuner's own noise (its noise figure), times the conversion gain from dBm to dBFS at
the gain step and frequency, plus the ADC's own noise (which a terminator cannot raise), then
the dongle's DC offset and 8-bit quantisation. Its true dBFS-to-dBm offset at every gain and
frequency is known (:meth:`SimDongleSource.true_offset_db`), so calibration can be tested.

``--source`` form (parsed by :func:`parse_simdongle`)::

    simdongle:SERIAL?tuner=r820t&nf=3.5&gain0=17&slope=-2&adc=-50&input=terminator&seed=1
    input=tone:-60@100.3e6   a CW at -60 dBm, 100.3 MHz
    input=noise:-150         a noise source of -150 dBm/Hz across the band

``gain0`` is the conversion gain (dBFS per dBm) at table gain 0 dB and 0 Hz, ``slope`` its change
per GHz, ``adc`` the ADC noise floor (dBFS, total across the band), ``tableerr`` how far the real
gain departs from the nominal table at its top step (dB, growing linearly with the gain).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

import numpy as np

from spectrum.errors import ConfigError
from spectrum.sim.impairments import to_cu8
from spectrum.sources.source_base import SourceBase, SourceBlock

THERMAL_DBM_PER_HZ = -173.98  # k * 290 K in dBm/Hz
R820T_GAINS_DB = (0.0, 0.9, 1.4, 2.7, 3.7, 7.7, 8.7, 12.5, 14.4, 15.7, 16.6, 19.7, 20.7, 22.9, 25.4,
                  28.0, 29.7, 32.8, 33.8, 36.4, 37.2, 38.6, 40.2, 42.1, 43.4, 43.9, 44.5, 48.0, 49.6)
"""The R820T's manual gain steps as librtlsdr reports them (tuner_r82xx.c, r82xx_gains)."""


@dataclass(frozen=True)
class DongleModel:
    """A dongle's analogue chain in absolute units (what calibration should find)."""

    serial: str = "SIM00001"
    tuner: str = "r820t"
    noise_figure_db: float = 3.5
    gain0_db: float = 17.0
    slope_db_per_ghz: float = -2.0
    adc_noise_dbfs: float = -50.0
    table_error_db: float = 0.0  # the real gain departs from the nominal table by this much at its top step
    input_kind: str = "terminator"  # terminator | tone | noise
    input_dbm: float = 0.0  # tone power (dBm) or noise-source density (dBm/Hz)
    input_freq_hz: float = 0.0  # the tone's frequency
    seed: int = 0

    def conversion_gain_db(self, gain_db: float, center_freq_hz: float) -> float:
        """dBFS per dBm at a gain step and frequency."""
        real_gain_db = gain_db * (1 + self.table_error_db / R820T_GAINS_DB[-1])
        return self.gain0_db + real_gain_db + self.slope_db_per_ghz * center_freq_hz / 1e9

    def true_offset_db(self, gain_db: float, center_freq_hz: float) -> float:
        """``dBm = dBFS + offset`` for a signal at the antenna port."""
        return -self.conversion_gain_db(gain_db, center_freq_hz)


def parse_simdongle(spec: str) -> DongleModel:
    """A :class:`DongleModel` from ``simdongle:SERIAL?key=value&...``.

    Raises
    ------
    ConfigError
        Unknown key, a value that is not a number, or an input that does not parse.
    """
    body, _, query = spec.removeprefix("simdongle:").partition("?")
    opts = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    fields: dict = {"serial": body or "SIM00001"}
    numeric = {"nf": "noise_figure_db", "gain0": "gain0_db", "slope": "slope_db_per_ghz", "adc": "adc_noise_dbfs",
               "tableerr": "table_error_db"}
    for key, value in opts.items():
        try:
            if key in numeric:
                fields[numeric[key]] = float(value)
            elif key == "seed":
                fields["seed"] = int(value)
            elif key == "tuner":
                fields["tuner"] = value.lower()
            elif key == "input":
                fields.update(_parse_input(value))
            else:
                raise ConfigError(f"--source {spec}: unknown option {key!r} (nf, gain0, slope, adc, tableerr, tuner, input, seed)")
        except ValueError:
            raise ConfigError(f"--source {spec}: {key}={value!r} is not valid") from None
    return DongleModel(**fields)


def _parse_input(text: str) -> dict:
    if text == "terminator":
        return {"input_kind": "terminator"}
    kind, _, rest = text.partition(":")
    if kind == "tone":
        level, _, freq = rest.partition("@")
        return {"input_kind": "tone", "input_dbm": float(level), "input_freq_hz": float(freq)}
    if kind == "noise":
        return {"input_kind": "noise", "input_dbm": float(rest)}
    raise ValueError(text)


class SimDongleSource(SourceBase):
    """A simulated RTL-SDR whose conversion gain, noise figure and ADC floor are known.

    Parameters
    ----------
    model : DongleModel
        The chain.
    gain_db : float
        Manual gain; the nearest step of the R820T's table is used.
    sample_rate_hz, center_freq_hz : float
        Tuning.
    """

    datatype = "cu8"
    can_retune = True
    realtime = False

    def __init__(self, model: DongleModel, gain_db: float = 29.7, sample_rate_hz: float = 2.4e6,
                 center_freq_hz: float = 100e6) -> None:
        super().__init__(sample_rate_hz, center_freq_hz)
        self.model = model
        self.name = f"simdongle:{model.serial}"
        self.serial, self.tuner = model.serial, model.tuner
        self.gain_db = min(R820T_GAINS_DB, key=lambda g: abs(g - float(gain_db)))
        self._rng = np.random.default_rng(model.seed)
        self._index = 0
        self._wall0 = time.time()  # samples are stamped as if delivered from now, at the sample rate

    def tune(self, center_freq_hz: float) -> None:
        self._check_open()
        self.center_freq_hz = float(center_freq_hz)
        self._retuned = True
        self.health.retunes += 1

    def _noise_power(self) -> float:
        """Total complex noise power in full-scale units: antenna port noise, tuner noise, ADC."""
        m = self.model
        port_dbm_per_hz = THERMAL_DBM_PER_HZ if m.input_kind != "noise" else 10 * math.log10(
            10 ** (THERMAL_DBM_PER_HZ / 10) + 10 ** (m.input_dbm / 10))
        excess = 10 ** (THERMAL_DBM_PER_HZ / 10) * (10 ** (m.noise_figure_db / 10) - 1)  # tuner, at its input
        input_mw_per_hz = 10 ** (port_dbm_per_hz / 10) + excess
        gain = 10 ** (m.conversion_gain_db(self.gain_db, self.center_freq_hz) / 10)
        return input_mw_per_hz * self.sample_rate_hz * gain + 10 ** (m.adc_noise_dbfs / 10)

    def read_block(self, num_samples: int, timeout_s: float = 2.0) -> SourceBlock:
        self._check_open()
        n = int(num_samples)
        sigma = math.sqrt(self._noise_power() / 2)
        x = self._rng.standard_normal(2 * n, dtype=np.float32).view(np.complex64) * np.float32(sigma)
        m = self.model
        offset_hz = m.input_freq_hz - self.center_freq_hz
        if m.input_kind == "tone" and abs(offset_hz) < self.sample_rate_hz / 2:
            amplitude = math.sqrt(10 ** ((m.input_dbm + m.conversion_gain_db(self.gain_db, self.center_freq_hz)) / 10))
            k = np.arange(self._index, self._index + n, dtype=np.float64)
            x += (amplitude * np.exp(2j * np.pi * offset_hz / self.sample_rate_hz * k)).astype(np.complex64)
        x += np.complex64(0.01 + 0.006j)  # DC offset, as a dongle has
        block = self._block(to_cu8(x), self._index, self._wall0 + self._index / self.sample_rate_hz)
        self._index += n
        return block
