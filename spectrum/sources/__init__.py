"""IQ sources behind one contract (:mod:`spectrum.sources.source_base`): RTL-SDR, rtl_tcp, file, sim.

``open_source(spec)`` parses the ``--source`` strings of ``spectrum monitor``:

=====================================  ===========================================================
``rtlsdr:0`` / ``rtlsdr:00000042``     a local dongle by index (0-99) or serial
``rtltcp://HOST:PORT``                 an rtl_tcp server
``file:PATH``                          a capture (SigMF or raw; raw needs ``fmt``/rate/freq or
                                       an rtl_433-style name)
``sim:SCENARIO[?fast&loop=S&seed=N]``  a simulated scenario, paced in real time unless ``fast``;
                                       ``&clean=S`` first jammer at S s, ``&hold`` it stays on
``simdongle:SERIAL[?nf=..&input=..]``  a simulated dongle of known gain and noise figure (in dBm,
                                       for calibration; :mod:`~spectrum.sources.simdongle_source`)
=====================================  ===========================================================

Importing this package loads no driver; pyrtlsdr is imported when an ``rtlsdr:`` source opens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from spectrum.errors import ConfigError, SourceError
from spectrum.sources.source_base import (
    EndOfStream,
    IQSource,
    ResilientSource,
    SourceBlock,
    SourceHealth,
    SourceLost,
    SourceStalled,
)

SCHEMES = ("rtlsdr:", "rtltcp://", "file:", "sim:")

__all__ = ["EndOfStream", "IQSource", "ResilientSource", "SourceBlock", "SourceHealth",
           "SourceLost", "SourceStalled", "open_source", "SCHEMES"]


def _options(spec: str) -> tuple[str, dict[str, str]]:
    body, _, query = spec.partition("?")
    opts = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    return body, opts


def _flag(opts: dict[str, str], key: str) -> bool:
    return key in opts and opts[key].lower() not in ("0", "false", "no")


def _number(spec: str, opts: dict[str, str], key: str, kind: type = float) -> Any:
    if key not in opts:
        return None
    try:
        return kind(opts[key])
    except ValueError:
        raise ConfigError(f"--source {spec}: {key}={opts[key]!r} is not a number") from None


def open_source(spec: str, *, sample_rate_hz: float | None = None,
                center_freq_hz: float | None = None, gain_db: float | str | None = None,
                ppm: int = 0, bias_tee: bool = False, direct_sampling: int = 0,
                realtime: bool | None = None, fmt: str | None = None,
                driver: Callable[..., Any] | None = None) -> Any:
    """Open the source a ``--source`` string names.

    Parameters
    ----------
    spec : str
        ``rtlsdr:INDEX|SERIAL``, ``rtltcp://HOST:PORT``, ``file:PATH``, ``sim:SCENARIO``.
    sample_rate_hz, center_freq_hz : float, optional
        Initial tuning for a dongle or rtl_tcp (default 2.4 MS/s); a raw file's rate and
        frequency. A simulator or SigMF file has its own; a given frequency tunes it there.
    gain_db, ppm, bias_tee, direct_sampling
        Dongle settings (see :class:`~spectrum.sources.rtlsdr_source.RtlSdrSource`); gain and ppm
        also go to rtl_tcp.
    realtime : bool, optional
        Pacing of file and sim sources (default: sim paced, file not; ``sim:X?fast`` unpaced).
    fmt : str, optional
        Raw file datatype.
    driver : callable, optional
        RtlSdr-like class (tests).

    Raises
    ------
    ConfigError
        The string is not a source.
    SourceError
        The source cannot be opened.
    """
    spec = spec.strip()
    if spec.startswith("rtlsdr:"):
        from spectrum.sources.rtlsdr_source import RtlSdrSource, parse_device

        body, opts = _options(spec.removeprefix("rtlsdr:"))
        if not body:
            raise ConfigError(f"--source {spec}: name a dongle, e.g. rtlsdr:0 or rtlsdr:SERIAL")
        return RtlSdrSource(
            parse_device(body), sample_rate_hz=sample_rate_hz or 2.4e6,
            center_freq_hz=center_freq_hz or 100e6, gain_db=gain_db, ppm=ppm,
            bias_tee=bias_tee or _flag(opts, "bias_tee"),
            direct_sampling=direct_sampling or (_number(spec, opts, "direct", int) or 0),
            driver=driver)
    if spec.startswith("rtltcp://"):
        from spectrum.sources.rtltcp_client import RtlTcpSource, parse_hostport

        host, port = parse_hostport(spec)
        return RtlTcpSource(host, port, sample_rate_hz=sample_rate_hz or 2.4e6,
                            center_freq_hz=center_freq_hz, gain_db=gain_db, ppm=ppm,
                            bias_tee=bias_tee)
    if spec.startswith("file:"):
        from spectrum.sources.file_source import FileSource

        body, opts = _options(spec.removeprefix("file:"))
        if not body:
            raise ConfigError(f"--source {spec}: give a path, e.g. file:capture.sigmf-meta")
        source = FileSource(body, realtime=bool(realtime) or _flag(opts, "realtime"),
                            loop=_flag(opts, "loop"), fmt=fmt, sample_rate_hz=sample_rate_hz,
                            center_freq_hz=center_freq_hz if _is_raw(body) else None)
        return _tuned(source, center_freq_hz, spec)
    if spec.startswith("sim:"):
        from spectrum.sources.sim_source import SimSource

        body, opts = _options(spec.removeprefix("sim:"))
        pace = not _flag(opts, "fast") if realtime is None else realtime
        source = SimSource(body, realtime=pace, loop_s=_number(spec, opts, "loop"),
                           seed=_number(spec, opts, "seed", int) or 0,
                           clean_s=_number(spec, opts, "clean"), hold=_flag(opts, "hold"))
        if sample_rate_hz is not None and abs(sample_rate_hz - source.sample_rate_hz) > 1:
            source.close()
            raise ConfigError(f"--source {spec}: the scenario runs at {source.sample_rate_hz:.0f} "
                              f"S/s, not {sample_rate_hz:.0f}")
        return _tuned(source, center_freq_hz, spec)
    if spec.startswith("simdongle:"):
        from spectrum.sources.simdongle_source import SimDongleSource, parse_simdongle

        return SimDongleSource(parse_simdongle(spec), 29.7 if gain_db in (None, "auto") else float(gain_db),
                               sample_rate_hz or 2.4e6, center_freq_hz or 100e6)
    raise ConfigError(f"--source {spec!r}: expected one of rtlsdr:INDEX|SERIAL, "
                      "rtltcp://HOST:PORT, file:PATH, sim:SCENARIO, simdongle:SERIAL")


def _is_raw(path: str) -> bool:
    return ".sigmf" not in path.lower()


def _tuned(source: Any, center_freq_hz: float | None, spec: str) -> Any:
    if center_freq_hz is not None and abs(center_freq_hz - source.center_freq_hz) > 1:
        try:
            source.tune(center_freq_hz)
        except SourceError:
            source.close()
            raise
    return source
