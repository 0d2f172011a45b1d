"""Evidence keeping: a bounded ring buffer of raw IQ and the policy that cuts clips from it.

:class:`EvidenceKeeper` is fed every raw block (``feed``) and every event update (``on_event``).
For each event at or above ``min_severity`` it writes, once the event has closed and ``post_s``
of later samples have arrived, a SigMF clip from ``pre_s`` before the event's start to
``post_s`` after its end, annotated with the event, and a waterfall PNG next to it.

Bounds
------
* Memory: the buffer holds ``pre_s + max_event_s + post_s`` seconds of raw samples (≈ 154 MB
  of cu8 at 2.4 MS/s with the defaults), plus at most two blocks. An event still open after
  ``max_event_s`` is written then with its first ``max_event_s`` seconds (noted in the clip).
* Disk: at most ``max_clips`` clips and ``max_bytes`` bytes (data + PNG + metadata) written by
  this keeper; by default ``max_bytes`` is ``free_share`` of the directory's free space. With
  ``keep="priority"`` (the default) room is made by deleting the oldest clips of the least
  severe events first (``info``, then ``warning``), never one of a more severe event than the
  new clip's, and never a ``critical`` event's clip: a new clip that cannot get room is
  skipped. With ``keep="oldest"`` later clips are skipped once a cap is reached; with
  ``keep="newest"`` the oldest clips are deleted to make room. A write the disk refuses
  (full) is skipped, the byte cap shrinks to what was written, and :attr:`last_error` says
  why until a clip is written again. Skips and deletions are listed in :attr:`skipped`.

Clips are written synchronously inside ``feed``/``close`` (a clip of a few seconds takes well
under a second); a live caller that cannot afford that should feed the keeper from its own
thread.

Wiring (``spectrum replay --evidence DIR``)::

    keeper = EvidenceKeeper(DIR, reader.datatype, reader.sample_rate_hz,
                            start_time=reader.start_time)
    for event in replay_events(FeedingReader(reader, keeper), config, ...):
        keeper.on_event(event)          # every update, ongoing ones too
    keeper.close()                      # writes what is still pending
    print(keeper.summary(), file=sys.stderr)

A live loop calls ``keeper.feed(block.samples, block.sample_index, block.center_freq_hz)``
for each source block and ``keeper.on_event(event)`` for each update instead.
"""

from __future__ import annotations

import math
import os
import shutil
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from captures import CaptureError
from captures.evidence_clips import ClipPiece, write_clip
from captures.reader import resolve_datatype
from spectrum.errors import ConfigError

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
PNG_ALLOWANCE_BYTES = 300_000  # disk reserved per clip for its PNG and metadata before writing
PNG_ROWS = 300  # target rows of a clip's waterfall picture
DEFAULT_MAX_BYTES = 2_000_000_000  # the default byte cap never exceeds this, however large the disk


@dataclass
class Clip:
    """A written clip: its files, the event and what was cut or missing."""

    event_id: str
    meta_path: Path
    data_path: Path
    png_path: Path | None
    num_samples: int
    size_bytes: int
    notes: list[str] = field(default_factory=list)
    severity: str = "warning"


@dataclass
class _Pending:
    event: dict[str, Any]
    done: bool = False


def _check_settings(min_severity: str, keep: str, free_share: float, pre_s: float, post_s: float,
                    max_event_s: float, sample_rate_hz: float) -> None:
    """Raise ConfigError naming the first setting of :class:`EvidenceKeeper` out of range."""
    if min_severity not in SEVERITY_RANK:
        raise ConfigError(f"evidence: min_severity {min_severity!r} must be one of {list(SEVERITY_RANK)}")
    if keep not in ("priority", "oldest", "newest"):
        raise ConfigError(f"evidence: keep {keep!r} must be 'priority', 'oldest' or 'newest'")
    if not 0 < free_share <= 1:
        raise ConfigError(f"evidence: free_share {free_share!r} must be in (0, 1]")
    for name, value in (("pre_s", pre_s), ("post_s", post_s)):
        if not (math.isfinite(value) and 0 <= value <= 60):
            raise ConfigError(f"evidence: {name} {value!r} must be between 0 and 60 seconds")
    if not (math.isfinite(max_event_s) and 0 < max_event_s <= 600):
        raise ConfigError(f"evidence: max_event_s {max_event_s!r} must be between 0 and 600 seconds")
    if not sample_rate_hz > 0:
        raise ConfigError(f"evidence: sample rate {sample_rate_hz!r} must be positive")


