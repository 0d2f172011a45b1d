"""Option parsing helpers shared by commands (frequencies with k/M/G suffixes)."""

from __future__ import annotations

import argparse

_SUFFIX = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


def hertz(text: str) -> float:
    """Parse ``2.4M``, ``433.92e6`` or ``250k`` into Hz (argparse type)."""
    raw = text.strip().removesuffix("Hz").removesuffix("S/s")
    scale = 1.0
    if raw and raw[-1] in _SUFFIX:
        scale, raw = _SUFFIX[raw[-1]], raw[:-1]
    try:
        value = float(raw) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a frequency (e.g. 2.4M, 433.92e6, 250k)") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def add_raw_format_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("raw files (headerless IQ)")
    group.add_argument("--format", dest="fmt", choices=["cu8", "cs8", "cs16", "cf32"],
                       help="sample format (default: from the extension; .bin is cu8)")
    group.add_argument("--rate", type=hertz, metavar="HZ", help="sample rate, e.g. 2.4M (default: from an rtl_433-style name)")
    group.add_argument("--freq", type=hertz, metavar="HZ", help="centre frequency, e.g. 942.2M (default: from the name)")


def add_fft_size_option(parser: argparse.ArgumentParser, what: str = "bins per spectrum") -> None:
    parser.add_argument("--fft-size", type=int, metavar="N", help=f"{what} (power of two; default: the detector's, 2048)")


def fft_size(value: int | None) -> int:
    """The --fft-size to use: the detector's default when not given; ConfigError if invalid."""
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.errors import ConfigError

    if value is None:
        return DetectorConfig().fft_size
    if value < 64 or value & (value - 1):
        raise ConfigError(f"--fft-size {value}: must be a power of two ≥ 64")
    return value
