"""Batched complex64 FFT over frames: FFTW (pyfftw) when present, else scipy's pocketfft.

Chosen by measurement on the 2-core reference machine (``spectrum bench`` prints both):
1024-point complex64 transforms, 256 at a time, one thread:
FFTW ~1100 MS/s, scipy.fft (pocketfft) ~420 MS/s, numpy.fft ~105 MS/s,
rocket-fft inside numba ~330-470 MS/s, ducc0 ~215 MS/s.
The transform is the front end's dominant cost, so FFTW sets its speed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

FftFn = Callable[[NDArray[np.complex64]], NDArray[np.complex64]]


def _import_pyfftw():
    """``import pyfftw``, without the dask and SciPy interfaces its package imports when it can.

    pyfftw's ``__init__`` imports ``pyfftw.interfaces``, which imports ``dask.array`` (about
    0.6 s of every replay's start-up) and ``scipy.fftpack`` (about 0.3 s: it pulls in
    ``scipy.fft`` and SciPy's array-API layer) to offer drop-in FFT functions; we use only the
    FFTW class. Hiding both for the duration of that import makes pyfftw skip those wrappers
    (it guards each import with ``except ImportError``); they stay importable afterwards.
    """
    import sys

    if "pyfftw" in sys.modules:
        import pyfftw

        return pyfftw
    hidden = [name for name in ("dask", "scipy.fftpack") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        import pyfftw
    finally:
        for name in hidden:
            del sys.modules[name]
    return pyfftw


def fftw_available() -> bool:
    """True when pyfftw (with its bundled FFTW) imports."""
    try:
        _import_pyfftw()
    except ImportError:
        return False
    return True


def make_batched_fft(num_frames: int, fft_size: int, backend: str = "auto") -> tuple[FftFn, NDArray[np.complex64]]:
    """Build a forward FFT over the rows of a ``(num_frames, fft_size)`` complex64 array.

    Parameters
    ----------
    num_frames, fft_size : int
        Shape of the frame buffer.
    backend : {"auto", "fftw", "scipy"}
        ``auto`` takes FFTW when pyfftw imports.

    Returns
    -------
    fft : callable
        ``fft(frames)`` returns the spectra; ``frames`` must be the returned input buffer
        (FFTW plans are bound to their arrays). The result array is reused by the next call.
    frames : NDArray[np.complex64]
        The input buffer to fill before each call (aligned for SIMD).
    """
    if backend not in ("auto", "fftw", "scipy"):
        raise ValueError(f"unknown FFT backend {backend!r}; expected auto, fftw or scipy")
    if backend in ("auto", "fftw") and fftw_available():
        pyfftw = _import_pyfftw()

        frames = pyfftw.empty_aligned((num_frames, fft_size), dtype="complex64")
        spectra = pyfftw.empty_aligned((num_frames, fft_size), dtype="complex64")
        # FFTW_ESTIMATE, not FFTW_MEASURE: a measured plan depends on timings, so two processes
        # (a replay and its rerun, or the workers of an archive replay) could pick different
        # algorithms and round differently; an estimated plan is the same every time, so a
        # replay is reproducible to the bit.
        plan = pyfftw.FFTW(frames, spectra, axes=(1,), threads=1, flags=("FFTW_ESTIMATE",))

        def fftw_forward(x: NDArray[np.complex64]) -> NDArray[np.complex64]:
            if x is not frames:
                raise ValueError("pass the frame buffer returned by make_batched_fft")
            plan.execute()
            return spectra

        return fftw_forward, frames
    if backend == "fftw":
        raise ImportError("FFT backend 'fftw' asked for, but pyfftw is not installed")

    import scipy.fft

    frames = np.empty((num_frames, fft_size), dtype=np.complex64)

    def scipy_forward(x: NDArray[np.complex64]) -> NDArray[np.complex64]:
        return scipy.fft.fft(x, axis=1, workers=1, overwrite_x=True)

    return scipy_forward, frames
