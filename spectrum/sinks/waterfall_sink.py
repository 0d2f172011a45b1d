"""A waterfall sink: PSD rows in dBFS with time and frequency axes, bounded in memory.

A :class:`WaterfallSink` is called with each batch of front-end rows (it has the signature of
:func:`spectrum.replay.replay_events`'s ``on_rows`` hook). It keeps at most ``max_rows`` rows
of the first tuning it sees: when full, neighbouring rows are averaged in pairs (linear power,
so levels stay calibrated) and later rows are averaged in groups of the new factor, so a capture
of any length fits in ``max_rows × bins × 4`` bytes at a coarser time step. Optionally every row,
at full resolution and for every tuning, is also streamed to a :class:`captures.hdf5.HDF5Writer`.

Example: the waterfall and events of a replay, plotted::

    sink = WaterfallSink()
    result = ReplayResult()
    for _ in replay_events(reader, config, result=result, on_rows=sink):
        pass
    save_waterfall_png("w.png", *sink.arrays(), [e.to_dict() for e in result.events])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

TINY_POWER = 1e-20  # floor added before log10: -200 dBFS, far below any 8-bit noise floor


def to_dbfs(mean_power: NDArray[np.float32]) -> NDArray[np.float32]:
    """Tone-calibrated linear power → dBFS (float32)."""
    return (10.0 * np.log10(np.asarray(mean_power, np.float32) + np.float32(TINY_POWER))).astype(np.float32)


class WaterfallSink:
    """Collect PSD rows (dBFS) with their times and frequencies.

    Parameters
    ----------
    max_rows : int
        Rows kept in memory (even, ≥ 2); older rows are merged pairwise when it fills.
    writer : captures.hdf5.HDF5Writer, optional
        Also stream every row, full resolution, to this writer's ``/waterfall``.
    keep : bool
        Keep the in-memory copy (False: only stream to ``writer``).

    Attributes
    ----------
    center_freq_hz : float or None
        Tuning of the rows kept in memory (the first tuning seen).
    decimation : int
        Detector rows averaged into each kept row.
    row_s : float
        Duration of one detector row, seconds.
    skipped_rows : int
        Rows of other tunings, not kept in memory (still streamed to ``writer``).
    """

    def __init__(self, max_rows: int = 4096, writer: Any = None, keep: bool = True) -> None:
        if max_rows < 2 or max_rows % 2:
            raise ValueError(f"max_rows must be an even number ≥ 2, got {max_rows}")
        self.max_rows = int(max_rows)
        self.writer = writer
        self.keep = keep
        self.center_freq_hz: float | None = None
        self.sample_rate_hz: float | None = None
        self.fft_size = 0
        self.row_s = 0.0
        self.decimation = 1
        self.skipped_rows = 0
        self._power: NDArray[np.float32] | None = None  # (max_rows, bins) linear power
        self._time_s = np.zeros(self.max_rows, np.float64)
        self._n = 0
        self._acc: NDArray[np.float64] | None = None  # group being averaged
        self._acc_rows = 0
        self._acc_time_s = 0.0

    def __call__(self, detector: Any, rows: Any) -> None:
        """``on_rows`` hook: take a batch of :class:`kernels.psd.PowerRows` for ``detector``'s band."""
        self.add(rows.mean, detector.rows_done * detector.row_s, detector.row_s,
                 detector.center_freq_hz, detector.sample_rate_hz, detector.frames_per_row)

    def add(self, mean_power: NDArray[np.float32], first_time_s: float, row_s: float,
            center_freq_hz: float, sample_rate_hz: float, frames_per_row: int) -> None:
        """Add rows of linear, tone-calibrated power.

        Parameters
        ----------
        mean_power : numpy.ndarray
            (rows, bins) linear power, bins in frequency order.
        first_time_s : float
            Start of the first row, seconds since the capture start.
        row_s : float
            Duration of a row, seconds.
        center_freq_hz, sample_rate_hz : float
            Tuning of these rows, Hz and S/s.
        frames_per_row : int
            FFT frames averaged per row.
        """
        mean_power = np.asarray(mean_power, np.float32)
        count, bins = mean_power.shape
        times = first_time_s + row_s * np.arange(count)
        if self.writer is not None:
            self.writer.add_rows(to_dbfs(mean_power), times, center_freq_hz, fft_size=bins,
                                 frames_per_row=frames_per_row, row_s=row_s)
        if not self.keep:
            return
        if self.center_freq_hz is None:
            self.center_freq_hz, self.sample_rate_hz = float(center_freq_hz), float(sample_rate_hz)
            self.fft_size, self.row_s = bins, float(row_s)
            self._power = np.zeros((self.max_rows, bins), np.float32)
        elif center_freq_hz != self.center_freq_hz or bins != self.fft_size:
            self.skipped_rows += count
            return
        for r in range(count):
            if self._acc_rows == 0:
                self._acc = mean_power[r].astype(np.float64)
                self._acc_time_s = float(times[r])
            else:
                self._acc += mean_power[r]
            self._acc_rows += 1
            if self._acc_rows == self.decimation:
                self._push(self._acc / self.decimation, self._acc_time_s)
                self._acc_rows = 0

    def _push(self, row: NDArray[np.float64], time_s: float) -> None:
        assert self._power is not None
        if self._n == self.max_rows:  # full: halve the time resolution
            half = self.max_rows // 2
            self._power[:half] = 0.5 * (self._power[0::2] + self._power[1::2])
            self._time_s[:half] = self._time_s[0::2]
            self._n = half
            self.decimation *= 2
        self._power[self._n] = row
        self._time_s[self._n] = time_s
        self._n += 1

    @property
    def num_rows(self) -> int:
        """Rows held in memory (a partly averaged last group counts once)."""
        return self._n + (1 if self._acc_rows else 0)

    def arrays(self) -> tuple[NDArray[np.float32], NDArray[np.float64], NDArray[np.float64]]:
        """The kept waterfall: ``(power_dbfs (rows, bins), times_s (rows,), freqs_hz (bins,))``.

        ``times_s`` are row starts (seconds since the capture start); ``freqs_hz`` are absolute
        bin centres, bin k ↔ ``center + (k - N/2)·fs/N``. Empty arrays if no rows came.
        """
        if self._power is None:
            return np.zeros((0, 0), np.float32), np.zeros(0), np.zeros(0)
        power = self._power[: self._n]
        times = self._time_s[: self._n]
        if self._acc_rows:
            assert self._acc is not None
            power = np.vstack([power, (self._acc / self._acc_rows)[None, :].astype(np.float32)])
            times = np.append(times, self._acc_time_s)
        freqs = self.center_freq_hz + (np.arange(self.fft_size) - self.fft_size // 2) * (
            self.sample_rate_hz / self.fft_size)
        return to_dbfs(power), times.copy(), freqs

    @property
    def kept_row_s(self) -> float:
        """Duration of one kept row, seconds (``row_s × decimation``)."""
        return self.row_s * self.decimation


