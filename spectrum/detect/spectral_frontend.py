"""The spectral front end: raw IQ blocks in, rows of power statistics out.

A pipeline stage in the GNU Radio sense: consumes raw interleaved IQ (any capture datatype),
produces `PowerRows` (kernels.psd) once a whole row of frames has arrived, carrying any
remainder to the next block so rows never depend on how the source cut its blocks.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kernels.convert import RAW_DTYPES, convert_frames
from kernels.envelope import envelope_kurtosis
from kernels.fft import make_batched_fft
from kernels.psd import PowerRows, RawRows, power_rows


ENVELOPE_STRIDE = 8  # envelope kurtosis on every 8th frame: a classification feature, at ⅛ the cost


def analysis_window(name: str, fft_size: int) -> NDArray[np.float32]:
    """The periodic (DFT-even) window ``scipy.signal.get_window(name, fft_size)``, as float32.

    The default Hann is computed here: importing ``scipy.signal`` costs over a second of every
    replay's start-up. Any other name goes to scipy.
    """
    if name == "hann":
        k = np.arange(fft_size)
        return (0.5 - 0.5 * np.cos(2.0 * np.pi * k / fft_size)).astype(np.float32)
    import scipy.signal

    return scipy.signal.get_window(name, fft_size, fftbins=True).astype(np.float32)


class SpectralFrontEnd:
    """Convert → DC removal → window → FFT → |X|² → Welch / SK sums / max-hold.

    Parameters
    ----------
    datatype : str
        Raw datatype of the blocks (``cu8``, ``ci8``, ``ci16_le``, ``cf32_le``).
    fft_size : int
        Bins per frame.
    frames_per_row : int
        Frames averaged per row (the detector's time step is ``fft_size*frames_per_row/fs``).
    rows_per_batch : int
        Rows transformed per FFT call (sets the working-set size, not the results).
    window : str
        A scipy.signal window name.
    fft_backend : str
        ``auto``, ``fftw`` or ``scipy``.
    """

    def __init__(
        self,
        datatype: str,
        fft_size: int = 1024,
        frames_per_row: int = 64,
        rows_per_batch: int = 4,
        window: str = "hann",
        fft_backend: str = "auto",
    ) -> None:
        if datatype not in RAW_DTYPES:
            raise ValueError(f"unknown datatype {datatype!r}")
        if fft_size < 16 or fft_size & (fft_size - 1):
            raise ValueError(f"fft_size must be a power of two ≥ 16, got {fft_size}")
        self.datatype = datatype
        self.fft_size = fft_size
        self.frames_per_row = frames_per_row
        self.window = analysis_window(window, fft_size)
        self.rows_per_batch = rows_per_batch
        # FFT plans for a full batch and for a single row (short batches loop over the latter)
        self._batch_fft = make_batched_fft(frames_per_row * rows_per_batch, fft_size, fft_backend)
        self._row_fft = make_batched_fft(frames_per_row, fft_size, fft_backend)
        self._pending = np.empty(0, dtype=RAW_DTYPES[datatype])

    def _rows(self, chunk: NDArray, rows: int) -> tuple[PowerRows, NDArray[np.int64]]:
        """Rows of statistics for ``rows`` whole rows of raw samples (1 or a full batch)."""
        fft, frames = self._batch_fft if rows == self.rows_per_batch else self._row_fft
        # one DC estimate and one clip count per row
        clipped = convert_frames(chunk, self.datatype, self.window, frames, self.frames_per_row)
        power = power_rows(fft(frames), self.frames_per_row, self.window)
        values_per_row = 2 * self.samples_per_row
        power.envelope_kurtosis = np.concatenate(
            [self._envelope(chunk[r * values_per_row : (r + 1) * values_per_row]) for r in range(rows)]
        )
        power.raw = RawRows(chunk, self.datatype, self.window)
        return power, clipped

    def _envelope(self, raw_row: NDArray) -> NDArray[np.float32]:
        """Envelope kurtosis of every ENVELOPE_STRIDE-th frame of one row, averaged."""
        kappa = envelope_kurtosis(raw_row, self.datatype, self.fft_size, self.frames_per_row, ENVELOPE_STRIDE)
        return np.array([kappa.mean()], np.float32)

    @property
    def samples_per_row(self) -> int:
        return self.fft_size * self.frames_per_row

    def process(self, raw: NDArray) -> list[tuple[PowerRows, NDArray[np.int64]]]:
        """Feed interleaved raw samples; return the batches of rows they complete.

        Returns
        -------
        list of (PowerRows, clipped_per_row)
            ``clipped_per_row[r]`` counts samples at a converter rail in row ``r``.
        """
        values_per_row = 2 * self.samples_per_row
        out = []
        if self._pending.size:
            # complete the pending row with the head of this block (no copy of the whole block)
            need = values_per_row - self._pending.size
            head = np.concatenate([self._pending, raw[:need]])
            raw = raw[need:]
            if head.size < values_per_row:
                self._pending = head
                return out
            out.append(self._rows(head, 1))
        pos = 0
        while raw.size - pos >= values_per_row:
            rows = (raw.size - pos) // values_per_row
            rows = self.rows_per_batch if rows >= self.rows_per_batch else 1
            out.append(self._rows(raw[pos : pos + rows * values_per_row], rows))
            pos += rows * values_per_row
        self._pending = raw[pos:].copy()
        return out
