"""SigMF reader and writer: round trips, segments, layout fields, bad inputs, the validator."""

from __future__ import annotations

import io
import json
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from captures import CaptureError, SigMFWriter, keys, open_capture, open_sigmf
from capture_helpers import ALL_DATATYPES, minimal_meta, random_samples

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def write_recording(base: Path, datatype: str, chunks: list[np.ndarray], **kw) -> Path:
    with SigMFWriter(base, datatype, kw.pop("rate", 1e6), kw.pop("freq", 433.92e6), T0, **kw) as w:
        for chunk in chunks:
            w.write(chunk)
    return base


@pytest.mark.parametrize("datatype", ALL_DATATYPES)
def test_writer_round_trip_each_datatype(tmp_path: Path, datatype: str) -> None:
    samples = random_samples(datatype, 3000, seed=1)
    base = write_recording(tmp_path / "rec", datatype, [samples[:1000], samples[1000:]])
    for name in ("rec", "rec.sigmf-meta", "rec.sigmf-data"):
        with open_sigmf(tmp_path / name) as reader:
            assert reader.datatype == datatype
            assert reader.num_samples == 3000
            assert reader.sample_rate_hz == 1e6
            assert reader.center_freq_hz == 433.92e6
            assert reader.start_time == T0
            assert reader.path == tmp_path / "rec.sigmf-meta"
            assert reader.data_path == tmp_path / "rec.sigmf-data"
            np.testing.assert_array_equal(reader.read(0, 3000), samples)
    assert (base.parent / "rec.sigmf-data").read_bytes() == samples.tobytes()


