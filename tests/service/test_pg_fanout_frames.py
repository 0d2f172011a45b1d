"""The NOTIFY frames of the live stream's PostgreSQL fan-out: every message fits the payload
limit and comes back whole, in any interleaving; foreign notifications are ignored."""

from __future__ import annotations

import json

from service.pg_fanout import FRAME_BYTES, Assembler, frames

LIMIT = 8000  # PostgreSQL's NOTIFY payload must be shorter than this, in bytes


def test_messages_big_and_small_come_back_whole_from_interleaved_frames():
    big = json.dumps({"text": "\U0001f4e1" * 3000})  # escaped: ASCII, 36 KB
    raw = "ꦗꦮ" * 4000  # not ASCII: cut by characters so that no frame passes the limit
    sent = {1: ("event", big), 2: ("status", "{}"), 3: ("incident", raw)}
    out = {seq: frames("w1", seq, kind, body) for seq, (kind, body) in sent.items()}
    assert len(out[1]) == -(-len(big) // FRAME_BYTES) and len(out[2]) == 1 and len(out[3]) > 1
    assert all(len(f.encode()) < LIMIT for fs in out.values() for f in fs)
    interleaved = [fs[i] for i in range(max(map(len, out.values()))) for fs in out.values() if i < len(fs)]
    assembler = Assembler()
    got = [m for m in map(assembler.add, interleaved) if m is not None]
    assert sorted(got) == sorted(sent.values())


def test_notifications_that_are_not_frames_are_ignored():
    assembler = Assembler()
    assert assembler.add("hello") is None
    assert assembler.add("w:1:5:2:event:{}") is None  # part out of range
    assert assembler.add("w:1:0:1:event:{\"a\":1}") == ("event", '{"a":1}')
