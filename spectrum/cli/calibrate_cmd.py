"""``spectrum calibrate``: measure a dongle's dBFS-to-dBm offsets and save them (see spectrum.live.dongle_calibration)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spectrum.cli.options import hertz

DEFAULT_FREQS_HZ = (100e6, 400e6, 900e6, 1500e6)


def _list(kind, what: str):
    def parse(text: str) -> list:
        if what == "gains" and text == "all":
            return []
        try:
            values = [kind(part) for part in text.split(",") if part.strip()]
        except (ValueError, argparse.ArgumentTypeError):
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {what}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"give at least one of the {what}")
        return values
    return parse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="measure a dongle's dBFS-to-dBm offset per gain and frequency",
                       description="With a 50 ohm terminator on the antenna port (default), the floor is thermal "
                                   "noise plus the tuner's noise figure; a noise source or signal generator of known "
                                   "level is the precise alternative. Writes a JSON file for `spectrum monitor "
                                   "--calibration FILE`. A results table goes to stdout, progress to stderr.")
    p.add_argument("--source", required=True, metavar="SRC",
                   help="rtlsdr:INDEX|SERIAL, or simdongle:SERIAL?... (a simulated dongle of known gain)")
    p.add_argument("--out", required=True, metavar="FILE", help="calibration file to write (JSON)")
    p.add_argument("--reference", default="terminator", metavar="REF",
                   help="terminator (default), noise:DBM_PER_HZ, or tone:DBM@HZ (a signal generator)")
    p.add_argument("--tuner", default="r820t", help="the dongle's tuner (default r820t; an rtlsdr source says its own)")
    p.add_argument("--noise-figure", type=float, metavar="DB", help="the tuner's noise figure (default: the documented one)")
    p.add_argument("--gains", type=_list(float, "gains"), default=[], metavar="DB,...",
                   help="gain steps to measure (default all: the tuner's whole table)")
    p.add_argument("--freqs", type=_list(hertz, "frequencies"), default=list(DEFAULT_FREQS_HZ), metavar="HZ,...",
                   help="centre frequencies (default 100M,400M,900M,1500M)")
    p.add_argument("--rate", type=hertz, default=2.4e6, metavar="HZ", help="sample rate (default 2.4M)")
    p.add_argument("--seconds", type=float, default=0.25, help="averaging per point, seconds (default 0.25)")
    p.set_defaults(run=run)


def _opener(spec: str, rate_hz: float, first_freq_hz: float):
    """``open_at_gain(gain_db)`` for the source, and the dongle's table of gains."""
    if spec.startswith("simdongle:"):
        from spectrum.sources.simdongle_source import R820T_GAINS_DB, SimDongleSource, parse_simdongle

        model = parse_simdongle(spec)
        return (lambda g: SimDongleSource(model, g, rate_hz, first_freq_hz)), list(R820T_GAINS_DB)
    if not spec.startswith("rtlsdr:"):
        from spectrum.errors import ConfigError

        raise ConfigError(f"--source {spec}: calibration needs a dongle at hand (rtlsdr:INDEX|SERIAL, or simdongle:)")
    from spectrum.sources import open_source

    def open_at(g: float):
        return open_source(spec, sample_rate_hz=rate_hz, center_freq_hz=first_freq_hz, gain_db=g)

    with open_at(0.0) as probe:  # the driver's table of gain steps (RtlSdrSource keeps its pyrtlsdr device)
        gains = [float(g) for g in getattr(getattr(probe, "_dev", None), "valid_gains_db", None) or []]
    return open_at, gains


def run(args: argparse.Namespace) -> int:
    from spectrum.errors import ConfigError
    from spectrum.live.dongle_calibration import Reference, calibrate, source_identity

    if not 0.01 <= args.seconds <= 10:
        raise ConfigError(f"--seconds {args.seconds}: between 0.01 and 10")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: directory {out.parent} does not exist")
    reference = Reference.parse(args.reference)
    open_at, table = _opener(args.source, args.rate, args.freqs[0])
    with open_at(table[0] if table else 0.0) as probe:
        serial, tuner = source_identity(probe)
    if serial is None:
        raise ConfigError(f"--source {args.source}: the dongle's serial is unknown; name it by serial (rtlsdr:SERIAL)")
    gains = args.gains or table
    if not gains:
        raise ConfigError(f"--source {args.source}: the driver lists no gain steps; name them with --gains DB,...")
    cal = calibrate(open_at, gains, args.freqs, reference, tuner or args.tuner, serial, args.noise_figure,
                    args.seconds, progress=lambda msg: print(msg, file=sys.stderr))
    cal.save(out)
    print("| gain dB | MHz | floor dBFS/Hz | offset dB (dBm = dBFS + offset) | measured |")
    print("|---:|---:|---:|---:|---|")
    for p in cal.points:
        shown = f"{p.offset_db:.2f}" if p.measured else f"{cal.offset_db(p.gain_db, p.center_freq_hz):.2f} (table)"
        print(f"| {p.gain_db:g} | {p.center_freq_hz / 1e6:g} | {p.floor_dbfs_per_hz:.1f} | {shown} | "
              f"{'yes' if p.measured else p.note} |")
    print(f"wrote {out} (dongle {serial}, tuner {cal.tuner})", file=sys.stderr)
    return 0
