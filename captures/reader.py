"""The common streaming reader behind every capture format.

A :class:`CaptureReader` serves samples of one recording as *interleaved native* arrays
(I, Q, I, Q, ... in the datatype's own dtype, see :data:`captures.keys.DATATYPES`). Format
modules (:mod:`captures.raw`, :mod:`captures.sigmf_io`) only work out the layout (datatype, rate,
segments, header bytes) and hand it to this class.

Memory is bounded by the request size: every :meth:`CaptureReader.read` allocates a fresh
``np.empty`` buffer and fills it with ``file.readinto()``. ``np.memmap`` is deliberately not used:
mapped pages are counted in the process RSS and grow with how much of a large file was touched.
"""

from __future__ import annotations

import bisect
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from captures import keys
from captures.capture_errors import CaptureError


@dataclass(frozen=True)
class Segment:
    """A run of samples recorded with one tuning.

    Attributes
    ----------
    sample_start : int
        Index of the first complex sample of this segment in the capture.
    center_freq_hz : float
        Centre (tuning) frequency, Hz, absolute RF.
    start_time : datetime or None
        Wall-clock time of ``sample_start``, timezone-aware UTC, or None if unknown.
    """

    sample_start: int
    center_freq_hz: float
    start_time: datetime | None = None


@dataclass(frozen=True)
class Block:
    """Consecutive samples from one segment, as yielded by :meth:`CaptureReader.blocks`.

    Attributes
    ----------
    samples : numpy.ndarray
        Interleaved native samples, length ``2 * num_samples``. A fresh array the caller may keep.
    sample_start : int
        Index of the block's first complex sample in the capture.
    center_freq_hz : float
        Centre frequency of the segment the block lies in, Hz.
    """

    samples: NDArray[Any]
    sample_start: int
    center_freq_hz: float

    @property
    def num_samples(self) -> int:
        """Number of complex samples in the block."""
        return self.samples.shape[0] // 2


def resolve_datatype(name: str, where: str) -> keys.DataType:
    """Look up a datatype by its SigMF name or a raw-format alias.

    Parameters
    ----------
    name : str
        ``cu8``, ``ci8``/``cs8``, ``ci16_le``/``cs16``, ``cf32_le``/``cf32``.
    where : str
        Name of the file (or option) the value came from, for the error message.

    Returns
    -------
    DataType
        The table entry from :data:`captures.keys.DATATYPES`.

    Raises
    ------
    CaptureError
        If the datatype is not supported.
    """
    canonical = keys.DATATYPE_NAMES.get(name) if isinstance(name, str) else None
    if canonical is None:
        supported = ", ".join(keys.DATATYPES)
        raise CaptureError(f"{where}: unsupported datatype {name!r}; supported: {supported}")
    return keys.DATATYPES[canonical]


def _describe(path: Path | None, data: object) -> str:
    """Human name of a data source for messages: its path, a file object's name, or '<buffer>'."""
    if path is not None:
        return str(path)
    name = getattr(data, "name", None)
    return str(name) if isinstance(name, (str, os.PathLike)) else "<buffer>"