def iter_power_rows(reader: Any, fft_size: int = 1024, row_s: float = 0.025,
                    block_samples: int = 1 << 20) -> Iterator[tuple[float, float, int, NDArray[np.float32]]]:
    """The front end alone over a capture: PSD rows without detection (bounded memory).

    Parameters
    ----------
    reader : captures.reader.CaptureReader
    fft_size : int
        Bins per row.
    row_s : float
        Target row duration, seconds (as :class:`~spectrum.detect.detector_config.DetectorConfig`).

    Yields
    ------
    center_freq_hz, first_time_s, frames_per_row, power_dbfs
        A batch of rows of one tuning: its first row's start (seconds, the band's own row clock,
        as the detector counts), and (rows, bins) dBFS.
    """
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.detect.spectral_frontend import SpectralFrontEnd

    frames_per_row = DetectorConfig(fft_size=fft_size, row_s=row_s).frames_per_row(reader.sample_rate_hz)
    step_s = fft_size * frames_per_row / reader.sample_rate_hz
    bands: dict[float, list] = {}
    for block in reader.blocks(block_samples):
        freq = float(block.center_freq_hz)
        if freq not in bands:
            bands[freq] = [SpectralFrontEnd(reader.datatype, fft_size, frames_per_row), 0]
        state = bands[freq]
        for rows, _clipped in state[0].process(block.samples):
            yield freq, state[1] * step_s, frames_per_row, to_dbfs(rows.mean)
            state[1] += rows.mean.shape[0]
