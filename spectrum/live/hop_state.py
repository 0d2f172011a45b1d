"""Per-hop state of a live sensor: its front end and detector, and its row → session-time map.

Every hop has its own front end and :class:`~spectrum.detect.detector.BandDetector` (and so its
own baseline). A detector counts time in rows of *its own* signal; when sweeping, its rows come
in dwells separated by the other hops, so :class:`HopState` keeps where each dwell started
(row → session seconds) and turns a detector's offsets into session time.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from datetime import datetime
from typing import Any

import numpy as np

from spectrum.detect.detector import BandDetector
from spectrum.detect.spectral_frontend import SpectralFrontEnd
from spectrum.live.band_plans import Hop

MAX_CLOCK_SEGMENTS = 4096  # dwells remembered per hop for row → time (older rows extrapolate)


class HopState:
    """Front end, detector and bookkeeping of one hop.

    Parameters
    ----------
    hop : Hop
        The tuning.
    datatype : str
        Native datatype of the source's samples.
    options : MonitorOptions
        The session's settings (detector config, site, sensor, FFT backend).
    session_start : datetime or None
        Wall-clock start of the session, stamped on the detector's events.
    """

    def __init__(self, hop: Hop, datatype: str, options: Any, session_start: datetime | None) -> None:
        band = hop.band
        config = options.config if options.config.fft_size == band.fft_size else \
            dataclasses.replace(options.config, fft_size=band.fft_size)
        self.hop = hop
        self.detector = BandDetector(config, band.sample_rate_hz, hop.center_freq_hz,
                                     session_start=session_start, site=options.site,
                                     sensor=options.sensor, keep_events=False)
        self.frontend = SpectralFrontEnd(datatype, band.fft_size, self.detector.frames_per_row,
                                         fft_backend=options.fft_backend)
        self.row_s = self.detector.row_s
        self.rows = 0
        self.clock_rows: list[int] = []
        self.clock_s: list[float] = []
        self.floor_learn: list[float] = []
        self.floor_ref_db: float | None = None
        self.learn_rows = max(8, math.ceil(config.learn_s / self.row_s))
        self.low_floor_rows = 0
        self.antenna = None  # SensorFault, made by the monitor
        self.acc = np.zeros(band.fft_size)
        self.acc_rows = 0
        self.suppressed: set[str] = set()
        self.psd_acc = np.zeros(band.fft_size)  # uplink summary: linear power since the last one
        self.psd_rows = 0

    def mark(self, session_s: float) -> None:
        """The next row starts at ``session_s``."""
        if self.clock_rows and self.clock_rows[-1] == self.rows:
            self.clock_s[-1] = session_s
            return
        self.clock_rows.append(self.rows)
        self.clock_s.append(session_s)
        if len(self.clock_rows) > MAX_CLOCK_SEGMENTS:
            del self.clock_rows[: MAX_CLOCK_SEGMENTS // 4]
            del self.clock_s[: MAX_CLOCK_SEGMENTS // 4]

    def session_time(self, detector_s: float) -> float:
        """Session seconds of a time in the detector's own rows."""
        row = detector_s / self.row_s
        k = max(0, bisect.bisect_right(self.clock_rows, row + 1e-6) - 1)
        return self.clock_s[k] + (row - self.clock_rows[k]) * self.row_s

    def earliest_onset(self, detected_s: float) -> float:
        """Start of the dwell before the one an event was detected in (session seconds).

        A detector's onset estimate looks back over its recent rows; when sweeping those
        span several dwells, and a jammer seen before the previous dwell would have been
        detected there. In a fixed tuning there is one segment and no limit.
        """
        row = detected_s / self.row_s
        k = max(0, bisect.bisect_right(self.clock_rows, row - 1e-6) - 1)
        return self.clock_s[k - 1] if k >= 1 and len(self.clock_rows) > 1 else -math.inf
