"""Detector settings, with the provenance hash that goes into every event."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

DETECTOR_VERSION = "0.1.0"
MIN_FRAMES_PER_ROW = 8  # fewer make spectral kurtosis too noisy to test


@dataclass(frozen=True)
class DetectorConfig:
    """Everything that changes what the detector reports (hashed into ``config_hash``).

    Attributes
    ----------
    fft_size : int
        Bins per spectrum.
    row_s : float
        Target time step of the detector; frames per row = round(row_s·fs/fft_size), ≥ 8
        (0 asks for the fewest).
    learn_s : float
        Signal needed to learn the baseline before the baseline-relative detectors run.
    z_threshold : float
        Significance of a box-mean excess, in standard deviations under noise alone.
        7 keeps the per-test false-alarm probability near 1e-12 (Gaussian tail), which with
        ~10⁴ tests per row and ~3·10⁶ rows a day leaves well under one false event a day.
    min_rise_db : float
        Smallest mean level rise reported (slow gain drift the baseline lags behind stays below).
    time_scales, freq_scales : tuple of int
        Rows and bins of the boxes tested.
    hold_s : float
        An event ends when nothing matched it for this long (hysteresis). Long enough to
        bridge the gaps of a weak line seen only by the 16-row boxes and of slow pulses; the
        reported end is still the last row that showed the signal on its own.
    confirm_rows : int
        Rows with a detection before an event opens.
    baseline_tau_s : float
        Time constant with which the baseline follows slow drift in quiet bins.
    baseline_wander_spreads : float
        How far a quiet bin's baseline may rise above the level it was learned at (or loaded
        with, ``--baseline``): this many of its learned spreads (its row-to-row std), and never
        less than ``min_rise_db``. A rise beyond that is a change worth reporting, so a jammer
        that comes up slower than the baseline follows is never learned as normal. Falls are
        followed freely (a signal that left).
    gain_slew_db_per_s : float
        Fastest common-mode gain change followed (tuner drift is slower; a jammer's step
        is faster and is caught before the gain tracker could absorb it).
    gain_range_db : float
        Largest common-mode gain excursion followed, from the gain when the baseline was learned:
        an RTL-SDR tuner drifts a dB or two with temperature; a wider common-mode rise is a
        jammer over the whole band coming up slowly, and stays in the excess.
    dc_guard_hz : float
        Half-width around the centre excluded (the tuner's DC spike).
    overload_fraction : float
        Share of I/Q values at a converter rail that makes a row overloaded.
    image_rejection_db : float
        A detection this much weaker than one at the mirrored frequency is an IQ image.
    confidence_model : str
        Path of a confidence model written by ``spectrum bench-detect --fit-confidence SEEDS
        --model-out FILE``; empty for the packaged one. Its bytes are part of ``config_hash``.
    kind_model : str
        Path of a kind model written by ``spectrum bench-detect --fit-kinds N --model-out FILE``;
        empty for the packaged one, ``"rules"`` for the hand rules alone. Its bytes are part of
        ``config_hash``.
    cfar_pfa : float
        False-alarm probability per bin and test of the narrowband OS-CFAR
        (spectrum.detect.narrowband_cfar). At 2048 bins that is about 1.8·10⁹ tests a day. A line must hit
        two tests in a row within a bin, so 1e-6 leaves about one false line in 190 days.
    """

    fft_size: int = 2048
    row_s: float = 0.025
    learn_s: float = 1.5
    z_threshold: float = 7.0
    min_rise_db: float = 0.8
    time_scales: tuple[int, ...] = (1, 4, 16, 64)
    freq_scales: tuple[int, ...] = (1, 2, 4, 16, 64, 256, 512)
    hold_s: float = 0.6
    confirm_rows: int = 2
    baseline_tau_s: float = 3.0
    baseline_wander_spreads: float = 1.0
    gain_slew_db_per_s: float = 2.0
    gain_range_db: float = 3.0
    dc_guard_hz: float = 3000.0
    overload_fraction: float = 1e-3
    image_rejection_db: float = 20.0
    cfar_pfa: float = 1e-6
    confidence_model: str = ""
    kind_model: str = ""

    def frames_per_row(self, sample_rate_hz: float) -> int:
        return max(MIN_FRAMES_PER_ROW, int(round(self.row_s * sample_rate_hz / self.fft_size)))

    def for_short_capture(self) -> "DetectorConfig":
        """Settings for a capture too short to learn a baseline: rows of the fewest frames
        (8), so the baseline-free detectors see a 50 ms clip as 7 rows (at 2.4 MS/s) and
        not 2."""
        return replace(self, row_s=0.0)

    def config_hash(self) -> str:
        """Short SHA-256 of the settings and of the detector's build (see `build_digest`), so a
        replay can be reproduced exactly and two builds that report differently never share it."""
        text = json.dumps(asdict(self), sort_keys=True) + build_digest()
        for model in (self.confidence_model, self.kind_model):
            if model and model != "rules":
                text += hashlib.sha256(Path(model).read_bytes()).hexdigest()
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def provenance(self) -> dict[str, str]:
        return {"version": DETECTOR_VERSION, "config_hash": self.config_hash()}


@lru_cache(maxsize=1)
def build_digest() -> str:
    """SHA-256 of everything besides the settings that decides what the detector reports: the
    source of ``spectrum/detect`` and ``kernels`` (every module-level threshold lives there)
    and the model files beside it (the confidence model). Read once per process."""
    detect_dir = Path(__file__).resolve().parent
    return files_digest({"spectrum/detect": detect_dir, "kernels": detect_dir.parent.parent / "kernels"})


def files_digest(roots: dict[str, Path]) -> str:
    """SHA-256 over the names and bytes of the ``.py`` and ``.json`` files in each root folder
    (not recursive), in a fixed order."""
    digest = hashlib.sha256()
    for name, root in sorted(roots.items()):
        for path in sorted(root.glob("*.py")) + sorted(root.glob("*.json")):
            digest.update(f"{name}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