@pytest.mark.parametrize("datatype", ALL_DATATYPES)
def test_writer_output_passes_sigmf_validator_and_reads_back_in_sigmf(tmp_path: Path, datatype: str) -> None:
    sigmf_validate = pytest.importorskip("sigmf.validate")
    sigmffile = pytest.importorskip("sigmf.sigmffile")
    samples = random_samples(datatype, 256, seed=2)
    with SigMFWriter(tmp_path / "v", datatype, 2.4e6, 1090e6, T0, description="test",
                     extra_global={keys.HW_KEY: "rtl-sdr v3"}) as w:
        w.write(samples[:256])
        w.new_segment(1091e6, T0 + timedelta(seconds=1))
        w.write(samples[256:])
        w.add_annotation(100, 20, label="burst", freq_lower_edge_hz=1089e6, freq_upper_edge_hz=1091e6)
        w.add_annotation(5, 10, comment="first", extra={"spectrum:kind": "tone"})
    meta = json.loads((tmp_path / "v.sigmf-meta").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # undeclared extensions warn today, fail in future sigmf
        sigmf_validate.validate(meta)
    assert meta["global"][keys.EXTENSIONS_KEY] == [
        {"name": "spectrum", "version": keys.EXTENSION_VERSION, "optional": True}
    ]
    assert meta["global"][keys.RECORDER_KEY] == "spectrum"
    assert [a[keys.SAMPLE_START_KEY] for a in meta["annotations"]] == [5, 100]
    assert meta["captures"][1] == {
        keys.SAMPLE_START_KEY: 128, keys.FREQUENCY_KEY: 1091e6,
        keys.DATETIME_KEY: "2024-05-01T12:00:01.123456Z",
    }
    # sigmf-python checks our sha512 on open and reads the same samples
    theirs = sigmffile.fromfile(str(tmp_path / "v.sigmf-meta"), autoscale=False)
    ours = open_sigmf(tmp_path / "v")
    got = theirs.read_samples()
    expect = samples[0::2] + 1j * samples[1::2].astype(np.float64)
    np.testing.assert_allclose(np.asarray(got).ravel(), expect, rtol=1e-6)
    assert len(ours.annotations) == 2 and ours.annotations[1][keys.LABEL_KEY] == "burst"
    ours.close()


def test_multi_segment_blocks_never_span_segments(tmp_path: Path) -> None:
    samples = random_samples("ci16_le", 1000, seed=3)
    freqs = [100e6, 101e6, 102e6]
    with SigMFWriter(tmp_path / "m", "ci16_le", 1e6, freqs[0], T0) as w:
        w.write(samples[: 2 * 333])
        w.new_segment(freqs[1], T0 + timedelta(seconds=1))
        w.write(samples[2 * 333 : 2 * 700])
        w.new_segment(freqs[2], None)
        w.write(samples[2 * 700 :])
    with open_capture(tmp_path / "m.sigmf-meta") as reader:
        assert [s.sample_start for s in reader.segments] == [0, 333, 700]
        assert [s.center_freq_hz for s in reader.segments] == freqs
        assert reader.segments[1].start_time == T0 + timedelta(seconds=1)
        assert reader.segments[2].start_time is None
        assert reader.time_at(343) == T0 + timedelta(seconds=1, microseconds=10)
        bounds = [0, 333, 700, 1000]
        pos = 50
        for block in reader.blocks(128, start=50, stop=990):
            assert block.sample_start == pos
            k = max(i for i in range(3) if bounds[i] <= pos)
            assert block.sample_start + block.num_samples <= bounds[k + 1]
            assert block.center_freq_hz == freqs[k]
            np.testing.assert_array_equal(block.samples, samples[2 * pos : 2 * (pos + block.num_samples)])
            pos += block.num_samples
        assert pos == 990
        # random access across both boundaries
        np.testing.assert_array_equal(reader.read(300, 500), samples[600:1600])


def test_offset_and_header_bytes_and_dataset(write_meta, tmp_path: Path) -> None:
    """core:offset is a sample index; core:header_bytes/trailing_bytes/dataset lay out an NCD."""
    seg_a = random_samples("cu8", 500, seed=4)
    seg_b = random_samples("cu8", 300, seed=5)
    blob = b"HDR1" + seg_a.tobytes() + b"HDR2" + seg_b.tobytes() + b"TRAILER"
    (tmp_path / "dump.dat").write_bytes(blob)
    meta = minimal_meta(**{keys.OFFSET_KEY: 1000, keys.DATASET_KEY: "dump.dat",
                           keys.TRAILING_BYTES_KEY: 7})
    meta["captures"] = [
        {keys.SAMPLE_START_KEY: 1000, keys.HEADER_BYTES_KEY: 4, keys.FREQUENCY_KEY: 1e8,
         keys.GLOBAL_INDEX_KEY: 123},
        {keys.SAMPLE_START_KEY: 1500, keys.HEADER_BYTES_KEY: 4, keys.FREQUENCY_KEY: 2e8},
    ]
    with open_sigmf(write_meta(meta)) as reader:
        assert reader.sample_offset == 1000
        assert [s.sample_start for s in reader.segments] == [0, 500]
        assert reader.num_samples == 800
        np.testing.assert_array_equal(reader.read(0, 800), np.concatenate([seg_a, seg_b]))
        assert [b.center_freq_hz for b in reader.blocks(400)] == [1e8, 1e8, 2e8]


def test_offset_with_file_relative_indices(write_meta) -> None:
    meta = minimal_meta(**{keys.OFFSET_KEY: 5000})  # captures start at 0 < offset
    with open_sigmf(write_meta(meta, data=bytes(20))) as reader:
        assert reader.sample_offset == 0 and reader.segments[0].sample_start == 0
        assert reader.num_samples == 10


def test_data_from_buffer_and_datetime_forms(write_meta) -> None:
    meta = minimal_meta()
    meta["captures"][0][keys.DATETIME_KEY] = "2024-05-01T12:00:00.123456789Z"
    samples = random_samples("cu8", 10)
    with open_sigmf(write_meta(meta), data=io.BytesIO(samples.tobytes())) as reader:
        assert reader.start_time == datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
        np.testing.assert_array_equal(reader.read(0, 10), samples)


@pytest.mark.parametrize(
    ("change", "data", "needle"),
    [
        ({keys.DATATYPE_KEY: "ri16_le"}, bytes(4), "unsupported datatype 'ri16_le'; supported: cu8, ci8, ci16_le, cf32_le"),
        ({keys.DATATYPE_KEY: "cu16_le"}, bytes(4), "unsupported datatype 'cu16_le'"),
        ({keys.DATATYPE_KEY: "ci16_be"}, bytes(4), "unsupported datatype 'ci16_be'"),
        ({keys.SAMPLE_RATE_KEY: None}, bytes(4), "core:sample_rate is missing"),
        ({keys.SAMPLE_RATE_KEY: "fast"}, bytes(4), "core:sample_rate is 'fast'"),
        ({keys.NUM_CHANNELS_KEY: 2}, bytes(4), "core:num_channels is 2"),
        ({}, bytes(1001), "has 1001 bytes, not a whole number of cu8 samples (2 bytes each)"),
        ({}, b"", "is empty"),
        ({}, None, "not found"),
    ],
)
def test_bad_sigmf_inputs_name_the_file(write_meta, change: dict, data: bytes | None, needle: str) -> None:
    meta = minimal_meta(**change)
    meta["global"] = {k: v for k, v in meta["global"].items() if v is not None}
    meta_path = write_meta(meta, data=data)
    with pytest.raises(CaptureError) as err:
        open_sigmf(meta_path)
    assert needle in str(err.value)
    assert "rec.sigmf" in str(err.value)
    if data is None:
        assert str(meta_path.with_suffix(".sigmf-data")) in str(err.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "is not valid JSON: "),
        ("[1, 2]", "is not valid JSON: expected an object"),
        (b"\xff\xfe\x00garbage", "is not valid JSON"),
        ('{"global": []}', "no 'global' object"),
        ('{"global": {"core:datatype": "cu8", "core:sample_rate": 1}, "captures": {}}', "must be a list"),
    ],
)
def test_meta_not_json(write_meta, text: str | bytes, needle: str) -> None:
    meta_path = write_meta(text, data=bytes(4))
    with pytest.raises(CaptureError, match="rec.sigmf-meta") as err:
        open_sigmf(meta_path)
    assert needle in str(err.value)


