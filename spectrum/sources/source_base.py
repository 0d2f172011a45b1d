"""The one IQ source contract, shared by RTL-SDR, rtl_tcp, capture-file and simulator sources.

A source delivers *blocks* of raw interleaved samples (I, Q, I, Q, ... in the source's native
datatype: ``cu8`` for a dongle or rtl_tcp) stamped with their tuning, a sample index and a
wall-clock estimate. Contract (every source passes ``tests/spectrum/sources/test_source_contract.py``):

* ``read_block(n)`` returns 1..n *contiguous* samples. ``sample_index`` counts from the start of
  the source and includes samples that were lost, so a gap between consecutive blocks equals
  ``dropped_samples`` of the later one. It never returns None: a finite source that is used up
  raises :class:`EndOfStream`; a source that lost its device or connection raises
  :class:`SourceLost` (a :class:`~spectrum.errors.SourceError`); no data within ``timeout_s``
  raises :class:`SourceStalled` (a ``SourceLost``).
* ``tune(f)`` retunes or raises ``SourceError`` (``can_retune`` says which beforehand). The first
  block after a tune has ``retuned=True``; samples in it may still be from before the tuner
  settled, and ``settle_samples`` is the source's own estimate of how many to discard.
* A source is a context manager; ``close()`` is safe twice; reading a closed source raises
  ``SourceError``.
* Nothing queues without bound: a source with a producer thread drops its oldest buffers, and
  counts them, when its consumer is slow.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from numpy.typing import NDArray

from spectrum.errors import SourceError


class EndOfStream(SourceError):
    """A finite source (a capture file) has no more samples."""


class SourceLost(SourceError):
    """The device or connection went away mid-stream; reopening may bring it back."""


class SourceStalled(SourceLost):
    """No samples arrived within the read timeout."""


@dataclass(frozen=True)
class SourceBlock:
    """Consecutive raw samples and how they were received.

    Attributes
    ----------
    samples : numpy.ndarray
        Interleaved native samples (uint8 for ``cu8``), length ``2 * num_samples``. The
        caller may keep it.
    sample_index : int
        Index of the first sample since the source started, dropped samples included.
    center_freq_hz, sample_rate_hz : float
        Tuning, Hz and complex samples per second.
    gain_db : float or None
        Tuner gain, dB; None for automatic gain or when unknown.
    timestamp_s : float
        Estimated ``time.time()`` of the first sample, seconds.
    retuned : bool
        First block after a ``tune()``: its start may hold settling samples.
    dropped_samples : int
        Samples lost just before this block.
    """

    samples: NDArray[Any]
    sample_index: int
    center_freq_hz: float
    sample_rate_hz: float
    gain_db: float | None
    timestamp_s: float
    retuned: bool = False
    dropped_samples: int = 0

    @property
    def num_samples(self) -> int:
        """Complex samples in the block."""
        return self.samples.shape[0] // 2


@runtime_checkable
class IQSource(Protocol):
    """What every source implements (see the module docstring for the contract)."""

    datatype: str
    sample_rate_hz: float
    center_freq_hz: float
    can_retune: bool
    realtime: bool
    settle_samples: int

    def tune(self, center_freq_hz: float) -> None: ...

    def read_block(self, num_samples: int, timeout_s: float = 2.0) -> SourceBlock: ...

    def close(self) -> None: ...

    def __enter__(self) -> "IQSource": ...

    def __exit__(self, *exc: object) -> None: ...


@dataclass
class SourceHealth:
    """Counters a source keeps about itself; the monitor adds them to its heartbeats."""

    samples: int = 0  # delivered
    dropped_samples: int = 0
    drop_events: int = 0
    short_reads: int = 0
    stalls: int = 0
    losses: int = 0
    reopens: int = 0
    retunes: int = 0
    retune_failures: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class SourceBase:
    """Shared plumbing: context manager, idempotent close, health counters, block stamping."""

    datatype: str = "cu8"
    can_retune: bool = False
    realtime: bool = False
    settle_samples: int = 0
    name: str = "source"

    def __init__(self, sample_rate_hz: float, center_freq_hz: float) -> None:
        self.sample_rate_hz = float(sample_rate_hz)
        self.center_freq_hz = float(center_freq_hz)
        self.gain_db: float | None = None
        self.health = SourceHealth()
        self._closed = False
        self._retuned = False
        self._next_index = 0  # expected sample_index of the next block

    # context manager -------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close()

    def _close(self) -> None:  # pragma: no cover - overridden where there is something to free
        pass

    def _check_open(self) -> None:
        if self._closed:
            raise SourceError(f"{self.name}: the source is closed")

    def tune(self, center_freq_hz: float) -> None:
        self._check_open()
        raise SourceError(f"{self.name}: this source cannot retune (asked for {center_freq_hz:.0f} Hz)")

    def _block(self, samples: NDArray[Any], sample_index: int, timestamp_s: float | None = None,
               center_freq_hz: float | None = None) -> SourceBlock:
        """Stamp samples as the next block, working out drops from the index gap."""
        n = samples.shape[0] // 2
        dropped = max(0, sample_index - self._next_index)
        if dropped:
            self.health.dropped_samples += dropped
            self.health.drop_events += 1
        self._next_index = sample_index + n
        self.health.samples += n
        retuned, self._retuned = self._retuned, False
        if timestamp_s is None:
            timestamp_s = time.time()
        return SourceBlock(samples, sample_index,
                           self.center_freq_hz if center_freq_hz is None else center_freq_hz,
                           self.sample_rate_hz, self.gain_db, timestamp_s, retuned, dropped)


class Pacer:
    """Sleeps so that samples go out no faster than real time at ``sample_rate_hz``.

    The clock starts at the first :meth:`wait`, so slow set-up (rendering a simulation,
    opening a file) is not caught up in a burst afterwards.
    """

    def __init__(self, sample_rate_hz: float) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.t0: float | None = None
        self.wall0 = time.time()
        self.samples = 0

    def wait(self, num_samples: int, stop: threading.Event | None = None) -> float:
        """Account ``num_samples`` about to be delivered; sleep until their last is due.

        Returns the ``time.time()`` of their first sample.
        """
        if self.t0 is None:
            self.t0 = time.monotonic()
            self.wall0 = time.time()
        first_s = self.samples / self.sample_rate_hz
        self.samples += num_samples
        due = self.t0 + self.samples / self.sample_rate_hz
        delay = due - time.monotonic()
        if delay > 0:
            if stop is not None:
                stop.wait(delay)
            else:
                time.sleep(delay)
        return self.wall0 + first_s


# ------------------------------------------------------------------------------ recovery
FaultCallback = Callable[[str, str, bool], None]
"""``on_fault(kind, detail, active)``: a fault began (active) or cleared (not active)."""


class ResilientSource:
    """Wraps a source factory: on loss or stall, close, reopen with backoff and carry on.

    Implements the source contract itself. Sample indices continue across reopens, and for a
    real-time source the samples missed while the device was away are counted as dropped
    (estimated from the monotonic clock, so a wall-clock step changes nothing). Reopening retries
    with exponential backoff and jitter (the n-th wait is a random time in ``[d/2, d]``, ``d`` =
    ``backoff_s`` doubling up to ``max_backoff_s``, so sensors behind one flapping link do not
    all reconnect in the same instant) until it succeeds or :meth:`close` / ``stop`` ends it,
    in which case ``read_block`` raises ``SourceError``.

    Parameters
    ----------
    factory : callable
        ``factory() -> IQSource``, opened and tuned to its initial frequency.
    on_fault : callable, optional
        ``on_fault(kind, detail, active)``, called when a fault starts and when it clears;
        kinds ``source_lost`` and ``stall``.
    stop : threading.Event, optional
        Set to abandon reopening.
    backoff_s, max_backoff_s : float
        First and longest wait between reopen attempts, seconds.
    """

    def __init__(self, factory: Callable[[], Any], on_fault: FaultCallback | None = None,
                 stop: threading.Event | None = None, backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0) -> None:
        self._factory = factory
        self._on_fault = on_fault or (lambda kind, detail, active: None)
        self._stop = stop or threading.Event()
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.inner = factory()
        for attr in ("datatype", "sample_rate_hz", "center_freq_hz", "can_retune", "realtime",
                     "settle_samples"):
            setattr(self, attr, getattr(self.inner, attr))
        self.name = getattr(self.inner, "name", "source")
        self._past = SourceHealth()  # counters of the inner sources already closed
        self._own = SourceHealth()  # stalls, losses, reopens
        self._index_offset = 0
        self._last_end = 0
        self._last_seen = time.monotonic()
        self._closed = False
        self._retune_pending = False

    @property
    def health(self) -> SourceHealth:
        total = SourceHealth()
        parts = [self._past, self._own] + ([self.inner.health] if self.inner is not None else [])
        for part in parts:
            for key, value in part.as_dict().items():
                setattr(total, key, getattr(total, key) + value)
        return total

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.inner is not None:
            self.inner.close()

    def tune(self, center_freq_hz: float) -> None:
        if self._closed:
            raise SourceError(f"{self.name}: the source is closed")
        self.inner.tune(center_freq_hz)
        self.center_freq_hz = float(center_freq_hz)

    def read_block(self, num_samples: int, timeout_s: float = 2.0) -> SourceBlock:
        while True:
            if self._closed:
                raise SourceError(f"{self.name}: the source is closed")
            try:
                block = self.inner.read_block(num_samples, timeout_s)
            except EndOfStream:
                raise
            except SourceLost as exc:
                self._recover("stall" if isinstance(exc, SourceStalled) else "source_lost", str(exc))
                continue
            index = block.sample_index + self._index_offset
            dropped = max(0, index - self._last_end)
            self._last_end = index + block.num_samples
            self._last_seen = time.monotonic()
            retuned = block.retuned or self._retune_pending
            self._retune_pending = False
            return SourceBlock(block.samples, index, block.center_freq_hz, block.sample_rate_hz,
                               block.gain_db, block.timestamp_s, retuned, dropped)

    def _recover(self, kind: str, detail: str) -> None:
        self._own.losses += 1
        if kind == "stall":
            self._own.stalls += 1
        self._on_fault(kind, detail, True)
        lost_at = self._last_seen
        for key, value in self.inner.health.as_dict().items():
            setattr(self._past, key, getattr(self._past, key) + value)
        try:
            self.inner.close()
        except Exception:  # noqa: BLE001 - the device is gone already; closing is best effort
            pass
        self.inner = None
        delay = self.backoff_s
        freq = self.center_freq_hz
        while not (self._stop.is_set() or self._closed):
            try:
                inner = self._factory()
                if inner.can_retune and not math.isclose(inner.center_freq_hz, freq, abs_tol=1.0):
                    inner.tune(freq)
            except SourceError as exc:
                detail = str(exc)
                self._stop.wait(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self.max_backoff_s)
                continue
            self.inner = inner
            self._own.reopens += 1
            missed = int(max(0.0, time.monotonic() - lost_at) * self.sample_rate_hz) if self.realtime else 0
            self._index_offset = self._last_end + missed
            self._retune_pending = True
            self._on_fault(kind, "recovered", False)
            return
        raise SourceError(f"{self.name}: stopped while reopening ({detail})")


class DropCounter:
    """A bounded FIFO for a producer thread: when full, the oldest item is dropped and counted.

    Dropping the oldest keeps what the consumer reads fresh (a monitor wants the present,
    not a backlog); the consumer sees the loss as a gap in the sample indices.
    """

    def __init__(self, maxlen: int) -> None:
        self._items: deque = deque()
        self.maxlen = maxlen
        self._cond = threading.Condition()
        self.dropped_items = 0

    def put(self, item: Any) -> bool:
        """Append; return False if an old item had to go to make room."""
        with self._cond:
            room = len(self._items) < self.maxlen
            if not room:
                self._items.popleft()
                self.dropped_items += 1
            self._items.append(item)
            self._cond.notify()
            return room

    def get(self, timeout_s: float) -> Any:
        """Oldest item, or None after ``timeout_s`` without one."""
        with self._cond:
            if not self._items:
                self._cond.wait(timeout_s)
            return self._items.popleft() if self._items else None

    def clear(self) -> int:
        with self._cond:
            n = len(self._items)
            self._items.clear()
            return n

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._items)
