"""The sensor's clock offset against the desk, estimated NTP-style from the uplink's requests.

The desk stamps its responses with its clock (header ``X-Desk-Time``, seconds since the epoch).
A request sent at sensor time ``t_send`` and answered at ``t_recv`` gives one sample

    offset = desk_time - (t_send + t_recv) / 2,   rtt = t_recv - t_send,

exact when the request and the answer take equally long, and off by at most ``rtt / 2``
otherwise (D. L. Mills, "Internet time synchronization: the Network Time Protocol", IEEE Trans.
Commun. 39(10), 1991, section on the clock filter). Of the last few samples the one with the
smallest round trip is kept: queueing delays only lengthen a round trip, so the quickest
exchange is the least skewed. ``desk ≈ sensor + offset``.
"""

from __future__ import annotations

from collections import deque

DESK_TIME_HEADER = "X-Desk-Time"
KEEP_SAMPLES = 8


class ClockOffsetEstimator:
    """Minimum-round-trip offset of the last ``keep`` exchanges with the desk.

    Parameters
    ----------
    keep : int
        Samples kept (the newest ones).
    """

    def __init__(self, keep: int = KEEP_SAMPLES) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)

    def add(self, t_send_s: float, t_recv_s: float, desk_time_s: float) -> None:
        """One exchange: sensor times of sending and receiving, the desk's time in its answer (s)."""
        rtt_s = t_recv_s - t_send_s
        if rtt_s < 0:  # the sensor's clock stepped back during the request: no sample
            return
        self._samples.append((desk_time_s - (t_send_s + t_recv_s) / 2, rtt_s))

    def add_header(self, t_send_s: float, t_recv_s: float, header: str | None) -> None:
        """Like :meth:`add`, from the header's text; an absent or unreadable header is ignored."""
        try:
            desk_time_s = float(header) if header else None
        except ValueError:
            desk_time_s = None
        if desk_time_s is not None and desk_time_s == desk_time_s:  # not NaN
            self.add(t_send_s, t_recv_s, desk_time_s)

    def best(self) -> tuple[float, float] | None:
        """``(offset_s, rtt_s)`` of the quickest kept exchange, or None before any."""
        return min(self._samples, key=lambda s: s[1]) if self._samples else None

    def fields(self) -> dict:
        """Heartbeat fields ``clock_offset_s`` and ``clock_offset_rtt_s`` (empty before any exchange)."""
        best = self.best()
        if best is None:
            return {}
        return {"clock_offset_s": round(best[0], 4), "clock_offset_rtt_s": round(best[1], 4)}
