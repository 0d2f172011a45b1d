"""Waterfall pictures: PSD in dBFS over time and frequency, with event boxes labelled by kind.

matplotlib is imported only when a picture is drawn, and through its object-oriented API with
the Agg canvas (no pyplot, no global backend switch), so importing this module is light and
drawing works on a headless sensor. PNGs are written to a temporary name and renamed, so a
failed or interrupted write never leaves a half picture under the requested name.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

MAX_PLOT_ROWS = 1200  # rows drawn; longer waterfalls are averaged down (linear power)
MAX_PLOT_BINS = 2048
MIN_BOX_SHARE = 0.004  # narrowest event box drawn, as a share of the span (a 1 kHz tone stays visible)
KIND_COLOURS = {
    "wideband_noise": "#ff3030", "tone": "#00e5ff", "swept": "#ffd400", "pulsed": "#ff8c00",
    "new_emitter": "#7cff4f", "overload": "#ff40ff", "sensor_fault": "#ffffff",
}


def _average_down(power_db: NDArray, axis: int, limit: int) -> NDArray:
    """Average groups along ``axis`` (in linear power) so at most ``limit`` remain."""
    n = power_db.shape[axis]
    if n <= limit:
        return power_db
    group = math.ceil(n / limit)
    keep = (n // group) * group
    linear = 10.0 ** (np.take(power_db, range(keep), axis=axis) / 10.0)
    shape = list(linear.shape)
    shape[axis:axis + 1] = [keep // group, group]
    return (10.0 * np.log10(linear.reshape(shape).mean(axis=axis + 1) + 1e-20)).astype(np.float32)


def save_waterfall_png(
    path: str | os.PathLike[str],
    power_db: NDArray[np.floating],
    times_s: NDArray[np.floating],
    freqs_hz: NDArray[np.floating],
    events: Sequence[dict[str, Any]] = (),
    *,
    title: str | None = None,
    row_s: float | None = None,
    dpi: int = 110,
) -> Path:
    """Draw a waterfall with event boxes and save it as PNG.

    Parameters
    ----------
    path : str or os.PathLike
        Output PNG (written to a temporary name, then renamed).
    power_db : numpy.ndarray
        (rows, bins) power, dBFS; bins in frequency order.
    times_s : numpy.ndarray
        (rows,) start of each row, seconds (same clock as the events' ``offset_*_s``).
    freqs_hz : numpy.ndarray
        (bins,) absolute centre frequency of each bin, Hz.
    events : sequence of dict
        Events in contract shape (``kind``, ``offset_start_s``, ``offset_end_s`` (None: ongoing,
        drawn to the end), ``freq_low_hz``, ``freq_high_hz``, optional ``severity``).
    title : str, optional
    row_s : float, optional
        Duration of a row, seconds (default: the step between row times).
    dpi : int

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        If the arrays do not fit together or are empty.
    OSError
        If the file cannot be written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    power = np.asarray(power_db, np.float32)
    times = np.asarray(times_s, np.float64)
    freqs = np.asarray(freqs_hz, np.float64)
    if power.ndim != 2 or power.shape[0] == 0 or power.shape != (len(times), len(freqs)):
        raise ValueError(f"waterfall of shape {power.shape} does not match {len(times)} times and "
                         f"{len(freqs)} frequencies (or is empty)")
    if row_s is None:
        row_s = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    bin_hz = float(freqs[1] - freqs[0]) if len(freqs) > 1 else 1.0
    t0, t1 = float(times[0]), float(times[-1]) + row_s
    f0, f1 = float(freqs[0]) - bin_hz / 2, float(freqs[-1]) + bin_hz / 2
    shown = _average_down(_average_down(power, 0, MAX_PLOT_ROWS), 1, MAX_PLOT_BINS)
    finite = shown[np.isfinite(shown)]
    vmin = float(np.percentile(finite, 2)) if finite.size else -100.0
    vmax = float(finite.max()) if finite.size else 0.0
    if vmax - vmin < 10:
        vmin = vmax - 10

    fig = Figure(figsize=(10, 6.5), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    mhz = 1e-6
    image = ax.imshow(shown, aspect="auto", origin="upper", cmap="viridis", vmin=vmin, vmax=vmax,
                      extent=(f0 * mhz, f1 * mhz, t1, t0), interpolation="nearest")
    colour_bar = fig.colorbar(image, ax=ax, pad=0.02)
    colour_bar.set_label("power (dBFS)")
    ax.set_xlabel("frequency (MHz)")
    ax.set_ylabel("time since start (s)")
    if title:
        ax.set_title(title, fontsize=10)
    min_width = MIN_BOX_SHARE * (f1 - f0)
    for event in events:
        start = float(event.get("offset_start_s") or 0.0)
        end = event.get("offset_end_s")
        end = t1 if end is None else float(end)
        lo, hi = float(event["freq_low_hz"]), float(event["freq_high_hz"])
        if hi - lo < min_width:
            mid = 0.5 * (lo + hi)
            lo, hi = mid - min_width / 2, mid + min_width / 2
        colour = KIND_COLOURS.get(str(event.get("kind")), "#ffffff")
        ax.add_patch(Rectangle((lo * mhz, start), (hi - lo) * mhz, max(end - start, row_s),
                               fill=False, edgecolor=colour, linewidth=1.5))
        label = str(event.get("kind", "?"))
        if event.get("severity"):
            label += f" ({event['severity']})"
        ax.text(lo * mhz, start, label, color=colour, fontsize=8, va="bottom", ha="left",
                clip_on=True, bbox={"facecolor": "black", "alpha": 0.5, "pad": 1, "linewidth": 0})
    ax.set_xlim(f0 * mhz, f1 * mhz)
    ax.set_ylim(t1, t0)
    fig.tight_layout()

    out = Path(path)
    fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a picture is not secret
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
