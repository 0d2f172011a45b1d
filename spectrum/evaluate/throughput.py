"""Throughput against peers, measured in one run on the same data (``spectrum bench``).

Contenders, all on one core and all starting from the same raw cu8 bytes (conversion to
complex is part of every contender's work, since a receiver delivers bytes):
- spectrum front end: fused convert/DC/window (numba) → FFT (FFTW, or scipy's pocketfft)
  → |X|², Welch mean, Σ|X|⁴ and max-hold (numba);
- scipy.signal.welch with its default 50 % overlap and with ``noverlap=0``;
- a plain NumPy Welch (reshape, window, numpy.fft, mean);
- the full replay of a SigMF cu8 file: read → kernels → detector → events, on a busy
  GSM-900 scene and on the same scene with a barrage jammer on 40 % of the time (the
  detector does more work while something is detected).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

FFT_SIZE = 1024
RATE_HZ = 2.4e6


def _best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _bench_data(seconds: float, scenario_name: str) -> np.ndarray:
    """A scenario as cu8 (rendered for up to 10 s, then tiled to ``seconds``)."""
    from spectrum.sim.scenarios import get_scenario, render_cu8

    scenario = get_scenario(scenario_name)
    piece = np.concatenate(list(render_cu8(scenario, min(seconds, 10.0), seed=7, chunk_samples=1 << 20)))
    reps = int(np.ceil(seconds * RATE_HZ * 2 / piece.size))
    return np.tile(piece, reps)[: int(seconds * RATE_HZ) * 2]


def _frontend(raw: np.ndarray, backend: str) -> None:
    from spectrum.detect.spectral_frontend import SpectralFrontEnd

    fe = SpectralFrontEnd("cu8", FFT_SIZE, frames_per_row=59, rows_per_batch=4, fft_backend=backend)
    for start in range(0, raw.size, 1 << 21):
        fe.process(raw[start : start + (1 << 21)])


def _to_complex(raw: np.ndarray) -> np.ndarray:
    x = raw.astype(np.float32).view(np.complex64)
    return (x - np.complex64(127.5 + 127.5j)) / np.float32(127.5)


def _welch(raw: np.ndarray, noverlap) -> None:
    import scipy.signal

    for start in range(0, raw.size, 1 << 22):
        x = _to_complex(raw[start : start + (1 << 22)])
        scipy.signal.welch(x, fs=RATE_HZ, window="hann", nperseg=FFT_SIZE, noverlap=noverlap, return_onesided=False)


def _numpy_welch(raw: np.ndarray) -> None:
    window = np.hanning(FFT_SIZE).astype(np.float32)
    for start in range(0, raw.size, 1 << 22):
        x = _to_complex(raw[start : start + (1 << 22)])
        frames = x[: x.size // FFT_SIZE * FFT_SIZE].reshape(-1, FFT_SIZE)
        frames = frames - frames.mean()
        spectra = np.fft.fft(frames * window, axis=1)
        np.fft.fftshift((np.abs(spectra) ** 2).mean(axis=0))


def _write_sigmf(path: Path, raw_chunks) -> Path:
    from captures import SigMFWriter

    with SigMFWriter(path, "cu8", RATE_HZ, 942.2e6, datetime(2026, 5, 3, tzinfo=timezone.utc)) as writer:
        for chunk in raw_chunks:
            writer.write(chunk)
        return writer.meta_path


def _replay(meta: Path) -> int:
    from captures import open_capture
    from spectrum.replay import ReplayResult, replay_events

    result = ReplayResult()
    with open_capture(meta) as reader:
        for _ in replay_events(reader, result=result):
            pass
    return len(result.events)


def _peak_rss_mb(meta: Path) -> float:
    """Replay in a child process and return its peak resident memory (MB).

    The child reports its own VmHWM (peak RSS since exec). ru_maxrss from wait4 is not used:
    it can include the forked copy of this (large) parent before exec.
    """
    code = (
        "import sys; from pathlib import Path; from spectrum.evaluate.throughput import _replay; _replay(Path(sys.argv[1])); "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(meta)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"replay of {meta} failed in the memory benchmark: {proc.stderr.strip()[-300:]}")
    return int(proc.stdout.split()[-1]) / 1024


def _noise_chunks(seconds: float, seed: int):
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE_HZ) * 2
    for start in range(0, total, 1 << 24):
        n = min(1 << 24, total - start)
        yield np.clip(rng.normal(127.5, 4.0, n), 0, 255).astype(np.uint8)


def run_bench(seconds: float, repeat: int, memory: bool) -> int:
    from kernels.fft import fftw_available

    from rich.console import Console
    from rich.table import Table

    err = Console(stderr=True)
    err.print(f"preparing {seconds:g} s of cu8 at {RATE_HZ / 1e6:g} MS/s: a busy GSM-900 scene, and one with a barrage jammer …")
    raw = _bench_data(seconds, "barrage_wide")
    clean_raw = _bench_data(seconds, "clean_busy")
    samples = raw.size // 2
    _frontend(raw[: 1 << 22], "auto")  # compile / load the kernels outside the timing
    _frontend(raw[: 1 << 22], "scipy")

    results: list[tuple[str, float]] = []

    def measure(name: str, fn) -> None:
        err.print(f"  {name} …")
        results.append((name, samples / _best_of(repeat, fn) / 1e6))

    backend = "fftw" if fftw_available() else "scipy"
    measure(f"spectrum PSD kernel ({backend})", lambda: _frontend(raw, "auto"))
    if backend == "fftw":
        measure("spectrum PSD kernel (scipy.fft)", lambda: _frontend(raw, "scipy"))
    measure("scipy.signal.welch (noverlap=0)", lambda: _welch(raw, 0))
    measure("scipy.signal.welch (default 50 %)", lambda: _welch(raw, None))
    measure("plain NumPy Welch", lambda: _numpy_welch(raw))
    with tempfile.TemporaryDirectory() as tmp:
        clean_meta = _write_sigmf(Path(tmp) / "clean", [clean_raw])
        jammed_meta = _write_sigmf(Path(tmp) / "jammed", [raw])
        _replay(clean_meta)
        measure("spectrum replay, SigMF cu8, busy GSM-900 scene (read → kernels → detector → events)",
                lambda: _replay(clean_meta))
        measure("spectrum replay, SigMF cu8, same with a barrage jammer on 40 % of the time",
                lambda: _replay(jammed_meta))

        memory_rows = []
        if memory:
            for minutes in (1, 10):
                err.print(f"  peak memory, {minutes}-minute capture …")
                m = _write_sigmf(Path(tmp) / f"mem{minutes}", _noise_chunks(minutes * 60, minutes))
                size_mb = m.with_suffix(".sigmf-data").stat().st_size / 1e6
                memory_rows.append((minutes, size_mb, _peak_rss_mb(m)))
                m.with_suffix(".sigmf-data").unlink()

    ref = dict(results)
    welch0 = ref["scipy.signal.welch (noverlap=0)"]
    table = Table(title=f"throughput, one core, {seconds:g} s of 2.4 MS/s cu8, {FFT_SIZE}-point frames, best of {repeat}")
    table.add_column("contender")
    table.add_column("MS/s", justify="right")
    table.add_column("× welch(noverlap=0)", justify="right")
    table.add_column("× real time", justify="right")
    for name, msps in results:
        table.add_row(name, f"{msps:.1f}", f"{msps / welch0:.1f}", f"{msps * 1e6 / RATE_HZ:.0f}")
    out = Console(width=140)
    out.print(table)
    if memory_rows:
        mem = Table(title="peak resident memory of `replay` (child process)")
        for column in ("capture", "file MB", "peak RSS MB"):
            mem.add_column(column, justify="right")
        for minutes, size_mb, rss in memory_rows:
            mem.add_row(f"{minutes} min", f"{size_mb:.0f}", f"{rss:.0f}")
        out.print(mem)
    print(json.dumps({"msps": ref, "memory": [dict(zip(("minutes", "file_mb", "peak_rss_mb"), r)) for r in memory_rows]}),
          file=sys.stderr)
    return 0
