"""``spectrum export-csv FILE --out CSV``: PSD rows as rtl_power CSV (heatmap.py, QSpectrumAnalyzer).

Rows are averaged (linear power) over ``--integration`` seconds per tuning (rtl_power's ``-i``;
default 1 s, since the format stamps whole seconds) and written one line per interval per hop.
For an HDF5 capture the stored waterfall is used; otherwise the front end runs over the capture.
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime, timedelta, timezone

import numpy as np

from spectrum.cli.options import add_fft_size_option, add_raw_format_options, fft_size

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export-csv", help="write PSD frames as rtl_power-compatible CSV",
                       description="Export a capture's power spectra in rtl_power's CSV layout: "
                       "date, time, Hz low, Hz high, Hz step, samples, dB, dB, ...")
    p.add_argument("path", metavar="FILE", help="capture (.h5, .sigmf-meta, raw)")
    p.add_argument("--out", metavar="CSV", required=True, help="output CSV file")
    p.add_argument("--integration", type=float, default=1.0, metavar="S",
                   help="seconds averaged per line (default 1; rtl_power -i)")
    add_fft_size_option(p, "bins when computing rows")
    add_raw_format_options(p)
    p.set_defaults(run=run)


class _Band:
    """Accumulates one hop's rows over an integration interval."""

    def __init__(self) -> None:
        self.group: int | None = None
        self.sum: np.ndarray | None = None
        self.rows = 0
        self.first_s = 0.0


def export_rows(rows, writer, start: datetime, sample_rate_hz: float, integration_s: float) -> int:
    """Write ``(center_freq_hz, first_time_s, row_s, frames_per_row, power_dbfs)`` batches as lines.

    Returns the number of lines written.
    """
    bands: dict[float, _Band] = {}

    def emit(freq: float, band: _Band, bins: int, frames: int) -> None:
        step = sample_rate_hz / bins
        power = 10.0 * np.log10(band.sum / band.rows + 1e-20)
        writer.write(start + timedelta(seconds=band.first_s), freq - bins // 2 * step, step,
                     band.rows * bins * frames, power)

    meta: dict[float, tuple[int, int]] = {}
    for freq, first_s, row_s, frames, power in rows:
        band = bands.setdefault(freq, _Band())
        meta[freq] = (power.shape[1], frames)
        linear = 10.0 ** (power.astype(np.float64) / 10.0)
        for r in range(power.shape[0]):
            t = first_s + r * row_s
            group = math.floor(t / integration_s + 1e-9)
            if band.group is not None and group != band.group and band.rows:
                emit(freq, band, *meta[freq])
                band.sum, band.rows = None, 0
            if band.rows == 0:
                band.group, band.first_s = group, t
                band.sum = linear[r].copy()
            else:
                band.sum += linear[r]
            band.rows += 1
    for freq, band in bands.items():
        if band.rows:
            emit(freq, band, *meta[freq])
    return writer.lines


def run(args: argparse.Namespace) -> int:
    from captures import open_capture
    from captures.csv_export import RtlPowerCsvWriter
    from spectrum.errors import ConfigError
    from spectrum.sinks.waterfall_sink import iter_power_rows

    if not (math.isfinite(args.integration) and args.integration > 0):
        raise ConfigError(f"--integration {args.integration}: must be a positive number of seconds")
    args.fft_size = fft_size(args.fft_size)
    with open_capture(args.path, fmt=args.fmt, sample_rate_hz=args.rate, center_freq_hz=args.freq) as reader:
        start = reader.start_time
        if start is None:
            print(f"note: {args.path} has no start time; dates count from 1970-01-01 UTC", file=sys.stderr)
            start = EPOCH
        if getattr(reader, "has_waterfall", False):
            def rows():
                for piece in reader.iter_waterfall():
                    for freq in np.unique(piece.center_freq_hz):
                        sel = piece.center_freq_hz == freq
                        yield (float(freq), float(piece.time_s[sel][0]), piece.row_s,
                               piece.frames_per_row, piece.power_dbfs[sel])
        else:
            def rows():
                for freq, first_s, frames, power in iter_power_rows(reader, args.fft_size):
                    yield freq, first_s, args.fft_size * frames / reader.sample_rate_hz, frames, power
        with RtlPowerCsvWriter(args.out) as writer:
            lines = export_rows(rows(), writer, start, reader.sample_rate_hz, args.integration)
    print(f"{args.out}: {lines} line(s)", file=sys.stderr)
    return 0
