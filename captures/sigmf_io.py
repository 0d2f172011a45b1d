"""SigMF recordings (specification v1.x): streaming reader and writer.

Choice: the metadata is parsed here with :mod:`json`, not with the ``sigmf`` package.
``sigmf.SigMFFile`` hashes the whole dataset on open (``skip_checksum=False`` by default) and
serves samples through ``np.memmap``; both cost time or RSS proportional to the file size, which
the streaming reader must avoid. Its schema validator also rejects files we can read safely (and
needs ``jsonschema`` at import). So reading is hand-written and lenient where the spec allows,
strict where a wrong guess would mislabel samples; ``sigmf`` is used only in the tests, to check
that :class:`SigMFWriter` output passes the official validator, so it is a test dependency (the
``dev`` extra), not a runtime one. Nothing here imports ``sigmf``.

Layout rules implemented (spec v1.2):

* ``core:offset`` (global) is a *sample index*, not a byte count: the index of the dataset's first
  sample when a recording is split over files. Capture ``core:sample_start`` values are then
  absolute (spec: "SHOULD be greater than or equal to this value") and are converted to
  file-relative indices; if a file's first capture starts below ``core:offset`` its indices are
  taken as file-relative already. :attr:`CaptureReader.sample_offset` gives the difference.
* ``core:header_bytes`` (captures, Non-Conforming Datasets) are bytes skipped before each
  segment's samples; ``core:trailing_bytes`` are ignored at the end; ``core:dataset`` names the
  data file of a Non-Conforming Dataset (same directory as the metadata).
* ``core:global_index`` is ignored; ``core:num_channels`` > 1 and non-optional extensions are
  refused with :class:`CaptureError`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from captures import keys
from captures.capture_errors import CaptureError
from captures.reader import CaptureReader, Segment, resolve_datatype


# --------------------------------------------------------------------------- paths
def sigmf_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Return ``(meta_path, data_path)`` for a recording named by either file or its base name.

    Parameters
    ----------
    path : str or os.PathLike
        ``x.sigmf-meta``, ``x.sigmf-data`` or ``x``.

    Returns
    -------
    meta_path, data_path : Path
        The conforming file names (``core:dataset`` is applied later, by :func:`open_sigmf`).
    """
    text = os.fspath(path)
    for ext in (keys.SIGMF_META_EXT, keys.SIGMF_DATA_EXT):
        if text.endswith(ext):
            text = text[: -len(ext)]
            break
    return Path(text + keys.SIGMF_META_EXT), Path(text + keys.SIGMF_DATA_EXT)


