"""Evidence clips: short SigMF recordings annotated with the events they document.

This module only writes files; which samples to keep and when is decided by
:class:`spectrum.live.evidence_keeper.EvidenceKeeper`. Event fields go into each annotation under the
``spectrum:`` namespace (declared in ``core:extensions`` as optional, as the SigMF spec asks),
so any SigMF tool shows the core fields and a project tool gets the event back with
:func:`annotation_event`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from captures import keys
from captures.sigmf_io import SigMFWriter

NS = "spectrum:"
#: Event fields copied into annotations as ``spectrum:<field>`` (None values are left out).
EVENT_FIELDS = ("id", "kind", "severity", "confidence", "peak_dbfs", "rise_db", "start", "end",
                "offset_start_s", "offset_end_s", "freq_low_hz", "freq_high_hz", "site", "sensor")


@dataclass(frozen=True)
class ClipPiece:
    """Consecutive samples of a clip recorded at one tuning.

    Attributes
    ----------
    samples : numpy.ndarray
        Interleaved native samples.
    center_freq_hz : float
        Tuning, Hz.
    start_time : datetime or None
        Wall-clock time of the first sample (UTC), if known.
    """

    samples: NDArray[Any]
    center_freq_hz: float
    start_time: datetime | None = None


def event_annotation(event: dict[str, Any], sample_rate_hz: float, clip_offset_s: float,
                     clip_samples: int) -> dict[str, Any]:
    """Arguments of :meth:`SigMFWriter.add_annotation` describing ``event`` within a clip.

    Parameters
    ----------
    event : dict
        Event in contract shape (``offset_end_s`` None: ongoing, annotated to the clip's end).
    sample_rate_hz : float
        S/s.
    clip_offset_s : float
        Session/capture time of the clip's first sample, seconds.
    clip_samples : int
        Samples in the clip (the annotation is clamped to it).

    Returns
    -------
    dict
        ``sample_start``, ``sample_count``, ``label``, ``comment``, frequency edges, ``extra``.
    """
    start = int(round((float(event["offset_start_s"]) - clip_offset_s) * sample_rate_hz))
    end_s = event.get("offset_end_s")
    end = clip_samples if end_s is None else int(round((float(end_s) - clip_offset_s) * sample_rate_hz))
    start = min(max(start, 0), clip_samples)
    end = min(max(end, start), clip_samples)
    extra = {NS + name: event[name] for name in EVENT_FIELDS if event.get(name) is not None}
    detector = event.get("detector") or {}
    for name in ("version", "config_hash"):
        if detector.get(name) is not None:
            extra[f"{NS}detector_{name}"] = detector[name]
    comment = (f"{event.get('severity', '?')} {event.get('kind', '?')} event {event.get('id', '?')}: "
               f"rise {event.get('rise_db', float('nan')):.1f} dB, peak "
               f"{event.get('peak_dbfs', float('nan')):.1f} dBFS")
    if end_s is None:
        comment += "; still ongoing when the clip was cut"
    return {
        "sample_start": start,
        "sample_count": end - start,
        "label": str(event.get("kind", "event")),
        "comment": comment,
        "freq_lower_edge_hz": float(event["freq_low_hz"]),
        "freq_upper_edge_hz": float(event["freq_high_hz"]),
        "extra": extra,
    }


def annotation_event(annotation: dict[str, Any], sample_rate_hz: float,
                     clip_offset_s: float = 0.0) -> dict[str, Any] | None:
    """The event an annotation written by :func:`event_annotation` describes, or None.

    Offsets are taken from the stored ``spectrum:offset_*_s`` fields; without them, from the
    annotation's sample range (plus ``clip_offset_s``).
    """
    if NS + "kind" not in annotation:
        return None
    event = {name: annotation.get(NS + name) for name in EVENT_FIELDS}
    if event["offset_start_s"] is None:
        start = annotation.get(keys.SAMPLE_START_KEY, 0)
        count = annotation.get(keys.SAMPLE_COUNT_KEY, 0)
        event["offset_start_s"] = clip_offset_s + start / sample_rate_hz
        event["offset_end_s"] = clip_offset_s + (start + count) / sample_rate_hz
    if event["freq_low_hz"] is None:
        event["freq_low_hz"] = annotation.get(keys.FREQ_LOWER_EDGE_KEY, 0.0)
        event["freq_high_hz"] = annotation.get(keys.FREQ_UPPER_EDGE_KEY, 0.0)
    return event


def write_clip(
    base_path: str | os.PathLike[str],
    datatype: str,
    sample_rate_hz: float,
    pieces: Sequence[ClipPiece],
    events: Sequence[dict[str, Any]],
    clip_offset_s: float,
    description: str = "",
    notes: Sequence[str] = (),
    extra_global: dict[str, Any] | None = None,
) -> Path:
    """Write one evidence clip as a SigMF recording (atomically, via :class:`SigMFWriter`).

    Parameters
    ----------
    base_path : str or os.PathLike
        Recording name without extension.
    datatype : str
        Datatype of the samples (cu8 for a dongle).
    sample_rate_hz : float
        S/s.
    pieces : sequence of ClipPiece
        The samples, one capture segment each (a retune or a gap starts a new piece).
    events : sequence of dict
        Events to annotate (contract shape).
    clip_offset_s : float
        Session time of the clip's first sample, seconds (stored as ``spectrum:clip_offset_s``).
    description : str
        ``core:description``.
    notes : sequence of str
        What the clip lacks or cut (stored as ``spectrum:notes``).
    extra_global : dict, optional
        More global fields.

    Returns
    -------
    Path
        The ``.sigmf-meta`` file.

    Raises
    ------
    CaptureError
        If the recording cannot be written (nothing is left under the name).
    """
    total = sum(p.samples.shape[0] // 2 for p in pieces)
    glob = dict(extra_global or {})
    glob[NS + "clip_offset_s"] = float(clip_offset_s)
    if notes:
        glob[NS + "notes"] = list(notes)
    first = pieces[0]
    with SigMFWriter(base_path, datatype, sample_rate_hz, first.center_freq_hz, first.start_time,
                     description=description, extra_global=glob) as writer:
        for k, piece in enumerate(pieces):
            if k:
                writer.new_segment(piece.center_freq_hz, piece.start_time)
            writer.write(piece.samples)
        for event in events:
            writer.add_annotation(**event_annotation(event, sample_rate_hz, clip_offset_s, total))
        meta_path = writer.meta_path
    return meta_path