def test_missing_frequency_needs_freq_option(write_meta) -> None:
    meta = minimal_meta()
    del meta["captures"][0][keys.FREQUENCY_KEY]
    path = write_meta(meta, data=bytes(4))
    with pytest.raises(CaptureError, match="--freq HZ"):
        open_sigmf(path)
    with open_sigmf(path, center_freq_hz=5e8) as reader:
        assert reader.center_freq_hz == 5e8


# --------------------------------------------------------------------------- hypothesis
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_field = st.sampled_from([
    keys.NUM_CHANNELS_KEY, keys.OFFSET_KEY,
    keys.DATASET_KEY, keys.TRAILING_BYTES_KEY, keys.EXTENSIONS_KEY, keys.METADATA_ONLY_KEY,
])


def _mostly(good: st.SearchStrategy) -> st.SearchStrategy:
    """Usually a plausible value, sometimes any JSON value."""
    return st.integers(0, 7).flatmap(lambda k: _json if k == 7 else good)  # ints lean to 0


_global = st.builds(
    lambda dt, rate, more: {keys.DATATYPE_KEY: dt, keys.SAMPLE_RATE_KEY: rate, **more},
    _mostly(st.sampled_from(["cu8", "ci8", "ci16_le", "cf32_le", "cu8_le"])),
    _mostly(st.sampled_from([1e6, 250e3])),
    st.dictionaries(_field, _mostly(st.integers(0, 3)), max_size=1),
)
_capture = st.builds(
    lambda start, freq, when, more: {keys.SAMPLE_START_KEY: start, keys.FREQUENCY_KEY: freq,
                                     keys.DATETIME_KEY: when, **more},
    _mostly(st.integers(0, 12) | st.just(0)),
    _mostly(st.floats(-1e12, 1e12)),
    _mostly(st.sampled_from(["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5+02:00", "yesterday"])),
    st.dictionaries(st.sampled_from([keys.HEADER_BYTES_KEY, keys.GLOBAL_INDEX_KEY]),
                    _mostly(st.integers(0, 4)), max_size=2),
)
_sigmf_like = st.fixed_dictionaries(
    {"global": _mostly(_global), "captures": _mostly(st.lists(_mostly(_capture), min_size=1, max_size=3))},
    optional={
        "annotations": _mostly(st.lists(st.dictionaries(st.text(max_size=5), _json, max_size=2), max_size=2)),
    },
).map(json.dumps)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    meta=_sigmf_like.map(str.encode) | st.binary(max_size=200),
    data=st.integers(1, 6).map(lambda n: bytes(range(8 * n))) | st.binary(max_size=40),
)
def test_any_meta_bytes_parse_or_raise_capture_error(write_meta, meta: bytes, data: bytes) -> None:
    path = write_meta(meta, data=data)
    try:
        reader = open_sigmf(path, center_freq_hz=None)
    except CaptureError as exc:
        assert "rec.sigmf-" in str(exc) or str(path.parent) in str(exc)
        event("CaptureError")
        return
    event("parsed")
    with reader:
        assert reader.num_samples > 0
        reader.read(0, reader.num_samples)
        assert sum(b.num_samples for b in reader.blocks(7)) == reader.num_samples


