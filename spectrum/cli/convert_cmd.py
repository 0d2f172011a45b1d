"""``spectrum convert IN OUT``: between SigMF, raw (cu8/cs8/cs16/cf32) and HDF5 captures.

The output format follows OUT's name: ``.h5``/``.hdf5`` → HDF5 capture (with the waterfall and
events of a replay of the converted samples, unless ``--no-analysis``), ``.cu8 .cs8 .cs16 .cf32``
→ raw, anything else (``.sigmf-meta``, ``.sigmf-data`` or a base name) → SigMF. ``--to`` changes
the datatype, scaling full scale to full scale (the front end's convention,
:data:`kernels.convert.SCALING`); converting to fewer bits quantises, and values beyond the
new rails are clipped and counted. Every output is written under a temporary name and renamed
when complete.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spectrum.cli.options import add_fft_size_option, add_raw_format_options, fft_size

BLOCK_SAMPLES = 1 << 20
RAW_OUT = {".cu8": "cu8", ".cs8": "ci8", ".cs16": "ci16_le", ".cf32": "cf32_le"}
TO_CHOICES = {"cu8": "cu8", "cs8": "ci8", "cs16": "ci16_le", "cf32": "cf32_le"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert a capture between SigMF, raw and HDF5",
                       description="Convert IN to OUT; the format follows OUT's extension "
                       "(.h5/.hdf5 HDF5, .cu8/.cs8/.cs16/.cf32 raw, otherwise SigMF).")
    p.add_argument("input", metavar="IN", help="SigMF, HDF5 or raw capture")
    p.add_argument("output", metavar="OUT", help="output file")
    add_raw_format_options(p)
    p.add_argument("--to", choices=sorted(TO_CHOICES), help="output datatype (default: keep; "
                   "a raw OUT's extension sets it)")
    p.add_argument("--compression", choices=["none", "gzip", "lzf"], default="none",
                   help="HDF5 IQ compression (default none: fastest replay)")
    p.add_argument("--no-analysis", action="store_true",
                   help="HDF5: store IQ only, without the waterfall and events")
    add_fft_size_option(p, "HDF5 waterfall and detector bins")
    p.add_argument("--site", help="HDF5: site id (stamped on the events too)")
    p.add_argument("--sensor", help="HDF5: sensor id")
    p.set_defaults(run=run)


# --------------------------------------------------------------------------- library
def output_kind(path: str | os.PathLike[str]) -> str:
    """``hdf5``, ``raw`` or ``sigmf`` from an output name."""
    name = os.fspath(path).lower()
    if name.endswith((".h5", ".hdf5")):
        return "hdf5"
    if Path(name).suffix in RAW_OUT:
        return "raw"
    return "sigmf"


def transcode(samples: NDArray[Any], from_datatype: str, to_datatype: str) -> tuple[NDArray[Any], int]:
    """Convert interleaved samples between datatypes, full scale to full scale.

    Parameters
    ----------
    samples : numpy.ndarray
        Interleaved native samples of ``from_datatype``.
    from_datatype, to_datatype : str
        SigMF names (``cu8``, ``ci8``, ``ci16_le``, ``cf32_le``).

    Returns
    -------
    out : numpy.ndarray
        Interleaved samples of ``to_datatype`` (rounded to the nearest level for integers).
    clipped : int
        Values that fell outside the new datatype's range and were clipped to its rails.
    """
    from captures.keys import DATATYPES
    from kernels.convert import SCALING

    if from_datatype == to_datatype:
        return samples, 0
    offset_in, scale_in, _, _ = SCALING[from_datatype]
    offset_out, scale_out, lo, hi = SCALING[to_datatype]
    values = (samples.astype(np.float64) - offset_in) * (scale_in / scale_out) + offset_out
    dtype = DATATYPES[to_datatype].dtype
    if dtype.kind == "f":
        return values.astype(dtype), 0
    values = np.rint(values)
    clipped = int(np.count_nonzero((values < lo) | (values > hi)))
    return np.clip(values, lo, hi).astype(dtype), clipped


class RawWriter:
    """Headerless raw output, written to a temporary name and renamed by :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from captures import CaptureError

        self.path = Path(path)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part")
        except OSError as exc:
            raise CaptureError(f"{self.path}: cannot write: {exc.strerror or exc}") from exc
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "wb")
        self.num_samples = 0

    def new_segment(self, *args: Any) -> None:
        """Raw files have one tuning; later segments are written on (noted by the caller)."""

    def write(self, samples: NDArray[Any]) -> None:
        from captures import CaptureError

        try:
            self._file.write(memoryview(np.ascontiguousarray(samples)).cast("B"))
        except OSError as exc:
            raise CaptureError(f"{self.path}: write failed: {exc.strerror or exc}") from exc
        self.num_samples += samples.shape[0] // 2

    def close(self) -> None:
        from captures import CaptureError

        if self._file.closed:
            return
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self.abort()
            raise CaptureError(f"{self.path}: cannot finish: {exc.strerror or exc}") from exc

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)