class EvidenceKeeper:
    """Keep raw IQ around events and write SigMF clips with waterfall PNGs.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Directory for the clips (created if missing).
    datatype : str
        Datatype of the fed samples (``cu8`` for a dongle).
    sample_rate_hz : float
        S/s.
    pre_s, post_s : float
        Seconds kept before an event's start and after its end.
    min_severity : {"info", "warning", "critical"}
        Events below this (at the time the clip would be written) get no clip.
    max_bytes : int, optional
        Disk cap for this keeper's clips, bytes (default ``free_share`` of the free space).
    max_clips : int
        Most clips kept.
    keep : {"priority", "oldest", "newest"}
        At a cap: delete the least severe oldest clips (critical kept), skip new clips
        (oldest kept), or delete the oldest.
    free_share : float
        Share of the free space used when ``max_bytes`` is not given.
    max_event_s : float
        Longest event span a clip covers; sets the buffer size.
    start_time : datetime, optional
        Wall-clock time of sample index ``sample_index0`` (for names and SigMF datetimes).
    sample_index0 : int
        Sample index of event time 0 (``offset_*_s`` are seconds since it).
    fft_size : int
        Bins of the PNG waterfall.
    png : bool
        Draw a PNG next to each clip.

    Raises
    ------
    ConfigError
        Bad settings. ``CaptureError`` if ``out_dir`` cannot be created.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        datatype: str,
        sample_rate_hz: float,
        pre_s: float = 1.0,
        post_s: float = 1.0,
        min_severity: str = "warning",
        max_bytes: int | None = None,
        max_clips: int = 200,
        keep: str = "priority",
        max_event_s: float = 30.0,
        start_time: datetime | None = None,
        sample_index0: int = 0,
        fft_size: int = 1024,
        png: bool = True,
        free_share: float = 0.3,
    ) -> None:
        _check_settings(min_severity, keep, free_share, pre_s, post_s, max_event_s, sample_rate_hz)
        self.out_dir = Path(out_dir)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CaptureError(f"evidence directory {self.out_dir}: cannot create: {exc.strerror or exc}") from exc
        self.datatype = resolve_datatype(datatype, "evidence").name
        self._bps = resolve_datatype(datatype, "evidence").bytes_per_sample
        self.sample_rate_hz = float(sample_rate_hz)
        self.pre = int(round(pre_s * self.sample_rate_hz))
        self.post = int(round(post_s * self.sample_rate_hz))
        self.max_event = int(round(max_event_s * self.sample_rate_hz))
        self.max_event_s = float(max_event_s)
        self.capacity_samples = self.pre + self.max_event + self.post
        self.min_rank = SEVERITY_RANK[min_severity]
        free = shutil.disk_usage(self.out_dir).free
        self.max_bytes = min(int(max_bytes), free) if max_bytes is not None else \
            min(int(free_share * free), DEFAULT_MAX_BYTES)
        self.max_clips = int(max_clips)
        self.keep = keep
        self.start_time = start_time
        self.sample_index0 = int(sample_index0)
        self.fft_size = int(fft_size)
        self.png = png
        self._blocks: deque[tuple[int, float, NDArray[Any]]] = deque()
        self._held = 0  # samples in _blocks
        self._latest = self.sample_index0  # one past the newest sample fed
        self._events: dict[str, _Pending] = {}
        self.written: list[Clip] = []
        self.skipped: list[tuple[str, str]] = []  # (event id, reason)
        self.bytes_written = 0
        self.last_error: str | None = None  # why the latest clip could not be written, until one is
        self._closed = False

    # ------------------------------------------------------------------ input
    def feed(self, block_samples: NDArray[Any], sample_index: int, center_freq_hz: float) -> None:
        """Add a block of raw interleaved samples; write clips that became complete.

        Parameters
        ----------
        block_samples : numpy.ndarray
            Interleaved native samples (kept by reference: do not modify them afterwards).
        sample_index : int
            Index of the block's first sample (a jump forward is a gap, noted in clips).
        center_freq_hz : float
            Tuning of the block, Hz.
        """
        if self._closed:
            raise CaptureError(f"evidence {self.out_dir}: keeper is closed")
        n = block_samples.shape[0] // 2
        if n == 0:
            return
        self._blocks.append((int(sample_index), float(center_freq_hz), block_samples))
        self._held += n
        self._latest = max(self._latest, int(sample_index) + n)
        self._service(final=False)  # before evicting: a clip may reach back a block further
        while self._blocks and self._held - self._blocks[0][2].shape[0] // 2 >= self.capacity_samples:
            self._held -= self._blocks.popleft()[2].shape[0] // 2

    def on_event(self, event: Any) -> None:
        """Take an event update (contract dict or :class:`~spectrum.events.Event`).

        Ongoing events (``offset_end_s`` None) are tracked; the clip is written once the event
        has closed and ``post_s`` of later samples were fed (or at :meth:`close`).
        """
        if self._closed:
            raise CaptureError(f"evidence {self.out_dir}: keeper is closed")
        if hasattr(event, "to_dict"):
            event = event.to_dict()
        event_id = str(event.get("id"))
        pending = self._events.get(event_id)
        if pending is None:
            self._events[event_id] = _Pending(dict(event))
        elif not pending.done:
            pending.event = dict(event)
        self._service(final=False)

    # ------------------------------------------------------------------ policy
    def _index(self, offset_s: float) -> int:
        return self.sample_index0 + int(round(offset_s * self.sample_rate_hz))

    def _service(self, final: bool) -> None:
        for event_id, pending in list(self._events.items()):
            if pending.done:
                continue
            event = pending.event
            start = self._index(float(event["offset_start_s"]))
            end_s = event.get("offset_end_s")
            notes: list[str] = []
            if end_s is None:
                if not final and self._latest < start + self.max_event + self.post:
                    continue
                end = min(start + self.max_event, self._latest)
                notes.append(f"event still ongoing when the clip was cut; the clip holds its first "
                             f"{(end - start) / self.sample_rate_hz:.1f} s")
            else:
                end = self._index(float(end_s))
                if end - start > self.max_event:
                    end = start + self.max_event
                    notes.append(f"event lasted {float(end_s) - float(event['offset_start_s']):.1f} s; "
                                 f"the clip holds its first {self.max_event_s:g} s")
                if not final and self._latest < end + self.post:
                    continue
            pending.done = True
            if SEVERITY_RANK.get(str(event.get("severity")), 0) < self.min_rank:
                continue
            self._write(event, start - self.pre, end + self.post, notes)
        # forget finished events whose samples are long gone (bounded bookkeeping)
        if len(self._events) > 1000:
            for event_id in [k for k, p in self._events.items() if p.done][:500]:
                del self._events[event_id]

    def _pieces(self, lo: int, hi: int) -> tuple[list[tuple[int, float, NDArray[Any]]], list[str]]:
        """Buffered samples in [lo, hi), split at retunes and gaps (copies)."""
        runs: list[tuple[int, float, list[NDArray[Any]], int]] = []  # first, freq, parts, end
        notes: list[str] = []
        for first, freq, samples in self._blocks:
            a, b = max(first, lo), min(first + samples.shape[0] // 2, hi)
            if a >= b:
                continue
            part = samples[2 * (a - first) : 2 * (b - first)]
            if runs and runs[-1][3] == a and runs[-1][1] == freq:
                runs[-1][2].append(part)
                runs[-1] = (runs[-1][0], freq, runs[-1][2], b)
                continue
            if runs:
                prev_end = runs[-1][3]
                if a > prev_end:
                    notes.append(f"{a - prev_end} samples missing at {self._offset(prev_end):.3f} s (dropped)")
                else:
                    notes.append(f"retuned to {freq:.0f} Hz at {self._offset(a):.3f} s")
            runs.append((a, freq, [part], b))
        return [(a, f, np.concatenate(parts)) for a, f, parts, _ in runs], notes

    def _offset(self, index: int) -> float:
        return (index - self.sample_index0) / self.sample_rate_hz

    def _time(self, index: int) -> datetime | None:
        if self.start_time is None:
            return None
        return self.start_time + timedelta(seconds=self._offset(index))

    def _write(self, event: dict[str, Any], lo: int, hi: int, notes: list[str]) -> None:
        event_id = str(event.get("id"))
        lo = max(lo, self.sample_index0)
        pieces, piece_notes = self._pieces(lo, hi)
        if not pieces:
            self.skipped.append((event_id, "no samples of the event are buffered any more"))
            return
        have_lo = pieces[0][0]
        have_hi = pieces[-1][0] + pieces[-1][2].shape[0] // 2
        if have_lo > lo:
            notes.append(f"starts {(have_lo - lo) / self.sample_rate_hz:.3f} s later than asked "
                         f"(pre-event samples no longer buffered)")
        if have_hi < hi:
            notes.append(f"ends {(hi - have_hi) / self.sample_rate_hz:.3f} s earlier than asked "
                         f"(post-event samples not received)")
        notes += piece_notes
        num = sum(p[2].shape[0] // 2 for p in pieces)
        size = num * self._bps + (PNG_ALLOWANCE_BYTES if self.png else 20_000)
        severity = str(event.get("severity"))
        if not self._make_room(event_id, size, severity):
            return
        base = self.out_dir / self._name(event, have_lo)
        try:
            meta_path = write_clip(
                base, self.datatype, self.sample_rate_hz,
                [ClipPiece(s, f, self._time(a)) for a, f, s in pieces],
                [event], self._offset(have_lo),
                description=(f"spectrum evidence: {event.get('severity')} {event.get('kind')} event "
                             f"{event_id}"),
                notes=notes,
            )
        except (CaptureError, OSError) as exc:
            self._refused(event_id, base, exc)
            return
        data_path = meta_path.with_name(meta_path.name.replace(".sigmf-meta", ".sigmf-data"))
        png_path = None
        if self.png:
            png_path = base.with_name(base.name + ".png")
            try:
                self._draw(png_path, pieces, event, have_lo)
            except (OSError, ValueError) as exc:
                notes.append(f"PNG not written: {exc}")
                png_path = None
        used = sum(p.stat().st_size for p in (meta_path, data_path, png_path) if p is not None and p.exists())
        self.bytes_written += used
        self.written.append(Clip(event_id, meta_path, data_path, png_path, num, used, notes, severity))
        self.last_error = None

    def _refused(self, event_id: str, base: Path, exc: Exception) -> None:
        """A clip the disk refused: skipped, its partial files removed, the cap cut to what fits."""
        self.skipped.append((event_id, f"write failed: {exc}"))
        self.last_error = f"evidence {self.out_dir}: clip of {event_id[:8]} not written: {exc}"
        for partial in self.out_dir.glob(base.name + "*"):
            partial.unlink(missing_ok=True)
        self.max_bytes = min(self.max_bytes, max(self.bytes_written, 1))

    def _make_room(self, event_id: str, size: int, severity: str) -> bool:
        if size > self.max_bytes:
            self.skipped.append((event_id, f"clip of {size} bytes exceeds the {self.max_bytes}-byte cap"))
            return False
        while len(self.written) >= self.max_clips or self.bytes_written + size > self.max_bytes:
            cap = "clip" if len(self.written) >= self.max_clips else "byte"
            victim = self._victim(severity)
            if victim is None:
                self.skipped.append((event_id, f"{cap} cap reached (keep={self.keep}; kept clips are of "
                                               "events at least as severe)"))
                return False
            old = self.written.pop(victim)
            for p in (old.meta_path, old.data_path, old.png_path):
                if p is not None:
                    p.unlink(missing_ok=True)
            self.bytes_written -= old.size_bytes
            self.skipped.append((old.event_id, f"deleted to make room for a newer clip (keep={self.keep})"))
        return True

    def _victim(self, severity: str) -> int | None:
        """Index in :attr:`written` of the clip to delete for a new one of ``severity``, or None."""
        if self.keep == "oldest" or not self.written:
            return None
        if self.keep == "newest":
            return 0
        rank = SEVERITY_RANK.get(severity, 0)
        candidates = [(SEVERITY_RANK.get(c.severity, 0), i) for i, c in enumerate(self.written)
                      if SEVERITY_RANK.get(c.severity, 0) < SEVERITY_RANK["critical"]
                      and SEVERITY_RANK.get(c.severity, 0) <= rank]
        return min(candidates)[1] if candidates else None

    def _name(self, event: dict[str, Any], first: int) -> str:
        when = self._time(first)
        stamp = (when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")[:-4] + "Z" if when
                 else f"t{self._offset(first):010.3f}s")
        kind = str(event.get("kind", "event"))
        return f"{stamp}_{kind}_{str(event.get('id', 'x'))[:8]}"

    def _draw(self, png_path: Path, pieces: list, event: dict[str, Any], first: int) -> None:
        from spectrum.detect.spectral_frontend import SpectralFrontEnd
        from spectrum.sinks.waterfall_png import save_waterfall_png
        from spectrum.sinks.waterfall_sink import to_dbfs

        _, freq, _ = pieces[0]
        samples = np.concatenate([p[2] for p in pieces if p[1] == freq])
        n = samples.shape[0] // 2
        fft = min(self.fft_size, 1 << max(4, int(math.log2(max(n, 16)))))
        frames_per_row = max(1, n // (fft * PNG_ROWS))
        frontend = SpectralFrontEnd(self.datatype, fft, frames_per_row)
        rows = [to_dbfs(r.mean) for r, _ in frontend.process(samples)]
        if not rows:
            raise ValueError("clip too short for a waterfall")
        power = np.vstack(rows)
        row_s = fft * frames_per_row / self.sample_rate_hz
        times = self._offset(first) + row_s * np.arange(power.shape[0])
        freqs = freq + (np.arange(fft) - fft // 2) * (self.sample_rate_hz / fft)
        save_waterfall_png(png_path, power, times, freqs, [event], row_s=row_s,
                           title=f"{event.get('kind')} ({event.get('severity')}), event {event.get('id')}")

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Write every pending clip with the samples there are, and release the buffer. Safe twice."""
        if self._closed:
            return
        try:
            self._service(final=True)
        finally:
            self._closed = True
            self._blocks.clear()
            self._held = 0

    def summary(self) -> str:
        """One line: clips written, bytes, and what was skipped."""
        text = f"evidence: {len(self.written)} clip(s), {self.bytes_written / 1e6:.1f} MB in {self.out_dir}"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped or deleted (" + "; ".join(
                f"{eid[:8]}: {why}" for eid, why in self.skipped[:5]) + (", ..." if len(self.skipped) > 5 else "") + ")"
        return text

    def __enter__(self) -> EvidenceKeeper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FeedingReader:
    """A capture-reader proxy whose :meth:`blocks` also feed an :class:`EvidenceKeeper`.

    Lets ``replay_events`` drive the keeper without changes to the pipeline::

        for event in replay_events(FeedingReader(reader, keeper), config, ...):
            keeper.on_event(event.to_dict())
    """

    def __init__(self, reader: Any, keeper: EvidenceKeeper) -> None:
        self._reader = reader
        self._keeper = keeper

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def blocks(self, block_samples: int, start: int = 0, stop: int | None = None):
        """Yield the reader's blocks, feeding each to the keeper first."""
        for block in self._reader.blocks(block_samples, start, stop):
            self._keeper.feed(block.samples, block.sample_start, block.center_freq_hz)
            yield block
