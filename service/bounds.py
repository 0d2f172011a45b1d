"""Times checked against the server's clock: the window no stored or queried time may leave.

Schemas check what a value is (a number, an ISO time, a frequency in range); this module
checks what only the server knows: its clock and the configured window (``max_age_s`` back,
``max_ahead_s`` ahead). A start in the year 9999, or decades ago, is a sensor's broken clock or
an attack, and either way would sit at the top or the bottom of every list forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from service.schemas import iso_utc

Loc = tuple[str | int, ...]


def window_errors(times: Iterable[tuple[Loc, datetime | None]], max_age_s: float,
                  max_ahead_s: float) -> list[dict]:
    """FastAPI-shaped errors (``loc``, ``msg``, ``type``) for the times outside the window.

    Parameters
    ----------
    times : iterable of (loc, datetime or None)
        Each time with where it was found (e.g. ``("body", "events", 3, "start")``); None passes.
    max_age_s, max_ahead_s : float
        How far back and ahead of the server's clock a time may lie, in seconds.
    """
    now = datetime.now(timezone.utc)
    oldest, newest = now - timedelta(seconds=max_age_s), now + timedelta(seconds=max_ahead_s)
    errors = []
    for loc, moment in times:
        if moment is None:
            continue
        if moment < oldest:
            errors.append({"loc": list(loc), "type": "value_error",
                           "msg": f"{iso_utc(moment)} is more than {max_age_s:.0f} s before the server's clock "
                                  f"({iso_utc(now)})"})
        elif moment > newest:
            errors.append({"loc": list(loc), "type": "value_error",
                           "msg": f"{iso_utc(moment)} is more than {max_ahead_s:.0f} s ahead of the server's clock "
                                  f"({iso_utc(now)})"})
    return errors
