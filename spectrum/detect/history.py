"""A bounded history of rows kept contiguous without copying it on every append."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class RowHistory:
    """The last ``keep`` rows (plus those of the current batch) as one contiguous array.

    Rows are written into a buffer twice the needed size; only when it fills are the newest
    rows moved back to the start, so appending costs O(rows appended) amortised instead of
    copying the whole history each time (as np.vstack would).
    """

    def __init__(self, keep: int, width: int, dtype: type) -> None:
        self.keep = keep
        self._buffer = np.zeros((2 * keep + 64, width), dtype)
        self._end = 0  # rows in use: [_start, _end)
        self._start = 0

    def append(self, rows: NDArray) -> None:
        n = len(rows)
        if self._end + n > len(self._buffer):
            tail = min(self.keep, self._end - self._start)
            if tail + n > len(self._buffer):
                self._buffer = np.zeros((2 * (tail + n), self._buffer.shape[1]), self._buffer.dtype)
                tail = 0
            else:
                self._buffer[:tail] = self._buffer[self._end - tail : self._end]
            self._start, self._end = 0, tail
        self._buffer[self._end : self._end + n] = rows
        self._end += n
        # keep at most `keep` rows before the newest batch
        self._start = max(self._start, self._end - n - self.keep)

    @property
    def rows(self) -> NDArray:
        """The kept rows, oldest first (a view: valid until the next append)."""
        return self._buffer[self._start : self._end]

    def __len__(self) -> int:
        return self._end - self._start
