"""Failed authentication, limited per client address (answered 429 with ``Retry-After``).

Hand-written rather than ``slowapi``/``limits``: those count every request on a route, while
this counts only *failed* authentications, so a busy sensor never trips it and a token guesser
does after a handful of tries; the whole state is one bounded dict, kept in memory like the
rest of a single-worker desk.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

MAX_ADDRESSES = 50_000  # addresses remembered at once (oldest forgotten first): bounded memory


class FailureLimiter:
    """At most ``max_failures`` failed authentications per address within ``window_s`` seconds.

    Parameters
    ----------
    max_failures : int
        Failures allowed in any window; the next attempt from that address is refused.
    window_s : float
        Length of the sliding window, in seconds.
    """

    def __init__(self, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after_s(self, address: str) -> float | None:
        """Seconds until ``address`` may try again, or None when it may try now."""
        now = time.monotonic()
        with self._lock:
            times = self._failures.get(address)
            if times is None:
                return None
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if not times:
                del self._failures[address]
                return None
            if len(times) < self.max_failures:
                return None
            return max(0.0, times[0] + self.window_s - now)

    def failed(self, address: str) -> None:
        """Record one failed authentication from ``address``."""
        with self._lock:
            times = self._failures.pop(address, None) or deque(maxlen=self.max_failures)
            times.append(time.monotonic())
            self._failures[address] = times  # most recent last
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)
