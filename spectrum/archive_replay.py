"""Archive replay: many captures in one process, a local process pool, or a Dask cluster.

The unit of work is :func:`replay_capture`, a plain function of a path and options that returns
plain data (the capture's final events as dicts, its length, or the error that stopped it). It
runs the same serially, in a ``concurrent.futures`` process pool (``--jobs N``) or on the workers
of a Dask distributed cluster (``--dask ADDRESS``), so the three give the same events. Outcomes
are yielded in input order whatever order they finish in, and at most a few captures per worker
are in flight, so memory stays bounded by the block size times the workers, not by the archive.

Dask is used as it is (``Client.submit`` and ``Future.result``), not wrapped in a scheduler of our
own; it is an optional extra (``pip install spectrum-watch[dask]``), imported only for ``--dask``.
"""

from __future__ import annotations

import glob
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from spectrum.errors import USER_ERRORS, ConfigError

if TYPE_CHECKING:
    from concurrent.futures import Future

CAPTURE_SUFFIXES = (".sigmf-meta", ".h5", ".hdf5", ".cu8", ".cs8", ".cs16", ".cf32", ".bin")
PARTIAL_SUFFIX = ".partial.sigmf-meta"  # a recorder's checkpoint: the finished file is next to it
IN_FLIGHT_PER_WORKER = 2  # captures submitted ahead per worker: keeps workers busy, memory bounded


@dataclass(frozen=True)
class ReplayOptions:
    """How every capture of an archive is replayed (picklable: it travels to the workers)."""

    fmt: str | None = None
    sample_rate_hz: float | None = None
    center_freq_hz: float | None = None
    fft_size: int | None = None
    baseline_path: str | None = None
    site: str | None = None
    sensor: str | None = None


@dataclass
class CaptureOutcome:
    """What one capture gave: its final events (each naming its file), or why it failed."""

    path: str
    events: list[dict] = field(default_factory=list)
    samples: int = 0
    duration_s: float = 0.0
    elapsed_s: float = 0.0
    error: str | None = None
    bad_input: bool = False  # the error is the capture's or the options' fault (exit 2), not a bug (exit 1)


def find_captures(patterns: Sequence[str]) -> list[str]:
    """Expand files, folders (searched recursively) and glob patterns into capture paths.

    Parameters
    ----------
    patterns : sequence of str
        Paths as the user gave them. A folder yields every capture below it (SigMF by its
        ``.sigmf-meta``, HDF5, raw IQ by extension), sorted; a pattern with ``*``, ``?`` or ``[``
        is expanded (``**`` recursive), sorted. A name that exists in no form is kept, so its
        replay reports it as missing and the rest go on.

    Returns
    -------
    list of str
        Each capture once, in the order given.

    Raises
    ------
    ConfigError
        A folder or a pattern that holds no capture at all.
    """
    found: list[str] = []
    for pattern in patterns:
        if os.path.isdir(pattern):
            hits = sorted(str(p) for p in Path(pattern).rglob("*") if _is_capture(p))
            if not hits:
                raise ConfigError(f"{pattern}: no captures in this folder (looked for {', '.join(CAPTURE_SUFFIXES)})")
        elif not os.path.exists(pattern) and glob.has_magic(pattern):
            hits = sorted(p for p in glob.glob(pattern, recursive=True) if _is_capture(Path(p)))
            if not hits:
                raise ConfigError(f"{pattern}: the pattern matches no capture")
        else:
            hits = [pattern]
        found.extend(hits)
    return list(dict.fromkeys(found))


def _is_capture(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(CAPTURE_SUFFIXES) and not name.endswith(PARTIAL_SUFFIX)


def replay_capture(path: str, options: ReplayOptions) -> CaptureOutcome:
    """Replay one capture and return its final events; never raises for a bad capture.

    Parameters
    ----------
    path : str
        A capture :func:`captures.open_capture` can open.
    options : ReplayOptions

    Returns
    -------
    CaptureOutcome
        Final events only (ongoing updates and sidebands folded into another event are for live
        use), each with ``file`` set to ``path``; or ``error`` with a one-line reason.
    """
    from captures import open_capture
    from spectrum.detect.band_baseline import Baseline
    from spectrum.detect.detector_config import DetectorConfig
    from spectrum.replay import replay_events

    outcome = CaptureOutcome(path=path)
    started = time.perf_counter()
    try:
        config = DetectorConfig(fft_size=options.fft_size) if options.fft_size else DetectorConfig()
        baseline = Baseline.load(options.baseline_path) if options.baseline_path else None
        with open_capture(path, fmt=options.fmt, sample_rate_hz=options.sample_rate_hz,
                          center_freq_hz=options.center_freq_hz) as reader:
            for event in replay_events(reader, config, baseline, options.site, options.sensor):
                if not event.ongoing and "merged_into" not in event.extra:
                    outcome.events.append({**event.to_dict(), "file": path})
            outcome.samples = reader.num_samples
            outcome.duration_s = reader.duration_s
    except USER_ERRORS as exc:
        outcome.events, outcome.error, outcome.bad_input = [], str(exc), True
    except Exception as exc:  # a bug or the environment: report it with this capture, go on with the rest
        outcome.events, outcome.error = [], f"{type(exc).__name__}: {exc}"
    outcome.elapsed_s = time.perf_counter() - started
    return outcome


def replay_archive(paths: Sequence[str], options: ReplayOptions, jobs: int = 1,
                   dask_address: str | None = None) -> Iterator[CaptureOutcome]:
    """Replay captures serially, in ``jobs`` local processes, or on a Dask cluster.

    Parameters
    ----------
    paths : sequence of str
        Captures, e.g. from :func:`find_captures`.
    options : ReplayOptions
    jobs : int
        Local worker processes (1: in this process).
    dask_address : str, optional
        A Dask scheduler address (``tcp://127.0.0.1:8786``); overrides ``jobs``.

    Yields
    ------
    CaptureOutcome
        One per path, in the order of ``paths``.

    Raises
    ------
    ConfigError
        ``jobs`` < 1, Dask not installed, or no scheduler at ``dask_address``.
    """
    if jobs < 1:
        raise ConfigError(f"--jobs {jobs}: must be at least 1")
    if dask_address:
        yield from _on_dask(paths, options, dask_address)
    elif jobs == 1:
        for path in paths:
            yield replay_capture(path, options)
    else:
        import multiprocessing  # here, not at import: a replay of one capture needs no pool (start-up)
        from concurrent.futures import ProcessPoolExecutor

        # forkserver: workers fork from a clean server that has imported the replay once (no
        # inherited threads or open files from the caller, no per-worker import cost)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["spectrum.replay"])
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            yield from _in_order(paths, lambda p: pool.submit(replay_capture, p, options), jobs)


def _in_order(paths: Sequence[str], submit, workers: int) -> Iterator[CaptureOutcome]:
    """Submit a bounded window of captures ahead and yield their outcomes in input order."""
    pending: deque[Future] = deque()
    todo = iter(paths)
    for path in todo:
        pending.append(submit(path))
        if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
            break
    while pending:
        outcome = pending.popleft().result()
        next_path = next(todo, None)
        if next_path is not None:
            pending.append(submit(next_path))
        yield outcome


def _on_dask(paths: Sequence[str], options: ReplayOptions, address: str) -> Iterator[CaptureOutcome]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError("--dask needs Dask: pip install 'spectrum-watch[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"--dask {address}: no Dask scheduler answers there ({exc})") from None
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        yield from _in_order(paths, lambda p: client.submit(replay_capture, p, options, pure=False), workers)
    finally:
        client.close()
