"""The project's HDF5 capture: IQ, PSD waterfall, events and provenance in one file.

Layout (format ``spectrum-capture`` version 1; every name is a constant below, and
``docs/hdf5-format.md`` documents it for people reading the file with plain h5py):

========================  ===================================================================
``/iq``                   1-D, interleaved I,Q,I,Q in the source's native dtype (``u1`` cu8,
                          ``i1`` ci8, ``<i2`` ci16_le, ``<f4`` cf32_le); chunked, resizable,
                          optional gzip/lzf compression. Attribute ``datatype``.
``/segments``             compound (``sample_start`` i8, ``center_freq_hz`` f8,
                          ``start_time_unix_s`` f8, NaN if unknown): one row per tuning.
``/waterfall/power_dbfs`` (rows, bins) float32, dBFS, bins in frequency order.
``/waterfall/time_s``     (rows,) float64, start of each row, seconds since the capture start
                          (the detector's clock: rows of one band counted back to back).
``/waterfall/center_freq_hz``  (rows,) float64, tuning of each row, Hz.
``/waterfall/freq_offset_hz``  (bins,) float64, bin centre minus the tuning, Hz; the absolute
                          frequency of bin k in row r is ``center_freq_hz[r] + freq_offset_hz[k]``.
``/events``               (n,) variable-length UTF-8 strings, each one event JSON object in the
                          contract shape (DESIGN.md), closed events only, in closing order.
root attributes           ``format``, ``format_version``, ``datatype``, ``sample_rate_hz``,
                          ``center_freq_hz``, ``num_samples``, ``start_time_utc`` (ISO-8601),
                          optional ``gain_db``, ``ppm``, ``site``, ``sensor``, ``latitude_deg``,
                          ``longitude_deg``, ``altitude_m``, ``detector_version``,
                          ``detector_config_hash``, ``description``, ``source``; ``complete``
                          and the hashes ``iq_sha256``, ``waterfall_sha256``,
                          ``metadata_sha256`` (written when the file is closed cleanly).
========================  ===================================================================

Choice: events are JSON strings, not a compound dataset. The contract allows added fields
(``clip_share``, ``spectral_kurtosis``, ...) that differ between kinds, and several fields are
null (``end`` while ongoing, ``site``); a compound type would need a fixed schema and sentinel
values for null. A JSON string per event round-trips the contract object exactly and is read
with ``[json.loads(s) for s in f["events"].asstr()]``.

Writing goes to ``NAME.partial.h5`` and is renamed to ``NAME.h5`` by :meth:`HDF5Writer.close`;
:meth:`HDF5Writer.flush` makes the partial file consistent on disk, so a killed recorder leaves
a readable ``.partial.h5`` (attribute ``complete`` false, no hashes) up to its last flush.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from captures import keys
from captures.capture_errors import CaptureError
from captures.reader import CaptureReader, Segment, resolve_datatype

# --------------------------------------------------------------------------- names
FORMAT_NAME = "spectrum-capture"
FORMAT_VERSION = 1
PARTIAL_SUFFIX = ".partial"  # NAME.partial.h5 while being written

IQ_KEY = "iq"
SEGMENTS_KEY = "segments"
WATERFALL_KEY = "waterfall"
WF_POWER_KEY = "waterfall/power_dbfs"
WF_TIME_KEY = "waterfall/time_s"
WF_CENTER_KEY = "waterfall/center_freq_hz"
WF_OFFSET_KEY = "waterfall/freq_offset_hz"
EVENTS_KEY = "events"

# Root attributes.
FORMAT_ATTR = "format"
FORMAT_VERSION_ATTR = "format_version"
DATATYPE_ATTR = "datatype"
SAMPLE_RATE_ATTR = "sample_rate_hz"
CENTER_FREQ_ATTR = "center_freq_hz"
NUM_SAMPLES_ATTR = "num_samples"
START_TIME_ATTR = "start_time_utc"
GAIN_ATTR = "gain_db"
PPM_ATTR = "ppm"
SITE_ATTR = "site"
SENSOR_ATTR = "sensor"
LATITUDE_ATTR = "latitude_deg"
LONGITUDE_ATTR = "longitude_deg"
ALTITUDE_ATTR = "altitude_m"
DETECTOR_VERSION_ATTR = "detector_version"
DETECTOR_HASH_ATTR = "detector_config_hash"
DESCRIPTION_ATTR = "description"
SOURCE_ATTR = "source"
RECORDER_ATTR = "recorder"
COMPLETE_ATTR = "complete"
IQ_SHA256_ATTR = "iq_sha256"
WATERFALL_SHA256_ATTR = "waterfall_sha256"
METADATA_SHA256_ATTR = "metadata_sha256"
HASH_ATTRS = (IQ_SHA256_ATTR, WATERFALL_SHA256_ATTR, METADATA_SHA256_ATTR)

#: Optional root attributes a caller may set (value types: str or number).
OPTIONAL_ATTRS = (GAIN_ATTR, PPM_ATTR, SITE_ATTR, SENSOR_ATTR, LATITUDE_ATTR, LONGITUDE_ATTR,
                  ALTITUDE_ATTR, DETECTOR_VERSION_ATTR, DETECTOR_HASH_ATTR, DESCRIPTION_ATTR,
                  SOURCE_ATTR)

# Waterfall group attributes.
WF_FFT_SIZE_ATTR = "fft_size"
WF_FRAMES_ATTR = "frames_per_row"
WF_ROW_S_ATTR = "row_s"
WF_BIN_HZ_ATTR = "bin_hz"

SEGMENT_DTYPE = np.dtype([("sample_start", "<i8"), ("center_freq_hz", "<f8"),
                          ("start_time_unix_s", "<f8")])
COMPRESSIONS = (None, "gzip", "lzf")
CHUNK_VALUES = 1 << 19  # IQ values per chunk (512 KiB of cu8): whole-chunk reads for 1 Mi-sample blocks
HASH_CHUNK_VALUES = 1 << 22  # values read at a time when hashing (bounded memory)
READ_CACHE_BYTES = 16 << 20  # HDF5 chunk cache when reading (a few compressed chunks)


def _h5py():
    """Import h5py lazily (``import captures`` stays light)."""
    import h5py

    return h5py


def partial_path(path: str | os.PathLike[str]) -> Path:
    """Name of the file being written for ``path``: ``x.h5`` → ``x.partial.h5``."""
    p = Path(path)
    return p.with_name(p.stem + PARTIAL_SUFFIX + p.suffix)


def _plain(value: Any) -> Any:
    """An HDF5 attribute value as plain Python (str, int, float, bool, list)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# --------------------------------------------------------------------------- hashing
