"""Errors raised by capture readers and writers.

`captures` may not import `spectrum`, so its error root lives here; the CLI treats
`CaptureError` like `spectrum.errors.SpectrumError` (one line on stderr, exit 2).
"""


class CaptureError(Exception):
    """A capture file or its metadata cannot be read or written as asked.

    The message names the file, what is wrong and, where there is one, the fix.
    """