class _TeeReader:
    """A reader proxy whose blocks are converted to ``datatype`` and also written to ``writer``."""

    def __init__(self, reader: Any, datatype: str, writer: Any, stats: dict[str, int]) -> None:
        self._reader = reader
        self.datatype = datatype
        self._writer = writer
        self._stats = stats

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def blocks(self, block_samples: int, start: int = 0, stop: int | None = None):
        from captures import Block

        for block in self._reader.blocks(block_samples, start, stop):
            k = self._reader.segment_index(block.sample_start)
            seg = self._reader.segments[k]
            if k and seg.sample_start == block.sample_start:
                self._writer.new_segment(seg.center_freq_hz, seg.start_time)
                self._stats["segments"] += 1
            out, clipped = transcode(block.samples, self._reader.datatype, self.datatype)
            self._stats["clipped"] += clipped
            self._stats["values"] += out.shape[0]
            self._writer.write(out)
            yield Block(out, block.sample_start, block.center_freq_hz)


def _hdf5_attrs(reader: Any, site: str | None, sensor: str | None) -> dict[str, Any]:
    """Optional HDF5 attributes carried over from the input's metadata."""
    from captures import hdf5

    attrs: dict[str, Any] = {}
    info = getattr(reader, "global_info", {}) or {}
    if getattr(reader, "attrs", None):  # an HDF5 input: keep what it knew
        attrs = {k: v for k, v in reader.attrs.items() if k in hdf5.OPTIONAL_ATTRS}
    else:
        if isinstance(info.get("core:description"), str) and info["core:description"]:
            attrs[hdf5.DESCRIPTION_ATTR] = info["core:description"]
        geo = info.get("core:geolocation")
        coords = geo.get("coordinates") if isinstance(geo, dict) else None
        if isinstance(coords, list) and len(coords) >= 2:
            attrs[hdf5.LONGITUDE_ATTR], attrs[hdf5.LATITUDE_ATTR] = float(coords[0]), float(coords[1])
            if len(coords) > 2:
                attrs[hdf5.ALTITUDE_ATTR] = float(coords[2])
    attrs[hdf5.SOURCE_ATTR] = str(reader.path)
    if site is not None:
        attrs[hdf5.SITE_ATTR] = site
    if sensor is not None:
        attrs[hdf5.SENSOR_ATTR] = sensor
    return attrs


def capture_to_hdf5(reader: Any, out: str | os.PathLike[str], *, datatype: str | None = None,
                    compression: str | None = None, analyse: bool = True, fft_size: int | None = None,
                    site: str | None = None, sensor: str | None = None) -> dict[str, Any]:
    """Write an open capture as an HDF5 capture, with waterfall and events unless ``analyse`` is False.

    One pass: each block is converted, written, and fed to the replay pipeline, so the stored
    events are exactly those ``spectrum replay OUT`` finds.

    Returns
    -------
    dict
        ``samples``, ``events``, ``rows``, ``clipped`` (values clipped by the conversion).
    """
    from captures.hdf5 import DETECTOR_HASH_ATTR, DETECTOR_VERSION_ATTR, HDF5Writer
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.replay import ReplayResult, replay_events
    from spectrum.sinks.waterfall_sink import WaterfallSink

    datatype = datatype or reader.datatype
    stats = {"clipped": 0, "values": 0, "segments": 0}
    first = reader.segments[0]
    with HDF5Writer(out, datatype, reader.sample_rate_hz, first.center_freq_hz, first.start_time,
                    attrs=_hdf5_attrs(reader, site, sensor), compression=compression) as writer:
        tee = _TeeReader(reader, datatype, writer, stats)
        events = 0
        if analyse:
            config = DetectorConfig() if fft_size is None else DetectorConfig(fft_size=fft_size)
            sink = WaterfallSink(writer=writer, keep=False)
            result = ReplayResult()
            for event in replay_events(tee, config, None, site, sensor, result=result, on_rows=sink):
                if not event.ongoing:
                    writer.add_event(event.to_dict())
                    events += 1
            provenance = config.provenance()
            writer.set_attrs(**{DETECTOR_VERSION_ATTR: provenance["version"],
                                DETECTOR_HASH_ATTR: provenance["config_hash"]})
        else:
            for _ in tee.blocks(BLOCK_SAMPLES):
                pass
        rows = writer.num_rows
        samples = writer.num_samples
    return {"samples": samples, "events": events, "rows": rows, "clipped": stats["clipped"],
            "values": stats["values"]}