def iq_sha256(dataset: Any, num_values: int | None = None) -> str:
    """SHA-256 of the IQ bytes (little-endian native dtype), read in bounded chunks.

    Parameters
    ----------
    dataset : h5py.Dataset
        The ``/iq`` dataset.
    num_values : int, optional
        Values to hash, default all.
    """
    total = dataset.shape[0] if num_values is None else num_values
    digest = hashlib.sha256()
    for lo in range(0, total, HASH_CHUNK_VALUES):
        digest.update(np.ascontiguousarray(dataset[lo : min(lo + HASH_CHUNK_VALUES, total)]).data)
    return digest.hexdigest()


def waterfall_sha256(h5: Any) -> str:
    """SHA-256 of ``power_dbfs`` (row by row), ``time_s`` and ``center_freq_hz``; '' if absent."""
    if WF_POWER_KEY not in h5:
        return ""
    digest = hashlib.sha256()
    power = h5[WF_POWER_KEY]
    step = max(1, (8 << 20) // max(1, 4 * power.shape[1]))
    for lo in range(0, power.shape[0], step):
        digest.update(np.ascontiguousarray(power[lo : lo + step], "<f4").data)
    for key in (WF_TIME_KEY, WF_CENTER_KEY, WF_OFFSET_KEY):
        digest.update(np.ascontiguousarray(h5[key][...], "<f8").data)
    return digest.hexdigest()


def metadata_document(h5: Any) -> dict[str, Any]:
    """Everything ``metadata_sha256`` covers, as plain JSON-able data.

    Root attributes except the hashes, ``/iq`` and ``/waterfall`` attributes, the segments
    table and the events (as stored strings).
    """
    doc: dict[str, Any] = {
        "attrs": {k: _plain(v) for k, v in h5.attrs.items() if k not in HASH_ATTRS},
        "iq_attrs": {k: _plain(v) for k, v in h5[IQ_KEY].attrs.items()} if IQ_KEY in h5 else None,
        "waterfall_attrs": ({k: _plain(v) for k, v in h5[WATERFALL_KEY].attrs.items()}
                            if WATERFALL_KEY in h5 else None),
        "segments": h5[SEGMENTS_KEY][...].tolist() if SEGMENTS_KEY in h5 else None,
        "events": list(h5[EVENTS_KEY].asstr()[...]) if EVENTS_KEY in h5 else None,
    }
    return doc


def metadata_sha256(h5: Any) -> str:
    """SHA-256 of :func:`metadata_document` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(metadata_document(h5), sort_keys=True, separators=(",", ":"),
                      allow_nan=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- writer
class HDF5Writer:
    """Write an HDF5 capture incrementally (IQ, waterfall rows, events, attributes).

    The file is written as ``NAME.partial.h5`` and renamed to ``NAME.h5`` by :meth:`close`,
    which also stores the hashes and sets ``complete``. :meth:`flush` makes the partial file
    readable as it stands. A context manager: leaving the ``with`` block by an exception
    removes the partial file (:meth:`abort`). ``close`` and ``abort`` are safe twice.

    Parameters
    ----------
    path : str or os.PathLike
        Final file name (``.h5`` or ``.hdf5``).
    datatype : str
        Sample datatype of the IQ (SigMF name or raw alias); stored as is, never converted.
    sample_rate_hz : float
        Sample rate, S/s.
    center_freq_hz : float
        Tuning of the first segment, Hz.
    start_time : datetime, optional
        Time of the first sample, timezone-aware.
    attrs : dict, optional
        Optional root attributes (:data:`OPTIONAL_ATTRS`); None values are skipped.
    compression : {None, "gzip", "lzf"}
        Filter for ``/iq`` (gzip level 4; with byte shuffle for multi-byte types).
    chunk_values : int
        IQ values per chunk.

    Raises
    ------
    CaptureError
        Bad arguments or an output path that cannot be written.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        datatype: str,
        sample_rate_hz: float,
        center_freq_hz: float,
        start_time: datetime | None = None,
        *,
        attrs: dict[str, Any] | None = None,
        compression: str | None = None,
        chunk_values: int = CHUNK_VALUES,
    ) -> None:
        h5py = _h5py()
        self.path = Path(path)
        self.partial_path = partial_path(self.path)
        self._closed = True
        where = str(self.path)
        if not self.path.name.lower().endswith(keys.HDF5_EXTS):
            raise CaptureError(f"{where}: an HDF5 capture must end in .h5 or .hdf5")
        self._dt = resolve_datatype(datatype, where)
        if not (isinstance(sample_rate_hz, (int, float)) and math.isfinite(sample_rate_hz)
                and sample_rate_hz > 0):
            raise CaptureError(f"{where}: sample rate {sample_rate_hz!r} must be a positive number")
        if compression not in COMPRESSIONS:
            raise CaptureError(f"{where}: compression {compression!r} must be one of gzip, lzf or none")
        if start_time is not None and start_time.tzinfo is None:
            raise CaptureError(f"{where}: start time {start_time!r} must be timezone-aware")
        if self.path.is_dir():
            raise CaptureError(f"{where} is a directory; give a file name ending in .h5")
        if not self.path.parent.is_dir():
            raise CaptureError(f"{where}: directory {self.path.parent} does not exist")
        self.sample_rate_hz = float(sample_rate_hz)
        self.start_time = start_time
        try:
            self._h5 = h5py.File(self.partial_path, "w")
        except (OSError, ValueError) as exc:
            self.partial_path.unlink(missing_ok=True)
            raise CaptureError(f"{where}: cannot write: {getattr(exc, 'strerror', None) or exc}") from exc
        self._closed = False
        try:
            self._init_file(center_freq_hz, attrs or {}, compression, chunk_values)
        except BaseException:
            self.abort()
            raise

    def _init_file(self, center_freq_hz: float, attrs: dict[str, Any], compression: str | None,
                   chunk_values: int) -> None:
        h5py = _h5py()
        h5 = self._h5
        root = h5.attrs
        root[FORMAT_ATTR] = FORMAT_NAME
        root[FORMAT_VERSION_ATTR] = FORMAT_VERSION
        root[RECORDER_ATTR] = keys.RECORDER_NAME
        root[DATATYPE_ATTR] = self._dt.name
        root[SAMPLE_RATE_ATTR] = self.sample_rate_hz
        root[CENTER_FREQ_ATTR] = float(center_freq_hz)
        root[NUM_SAMPLES_ATTR] = 0
        root[COMPLETE_ATTR] = False
        if self.start_time is not None:
            root[START_TIME_ATTR] = _iso(self.start_time)
        self.set_attrs(**attrs)
        filters: dict[str, Any] = {}
        if compression == "gzip":
            filters = {"compression": "gzip", "compression_opts": 4}
        elif compression == "lzf":
            filters = {"compression": "lzf"}
        if compression and self._dt.dtype.itemsize > 1:
            filters["shuffle"] = True
        chunk = int(max(2, chunk_values - chunk_values % 2))
        self._iq = h5.create_dataset(IQ_KEY, shape=(0,), maxshape=(None,), dtype=self._dt.dtype,
                                     chunks=(chunk,), **filters)
        self._iq.attrs[DATATYPE_ATTR] = self._dt.name
        self._iq.attrs["layout"] = "interleaved I,Q"
        self._segments = h5.create_dataset(SEGMENTS_KEY, shape=(0,), maxshape=(None,),
                                           dtype=SEGMENT_DTYPE, chunks=(256,))
        self._events = h5.create_dataset(EVENTS_KEY, shape=(0,), maxshape=(None,),
                                         dtype=h5py.string_dtype("utf-8"), chunks=(64,))
        self._wf: dict[str, Any] | None = None
        self._num_values = 0
        self._hash = hashlib.sha256()
        self.new_segment(center_freq_hz, self.start_time)

    # ------------------------------------------------------------------ properties
    @property
    def num_samples(self) -> int:
        """Complex samples written so far."""
        return self._num_values // 2

    @property
    def num_rows(self) -> int:
        """Waterfall rows written so far."""
        return 0 if self._wf is None else self._wf["power"].shape[0]

    @property
    def num_events(self) -> int:
        """Events written so far."""
        return 0 if self._closed else self._events.shape[0]

    # ------------------------------------------------------------------ writing
    def set_attrs(self, **attrs: Any) -> None:
        """Set optional root attributes (:data:`OPTIONAL_ATTRS`); None values are skipped."""
        self._check_open()
        unknown = sorted(set(attrs) - set(OPTIONAL_ATTRS))
        if unknown:
            raise CaptureError(f"{self.path}: unknown attribute(s) {unknown}; "
                               f"allowed: {', '.join(OPTIONAL_ATTRS)}")
        for name, value in attrs.items():
            if value is None:
                continue
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise CaptureError(f"{self.path}: attribute {name}={value!r} must be a string or number")
            self._h5.attrs[name] = value

    def new_segment(self, center_freq_hz: float, start_time: datetime | None = None) -> None:
        """Start a tuning segment at the current sample (replaces an empty last one)."""
        self._check_open()
        if not (isinstance(center_freq_hz, (int, float, np.floating)) and math.isfinite(center_freq_hz)):
            raise CaptureError(f"{self.path}: centre frequency {center_freq_hz!r} must be a finite number")
        row = np.array([(self.num_samples, float(center_freq_hz),
                         start_time.timestamp() if start_time is not None else math.nan)],
                       SEGMENT_DTYPE)
        n = self._segments.shape[0]
        if n and self._segments[n - 1]["sample_start"] == self.num_samples:
            self._segments[n - 1] = row[0]
        else:
            self._segments.resize((n + 1,))
            self._segments[n] = row[0]

    def write(self, samples: NDArray[Any]) -> None:
        """Append interleaved native samples (1-D, even length, the datatype's dtype).

        Raises
        ------
        CaptureError
            Wrong dtype or shape, writer closed, or the write failed (e.g. disk full).
        """
        self._check_open()
        if not isinstance(samples, np.ndarray) or samples.dtype != self._dt.dtype:
            got = getattr(samples, "dtype", type(samples).__name__)
            raise CaptureError(f"{self.path}: samples have dtype {got}, but {self._dt.name} needs {self._dt.dtype}")
        if samples.ndim != 1 or samples.shape[0] % 2:
            raise CaptureError(f"{self.path}: samples must be a 1-D interleaved I,Q array of even "
                               f"length, got shape {samples.shape}")
        n = samples.shape[0]
        data = np.ascontiguousarray(samples)
        self._guard(lambda: (self._iq.resize((self._num_values + n,)),
                             self._iq.write_direct(data, dest_sel=np.s_[self._num_values:self._num_values + n])))
        self._hash.update(data.data)
        self._num_values += n

    def add_rows(self, power_dbfs: NDArray[np.float32], time_s: NDArray[np.float64],
                 center_freq_hz: float, *, fft_size: int, frames_per_row: int,
                 row_s: float) -> None:
        """Append waterfall rows.

        Parameters
        ----------
        power_dbfs : numpy.ndarray
            (rows, bins) float32, dBFS, bins in frequency order.
        time_s : numpy.ndarray
            (rows,) start of each row, seconds since the capture start.
        center_freq_hz : float
            Tuning of these rows, Hz.
        fft_size, frames_per_row : int
            Front-end settings (fixed for the file; the first call sets them).
        row_s : float
            Duration of one row, seconds.
        """
        self._check_open()
        power = np.asarray(power_dbfs, np.float32)
        if power.ndim != 2 or power.shape[1] != fft_size or len(time_s) != power.shape[0]:
            raise CaptureError(f"{self.path}: waterfall rows must be (rows, {fft_size}) with one time each")
        if self._wf is None:
            self._start_waterfall(fft_size, frames_per_row, row_s)
        elif self._wf["fft_size"] != fft_size:
            raise CaptureError(f"{self.path}: waterfall has {self._wf['fft_size']} bins, not {fft_size}")
        wf = self._wf
        n0, k = wf["power"].shape[0], power.shape[0]

        def put() -> None:
            for key in ("power", "time", "center"):
                wf[key].resize((n0 + k,) + wf[key].shape[1:])
            wf["power"][n0:] = power
            wf["time"][n0:] = np.asarray(time_s, np.float64)
            wf["center"][n0:] = float(center_freq_hz)

        self._guard(put)

    def _start_waterfall(self, fft_size: int, frames_per_row: int, row_s: float) -> None:
        h5 = self._h5
        group = h5.create_group(WATERFALL_KEY)
        group.attrs[WF_FFT_SIZE_ATTR] = int(fft_size)
        group.attrs[WF_FRAMES_ATTR] = int(frames_per_row)
        group.attrs[WF_ROW_S_ATTR] = float(row_s)
        group.attrs[WF_BIN_HZ_ATTR] = self.sample_rate_hz / fft_size
        group.attrs["units"] = "dBFS (tone-calibrated: a full-scale tone in one bin reads 0 dBFS)"
        rows_chunk = max(1, (256 << 10) // (4 * fft_size))
        self._wf = {
            "fft_size": int(fft_size),
            "power": h5.create_dataset(WF_POWER_KEY, shape=(0, fft_size), maxshape=(None, fft_size),
                                       dtype="<f4", chunks=(rows_chunk, fft_size)),
            "time": h5.create_dataset(WF_TIME_KEY, shape=(0,), maxshape=(None,), dtype="<f8", chunks=(4096,)),
            "center": h5.create_dataset(WF_CENTER_KEY, shape=(0,), maxshape=(None,), dtype="<f8", chunks=(4096,)),
        }
        offsets = (np.arange(fft_size) - fft_size // 2) * (self.sample_rate_hz / fft_size)
        h5.create_dataset(WF_OFFSET_KEY, data=offsets.astype("<f8"))

    def add_event(self, event: dict[str, Any]) -> None:
        """Append one (closed) event in contract shape; stored as a JSON string."""
        self._check_open()
        try:
            text = json.dumps(event, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise CaptureError(f"{self.path}: event is not JSON-serialisable: {exc}") from exc
        n = self._events.shape[0]

        def put() -> None:
            self._events.resize((n + 1,))
            self._events[n] = text

        self._guard(put)

    def flush(self) -> None:
        """Make the partial file consistent on disk as it stands (a killed writer leaves it)."""
        self._check_open()
        self._h5.attrs[NUM_SAMPLES_ATTR] = self.num_samples
        self._guard(self._h5.flush)

    def close(self) -> None:
        """Store hashes, mark complete, close and rename into place. Safe twice.

        Raises
        ------
        CaptureError
            If finishing fails (the partial file is then removed).
        """
        if self._closed:
            return
        try:
            h5 = self._h5
            h5.attrs[NUM_SAMPLES_ATTR] = self.num_samples
            h5.attrs[COMPLETE_ATTR] = True
            h5.attrs[IQ_SHA256_ATTR] = self._hash.hexdigest()
            h5.attrs[WATERFALL_SHA256_ATTR] = waterfall_sha256(h5)
            h5.attrs[METADATA_SHA256_ATTR] = metadata_sha256(h5)
            h5.close()
            os.replace(self.partial_path, self.path)
        except (OSError, ValueError, RuntimeError) as exc:
            self.abort()
            raise CaptureError(f"{self.path}: cannot finish the capture: "
                               f"{getattr(exc, 'strerror', None) or exc}") from exc
        self._closed = True

    def abort(self) -> None:
        """Discard the capture: close and delete the partial file. Safe twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._h5.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away; report the first error
            pass
        self.partial_path.unlink(missing_ok=True)

    def _guard(self, action: Any) -> None:
        """Run an h5py write; turn OS/HDF5 failures (disk full) into CaptureError."""
        try:
            action()
        except (OSError, RuntimeError, ValueError) as exc:
            raise CaptureError(f"{self.partial_path}: write failed: "
                               f"{getattr(exc, 'strerror', None) or exc}") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise CaptureError(f"{self.path}: writer is closed")

    def __enter__(self) -> HDF5Writer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- reader
class _DatasetIO(io.RawIOBase):
    """A read-only, seekable byte view of a 1-D h5py dataset (whole items only)."""

    def __init__(self, dataset: Any, num_values: int) -> None:
        super().__init__()
        self._ds = dataset
        self._dtype = dataset.dtype
        self._item = dataset.dtype.itemsize
        self._size = num_values * self._item
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), self._size - self._pos)
        n -= n % self._item
        if n <= 0 or self._pos % self._item:
            return 0
        first = self._pos // self._item
        out = np.frombuffer(view[:n], dtype=self._dtype)
        self._ds.read_direct(out, source_sel=np.s_[first : first + n // self._item])
        self._pos += n
        return n


@dataclass
class Waterfall:
    """A stored waterfall: ``power_dbfs[r, k]`` at ``time_s[r]`` and ``center_freq_hz[r] + freq_offset_hz[k]``."""

    power_dbfs: NDArray[np.float32]
    time_s: NDArray[np.float64]
    center_freq_hz: NDArray[np.float64]
    freq_offset_hz: NDArray[np.float64]
    row_s: float
    fft_size: int
    frames_per_row: int

    @property
    def freq_hz(self) -> NDArray[np.float64]:
        """Absolute bin frequencies of the first row's tuning, Hz."""
        first = self.center_freq_hz[0] if len(self.center_freq_hz) else 0.0
        return first + self.freq_offset_hz


class HDF5CaptureReader(CaptureReader):
    """A :class:`CaptureReader` over an HDF5 capture, plus its waterfall, events and attributes.

    Built by :func:`open_hdf5`. Samples stream from ``/iq`` in chunks (memory bounded by the
    request size). :meth:`close` also closes the HDF5 file; safe twice.

    Attributes
    ----------
    attrs : dict
        Root attributes as plain Python values (also ``global_info``).
    events : list of dict
        Stored events (contract shape).
    complete : bool
        False for a recording interrupted before it was closed (a ``.partial.h5``).
    """

    def __init__(self, h5: Any, path: Path | None, fileobj: BinaryIO | None) -> None:
        self.h5 = h5
        self._own_fileobj = fileobj
        where = str(path) if path is not None else "<buffer>"
        attrs = {k: _plain(v) for k, v in h5.attrs.items()}
        if attrs.get(FORMAT_ATTR) != FORMAT_NAME:
            raise CaptureError(f"{where}: not a spectrum HDF5 capture (root attribute "
                               f"{FORMAT_ATTR!r} is {attrs.get(FORMAT_ATTR)!r}, expected {FORMAT_NAME!r})")
        version = attrs.get(FORMAT_VERSION_ATTR)
        if version != FORMAT_VERSION:
            raise CaptureError(f"{where}: format_version {version!r} is not supported (this "
                               f"reader knows version {FORMAT_VERSION}); upgrade spectrum")
        for name in (DATATYPE_ATTR, SAMPLE_RATE_ATTR, CENTER_FREQ_ATTR):
            if name not in attrs:
                raise CaptureError(f"{where}: root attribute {name!r} is missing")
        dt = resolve_datatype(attrs[DATATYPE_ATTR], where)
        if IQ_KEY not in h5 or not isinstance(h5[IQ_KEY], _h5py().Dataset):
            raise CaptureError(f"{where}: dataset /{IQ_KEY} is missing")
        iq = h5[IQ_KEY]
        if iq.ndim != 1 or iq.dtype != dt.dtype:
            raise CaptureError(f"{where}: /{IQ_KEY} has dtype {iq.dtype} and shape {iq.shape}; "
                               f"datatype {dt.name} needs a 1-D {dt.dtype} dataset")
        num_values = iq.shape[0] - iq.shape[0] % 2
        segments = _read_segments(h5, where, float(attrs[CENTER_FREQ_ATTR]),
                                  attrs.get(START_TIME_ATTR))
        self.attrs = attrs
        self.complete = bool(attrs.get(COMPLETE_ATTR, False))
        self.events = _read_events(h5, where)
        super().__init__(_DatasetIO(iq, num_values), datatype=dt.name,
                         sample_rate_hz=attrs[SAMPLE_RATE_ATTR], segments=segments, path=path,
                         global_info=attrs, annotations=[])
        self._name = where

    @property
    def has_waterfall(self) -> bool:
        """True if the file holds a waterfall with at least one row."""
        return not self.closed and WF_POWER_KEY in self.h5 and self.h5[WF_POWER_KEY].shape[0] > 0

    def waterfall(self, rows: slice | None = None) -> Waterfall:
        """Read the stored waterfall (or the ``rows`` slice of it).

        Raises
        ------
        CaptureError
            If the file has no waterfall or it is malformed.
        """
        if self.closed:
            raise CaptureError(f"{self._name}: reader is closed")
        h5 = self.h5
        for key in (WF_POWER_KEY, WF_TIME_KEY, WF_CENTER_KEY, WF_OFFSET_KEY):
            if key not in h5:
                raise CaptureError(f"{self._name}: /{key} is missing; the file has no waterfall")
        power = h5[WF_POWER_KEY]
        if power.ndim != 2 or power.dtype.kind != "f":
            raise CaptureError(f"{self._name}: /{WF_POWER_KEY} must be a 2-D float dataset, "
                               f"got {power.dtype} {power.shape}")
        sel = rows if rows is not None else slice(None)
        n = min(power.shape[0], h5[WF_TIME_KEY].shape[0], h5[WF_CENTER_KEY].shape[0])
        idx = range(n)[sel]
        if idx.step <= 0:
            raise CaptureError(f"{self._name}: waterfall rows must be read forwards")
        lo, hi, step = idx.start, idx.stop, idx.step
        group = h5[WATERFALL_KEY].attrs
        return Waterfall(
            power_dbfs=np.asarray(power[lo:hi:step], np.float32),
            time_s=np.asarray(h5[WF_TIME_KEY][lo:hi:step], np.float64),
            center_freq_hz=np.asarray(h5[WF_CENTER_KEY][lo:hi:step], np.float64),
            freq_offset_hz=np.asarray(h5[WF_OFFSET_KEY][...], np.float64),
            row_s=float(group.get(WF_ROW_S_ATTR, 0.0)),
            fft_size=int(group.get(WF_FFT_SIZE_ATTR, power.shape[1])),
            frames_per_row=int(group.get(WF_FRAMES_ATTR, 0)),
        )

    def iter_waterfall(self, rows_per_read: int = 4096) -> Iterator[Waterfall]:
        """Yield the waterfall in pieces of ``rows_per_read`` rows (bounded memory)."""
        if not self.has_waterfall:
            return
        n = self.h5[WF_POWER_KEY].shape[0]
        for lo in range(0, n, rows_per_read):
            yield self.waterfall(slice(lo, min(lo + rows_per_read, n)))

    def close(self) -> None:
        """Close the HDF5 file (and a file object :func:`open_hdf5` opened). Safe twice."""
        super().close()
        h5, self.h5 = getattr(self, "h5", None), None
        if h5 is not None:
            h5.close()
        f, self._own_fileobj = getattr(self, "_own_fileobj", None), None
        if f is not None:
            f.close()


def _read_segments(h5: Any, where: str, center_freq_hz: float, start_text: str | None) -> list[Segment]:
    start = _parse_time(start_text, where)
    if SEGMENTS_KEY not in h5:
        return [Segment(0, center_freq_hz, start)]
    table = h5[SEGMENTS_KEY]
    names = getattr(table.dtype, "names", None) or ()
    if not {"sample_start", "center_freq_hz"} <= set(names):
        raise CaptureError(f"{where}: /{SEGMENTS_KEY} must be a compound dataset with "
                           f"sample_start and center_freq_hz fields, got dtype {table.dtype}")
    rows = table[...]
    if rows.shape[0] == 0:
        return [Segment(0, center_freq_hz, start)]
    out = []
    for row in rows:
        t = float(row["start_time_unix_s"]) if "start_time_unix_s" in names else math.nan
        when = datetime.fromtimestamp(t, timezone.utc) if math.isfinite(t) else None
        out.append(Segment(int(row["sample_start"]), float(row["center_freq_hz"]), when))
    return out


def _parse_time(text: str | None, where: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError as exc:
        raise CaptureError(f"{where}: {START_TIME_ATTR} {text!r} is not an ISO-8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _read_events(h5: Any, where: str) -> list[dict[str, Any]]:
    if EVENTS_KEY not in h5:
        return []
    ds = h5[EVENTS_KEY]
    if ds.ndim != 1 or ds.dtype.kind not in ("O", "S"):
        raise CaptureError(f"{where}: /{EVENTS_KEY} must be a 1-D string dataset, got {ds.dtype} {ds.shape}")
    out = []
    for i, text in enumerate(ds.asstr()[...]):
        try:
            event = json.loads(text)
        except ValueError as exc:
            raise CaptureError(f"{where}: /{EVENTS_KEY}[{i}] is not JSON: {exc}") from exc
        if not isinstance(event, dict):
            raise CaptureError(f"{where}: /{EVENTS_KEY}[{i}] is not a JSON object")
        out.append(event)
    return out


def open_h5_file(path: str | os.PathLike[str] | BinaryIO, mode: str = "r") -> tuple[Any, Path | None, BinaryIO | None]:
    """Open an HDF5 file by path or file object, mapping failures to CaptureError.

    Returns
    -------
    h5, path, fileobj
        The ``h5py.File``, the path (None for a buffer), and a file object to close (None).
    """
    h5py = _h5py()
    if isinstance(path, (str, os.PathLike)):
        p = Path(path)
        if not p.exists():
            raise CaptureError(f"{p}: no such file")
        if p.is_dir():
            raise CaptureError(f"{p} is a directory, not a capture file")
        try:
            return h5py.File(p, mode, rdcc_nbytes=READ_CACHE_BYTES), p, None
        except OSError as exc:
            raise CaptureError(f"{p}: not a readable HDF5 file (truncated or corrupt?): {exc}") from exc
    try:
        return h5py.File(path, mode, rdcc_nbytes=READ_CACHE_BYTES), None, None
    except (OSError, ValueError) as exc:
        raise CaptureError(f"<buffer>: not a readable HDF5 file (truncated or corrupt?): {exc}") from exc


def open_hdf5(path: str | os.PathLike[str] | BinaryIO) -> HDF5CaptureReader:
    """Open an HDF5 capture for streaming reads.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The ``.h5``/``.hdf5`` file (a ``.partial.h5`` of an interrupted recording works too),
        or a seekable binary file object holding one.

    Returns
    -------
    HDF5CaptureReader

    Raises
    ------
    CaptureError
        Missing, truncated or corrupt file, not a spectrum capture, or missing/wrong datasets.
    """
    h5, p, fileobj = open_h5_file(path)
    try:
        return HDF5CaptureReader(h5, p, fileobj)
    except CaptureError:
        h5.close()
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        h5.close()
        raise CaptureError(f"{p or '<buffer>'}: malformed HDF5 capture: {exc}") from exc
