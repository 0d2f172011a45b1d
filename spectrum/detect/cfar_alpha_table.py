"""Writes ``cfar_alpha.json``: the narrowband CFAR's threshold scales α for the detector's default
settings at the usual sample rates and FFT sizes, solved once here instead of at every replay's
start-up (see ``spectrum.detect.narrowband_cfar.ALPHA_TABLE``). Other settings are solved at run
time as before.

Run ``python -m spectrum.detect.cfar_alpha_table`` after changing the CFAR's constants, the
default ``cfar_pfa``, ``row_s`` or ``learn_s``, or how a detector derives its rows; the tests
check the table against the solve and that a default replay finds its α in it.
"""

from __future__ import annotations

import json

from spectrum.detect.detector import BandDetector
from spectrum.detect.detector_config import DetectorConfig
from spectrum.detect.narrowband_cfar import (ALPHA_TABLE, CELLS_PER_SIDE, LEARN_PFA, RANK, alpha_key,
                                             solve_os_cfar_alpha)

# RTL-SDR rates and those of the captures we meet (250 kS/s to 3.2 MS/s)
SAMPLE_RATES_HZ = (250e3, 500e3, 1.0e6, 1.024e6, 1.2e6, 1.4e6, 1.8e6, 1.92e6, 2.0e6, 2.048e6, 2.4e6, 2.56e6,
                   2.88e6, 3.2e6)
FFT_SIZES = (256, 512, 1024, 2048, 4096, 8192)


def table_arguments() -> list[tuple[float, int, int, int]]:
    """The (pfa, cells, rank, looks) a default detector asks for at each rate and FFT size: the
    row tests' α and the learning mean's (spectrum.detect.narrowband_cfar)."""
    found = set()
    for fft_size in FFT_SIZES:
        for rate in SAMPLE_RATES_HZ:
            band = BandDetector(DetectorConfig(fft_size=fft_size), rate, 100e6)
            found.add((band.cfar.pfa, 2 * CELLS_PER_SIDE, RANK, band.cfar.looks))
            found.add((LEARN_PFA, 2 * CELLS_PER_SIDE, RANK, band.learn_rows * band.frames_per_row))
    return sorted(found)


def main() -> None:
    alpha = {alpha_key(*args): solve_os_cfar_alpha(*args) for args in table_arguments()}
    text = json.dumps({"about": "os_cfar_alpha(pfa, cells, rank, looks), keyed 'pfa cells rank looks'; "
                                "written by spectrum/detect/cfar_alpha_table.py", "alpha": alpha}, indent=1)
    ALPHA_TABLE.write_text(text + "\n")
    print(f"{len(alpha)} α written to {ALPHA_TABLE.name}")


if __name__ == "__main__":
    main()
