"""`spectrum monitor --calibration FILE`: events and spectra in dBm from a simulated dongle of
known gain and noise figure; files for other dongles refused in one line."""

from __future__ import annotations

import dataclasses
import json

import pytest

from spectrum.detect.detector_config import DetectorConfig
from spectrum.live.band_plans import single_band
from spectrum.live.dongle_calibration import Reference, calibrate, load_calibration
from spectrum.live.monitor import Monitor, MonitorOptions
from spectrum.sources.simdongle_source import SimDongleSource, parse_simdongle

CENTRE_HZ = 433.92e6
FFT_SIZE = 1024
TONE_HZ = CENTRE_HZ + 100 * 2.4e6 / FFT_SIZE  # on a bin centre (no scalloping loss)


class ToneComesOn(SimDongleSource):
    """A simulated dongle whose signal generator is switched on after ``on_s`` seconds."""

    def __init__(self, model, gain_db, tone_dbm: float, on_s: float) -> None:
        super().__init__(model, gain_db, 2.4e6, CENTRE_HZ)
        self.tone = dataclasses.replace(model, input_kind="tone", input_dbm=tone_dbm, input_freq_hz=TONE_HZ)
        self.on_index = int(on_s * self.sample_rate_hz)

    def read_block(self, num_samples, timeout_s=2.0):
        if self._index >= self.on_index:
            self.model = self.tone
        return super().read_block(num_samples, timeout_s)


@pytest.fixture(scope="module")
def cal_file(tmp_path_factory):
    """A terminator calibration of dongle CAL1 at its two top gain steps, as `calibrate` makes it."""
    model = parse_simdongle("simdongle:CAL1?seed=11&nf=5&gain0=21&slope=-3")
    cal = calibrate(lambda g: SimDongleSource(model, g), [48.0, 49.6], [100e6, 900e6], Reference(),
                    model.tuner, model.serial, noise_figure_db=5.0, seconds=0.05)
    path = tmp_path_factory.mktemp("cal") / "cal1.json"
    cal.save(path)
    return path


def run_monitor(gain_db: float, tone_dbm: float, calibration):
    model = parse_simdongle("simdongle:CAL1?seed=12&nf=5&gain0=21&slope=-3")
    source = ToneComesOn(model, gain_db, tone_dbm, on_s=1.4)
    events, spectra = [], []

    class Uplink:  # collects what would go to the desk
        queue_size = 0

        def send_events(self, batch):
            pass

        def send_heartbeat(self, beat):
            pass

        def send_spectrum(self, summary):
            spectra.append(summary)

    plan = single_band(CENTRE_HZ, 2.4e6, name="ism433")
    plan = dataclasses.replace(plan, bands=tuple(dataclasses.replace(b, fft_size=FFT_SIZE) for b in plan.bands))
    options = MonitorOptions(config=DetectorConfig(fft_size=FFT_SIZE, learn_s=1.0), duration_s=2.4,
                             calibration=calibration,
                             spectrum_interval_s=0.0)
    with source:
        Monitor(source, plan, events.append, options, uplink=Uplink()).run()
    return model, source, events, spectra


@pytest.mark.parametrize("gain_db, tone_dbm", [(29.7, -75.0), (20.7, -60.0), (49.6, -95.0)])
def test_a_tone_of_known_dbm_is_reported_within_1_db(cal_file, gain_db, tone_dbm):
    cal = load_calibration(cal_file, "CAL1", "r820t")
    model, source, events, spectra = run_monitor(gain_db, tone_dbm, cal)
    tones = [e for e in events if not e.ongoing and e.kind != "sensor_fault"
             and e.freq_low_hz <= TONE_HZ <= e.freq_high_hz]
    assert tones, [(e.kind, e.freq_low_hz, e.freq_high_hz) for e in events]
    fields = tones[0].to_dict()
    assert fields["calibrated"] is True and "peak_dbfs" in fields  # dBFS stays alongside
    assert fields["peak_dbm"] == pytest.approx(tone_dbm, abs=1.0)


def test_spectra_carry_the_offset_to_dbm_per_hz(cal_file):
    """At the top gain step thermal noise stands ~11 dB over the ADC's: the floor reads kT0 + NF."""
    cal = load_calibration(cal_file, "CAL1", "r820t")
    model, _, _, spectra = run_monitor(49.6, -95.0, cal)
    quiet = spectra[0]  # before the tone comes on
    assert quiet["calibrated"] is True
    floor_dbm_per_hz = sorted(quiet["power_dbfs"])[len(quiet["power_dbfs"]) // 2] + quiet["dbm_per_hz_offset_db"]
    assert floor_dbm_per_hz == pytest.approx(-173.98 + model.noise_figure_db, abs=1.0)


def test_without_a_file_levels_stay_in_dbfs_and_say_so():
    _, _, events, spectra = run_monitor(29.7, -75.0, None)
    detected = [e.to_dict() for e in events if e.kind != "sensor_fault"]
    assert detected and all(d["calibrated"] is False and "peak_dbm" not in d for d in detected)
    assert spectra and all(s["calibrated"] is False and "dbm_per_hz_offset_db" not in s for s in spectra)


def test_monitor_refuses_another_dongles_file_in_one_line(cli, cal_file):
    res = cli("monitor", "--source", "simdongle:OTHER2", "--freq", "433.92M", "--duration", "0.5",
              "--calibration", cal_file)
    assert res.code == 2
    line = res.err.strip()
    assert "\n" not in line and "CAL1" in line and "OTHER2" in line and str(cal_file) in line


def test_monitor_refuses_a_file_for_a_scenario_and_under_agc(cli, cal_file):
    res = cli("monitor", "--source", "sim:gnss_l1_barrage?fast&loop=2", "--duration", "0.5",
              "--calibration", cal_file)
    assert res.code == 2 and "does not say which dongle" in res.err
    res = cli("monitor", "--source", "simdongle:CAL1", "--freq", "433.92M", "--gain", "auto",
              "--duration", "0.5", "--calibration", cal_file)
    assert res.code == 2 and "manual --gain" in res.err


def test_monitor_loads_its_own_file_and_says_what_it_checked(cli, cal_file):
    res = cli("monitor", "--source", "simdongle:CAL1?seed=3", "--freq", "433.92M", "--duration", "0.5",
              "--json", "--calibration", cal_file)
    assert res.code == 0, res.err
    assert "checked serial CAL1 and tuner r820t" in res.err
    for line in res.out.splitlines():
        event = json.loads(line)
        assert event["kind"] == "sensor_fault" or event["calibrated"] is True
