"""Capture-file source: a recording (SigMF or raw) through :func:`captures.open_capture`.

Finite: past the last sample ``read_block`` raises :class:`EndOfStream` (or, with ``loop``,
starts again, counting no drops). It retunes only to a frequency one of the capture's
segments was recorded at (it then seeks to that segment's start); anything else raises.
"""

from __future__ import annotations

import math
import os
import threading
import time

from captures import CaptureError, open_capture
from spectrum.errors import SourceError
from spectrum.sources.source_base import EndOfStream, Pacer, SourceBase, SourceBlock


class FileSource(SourceBase):
    """Serve a capture file block by block.

    Parameters
    ----------
    path : str or os.PathLike
        Anything :func:`captures.open_capture` opens.
    realtime : bool
        Pace delivery at the capture's sample rate.
    loop : bool
        Start again at the end instead of raising EndOfStream.
    fmt, sample_rate_hz, center_freq_hz
        For raw files, as in :func:`captures.open_capture`.

    Raises
    ------
    SourceError
        The capture cannot be opened (the CaptureError's message is kept).
    """

    def __init__(self, path: str | os.PathLike[str], realtime: bool = False, loop: bool = False,
                 fmt: str | None = None, sample_rate_hz: float | None = None,
                 center_freq_hz: float | None = None) -> None:
        try:
            self.reader = open_capture(path, fmt=fmt, sample_rate_hz=sample_rate_hz,
                                       center_freq_hz=center_freq_hz)
        except CaptureError as exc:
            raise SourceError(f"file:{path}: {exc}") from exc
        super().__init__(self.reader.sample_rate_hz, self.reader.center_freq_hz)
        self.name = f"file:{path}"
        self.datatype = self.reader.datatype
        self.realtime = bool(realtime)
        self.loop = bool(loop)
        freqs = {round(s.center_freq_hz) for s in self.reader.segments}
        self.can_retune = len(freqs) > 1
        start = self.reader.start_time
        self._wall0 = start.timestamp() if start is not None else time.time()
        self._pos = 0  # next capture sample
        self._index = 0  # next source sample index (grows across loops)
        self._pacer = Pacer(self.sample_rate_hz)
        self._stop = threading.Event()

    def tune(self, center_freq_hz: float) -> None:
        self._check_open()
        for seg in self.reader.segments:
            if math.isclose(seg.center_freq_hz, center_freq_hz, abs_tol=1.0):
                self._pos = seg.sample_start
                self.center_freq_hz = seg.center_freq_hz
                self._retuned = True
                self.health.retunes += 1
                return
        self.health.retune_failures += 1
        held = ", ".join(f"{s.center_freq_hz:.0f}" for s in self.reader.segments)
        raise SourceError(f"{self.name}: cannot tune to {center_freq_hz:.0f} Hz; the capture "
                          f"holds only {held} Hz")

    def read_block(self, num_samples: int, timeout_s: float = 2.0) -> SourceBlock:
        self._check_open()
        if self._pos >= self.reader.num_samples:
            if not self.loop:
                raise EndOfStream(f"{self.name}: end of capture after {self._index} samples")
            self._pos = 0
        k = self.reader.segment_index(self._pos)
        segs = self.reader.segments
        stop = segs[k + 1].sample_start if k + 1 < len(segs) else self.reader.num_samples
        n = min(int(num_samples), stop - self._pos)
        try:
            samples = self.reader.read(self._pos, n)
        except CaptureError as exc:
            raise SourceError(f"{self.name}: {exc}") from exc
        freq = self.reader.segments[k].center_freq_hz
        if self.realtime:
            stamp = self._pacer.wait(n, self._stop)
        else:
            stamp = self._wall0 + self._index / self.sample_rate_hz
        self.center_freq_hz = freq
        block = self._block(samples, self._index, stamp, freq)
        self._pos += n
        self._index += n
        return block

    def _close(self) -> None:
        self._stop.set()
        self.reader.close()
