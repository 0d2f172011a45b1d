"""Headerless raw IQ files (rtl_sdr / rtl_433 style: ``.cu8``, ``.cs8``, ``.cs16``, ``.cf32``).

A raw file holds nothing but interleaved samples, so format, sample rate and centre frequency
come from the arguments or, failing those, from the file name. rtl_433 names its dumps
``<prefix>_<freq>_<rate>.<ext>``, e.g. ``g001_433.92M_250k.cu8``: the first ``_<number><k|M|G>``
token is the centre frequency and the second the sample rate.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from captures import keys
from captures.capture_errors import CaptureError
from captures.reader import CaptureReader, Segment, resolve_datatype

_MULTIPLIER = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9}
# One name token: a number, an optional SI prefix, an optional unit (Hz = frequency, sps/S = rate).
_TOKEN_RE = re.compile(r"^(\d+(?:\.\d+)?)([kKMG]?)(Hz|hz|sps|Sps|S)?$")


def parse_tuning_from_name(name: str) -> tuple[float | None, float | None]:
    """Read centre frequency and sample rate from an rtl_433-style file name.

    Parameters
    ----------
    name : str
        File name or path, e.g. ``g001_433.92M_250k.cu8`` or ``adsb_1090M_2M.cu8``.

    Returns
    -------
    center_freq_hz, sample_rate_hz : float or None
        Values found in the name, None where absent. Tokens are the ``_``-separated parts of the
        name without its extension; a token counts if it is a number with an SI prefix (``k``, ``M``, ``G``) or an
        explicit unit. ``...Hz`` marks a frequency and ``...sps``/``...S`` a rate; otherwise the
        first such token is the frequency and the second the rate (rtl_433 convention).
    """
    stem = Path(name).name
    for ext in keys.RAW_EXTENSIONS:
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    freq_hz: float | None = None
    rate_hz: float | None = None
    positional: list[float] = []
    for token in stem.split("_"):
        match = _TOKEN_RE.match(token)
        if match is None or not (match.group(2) or match.group(3)):
            continue
        try:
            value = float(Decimal(match.group(1)) * _MULTIPLIER[match.group(2)])
        except InvalidOperation:  # pragma: no cover - the regex only admits decimals
            continue
        unit = (match.group(3) or "").lower()
        if unit == "hz" and freq_hz is None:
            freq_hz = value
        elif unit in ("sps", "s") and rate_hz is None:
            rate_hz = value
        elif not unit:
            positional.append(value)
    for value in positional:
        if freq_hz is None:
            freq_hz = value
        elif rate_hz is None:
            rate_hz = value
    return freq_hz, rate_hz


def open_raw(
    path: str | os.PathLike[str] | BinaryIO,
    fmt: str | None = None,
    sample_rate_hz: float | None = None,
    center_freq_hz: float | None = None,
    start_time: datetime | None = None,
) -> CaptureReader:
    """Open a headerless raw IQ file.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file, or an open seekable binary file object (its ``name``, if any, is used for
        inference and messages).
    fmt : str, optional
        ``cu8``, ``cs8``, ``cs16`` or ``cf32`` (SigMF names ``ci8``, ``ci16_le``, ``cf32_le`` also
        accepted). Default: from the extension (``.cu8 .cs8 .cs16 .cf32``; ``.bin`` is cu8).
    sample_rate_hz : float, optional
        Sample rate, S/s. Default: from the file name.
    center_freq_hz : float, optional
        Centre frequency, Hz, absolute RF. Default: from the file name.
    start_time : datetime, optional
        Wall-clock time of the first sample (timezone-aware); naive times are taken as UTC.

    Returns
    -------
    CaptureReader
        With one segment, ``global_info == {}`` and no annotations.

    Raises
    ------
    CaptureError
        Unknown format, no rate or centre frequency known, missing/empty/directory path, or a
        byte count that is not a whole number of samples.
    """
    is_path = isinstance(path, (str, os.PathLike))
    name = os.fspath(path) if is_path else getattr(path, "name", None)
    label = str(name) if isinstance(name, (str, os.PathLike)) else "<buffer>"
    if is_path:
        p = Path(path)
        if not p.exists():
            raise CaptureError(f"{p}: no such file")
        if p.is_dir():
            raise CaptureError(f"{p} is a directory, not a capture file")

    if fmt is None:
        suffix = Path(label).suffix.lower()
        fmt = keys.RAW_EXTENSIONS.get(suffix)
        if fmt is None:
            raise CaptureError(
                f"{label}: cannot tell the sample format from the extension {suffix or '(none)'!r}; "
                f"pass --format {'|'.join(keys.RAW_FORMATS)}"
            )
    datatype = resolve_datatype(fmt, label).name

    name_freq_hz, name_rate_hz = parse_tuning_from_name(label)
    rate = sample_rate_hz if sample_rate_hz is not None else name_rate_hz
    freq = center_freq_hz if center_freq_hz is not None else name_freq_hz
    if rate is None:
        raise CaptureError(f"{label}: sample rate unknown (not in the file name); pass --rate HZ")
    if freq is None:
        raise CaptureError(
            f"{label}: centre frequency unknown (not in the file name); pass --freq HZ"
        )
    if start_time is not None and start_time.tzinfo is None:
        start_time = start_time.replace(tzinfo=timezone.utc)

    return CaptureReader(
        path,
        datatype=datatype,
        sample_rate_hz=rate,
        segments=[Segment(0, float(freq), start_time)],
        global_info={},
        annotations=[],
    )
