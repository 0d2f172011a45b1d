"""Headerless raw files: format/tuning inference, round trips, bad inputs, real recordings."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from captures import CaptureError, keys, open_capture
from captures.raw import open_raw, parse_tuning_from_name

from capture_helpers import ALL_DATATYPES, random_samples

RAW_EXT = {"cu8": ".cu8", "ci8": ".cs8", "ci16_le": ".cs16", "cf32_le": ".cf32"}


@pytest.mark.parametrize("datatype", ALL_DATATYPES)
def test_round_trip_each_datatype(tmp_path: Path, datatype: str) -> None:
    samples = random_samples(datatype, 1000)
    path = tmp_path / f"x_100M_1M{RAW_EXT[datatype]}"
    path.write_bytes(samples.tobytes())
    with open_raw(path) as reader:
        assert reader.datatype == datatype
        assert reader.num_samples == 1000
        got = reader.read(0, 1000)
        assert got.dtype == keys.DATATYPES[datatype].dtype
        np.testing.assert_array_equal(got, samples)
        np.testing.assert_array_equal(reader.read(10, 5), samples[20:30])
        assert reader.global_info == {} and reader.annotations == []


@pytest.mark.parametrize(
    ("name", "freq_hz", "rate_hz"),
    [
        ("g001_433.92M_250k.cu8", 433.92e6, 250e3),
        ("adsb_1090M_2M.cu8", 1090e6, 2e6),
        ("rec_868.3M_1024k.cs16", 868.3e6, 1024e3),
        ("rec_1.57542G_2.048M.cf32", 1.57542e9, 2.048e6),
        ("rec_2M_100000000Hz.cu8", 100e6, 2e6),  # explicit Hz marks the frequency
        ("rec_2Msps_433.92M.cu8", 433.92e6, 2e6),  # explicit sps marks the rate
        ("g001.cu8", None, None),
        ("capture_7.cu8", None, None),  # a bare number is not a tuning
    ],
)
def test_parse_rtl433_names(name: str, freq_hz: float | None, rate_hz: float | None) -> None:
    assert parse_tuning_from_name(name) == (freq_hz, rate_hz)


def test_explicit_arguments_win_over_name(tmp_path: Path) -> None:
    path = tmp_path / "g001_433.92M_250k.cu8"
    path.write_bytes(bytes(8))
    with open_raw(path, fmt="cf32", sample_rate_hz=1e6, center_freq_hz=915e6) as reader:
        assert (reader.datatype, reader.sample_rate_hz, reader.center_freq_hz) == ("cf32_le", 1e6, 915e6)
        assert reader.num_samples == 1


@pytest.mark.parametrize(("ext", "datatype"), sorted(keys.RAW_EXTENSIONS.items()))
def test_format_from_extension(tmp_path: Path, ext: str, datatype: str) -> None:
    path = tmp_path / f"a_100M_1M{ext}"
    path.write_bytes(bytes(16))
    with open_raw(path) as reader:
        assert reader.datatype == datatype


def test_accepts_binary_buffer() -> None:
    samples = random_samples("ci16_le", 50)
    with open_raw(io.BytesIO(samples.tobytes()), "cs16", 1e6, 100e6) as reader:
        np.testing.assert_array_equal(reader.read(0, 50), samples)


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "needle"),
    [
        ("x_100M_1M.dat", bytes(4), {}, "--format cu8|cs8|cs16|cf32"),
        ("x_100M.cu8", bytes(4), {}, "--rate HZ"),
        ("x.cu8", bytes(4), {"sample_rate_hz": 1e6}, "--freq HZ"),
        ("x_100M_1M.cu8", bytes(1001), {}, "has 1001 bytes, not a whole number of cu8 samples (2 bytes each); the file may be truncated"),
        ("x_100M_1M.cf32", bytes(12), {}, "not a whole number of cf32_le samples (8 bytes each)"),
        ("x_100M_1M.cu8", b"", {}, "is empty"),
        ("x_100M_1M.cu8", bytes(4), {"fmt": "ri16_le"}, "unsupported datatype 'ri16_le'"),
    ],
)
def test_bad_raw_inputs_name_the_file(
    tmp_path: Path, name: str, content: bytes, kwargs: dict, needle: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CaptureError) as err:
        open_raw(path, **kwargs)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no such file") as err:
        open_raw(tmp_path / "nope_100M_1M.cu8")
    assert "nope_100M_1M.cu8" in str(err.value)
    with pytest.raises(CaptureError, match="is a directory"):
        open_raw(tmp_path, fmt="cu8", sample_rate_hz=1e6, center_freq_hz=1e8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(num_bytes=st.integers(0, 70), fmt=st.sampled_from(["cu8", "cs8", "cs16", "cf32"]))
def test_any_raw_length_parses_or_raises_capture_error(tmp_path: Path, num_bytes: int, fmt: str) -> None:
    path = tmp_path / "h_100M_1M.bin"
    path.write_bytes(bytes(range(256))[:num_bytes] if num_bytes <= 256 else bytes(num_bytes))
    bps = keys.DATATYPES[keys.DATATYPE_NAMES[fmt]].bytes_per_sample
    try:
        reader = open_raw(path, fmt=fmt)
    except CaptureError as exc:
        assert str(path) in str(exc)
        assert num_bytes == 0 or num_bytes % bps
        return
    with reader:
        assert reader.num_samples * bps == num_bytes > 0
        assert reader.read(0, reader.num_samples).shape == (num_bytes // bps * 2,)


@pytest.mark.parametrize(
    ("name", "rate_hz", "freq_hz", "num_samples"),
    [
        ("adsb_1090M_2M.cu8", 2e6, 1090e6, 713736 // 2),
        ("skylink_433.92M_250k.cu8", 250e3, 433.92e6, 524288 // 2),
        ("sensible_living_433.92M_250k.cu8", 250e3, 433.92e6, 262144 // 2),
    ],
)
def test_real_recordings(real_dir: Path, name: str, rate_hz: float, freq_hz: float, num_samples: int) -> None:
    path = real_dir / name
    if not path.exists():
        pytest.skip(f"{path} missing")
    with open_capture(path) as reader:
        assert reader.datatype == "cu8"
        assert reader.sample_rate_hz == rate_hz
        assert reader.center_freq_hz == freq_hz
        assert reader.num_samples == num_samples == path.stat().st_size // 2
        assert reader.duration_s == pytest.approx(num_samples / rate_hz)
        total = sum(b.num_samples for b in reader.blocks(65536))
        assert total == num_samples
        # rtl_sdr samples sit around the 127.5 midpoint
        assert 120 < reader.read(0, 4096).mean() < 135
