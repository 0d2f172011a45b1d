"""Evidence clips under a cap: the least severe oldest clips go first, a critical one is kept,
and a disk that fills makes the keeper skip a clip and say so, never stop."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from spectrum.live.evidence_keeper import EvidenceKeeper

FS = 100_000.0
FC = 1e8
BLOCK = 10_000  # 0.1 s


def event(eid: str, start_s: float, severity: str, end_s: float | None = None) -> dict:
    return {"id": eid, "kind": "tone", "offset_start_s": start_s,
            "offset_end_s": start_s + 0.1 if end_s is None else end_s, "freq_low_hz": FC,
            "freq_high_hz": FC + 1e3, "peak_dbfs": -30.0, "rise_db": 12.0, "severity": severity,
            "confidence": 0.9}


def keeper(directory, **kwargs) -> EvidenceKeeper:
    k = EvidenceKeeper(directory, "cu8", FS, pre_s=0.0, post_s=0.0, min_severity="info", png=False,
                       start_time=datetime(2026, 5, 3, 7, tzinfo=timezone.utc), **kwargs)
    for i in range(40):
        k.feed(np.full(2 * BLOCK, i % 256, np.uint8), i * BLOCK, FC)
    return k


def test_info_clips_go_first_and_critical_ones_stay(tmp_path):
    k = keeper(tmp_path / "ev", max_clips=3)
    order = [("i1", "info"), ("w1", "warning"), ("i2", "info"), ("c1", "critical"), ("c2", "critical"),
             ("c3", "critical"), ("c4", "critical"), ("i3", "info")]
    for n, (eid, severity) in enumerate(order):
        k.on_event(event(eid, 0.2 + 0.3 * n, severity))
    k.close()
    assert [c.event_id for c in k.written] == ["c1", "c2", "c3"]
    deleted = [eid for eid, why in k.skipped if why.startswith("deleted")]
    assert deleted == ["i1", "i2", "w1"]  # info before warning, oldest first
    refused = [eid for eid, why in k.skipped if "cap reached" in why]
    assert refused == ["c4", "i3"]  # no critical clip is deleted, for a critical one or less
    assert sorted(p.name.split("_")[-1].split(".")[0] for p in (tmp_path / "ev").glob("*.sigmf-meta")) == \
        ["c1", "c2", "c3"]


def test_a_full_disk_skips_the_clip_and_says_why(tiny_disk):
    k = keeper(tiny_disk / "ev", max_bytes=10**9)  # cut to what the 256 kB disk has
    assert k.max_bytes <= 256 * 1024
    k.on_event(event("w0", 0.1, "warning", end_s=0.6))  # a 0.5 s clip: 100 kB
    assert [c.event_id for c in k.written] == ["w0"]
    filler = tiny_disk / "other-program.log"
    with open(filler, "wb", buffering=0) as f:  # another program fills the disk
        try:
            while f.write(b"x" * 4096):
                pass
        except OSError:
            pass
    k.on_event(event("w1", 0.7, "warning", end_s=1.2))  # no exception ...
    assert "not written" in k.last_error and "w1" in k.last_error  # ... but a reason
    assert ("w1", k.skipped[-1][1]) == k.skipped[-1] and "write failed" in k.skipped[-1][1]
    on_disk = {p.name.split("_")[-1].split(".")[0] for p in (tiny_disk / "ev").iterdir()}
    assert on_disk == {"w0"}  # no partial file of the refused clip left behind
    filler.unlink()
    k.on_event(event("c9", 3.7, "critical", end_s=3.9))  # the cap shrank to what fitted: the
    k.close()                                           # warning's clip makes room for it
    assert [c.event_id for c in k.written] == ["c9"] and k.last_error is None
    assert ("w0", "deleted to make room for a newer clip (keep=priority)") in k.skipped