def convert(args: argparse.Namespace) -> dict[str, Any]:
    """Run a conversion as the command line describes it; return the stats."""
    from captures import CaptureError, SigMFWriter, open_capture
    from captures.evidence_clips import event_annotation
    from captures.reader import resolve_datatype
    from spectrum.errors import ConfigError

    src, dst = Path(args.input), Path(args.output)
    if src.resolve() == dst.resolve():
        raise ConfigError(f"convert: IN and OUT are the same file ({src}); choose another OUT")
    kind = output_kind(dst)
    if dst.is_dir():
        raise CaptureError(f"{dst} is a directory; give an output file name")
    if not dst.parent.exists():
        raise CaptureError(f"{dst}: directory {dst.parent} does not exist")
    args.fft_size = fft_size(args.fft_size)
    with open_capture(src, fmt=args.fmt, sample_rate_hz=args.rate, center_freq_hz=args.freq) as reader:
        to = TO_CHOICES[args.to] if args.to else None
        if kind == "raw":
            ext_dt = RAW_OUT[dst.suffix.lower()]
            if to is not None and to != ext_dt:
                raise ConfigError(f"--to {args.to} disagrees with the output extension {dst.suffix}")
            to = ext_dt
        datatype = resolve_datatype(to or reader.datatype, "--to").name
        if kind == "hdf5":
            compression = None if args.compression == "none" else args.compression
            stats = capture_to_hdf5(reader, dst, datatype=datatype, compression=compression,
                                    analyse=not args.no_analysis, fft_size=args.fft_size,
                                    site=args.site, sensor=args.sensor)
        else:
            stats = {"clipped": 0, "values": 0, "segments": 0}
            first = reader.segments[0]
            if kind == "raw":
                writer = RawWriter(dst)
            else:
                writer = SigMFWriter(dst, datatype, reader.sample_rate_hz, first.center_freq_hz,
                                     first.start_time,
                                     description=str((reader.global_info or {}).get("core:description")
                                                     or (getattr(reader, "attrs", {}) or {}).get("description")
                                                     or f"converted from {src.name}"))
            try:
                for _ in _TeeReader(reader, datatype, writer, stats).blocks(BLOCK_SAMPLES):
                    pass
                if kind == "sigmf":
                    for event in getattr(reader, "events", []) or []:
                        writer.add_annotation(**event_annotation(event, reader.sample_rate_hz, 0.0,
                                                                 reader.num_samples))
            except BaseException:
                writer.abort()
                raise
            writer.close()
            stats["samples"] = reader.num_samples
            if kind == "raw" and len(reader.segments) > 1:
                print(f"note: {dst} is raw and holds one tuning; the input's "
                      f"{len(reader.segments)} segments were written back to back", file=sys.stderr)
        stats["from"], stats["to"] = reader.datatype, datatype
    return stats


def run(args: argparse.Namespace) -> int:
    stats = convert(args)
    note = ""
    if stats["from"] != stats["to"]:
        from captures.keys import DATATYPES

        bits = {k: v.dtype.itemsize * 8 for k, v in DATATYPES.items()}
        if bits[stats["to"]] < bits[stats["from"]] or stats["to"] == "cu8" != stats["from"]:
            note = f"; converting {stats['from']} to {stats['to']} quantises"
        if stats["clipped"]:
            share = 100.0 * stats["clipped"] / max(stats["values"], 1)
            note += f"; {stats['clipped']} values ({share:.3g} %) beyond full scale were clipped"
    extra = f", {stats['events']} event(s), {stats['rows']} waterfall rows" if "events" in stats else ""
    print(f"{args.output}: {stats['samples']} samples, {stats['to']}{extra}{note}", file=sys.stderr)
    return 0
