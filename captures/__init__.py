"""IQ capture formats: streaming readers for raw and SigMF files, and a SigMF writer.

Every reader returns a :class:`~captures.reader.CaptureReader` serving *interleaved native*
samples (I, Q, I, Q, ... in the file's own dtype). Importing this package is light: it needs
only numpy and the standard library (the third-party ``sigmf`` and ``h5py``
packages are never imported here).

Example
-------
>>> from captures import open_capture                                # doctest: +SKIP
>>> with open_capture("g001_433.92M_250k.cu8") as reader:            # doctest: +SKIP
...     for block in reader.blocks(65536):
...         process(block.samples, block.center_freq_hz)
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from captures import keys
from captures.capture_errors import CaptureError
from captures.raw import open_raw
from captures.reader import Block, CaptureReader, Segment, resolve_datatype
from captures.sigmf_io import SigMFWriter, open_sigmf

__all__ = [
    "Block",
    "CaptureError",
    "CaptureReader",
    "Segment",
    "SigMFWriter",
    "open_capture",
    "open_raw",
    "open_sigmf",
]


def open_capture(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    sample_rate_hz: float | None = None,
    center_freq_hz: float | None = None,
    start_time: datetime | None = None,
) -> CaptureReader:
    """Open any supported capture, choosing the format from the path.

    Parameters
    ----------
    path : str or os.PathLike
        ``.sigmf-meta``, ``.sigmf-data``, a SigMF base name (a sibling ``.sigmf-meta`` exists),
        an HDF5 capture (``.h5``/``.hdf5``, see :mod:`captures.hdf5`; ``fmt`` and the tuning
        arguments are ignored, the file records its own), or a raw file (``.cu8 .cs8 .cs16
        .cf32 .bin``, or any name with ``fmt``).
    fmt : str, optional
        Raw sample format (``cu8``, ``cs8``, ``cs16``, ``cf32``). For SigMF it must agree with
        ``core:datatype`` if given.
    sample_rate_hz : float, optional
        Sample rate, S/s: overrides a raw file's name; fills in a SigMF file's missing rate.
    center_freq_hz : float, optional
        Centre frequency, Hz: overrides a raw file's name; fills in missing SigMF frequencies.
    start_time : datetime, optional
        Time of the first sample of a raw file (ignored for SigMF, which records its own).

    Returns
    -------
    CaptureReader

    Raises
    ------
    CaptureError
        Nonexistent path, unsupported format, or any reader error.
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith(keys.HDF5_EXTS):
        from captures.hdf5 import open_hdf5  # imports h5py only when an HDF5 file is opened

        return open_hdf5(p)
    if name.endswith(keys.SIGMF_ARCHIVE_EXT):
        raise CaptureError(
            f"{p}: SigMF archives (.sigmf) are not supported; extract it with 'tar xf' and open "
            "the .sigmf-meta file"
        )
    sibling_meta = Path(os.fspath(p) + keys.SIGMF_META_EXT)
    if name.endswith((keys.SIGMF_META_EXT, keys.SIGMF_DATA_EXT)) or (
        not p.exists() and sibling_meta.exists()
    ):
        reader = open_sigmf(p, sample_rate_hz=sample_rate_hz, center_freq_hz=center_freq_hz)
        if fmt is not None:
            wanted = resolve_datatype(fmt, "--format").name
            if wanted != reader.datatype:
                reader.close()
                raise CaptureError(
                    f"{reader.path}: --format {fmt} disagrees with the recording's datatype "
                    f"{reader.datatype}; drop --format for SigMF recordings"
                )
        return reader
    if not p.exists():
        raise CaptureError(f"{p}: no such file")
    return open_raw(p, fmt, sample_rate_hz, center_freq_hz, start_time)

