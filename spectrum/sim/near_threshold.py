"""Scenes near the detectors' limits, for calibrating and checking the event confidence.

Every kind of interference at levels from where it is barely found to where it is plain, and
legitimate emitters that look like interference when weak (FM voice, a GSM carrier switching on
with its TDMA bursts). The scenario library (``spectrum.sim.scenarios``) holds one clear case
of each kind; this one holds the doubtful ones, where a confidence has something to say.
"""

from __future__ import annotations

from spectrum.sim.scenarios import (
    _GSM_LIGHT,
    _LPD433,
    _PMR,
    GNSS_L1_HZ,
    GSM900_DL_HZ,
    ISM433_HZ,
    UHF_PMR_HZ,
    BandNoise,
    Chirp,
    Component,
    Event,
    FmVoice,
    Scenario,
    TdmaCarrier,
    Tone,
)


def _scene(name: str, center_freq_hz: float, background: tuple[Component, ...], component: Component,
           kind: str, stays: bool = False) -> Scenario:
    return Scenario(name=name, description=name, center_freq_hz=center_freq_hz, background=background,
                    events=(Event(kind, component, name, end_fraction=1.0 if stays else 0.8),))


def _db(level_db: float) -> str:
    return f"m{-level_db:g}" if level_db < 0 else f"{level_db:g}"


def near_threshold_scenarios() -> dict[str, Scenario]:
    """The scenes, by name (levels in each component's own unit, see its class)."""
    scenes = []
    for jnr in (-6, -5, -4, -3, 0, 3):  # 1 MHz barrage; found down to about -6 dB
        scenes.append(_scene(f"barrage_1mhz_{_db(jnr)}", GSM900_DL_HZ, _GSM_LIGHT,
                             BandNoise(-300e3, 1e6, jnr), "wideband_noise"))
    for jnr in (0, 3, 6):
        scenes.append(_scene(f"barrage_200khz_{_db(jnr)}", GSM900_DL_HZ, _GSM_LIGHT,
                             BandNoise(+200e3, 200e3, jnr), "wideband_noise"))
    for jnr in (-4, -2):
        scenes.append(_scene(f"barrage_gnss_{_db(jnr)}", GNSS_L1_HZ, (), BandNoise(0.0, 2e6, jnr), "wideband_noise"))
    for snr in (-4, -2, 0, 3, 6, 20):  # SNR in 1 kHz; found from about -2 dB
        scenes.append(_scene(f"tone_pmr_{_db(snr)}", UHF_PMR_HZ, _PMR, Tone(-250e3, snr), "tone"))
    for snr in (0, 6):
        scenes.append(_scene(f"tone_gsm_{_db(snr)}", GSM900_DL_HZ, _GSM_LIGHT, Tone(+100e3, snr), "tone"))
    for jnr in (3, 6, 10, 15):  # 5 % duty: found from about 6 dB
        scenes.append(_scene(f"pulsed_5pct_{_db(jnr)}", UHF_PMR_HZ, _PMR,
                             BandNoise(0.0, 1e6, jnr, period_s=10e-3, duty=0.05), "pulsed"))
    for jnr in (0, 3):
        scenes.append(_scene(f"pulsed_50pct_{_db(jnr)}", UHF_PMR_HZ, _PMR,
                             BandNoise(0.0, 1e6, jnr, period_s=2e-3, duty=0.5), "pulsed"))
    scenes.append(_scene("pulsed_slow_6", UHF_PMR_HZ, _PMR, BandNoise(0.0, 500e3, 6, period_s=0.2, duty=0.2), "pulsed"))
    for jnr in (0, 3, 6):
        scenes.append(_scene(f"chirp_slow_{_db(jnr)}", UHF_PMR_HZ, _PMR, Chirp(-100e3, 1e6, 50e-3, jnr), "swept"))
        scenes.append(_scene(f"chirp_fast_{_db(jnr)}", UHF_PMR_HZ, _PMR, Chirp(+300e3, 200e3, 20e-6, jnr), "swept"))
    for jnr in (0, 3):  # wider than the band: enters as constant-envelope bursts
        scenes.append(_scene(f"chirp_wide_{_db(jnr)}", GNSS_L1_HZ, (), Chirp(0.0, 10e6, 1e-3, jnr), "swept"))
    for snr in (5, 8, 10, 15, 20, 30):  # legitimate: a PMR radio keying up
        scenes.append(_scene(f"fm_pmr_{_db(snr)}", UHF_PMR_HZ, _PMR, FmVoice(+112.5e3, snr), "new_emitter", stays=True))
    for snr in (6, 10):
        scenes.append(_scene(f"fm_ism_{_db(snr)}", ISM433_HZ, _LPD433,
                             FmVoice(-200e3, snr, channel_hz=25e3, deviation_hz=5e3), "new_emitter", stays=True))
    for snr in (12, 20):  # legitimate: a GSM carrier coming on (bursty TDMA) …
        scenes.append(_scene(f"gsm_carrier_{_db(snr)}", GSM900_DL_HZ, _GSM_LIGHT,
                             TdmaCarrier(-400e3, snr, busy_slots=(1, 4, 6)), "new_emitter", stays=True))
    scenes.append(_scene("gsm_carrier_all_slots", GSM900_DL_HZ, _GSM_LIGHT,  # … or in every slot
                         TdmaCarrier(+400e3, 15), "new_emitter", stays=True))
    # a strong transmitter clipping the ADC: its intermodulation must not pass for jamming,
    # while a real jammer elsewhere in the band still counts (with or without clipping)
    transmitter = Event("overload", BandNoise(+300e3, 400e3, 35.0), "strong transmitter", end_fraction=0.8)
    for snr in (10, 20):
        jammer = Event("tone", Tone(-500e3, snr), "CW jammer", start_fraction=0.3, end_fraction=0.9)
        scenes.append(Scenario(name=f"overload_and_tone_{_db(snr)}", description="overload and tone",
                               center_freq_hz=ISM433_HZ, background=_LPD433, events=(transmitter, jammer)))
    return {scene.name: scene for scene in scenes}
