"""Integrity checks: recompute the hashes a capture stores and compare.

* HDF5 capture (:mod:`captures.hdf5`): ``iq_sha256`` (the IQ bytes), ``waterfall_sha256``
  (the stored PSD rows and axes) and ``metadata_sha256`` (attributes, segments and events as
  canonical JSON). Any edit to samples, waterfall, events or metadata changes one of them.
* SigMF: ``core:sha512`` of the data file (SigMF has no hash over its metadata, so edits to
  the ``.sigmf-meta`` itself cannot be detected; the report says so).

Hashing streams the data in bounded chunks.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from captures import hdf5, keys
from captures.capture_errors import CaptureError
from captures.sigmf_io import read_sigmf_meta, sigmf_paths

READ_BYTES = 4 << 20  # bytes per read when hashing a data file


@dataclass
class IntegrityReport:
    """Result of :func:`verify_capture`.

    Attributes
    ----------
    path : Path
        The file checked.
    checked : list of str
        Hashes that were recomputed and matched.
    problems : list of str
        Mismatches or missing hashes (empty when intact).
    notes : list of str
        What the check cannot cover.
    """

    path: Path
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if every stored hash matched and none was missing."""
        return not self.problems and bool(self.checked)


def file_sha512(path: str | os.PathLike[str], skip_bytes: int = 0, stop_bytes: int | None = None) -> str:
    """SHA-512 of a file's bytes ``[skip_bytes, stop_bytes)``, read in chunks."""
    digest = hashlib.sha512()
    with open(path, "rb") as f:
        f.seek(skip_bytes)
        remaining = None if stop_bytes is None else stop_bytes - skip_bytes
        while remaining is None or remaining > 0:
            chunk = f.read(READ_BYTES if remaining is None else min(READ_BYTES, remaining))
            if not chunk:
                break
            digest.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return digest.hexdigest()


def verify_hdf5(path: str | os.PathLike[str]) -> IntegrityReport:
    """Recompute the hashes of an HDF5 capture.

    Raises
    ------
    CaptureError
        The file cannot be opened as an HDF5 capture (missing, truncated, corrupt).
    """
    report = IntegrityReport(Path(path))
    h5, p, _ = hdf5.open_h5_file(path)
    try:
        attrs = {k: hdf5._plain(v) for k, v in h5.attrs.items()}
        if attrs.get(hdf5.FORMAT_ATTR) != hdf5.FORMAT_NAME:
            raise CaptureError(f"{path}: not a spectrum HDF5 capture (no format attribute "
                               f"{hdf5.FORMAT_NAME!r})")
        if not attrs.get(hdf5.COMPLETE_ATTR, False):
            report.problems.append("incomplete recording (interrupted before it was closed): "
                                   "no hashes were stored")
            return report
        if hdf5.IQ_KEY not in h5:
            report.problems.append(f"dataset /{hdf5.IQ_KEY} is missing")
            return report
        checks = (
            ("iq_sha256", hdf5.IQ_SHA256_ATTR, lambda: hdf5.iq_sha256(h5[hdf5.IQ_KEY])),
            ("waterfall_sha256", hdf5.WATERFALL_SHA256_ATTR, lambda: hdf5.waterfall_sha256(h5)),
            ("metadata_sha256", hdf5.METADATA_SHA256_ATTR, lambda: hdf5.metadata_sha256(h5)),
        )
        for label, attr, compute in checks:
            stored = attrs.get(attr)
            if stored is None:
                report.problems.append(f"{label} is not stored")
                continue
            try:
                actual = compute()
            except (OSError, KeyError, ValueError, TypeError) as exc:
                report.problems.append(f"{label}: cannot recompute ({exc})")
                continue
            if actual != stored:
                report.problems.append(f"{label} mismatch (stored {stored[:12]}…, now {actual[:12]}…)")
            else:
                report.checked.append(label)
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CaptureError(f"{path}: corrupt HDF5 capture: {exc}") from exc
    finally:
        h5.close()
    return report


def verify_sigmf(path: str | os.PathLike[str]) -> IntegrityReport:
    """Recompute ``core:sha512`` of a SigMF recording's data file.

    Raises
    ------
    CaptureError
        The metadata cannot be read or the data file is missing.
    """
    meta_path, data_path = sigmf_paths(path)
    report = IntegrityReport(meta_path)
    meta = read_sigmf_meta(meta_path)
    glob = meta[keys.GLOBAL_KEY]
    dataset = glob.get(keys.DATASET_KEY)
    if isinstance(dataset, str) and dataset and Path(dataset).name == dataset:
        data_path = meta_path.parent / dataset
    if not data_path.exists():
        raise CaptureError(f"{meta_path}: data file {data_path} not found")
    report.notes.append("SigMF stores no hash of its metadata; only the samples are checked")
    stored = glob.get(keys.SHA512_KEY)
    if not isinstance(stored, str):
        report.problems.append(f"no {keys.SHA512_KEY} in the metadata; nothing to verify against")
        return report
    try:
        actual = file_sha512(data_path)
    except OSError as exc:
        raise CaptureError(f"{data_path}: cannot read: {exc.strerror or exc}") from exc
    if actual != stored.lower():
        report.problems.append(f"{keys.SHA512_KEY} mismatch: the data file changed "
                               f"(stored {stored[:12]}…, now {actual[:12]}…)")
    else:
        report.checked.append(keys.SHA512_KEY)
    return report


def verify_capture(path: str | os.PathLike[str]) -> IntegrityReport:
    """Verify an HDF5 capture (``.h5``/``.hdf5``) or a SigMF recording by its stored hashes.

    Returns
    -------
    IntegrityReport
        ``ok`` when every stored hash matched.

    Raises
    ------
    CaptureError
        Unsupported or unreadable file.
    """
    name = os.fspath(path).lower()
    if name.endswith(keys.HDF5_EXTS):
        return verify_hdf5(path)
    if name.endswith((keys.SIGMF_META_EXT, keys.SIGMF_DATA_EXT)) or Path(os.fspath(path) + keys.SIGMF_META_EXT).exists():
        return verify_sigmf(path)
    raise CaptureError(f"{path}: cannot verify this file: only HDF5 captures (.h5) and SigMF "
                       "recordings (.sigmf-meta) carry hashes; raw files have none")
