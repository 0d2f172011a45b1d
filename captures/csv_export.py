"""rtl_power-compatible CSV: one line per time step per hop.

rtl_power (librtlsdr) writes lines of the form::

    date, time, Hz low, Hz high, Hz step, samples, dB, dB, ...
    2024-05-01, 12:00:00, 941000000, 943400000, 2343.75, 1474560, -71.23, -70.98, ...

``date`` is ``%Y-%m-%d`` and ``time`` ``%H:%M:%S`` (rtl_power uses local time; we write UTC),
``Hz low``/``Hz high`` are integers, ``Hz step`` has two decimals, ``samples`` is the number of
samples integrated, and the power values (two decimals) follow, one per bin, the first at
``Hz low``: bin k is at ``Hz low + k·step``. Fields are separated by ``", "`` and the last
value ends the line. ``heatmap.py`` and QSpectrumAnalyzer's rtl_power reader parse exactly
this. Our values are dBFS (rtl_power's are uncalibrated dB too).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

from captures.capture_errors import CaptureError


def rtl_power_line(when: datetime, low_hz: float, step_hz: float, samples: int,
                   power_db: NDArray[np.floating]) -> str:
    """Format one rtl_power CSV line (with its newline).

    Parameters
    ----------
    when : datetime
        Start of the integration interval (converted to UTC; seconds resolution, as rtl_power).
    low_hz : float
        Frequency of the first bin, Hz (rounded to an integer, as rtl_power prints it).
    step_hz : float
        Bin spacing, Hz.
    samples : int
        Samples integrated into the line.
    power_db : numpy.ndarray
        One value per bin, dB, in frequency order.
    """
    values = np.asarray(power_db, np.float64)
    low = int(round(low_hz))
    high = int(round(low_hz + step_hz * values.shape[0]))
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%d, %H:%M:%S")
    levels = ", ".join(f"{v:.2f}" for v in values)
    return f"{stamp}, {low}, {high}, {step_hz:.2f}, {int(samples)}, {levels}\n"


class RtlPowerCsvWriter:
    """Write an rtl_power CSV atomically (temporary name, renamed by :meth:`close`).

    A context manager; an exception inside the ``with`` block removes the temporary file.
    ``close`` and ``abort`` are safe twice.

    Raises
    ------
    CaptureError
        The output cannot be created or written.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lines = 0
        self._file: TextIO | None = None
        if self.path.is_dir():
            raise CaptureError(f"{self.path} is a directory; give a file name for the CSV")
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part")
        except OSError as exc:
            raise CaptureError(f"{self.path}: cannot write: {exc.strerror or exc}") from exc
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "w", encoding="ascii", newline="")

    def write(self, when: datetime, low_hz: float, step_hz: float, samples: int,
              power_db: NDArray[np.floating]) -> None:
        """Append one line (see :func:`rtl_power_line`)."""
        if self._file is None:
            raise CaptureError(f"{self.path}: writer is closed")
        try:
            self._file.write(rtl_power_line(when, low_hz, step_hz, samples, power_db))
        except OSError as exc:
            self.abort()
            raise CaptureError(f"{self.path}: write failed: {exc.strerror or exc}") from exc
        self.lines += 1

    def close(self) -> None:
        """Flush and rename into place. Safe twice."""
        f, self._file = self._file, None
        if f is None:
            return
        try:
            f.flush()
            os.fsync(f.fileno())
            f.close()
            os.chmod(self._tmp, 0o644)  # mkstemp makes 0600
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self._tmp.unlink(missing_ok=True)
            raise CaptureError(f"{self.path}: cannot finish: {exc.strerror or exc}") from exc

    def abort(self) -> None:
        """Discard the output. Safe twice."""
        f, self._file = self._file, None
        if f is not None:
            f.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> RtlPowerCsvWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
