"""Evidence clips: SigMF with event annotations (captures.evidence_clips) and the keeper's policy."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from captures import open_capture
from captures.evidence_clips import ClipPiece, annotation_event, event_annotation, write_clip
from spectrum.live.evidence_keeper import EvidenceKeeper

FS = 100_000.0  # small rate: clips of a few seconds stay tiny
FC = 1e8
START = datetime(2026, 5, 3, 7, 0, tzinfo=timezone.utc)
BLOCK = 10_000  # 0.1 s


def event(eid: str, start_s: float, end_s: float | None, severity: str = "critical") -> dict:
    return {"id": eid, "kind": "wideband_noise", "start": None, "end": None,
            "offset_start_s": start_s, "offset_end_s": end_s, "freq_low_hz": FC - 10e3,
            "freq_high_hz": FC + 20e3, "peak_dbfs": -30.0, "rise_db": 12.0, "severity": severity,
            "confidence": 0.95, "site": "S1", "sensor": None,
            "detector": {"version": "0.1.0", "config_hash": "abc"}}


def feed(keeper: EvidenceKeeper, seconds: float, first_block: int = 0) -> None:
    for k in range(first_block, first_block + int(round(seconds * FS / BLOCK))):
        block = np.full(2 * BLOCK, k % 256, np.uint8)  # the block number is in every sample
        keeper.feed(block, k * BLOCK, FC)


def keeper(tmp_path: Path, **kwargs) -> EvidenceKeeper:
    kwargs.setdefault("png", False)
    return EvidenceKeeper(tmp_path / "ev", "cu8", FS, start_time=START, **kwargs)


def test_annotation_round_trip() -> None:
    e = event("a", 2.0, 3.0)
    ann = event_annotation(e, FS, clip_offset_s=1.0, clip_samples=400_000)
    assert ann["sample_start"] == 100_000 and ann["sample_count"] == 100_000
    assert ann["label"] == "wideband_noise" and ann["extra"]["spectrum:id"] == "a"
    flat = dict(ann["extra"], **{"core:sample_start": ann["sample_start"]})
    back = annotation_event(flat, FS, 1.0)
    assert back["offset_start_s"] == 2.0 and back["severity"] == "critical"


def test_clip_passes_the_sigmf_validator(tmp_path: Path) -> None:
    sigmf = pytest.importorskip("sigmf")
    meta = write_clip(tmp_path / "clip", "cu8", FS,
                      [ClipPiece(np.zeros(2000, np.uint8), FC, START),
                       ClipPiece(np.ones(2000, np.uint8), FC + 1e6, None)],
                      [event("a", 0.001, 0.015)], 0.0, notes=["a note"])
    sigmf.sigmffile.fromfile(str(meta)).validate()
    stored = json.loads(meta.read_text())
    assert stored["global"]["spectrum:notes"] == ["a note"] and len(stored["captures"]) == 2


def test_clip_spans_pre_to_post_and_waits_for_post(tmp_path: Path) -> None:
    k = keeper(tmp_path, pre_s=0.5, post_s=0.5)
    feed(k, 2.0)
    k.on_event(event("a", 1.0, None))
    feed(k, 0.8, first_block=20)
    k.on_event(event("a", 1.0, 2.5))
    assert not k.written  # post-event samples not there yet (2.8 s < 2.5 + 0.5 s)
    feed(k, 0.5, first_block=28)
    assert len(k.written) == 1
    clip = k.written[0]
    with open_capture(clip.meta_path) as reader:
        assert reader.num_samples == int(2.5 * FS)  # 0.5 + 1.5 + 0.5 s
        samples = reader.read(0, reader.num_samples)
        assert samples[0] == 5 and samples[-1] == 29  # blocks 5 … 29
        ann = reader.annotations[0]
        assert ann["core:sample_start"] == int(0.5 * FS) and ann["spectrum:id"] == "a"
        assert reader.start_time == datetime(2026, 5, 3, 7, 0, 0, 500000, tzinfo=timezone.utc)
    assert clip.notes == []
    k.close()
    k.close()


def test_pre_clamped_at_start_and_close_writes_pending(tmp_path: Path) -> None:
    k = keeper(tmp_path, pre_s=1.0, post_s=1.0)
    feed(k, 0.5)
    k.on_event(event("a", 0.2, 0.4))
    k.close()
    clip = k.written[0]
    assert clip.num_samples == int(0.5 * FS)
    assert any("earlier than asked" in n for n in clip.notes)


def test_long_event_cut_to_max_event_s_and_memory_bounded(tmp_path: Path) -> None:
    k = keeper(tmp_path, pre_s=0.2, post_s=0.2, max_event_s=1.0)
    feed(k, 1.0)
    k.on_event(event("long", 0.5, None))
    feed(k, 5.0, first_block=10)
    assert k._held <= k.capacity_samples + 2 * BLOCK
    assert len(k.written) == 1 and "ongoing" in k.written[0].notes[0]
    assert k.written[0].num_samples == int(1.4 * FS)
    k.on_event(event("long", 0.5, 5.0))  # the later close does not write a second clip
    k.close()
    assert len(k.written) == 1


def test_severity_filter_and_caps(tmp_path: Path) -> None:
    k = keeper(tmp_path, pre_s=0.0, post_s=0.0, max_clips=2, min_severity="warning", keep="oldest")
    feed(k, 4.0)
    k.on_event(event("info", 0.1, 0.2, severity="info"))
    for i in range(4):
        k.on_event(event(f"e{i}", 0.5 + i * 0.5, 0.6 + i * 0.5))
    k.close()
    assert [c.event_id for c in k.written] == ["e0", "e1"]
    assert [eid for eid, _ in k.skipped] == ["e2", "e3"] and "keep=oldest" in k.skipped[0][1]
    assert "2 clip(s)" in k.summary()

    newest = keeper(tmp_path / "n", pre_s=0.0, post_s=0.0, max_clips=2, keep="newest")
    feed(newest, 4.0)
    for i in range(4):
        newest.on_event(event(f"e{i}", 0.5 + i * 0.5, 0.6 + i * 0.5))
    newest.close()
    assert [c.event_id for c in newest.written] == ["e2", "e3"]
    assert not newest_files_of(tmp_path / "n" / "ev", "e0")


def newest_files_of(directory: Path, eid: str) -> list[Path]:
    return [p for p in directory.iterdir() if f"_{eid}" in p.name]


def test_byte_cap(tmp_path: Path) -> None:
    k = keeper(tmp_path, pre_s=0.0, post_s=0.0, max_bytes=50_000)
    feed(k, 1.0)
    k.on_event(event("big", 0.0, 0.9))
    k.close()
    assert not k.written and "exceeds" in k.skipped[0][1]


def test_png_next_to_clip(tmp_path: Path) -> None:
    k = keeper(tmp_path, pre_s=0.1, post_s=0.1, png=True, fft_size=256)
    feed(k, 1.0)
    k.on_event(event("a", 0.3, 0.6))
    k.close()
    png = k.written[0].png_path
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_feeding_reader_with_replay(tmp_path: Path) -> None:
    from captures import SigMFWriter
    from spectrum.live.evidence_keeper import FeedingReader

    with SigMFWriter(tmp_path / "r", "cu8", FS, FC, START) as w:
        w.write(np.full(2 * 200_000, 128, np.uint8))
    k = keeper(tmp_path, pre_s=0.1, post_s=0.1)
    with open_capture(tmp_path / "r.sigmf-meta") as reader:
        fed = FeedingReader(reader, k)
        assert fed.num_samples == 200_000
        for _ in fed.blocks(50_000):
            pass
        k.on_event(event("a", 0.5, 1.0))
    k.close()
    assert k.written and k.written[0].num_samples == int(0.7 * FS)
