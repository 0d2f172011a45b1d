"""The common reader: blocks, ranges, lifetime, bounded memory, and open_capture dispatch."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from captures import CaptureError, SigMFWriter, open_capture
from captures.reader import CaptureReader, Segment
from capture_helpers import random_samples


def test_blocks_cover_range_with_short_last_block(tmp_path: Path) -> None:
    samples = random_samples("cu8", 1000)
    path = tmp_path / "b_100M_1M.cu8"
    path.write_bytes(samples.tobytes())
    with open_capture(path) as reader:
        blocks = list(reader.blocks(300))
        assert [b.num_samples for b in blocks] == [300, 300, 300, 100]
        assert [b.sample_start for b in blocks] == [0, 300, 600, 900]
        assert all(b.center_freq_hz == 100e6 for b in blocks)
        np.testing.assert_array_equal(np.concatenate([b.samples for b in blocks]), samples)
        blocks[0].samples[:] = 0  # a fresh array: changing it does not touch the next read
        np.testing.assert_array_equal(reader.read(0, 300), samples[:600])
        assert list(reader.blocks(300, start=1000)) == []
        for bad in (0, -1, 2.5):
            with pytest.raises(CaptureError, match="block size"):
                next(reader.blocks(bad))
        with pytest.raises(CaptureError, match=r"cannot read samples \[990, 1010\)"):
            reader.read(990, 20)
        with pytest.raises(CaptureError, match="1000 samples"):
            next(reader.blocks(10, stop=1001))
    reader.close()  # twice is fine
    with pytest.raises(CaptureError, match="closed"):
        reader.read(0, 1)


def test_truncated_after_open(tmp_path: Path) -> None:
    path = tmp_path / "t_100M_1M.cu8"
    path.write_bytes(bytes(100))
    with open_capture(path) as reader:
        path.write_bytes(bytes(10))
        with pytest.raises(CaptureError, match="truncated after it was opened"):
            reader.read(0, 50)


def test_segments_must_fit(tmp_path: Path) -> None:
    path = tmp_path / "s.cu8"
    path.write_bytes(bytes(20))
    with pytest.raises(CaptureError, match="beyond the end"):
        CaptureReader(path, datatype="cu8", sample_rate_hz=1.0,
                      segments=[Segment(0, 1.0), Segment(11, 2.0)])
    with pytest.raises(CaptureError, match="strictly increase"):
        CaptureReader(path, datatype="cu8", sample_rate_hz=1.0,
                      segments=[Segment(0, 1.0), Segment(0, 2.0)])


def test_blocks_memory_is_bounded_by_block_size(tmp_path: Path) -> None:
    path = tmp_path / "big_100M_1M.cu8"
    with open(path, "wb") as f:
        f.truncate(50 * 2**20)  # 50 MB, sparse: cheap to make
    block_samples = 2**19  # 1 MB of cu8
    with open_capture(path) as reader:
        tracemalloc.start()
        try:
            count = 0
            for block in reader.blocks(block_samples):
                count += block.num_samples
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == 25 * 2**20
    assert peak < 3 * 2**20, f"peak {peak / 2**20:.1f} MB while streaming 1 MB blocks"


def test_open_capture_dispatch(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no such file") as err:
        open_capture(tmp_path / "absent.cu8")
    assert str(tmp_path / "absent.cu8") in str(err.value)
    (tmp_path / "x.h5").write_bytes(b"")
    with pytest.raises(CaptureError, match="not a readable HDF5 file"):
        open_capture(tmp_path / "x.h5")
    with pytest.raises(CaptureError, match="no such file"):
        open_capture(tmp_path / "absent.sigmf-meta")
    with SigMFWriter(tmp_path / "rec", "cu8", 1e6, 1e8, None) as w:
        w.write(random_samples("cu8", 10))
    for name in ("rec", "rec.sigmf-meta", "rec.sigmf-data"):
        with open_capture(tmp_path / name) as reader:
            assert reader.num_samples == 10 and reader.path == tmp_path / "rec.sigmf-meta"
    with pytest.raises(CaptureError, match="disagrees"):
        open_capture(tmp_path / "rec", fmt="cs16")
    with open_capture(tmp_path / "rec", fmt="cu8") as reader:
        assert reader.datatype == "cu8"


def test_import_is_light() -> None:
    code = (
        "import sys, captures; "
        "bad = [m for m in ('sigmf', 'h5py', 'spectrum', 'kernels', 'numba', 'scipy') if m in sys.modules]; "
        "print(bad)"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