class CaptureReader:
    """Random-access and streaming reader for one IQ recording.

    Usually built by :func:`captures.open_capture`, :func:`captures.raw.open_raw` or
    :func:`captures.sigmf_io.open_sigmf`. A context manager; :meth:`close` is safe to call twice.

    Parameters
    ----------
    data : str, os.PathLike or binary file object
        The sample data. A file object must be seekable and support ``readinto``; byte 0 of the
        object is byte 0 of the data file. A file object passed in is not closed by :meth:`close`.
    datatype : str
        Sample datatype (SigMF name or alias).
    sample_rate_hz : float
        Sample rate, complex samples per second.
    segments : sequence of Segment
        Tuning segments, sorted by ``sample_start``, the first starting at sample 0.
    path : Path, optional
        The path the user opened (for SigMF, the ``.sigmf-meta`` file). Defaults to the data path.
    global_info : dict, optional
        SigMF global object (``{}`` for raw files).
    annotations : list of dict, optional
        SigMF annotation objects, as found in the metadata.
    header_bytes : sequence of int, optional
        Bytes of non-sample header preceding each segment's samples (SigMF ``core:header_bytes``).
    trailing_bytes : int, optional
        Bytes to ignore at the end of the data (SigMF ``core:trailing_bytes``).
    sample_offset : int, optional
        Metadata sample index of the data's first sample (SigMF ``core:offset``); annotation
        indices minus this are capture indices.

    Raises
    ------
    CaptureError
        If the data cannot be opened, is empty, is not a whole number of samples, or the
        segments do not fit it.
    """

    def __init__(
        self,
        data: str | os.PathLike[str] | BinaryIO,
        *,
        datatype: str,
        sample_rate_hz: float,
        segments: Sequence[Segment],
        path: Path | None = None,
        global_info: dict[str, Any] | None = None,
        annotations: list[dict[str, Any]] | None = None,
        header_bytes: Sequence[int] | None = None,
        trailing_bytes: int = 0,
        sample_offset: int = 0,
    ) -> None:
        self._file: BinaryIO | None = None
        self._owns_file = False
        if isinstance(data, (str, os.PathLike)):
            self.data_path: Path | None = Path(data)
            self._file = _open_data(self.data_path)
            self._owns_file = True
        else:
            if not (hasattr(data, "readinto") and hasattr(data, "seek")):
                raise CaptureError(
                    f"{_describe(None, data)}: not a binary file object (needs readinto and seek)"
                )
            self.data_path = None
            self._file = data
        self._name = _describe(self.data_path, data)
        self.path: Path | None = path if path is not None else self.data_path
        try:
            self._init_layout(datatype, sample_rate_hz, segments, header_bytes, trailing_bytes)
        except BaseException:
            self.close()
            raise
        self.global_info: dict[str, Any] = dict(global_info or {})
        self.annotations: list[dict[str, Any]] = list(annotations or [])
        self.sample_offset: int = int(sample_offset)

    def _init_layout(
        self,
        datatype: str,
        sample_rate_hz: float,
        segments: Sequence[Segment],
        header_bytes: Sequence[int] | None,
        trailing_bytes: int,
    ) -> None:
        self._dt = resolve_datatype(datatype, self._name)
        self.datatype: str = self._dt.name
        self.sample_rate_hz: float = float(sample_rate_hz)
        if not (np.isfinite(self.sample_rate_hz) and self.sample_rate_hz > 0):
            raise CaptureError(f"{self._name}: sample rate {sample_rate_hz!r} Hz must be positive")
        self.segments: list[Segment] = list(segments)
        starts = [s.sample_start for s in self.segments]
        if not starts or starts[0] != 0 or any(b <= a for a, b in zip(starts, starts[1:])):
            raise CaptureError(
                f"{self._name}: capture segments must start at sample 0 and strictly increase, "
                f"got sample starts {starts}"
            )
        headers = list(header_bytes) if header_bytes is not None else [0] * len(self.segments)
        if len(headers) != len(self.segments):
            raise CaptureError(f"{self._name}: one header size per segment is needed")

        try:
            size_bytes = self._file.seek(0, io.SEEK_END)
        except (OSError, ValueError) as exc:
            raise CaptureError(f"{self._name}: cannot determine the data size: {exc}") from exc
        sample_bytes = size_bytes - sum(headers) - trailing_bytes
        bps = self._dt.bytes_per_sample
        what = "bytes" if sample_bytes == size_bytes else "bytes of sample data"
        if sample_bytes <= 0:
            raise CaptureError(f"{self._name} is empty: it has {max(sample_bytes, 0)} {what}")
        if sample_bytes % bps:
            raise CaptureError(
                f"{self._name} has {sample_bytes} {what}, not a whole number of {self.datatype} "
                f"samples ({bps} bytes each); the file may be truncated"
            )
        self.num_samples: int = sample_bytes // bps
        if starts[-1] > self.num_samples:
            raise CaptureError(
                f"{self._name}: a capture segment starts at sample {starts[-1]}, beyond the end "
                f"of the data ({self.num_samples} samples)"
            )
        # Byte position of each segment's first sample: all headers up to and including its own.
        self._byte_starts = [
            sum(headers[: k + 1]) + start * bps for k, start in enumerate(starts)
        ]
        self._starts = starts

    # ----------------------------------------------------------------- properties
    @property
    def center_freq_hz(self) -> float:
        """Centre frequency of the first segment, Hz."""
        return self.segments[0].center_freq_hz

    @property
    def start_time(self) -> datetime | None:
        """Wall-clock time of the first sample (UTC), or None if unknown."""
        return self.segments[0].start_time

    @property
    def duration_s(self) -> float:
        """Length of the capture, seconds."""
        return self.num_samples / self.sample_rate_hz

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._file is None

    def segment_index(self, sample: int) -> int:
        """Index into :attr:`segments` of the segment holding complex sample ``sample``."""
        return bisect.bisect_right(self._starts, sample) - 1

    def _segment_stop(self, k: int) -> int:
        return self._starts[k + 1] if k + 1 < len(self._starts) else self.num_samples

    def time_at(self, sample: int) -> datetime | None:
        """Wall-clock time (UTC) of complex sample ``sample``, or None if its segment has none."""
        seg = self.segments[self.segment_index(sample)]
        if seg.start_time is None:
            return None
        return seg.start_time + timedelta(seconds=(sample - seg.sample_start) / self.sample_rate_hz)

    # ----------------------------------------------------------------- reading
    def read(self, sample_start: int, num_samples: int) -> NDArray[Any]:
        """Read complex samples ``[sample_start, sample_start + num_samples)``.

        Parameters
        ----------
        sample_start : int
            Index of the first complex sample.
        num_samples : int
            Number of complex samples; the range may cross segment boundaries.

        Returns
        -------
        numpy.ndarray
            Fresh interleaved native array of length ``2 * num_samples``.

        Raises
        ------
        CaptureError
            If the reader is closed, the range lies outside the capture, or the file is shorter
            than it was when opened.
        """
        self._check_range(sample_start, sample_start + num_samples, "read")
        out = np.empty(2 * num_samples, dtype=self._dt.dtype)
        raw = memoryview(out.view(np.uint8))
        bps = self._dt.bytes_per_sample
        pos = sample_start
        stop = sample_start + num_samples
        while pos < stop:
            k = self.segment_index(pos)
            piece_stop = min(stop, self._segment_stop(k))
            first_byte = self._byte_starts[k] + (pos - self._starts[k]) * bps
            lo = (pos - sample_start) * bps
            self._read_exact(first_byte, raw[lo : lo + (piece_stop - pos) * bps])
            pos = piece_stop
        return out

    def _read_exact(self, first_byte: int, dest: memoryview) -> None:
        assert self._file is not None
        self._file.seek(first_byte)
        filled = 0
        while filled < len(dest):
            n = self._file.readinto(dest[filled:])
            if not n:
                raise CaptureError(
                    f"{self._name}: data ended early at byte {first_byte + filled}; "
                    "the file was truncated after it was opened"
                )
            filled += n

    def _check_range(self, start: int, stop: int, what: str) -> None:
        if self._file is None:
            raise CaptureError(f"{self._name}: reader is closed")
        if not (0 <= start <= stop <= self.num_samples):
            raise CaptureError(
                f"{self._name}: cannot {what} samples [{start}, {stop}); the capture has "
                f"{self.num_samples} samples"
            )

    def blocks(self, block_samples: int, start: int = 0, stop: int | None = None) -> Iterator[Block]:
        """Iterate over the capture in consecutive blocks.

        Parameters
        ----------
        block_samples : int
            Complex samples per block (positive).
        start : int, optional
            First complex sample, default 0.
        stop : int, optional
            One past the last complex sample, default the end of the capture.

        Yields
        ------
        Block
            Blocks in order. A block never spans a segment boundary, so the block before a
            boundary and the last block may be shorter than ``block_samples``.

        Raises
        ------
        CaptureError
            If ``block_samples`` is not positive or the range lies outside the capture.
        """
        if not isinstance(block_samples, (int, np.integer)) or block_samples <= 0:
            raise CaptureError(f"{self._name}: block size {block_samples!r} must be a positive integer")
        stop = self.num_samples if stop is None else stop
        self._check_range(start, stop, "iterate over")
        pos = start
        while pos < stop:
            k = self.segment_index(pos)
            n = min(block_samples, stop - pos, self._segment_stop(k) - pos)
            yield Block(self.read(pos, n), pos, self.segments[k].center_freq_hz)
            pos += n

    # ----------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Release the data file (a caller-supplied file object is left open). Safe twice."""
        f, self._file = self._file, None
        if f is not None and self._owns_file:
            f.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"CaptureReader({self._name!r}, {self.datatype}, {self.sample_rate_hz:g} S/s, "
            f"{self.center_freq_hz:g} Hz, {self.num_samples} samples, "
            f"{len(self.segments)} segment(s))"
        )


def _open_data(path: Path) -> BinaryIO:
    """Open a data file for reading, turning OS errors into CaptureError."""
    if not path.exists():
        raise CaptureError(f"{path}: no such file")
    if path.is_dir():
        raise CaptureError(f"{path} is a directory, not a capture file")
    try:
        return open(path, "rb")  # noqa: SIM115 - the reader owns and closes it
    except OSError as exc:
        raise CaptureError(f"{path}: cannot open: {exc.strerror or exc}") from exc