# --------------------------------------------------------------------------- writer behaviour
def test_writer_leaves_nothing_when_the_with_block_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with SigMFWriter(tmp_path / "crash", "cu8", 1e6, 1e8, None) as w:
            w.write(random_samples("cu8", 100))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_temporary_files_until_close(tmp_path: Path) -> None:
    w = SigMFWriter(tmp_path / "part", "cu8", 1e6, 1e8, T0)
    w.write(random_samples("cu8", 10))
    assert not (tmp_path / "part.sigmf-data").exists()
    assert not (tmp_path / "part.sigmf-meta").exists()
    w.close()
    w.close()  # safe twice
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part.sigmf-data", "part.sigmf-meta"]
    with pytest.raises(CaptureError, match="writer is closed"):
        w.write(random_samples("cu8", 1))


def test_writer_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=str(tmp_path / "missing_dir")):
        SigMFWriter(tmp_path / "missing_dir" / "rec", "cu8", 1e6, 1e8, None)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(CaptureError, match="cannot write a recording in directory"):
        SigMFWriter(tmp_path / "afile" / "rec", "cu8", 1e6, 1e8, None)
    with pytest.raises(CaptureError, match="unsupported datatype"):
        SigMFWriter(tmp_path / "rec", "ri16_le", 1e6, 1e8, None)
    with pytest.raises(CaptureError, match="timezone-aware"):
        SigMFWriter(tmp_path / "rec", "cu8", 1e6, 1e8, datetime(2024, 1, 1))
    with pytest.raises(CaptureError, match="writer owns"):
        SigMFWriter(tmp_path / "rec", "cu8", 1e6, 1e8, None, extra_global={keys.SAMPLE_RATE_KEY: 1})
    with SigMFWriter(tmp_path / "rec", "ci16_le", 1e6, 1e8, None) as w:
        with pytest.raises(CaptureError, match="dtype float32"):
            w.write(np.zeros(4, np.float32))
        with pytest.raises(CaptureError, match="even length"):
            w.write(np.zeros(3, np.int16))
        with pytest.raises(CaptureError, match="both annotation frequency edges"):
            w.add_annotation(0, 1, freq_lower_edge_hz=1.0)
        w.write(np.zeros(4, np.int16))
    assert (tmp_path / "rec.sigmf-meta").exists()


def test_writer_sha512_matches_data(tmp_path: Path) -> None:
    import hashlib

    write_recording(tmp_path / "h", "cf32_le", [random_samples("cf32_le", 77)])
    meta = json.loads((tmp_path / "h.sigmf-meta").read_text())
    digest = hashlib.sha512((tmp_path / "h.sigmf-data").read_bytes()).hexdigest()
    assert meta["global"][keys.SHA512_KEY] == digest