# --------------------------------------------------------------------------- field checks
def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _get_int(obj: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = obj.get(key, default)
    if not _is_int(value) or value < 0:
        what = "is missing" if key not in obj else f"is {value!r}"
        raise CaptureError(f"{where}: {key} {what}; it must be a non-negative integer")
    return value


def _get_number(obj: dict[str, Any], key: str, where: str) -> float | None:
    if key not in obj:
        return None
    value = obj[key]
    if not _is_number(value):
        raise CaptureError(f"{where}: {key} is {value!r}; it must be a finite number")
    return float(value)


def parse_datetime(text: object, where: str) -> datetime:
    """Parse a SigMF ``core:datetime`` (ISO-8601, ``Z``) into an aware UTC datetime.

    Parameters
    ----------
    text : object
        The JSON value, expected like ``2024-05-01T12:00:00.123456789Z``. Fractions beyond
        microseconds are truncated; a missing zone is taken as UTC, other zones are converted.
    where : str
        Location for the error message (file and key).

    Returns
    -------
    datetime
        Timezone-aware, in UTC.

    Raises
    ------
    CaptureError
        If the value is not a string in ISO-8601 form.
    """
    try:
        if not isinstance(text, str):
            raise ValueError("not a string")
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CaptureError(
            f"{where}: {keys.DATETIME_KEY} {text!r} is not an ISO-8601 time like "
            f"2024-05-01T12:00:00Z ({exc})"
        ) from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_datetime(moment: datetime) -> str:
    """Format an aware datetime as SigMF wants it: UTC, microseconds, ``Z`` suffix."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sigmf_datatype(value: object, where: str) -> str:
    """Check a ``core:datatype`` value; 8-bit types may carry a redundant ``_le``/``_be``."""
    if isinstance(value, str) and value[:3] in ("cu8", "ci8") and value[3:] in ("", "_le", "_be"):
        value = value[:3]
    if not isinstance(value, str) or value not in keys.DATATYPES:
        supported = ", ".join(keys.DATATYPES)
        raise CaptureError(f"{where}: unsupported datatype {value!r}; supported: {supported}")
    return value


# --------------------------------------------------------------------------- reader
def read_sigmf_meta(meta_path: Path) -> dict[str, Any]:
    """Load a ``.sigmf-meta`` file and check its top-level shape.

    Returns
    -------
    dict
        With ``global`` (dict), ``captures`` (list of dict) and ``annotations`` (list of dict);
        missing ``captures``/``annotations`` become empty lists.

    Raises
    ------
    CaptureError
        Missing file, not JSON, or not a SigMF-shaped object.
    """
    if not meta_path.exists():
        raise CaptureError(f"{meta_path}: no such file")
    if meta_path.is_dir():
        raise CaptureError(f"{meta_path} is a directory, not a SigMF metadata file")
    try:
        raw = meta_path.read_bytes()
    except OSError as exc:
        raise CaptureError(f"{meta_path}: cannot read: {exc.strerror or exc}") from exc
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise CaptureError(f"{meta_path} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise CaptureError(
            f"{meta_path} is not valid JSON: expected an object at the top level, "
            f"got {type(meta).__name__}"
        )
    glob = meta.get(keys.GLOBAL_KEY)
    if not isinstance(glob, dict):
        raise CaptureError(f"{meta_path}: no {keys.GLOBAL_KEY!r} object; not SigMF metadata")
    out: dict[str, Any] = {keys.GLOBAL_KEY: glob}
    for key in (keys.CAPTURE_KEY, keys.ANNOTATION_KEY):
        items = meta.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise CaptureError(f"{meta_path}: {key!r} must be a list of objects")
        out[key] = items
    return out


def open_sigmf(
    path: str | os.PathLike[str],
    data: BinaryIO | None = None,
    sample_rate_hz: float | None = None,
    center_freq_hz: float | None = None,
) -> CaptureReader:
    """Open a SigMF recording for streaming reads.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.sigmf-meta`` file, the ``.sigmf-data`` file, or their base name.
    data : binary file object, optional
        Read samples from this seekable object instead of the data file.
    sample_rate_hz : float, optional
        Used only if the metadata lacks ``core:sample_rate``, S/s.
    center_freq_hz : float, optional
        Used only for capture segments lacking ``core:frequency``, Hz.

    Returns
    -------
    CaptureReader
        ``path`` is the metadata file, ``data_path`` the dataset; ``global_info`` and
        ``annotations`` are the metadata's own objects (annotation indices as written, i.e.
        ``reader.sample_offset`` above file-relative ones).

    Raises
    ------
    CaptureError
        For any unreadable, inconsistent or unsupported metadata or data (the message names
        the file).
    """
    meta_path, data_path = sigmf_paths(path)
    meta = read_sigmf_meta(meta_path)
    glob: dict[str, Any] = meta[keys.GLOBAL_KEY]
    where = str(meta_path)

    if keys.DATATYPE_KEY not in glob:
        raise CaptureError(f"{where}: global {keys.DATATYPE_KEY} is missing")
    datatype = _sigmf_datatype(glob[keys.DATATYPE_KEY], where)
    channels = _get_int(glob, keys.NUM_CHANNELS_KEY, where, default=1)
    if channels != 1:
        raise CaptureError(
            f"{where}: {keys.NUM_CHANNELS_KEY} is {channels}; only single-channel recordings "
            "are supported (split the channels into separate recordings)"
        )
    if glob.get(keys.METADATA_ONLY_KEY) is True:
        raise CaptureError(f"{where}: {keys.METADATA_ONLY_KEY} is set; there are no samples to read")
    _check_extensions(glob, where)

    rate = _get_number(glob, keys.SAMPLE_RATE_KEY, where)
    if rate is None:
        rate = sample_rate_hz
    if rate is None:
        raise CaptureError(f"{where}: global {keys.SAMPLE_RATE_KEY} is missing; pass --rate HZ")
    if rate <= 0:
        raise CaptureError(f"{where}: {keys.SAMPLE_RATE_KEY} is {rate!r}; it must be positive")

    dataset = glob.get(keys.DATASET_KEY)
    if dataset is not None:
        if not isinstance(dataset, str) or not dataset or Path(dataset).name != dataset:
            raise CaptureError(
                f"{where}: {keys.DATASET_KEY} {dataset!r} must be a bare file name in the "
                "metadata's directory"
            )
        data_path = meta_path.parent / dataset
    trailing = _get_int(glob, keys.TRAILING_BYTES_KEY, where, default=0)
    checkpoint = glob.get(keys.CHECKPOINT_SAMPLES_KEY)
    if checkpoint is not None:
        # a checkpoint of a recording that may have gone on (or died mid-write) after it:
        # what lies beyond the checkpointed samples is trailing data
        dt = resolve_datatype(glob.get(keys.DATATYPE_KEY, ""), where)
        try:
            size = data_path.stat().st_size
        except OSError as exc:
            raise CaptureError(f"{data_path}: the checkpointed data is missing: {exc.strerror or exc}") from exc
        trailing = max(size - int(checkpoint) * dt.bytes_per_sample, 0)
    sample_offset = _get_int(glob, keys.OFFSET_KEY, where, default=0)

    captures = meta[keys.CAPTURE_KEY] or [{keys.SAMPLE_START_KEY: sample_offset}]
    starts = [_get_int(c, keys.SAMPLE_START_KEY, f"{where}: captures[{i}]")
              for i, c in enumerate(captures)]
    if starts != sorted(starts):
        raise CaptureError(f"{where}: captures are not sorted by {keys.SAMPLE_START_KEY}: {starts}")
    if starts[0] < sample_offset:
        sample_offset = 0  # indices were written file-relative; see the module docstring
    segments: list[Segment] = []
    headers: list[int] = []
    for i, (cap, start) in enumerate(zip(captures, starts)):
        cwhere = f"{where}: captures[{i}]"
        freq = _get_number(cap, keys.FREQUENCY_KEY, cwhere)
        if freq is None:
            freq = center_freq_hz
        if freq is None:
            raise CaptureError(f"{cwhere} has no {keys.FREQUENCY_KEY}; pass --freq HZ")
        when = None
        if keys.DATETIME_KEY in cap:
            when = parse_datetime(cap[keys.DATETIME_KEY], cwhere)
        segments.append(Segment(start - sample_offset, float(freq), when))
        headers.append(_get_int(cap, keys.HEADER_BYTES_KEY, cwhere, default=0))

    if data is None and not data_path.exists():
        raise CaptureError(f"{where}: data file {data_path} not found (expected next to the metadata)")
    return CaptureReader(
        data_path if data is None else data,
        datatype=datatype,
        sample_rate_hz=rate,
        segments=segments,
        path=meta_path,
        global_info=glob,
        annotations=meta[keys.ANNOTATION_KEY],
        header_bytes=headers,
        trailing_bytes=trailing,
        sample_offset=sample_offset,
    )


def _check_extensions(glob: dict[str, Any], where: str) -> None:
    """Refuse recordings whose non-optional extensions we cannot honour (spec requirement)."""
    exts = glob.get(keys.EXTENSIONS_KEY, [])
    if not isinstance(exts, list):
        raise CaptureError(f"{where}: {keys.EXTENSIONS_KEY} must be a list")
    required = [e.get("name") for e in exts if isinstance(e, dict) and e.get("optional") is False]
    if required:
        raise CaptureError(f"{where}: requires unsupported SigMF extension(s) {required}")


# --------------------------------------------------------------------------- writer
class SigMFWriter:
    """Write a SigMF recording incrementally.

    Samples go to a hidden temporary file in the target directory; :meth:`close` writes the
    metadata (also via a temporary file) and renames both into place, data first and metadata
    last, so a ``.sigmf-meta`` only ever appears next to complete data. If the ``with`` block
    raises, both temporary files are removed and no recording appears. Existing files of the
    same name are replaced.

    Parameters
    ----------
    base_path : str or os.PathLike
        Recording name without extension (a ``.sigmf-meta``/``.sigmf-data`` suffix is dropped).
    datatype : str
        ``cu8``, ``ci8``, ``ci16_le`` or ``cf32_le`` (raw aliases accepted).
    sample_rate_hz : float
        Sample rate, S/s.
    center_freq_hz : float
        Centre frequency of the first segment, Hz.
    start_time : datetime or None
        Time of the first sample, timezone-aware.
    description : str, optional
        ``core:description``.
    extra_global : dict, optional
        More global fields (e.g. ``core:hw``, ``core:author``); may not set fields the writer
        owns (datatype, rate, version, hash, recorder).

    Raises
    ------
    CaptureError
        Bad arguments, or the directory cannot be written (the message names it).
    """

    _OWNED = (keys.DATATYPE_KEY, keys.SAMPLE_RATE_KEY, keys.VERSION_KEY, keys.SHA512_KEY,
              keys.RECORDER_KEY, keys.NUM_CHANNELS_KEY, keys.OFFSET_KEY, keys.DATASET_KEY)

    def __init__(
        self,
        base_path: str | os.PathLike[str],
        datatype: str,
        sample_rate_hz: float,
        center_freq_hz: float,
        start_time: datetime | None,
        description: str = "",
        extra_global: dict[str, Any] | None = None,
    ) -> None:
        self.meta_path, self.data_path = sigmf_paths(base_path)
        where = str(self.meta_path)
        self._dt = resolve_datatype(datatype, where)
        if not _is_number(sample_rate_hz) or sample_rate_hz <= 0:
            raise CaptureError(f"{where}: sample rate {sample_rate_hz!r} must be a positive number")
        clash = sorted(set(extra_global or {}) & set(self._OWNED))
        if clash:
            raise CaptureError(f"{where}: extra_global may not set {clash}; the writer owns them")
        self._global: dict[str, Any] = {
            keys.DATATYPE_KEY: self._dt.name,
            keys.SAMPLE_RATE_KEY: float(sample_rate_hz),
            keys.VERSION_KEY: keys.SIGMF_VERSION,
            keys.DESCRIPTION_KEY: description,
            keys.RECORDER_KEY: keys.RECORDER_NAME,
            **(extra_global or {}),
        }
        self._captures: list[dict[str, Any]] = []
        self._annotations: list[dict[str, Any]] = []
        self._num_samples = 0
        self._hash = hashlib.sha512()
        self._closed = False
        self._tmp_data: Path | None = None
        self._file: BinaryIO | None = None
        self.new_segment(center_freq_hz, start_time)

        directory = self.meta_path.parent
        try:
            fd, tmp = tempfile.mkstemp(
                dir=directory, prefix=f".{self.data_path.name}.", suffix=".part"
            )
        except OSError as exc:
            self._closed = True
            raise CaptureError(
                f"cannot write a recording in directory {directory}: {exc.strerror or exc}"
            ) from exc
        self._tmp_data = Path(tmp)
        self._file = os.fdopen(fd, "wb")

    @property
    def num_samples(self) -> int:
        """Complex samples written so far."""
        return self._num_samples

    def new_segment(self, center_freq_hz: float, start_time: datetime | None = None) -> None:
        """Start a capture segment (a retune) at the current sample position.

        Parameters
        ----------
        center_freq_hz : float
            Centre frequency from this sample on, Hz.
        start_time : datetime or None
            Wall-clock time of the segment's first sample, timezone-aware.
        """
        where = str(self.meta_path)
        self._check_open()
        if not _is_number(center_freq_hz):
            raise CaptureError(f"{where}: centre frequency {center_freq_hz!r} must be a finite number")
        capture: dict[str, Any] = {
            keys.SAMPLE_START_KEY: self._num_samples,
            keys.FREQUENCY_KEY: float(center_freq_hz),
        }
        if start_time is not None:
            if not isinstance(start_time, datetime) or start_time.tzinfo is None:
                raise CaptureError(f"{where}: start time {start_time!r} must be a timezone-aware datetime")
            capture[keys.DATETIME_KEY] = format_datetime(start_time)
        if self._captures and self._captures[-1][keys.SAMPLE_START_KEY] == self._num_samples:
            self._captures[-1] = capture  # no samples since the last retune: replace it
        else:
            self._captures.append(capture)

    def write(self, samples: NDArray[Any]) -> None:
        """Append interleaved native samples.

        Parameters
        ----------
        samples : numpy.ndarray
            1-D, even length, dtype exactly the datatype's (e.g. uint8 for cu8).

        Raises
        ------
        CaptureError
            Wrong dtype or shape, writer closed, or the disk write failed.
        """
        self._check_open()
        where = str(self.data_path)
        if not isinstance(samples, np.ndarray) or samples.dtype != self._dt.dtype:
            got = getattr(samples, "dtype", type(samples).__name__)
            raise CaptureError(
                f"{where}: samples have dtype {got}, but {self._dt.name} needs {self._dt.dtype}"
            )
        if samples.ndim != 1 or samples.shape[0] % 2:
            raise CaptureError(
                f"{where}: samples must be a 1-D interleaved I,Q array of even length, "
                f"got shape {samples.shape}"
            )
        raw = memoryview(np.ascontiguousarray(samples).view(np.uint8))
        try:
            assert self._file is not None
            self._file.write(raw)
        except OSError as exc:
            raise CaptureError(f"{where}: write failed: {exc.strerror or exc}") from exc
        self._hash.update(raw)
        self._num_samples += samples.shape[0] // 2

    def add_annotation(
        self,
        sample_start: int,
        sample_count: int,
        label: str | None = None,
        comment: str | None = None,
        freq_lower_edge_hz: float | None = None,
        freq_upper_edge_hz: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Record an annotation (written, sorted by ``sample_start``, on :meth:`close`).

        Parameters
        ----------
        sample_start, sample_count : int
            First complex sample and number of samples annotated.
        label, comment : str, optional
            ``core:label`` (short) and ``core:comment``.
        freq_lower_edge_hz, freq_upper_edge_hz : float, optional
            Frequency extent, Hz, absolute RF; both or neither (spec requirement).
        extra : dict, optional
            More fields, namespaced (``"spectrum:kind": "tone"``); core fields above win.
        """
        self._check_open()
        where = str(self.meta_path)
        if not (_is_int(sample_start) and _is_int(sample_count)) or sample_start < 0 or sample_count < 0:
            raise CaptureError(
                f"{where}: annotation sample_start {sample_start!r} and sample_count "
                f"{sample_count!r} must be non-negative integers"
            )
        if (freq_lower_edge_hz is None) != (freq_upper_edge_hz is None):
            raise CaptureError(f"{where}: give both annotation frequency edges or neither")
        ann: dict[str, Any] = dict(extra or {})
        ann[keys.SAMPLE_START_KEY] = int(sample_start)
        ann[keys.SAMPLE_COUNT_KEY] = int(sample_count)
        if freq_lower_edge_hz is not None:
            ann[keys.FREQ_LOWER_EDGE_KEY] = float(freq_lower_edge_hz)
            ann[keys.FREQ_UPPER_EDGE_KEY] = float(freq_upper_edge_hz)  # type: ignore[arg-type]
        if label is not None:
            ann[keys.LABEL_KEY] = str(label)
        if comment is not None:
            ann[keys.COMMENT_KEY] = str(comment)
        self._annotations.append(ann)

    def metadata(self) -> dict[str, Any]:
        """The metadata as it stands (what :meth:`close` would write).

        Namespaces other than ``core`` used in any key but not declared in
        ``core:extensions`` are declared there as optional (version
        :data:`captures.keys.EXTENSION_VERSION`), as the spec requires.
        """
        glob = dict(self._global)
        glob[keys.SHA512_KEY] = self._hash.hexdigest()
        meta = {
            keys.GLOBAL_KEY: glob,
            keys.CAPTURE_KEY: [dict(c) for c in self._captures],
            keys.ANNOTATION_KEY: sorted(
                (dict(a) for a in self._annotations), key=lambda a: a[keys.SAMPLE_START_KEY]
            ),
        }
        used = {
            key.split(":", 1)[0]
            for obj in (glob, *meta[keys.CAPTURE_KEY], *meta[keys.ANNOTATION_KEY])
            for key in obj
            if ":" in key
        } - {"core"}
        declared = list(glob.get(keys.EXTENSIONS_KEY, []))
        names = {e.get("name") for e in declared if isinstance(e, dict)}
        declared += [
            {"name": ns, "version": keys.EXTENSION_VERSION, "optional": True}
            for ns in sorted(used - names)
        ]
        if declared:
            glob[keys.EXTENSIONS_KEY] = declared
        return meta

    def close(self) -> None:
        """Finish the recording: flush data, write metadata, rename both into place. Safe twice.

        Raises
        ------
        CaptureError
            If writing or renaming fails (temporary files are then removed).
        """
        if self._closed:
            return
        self._closed = True
        tmp_meta: Path | None = None
        try:
            assert self._file is not None and self._tmp_data is not None
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            text = json.dumps(self.metadata(), indent=2, allow_nan=False) + "\n"
            fd, name = tempfile.mkstemp(
                dir=self.meta_path.parent, prefix=f".{self.meta_path.name}.", suffix=".part"
            )
            tmp_meta = Path(name)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            # An older recording of the same name loses its metadata first, so a crash between
            # the two renames can never pair old metadata with new data.
            self.meta_path.unlink(missing_ok=True)
            self._partial_meta_path.unlink(missing_ok=True)  # it would point at a moved file
            os.replace(self._tmp_data, self.data_path)
            os.replace(tmp_meta, self.meta_path)
        except (OSError, ValueError) as exc:
            self._remove_temporaries(tmp_meta)
            raise CaptureError(f"{self.meta_path}: cannot finish the recording: {exc}") from exc

    def abort(self) -> None:
        """Discard the recording: close and delete the temporary data. Safe twice."""
        if self._closed:
            return
        self._closed = True
        self._remove_temporaries(None)
        self._partial_meta_path.unlink(missing_ok=True)

    @property
    def _partial_meta_path(self) -> Path:
        return self.meta_path.with_name(self.meta_path.name.removesuffix(".sigmf-meta") + keys.PARTIAL_META_SUFFIX)

    def checkpoint(self) -> Path:
        """Make the samples written so far readable even if this process dies.

        Flushes the data to disk and writes ``NAME.partial.sigmf-meta`` pointing at it
        (``core:dataset``) with the number of samples on disk; :meth:`close` removes it once
        the complete recording is in place. Returns the checkpoint's path.
        """
        self._check_open()
        assert self._file is not None and self._tmp_data is not None
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            meta = self.metadata()
            meta[keys.GLOBAL_KEY].pop(keys.SHA512_KEY, None)  # the hash is of the complete data
            meta[keys.GLOBAL_KEY][keys.DATASET_KEY] = self._tmp_data.name
            meta[keys.GLOBAL_KEY][keys.CHECKPOINT_SAMPLES_KEY] = self._num_samples
            declared = meta[keys.GLOBAL_KEY].setdefault(keys.EXTENSIONS_KEY, [])
            if not any(isinstance(e, dict) and e.get("name") == "spectrum" for e in declared):
                declared.append({"name": "spectrum", "version": keys.EXTENSION_VERSION, "optional": True})
            path = self._partial_meta_path
            tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
            tmp.write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except (OSError, ValueError) as exc:
            raise CaptureError(f"{self.meta_path}: cannot checkpoint the recording: {exc}") from exc
        return path

    def _remove_temporaries(self, tmp_meta: Path | None) -> None:
        if self._file is not None:
            self._file.close()
        for tmp in (self._tmp_data, tmp_meta):
            if tmp is not None:
                tmp.unlink(missing_ok=True)

    def _check_open(self) -> None:
        if self._closed:
            raise CaptureError(f"{self.meta_path}: writer is closed")

    def __enter__(self) -> SigMFWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
