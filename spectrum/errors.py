"""The project's error tree.

    SpectrumError
    ├── ConfigError   bad option, band plan or scenario name
    ├── SourceError   an IQ source cannot deliver (no dongle, lost connection)
    └── DetectorError bad detector state (e.g. a baseline that does not fit the capture)

`captures.capture_errors.CaptureError` is the sibling root for file formats (that package may not
import this one); `USER_ERRORS` lists both so the CLI maps either to exit code 2.
"""

from captures.capture_errors import CaptureError


class SpectrumError(Exception):
    """Root of the errors this package raises on purpose."""


class ConfigError(SpectrumError):
    """An option, band plan or scenario is not valid."""


class SourceError(SpectrumError):
    """An IQ source cannot deliver samples."""


class DetectorError(SpectrumError):
    """Detector state cannot be used as asked (e.g. a baseline for another tuning)."""


USER_ERRORS: tuple[type[Exception], ...] = (SpectrumError, CaptureError)

__all__ = ["SpectrumError", "ConfigError", "SourceError", "DetectorError", "CaptureError", "USER_ERRORS"]
