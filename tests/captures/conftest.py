"""Fixtures for the capture-format tests: metadata files and the real recordings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from capture_helpers import REAL_DIR


@pytest.fixture
def real_dir() -> Path:
    """Directory of the real recordings; skips the test when it is not there."""
    if not REAL_DIR.is_dir():
        pytest.skip(f"real recordings not found at {REAL_DIR} (expected ../shared/data/real)")
    return REAL_DIR


@pytest.fixture
def write_meta(tmp_path: Path) -> Callable[..., Path]:
    """Write ``<tmp>/<name>.sigmf-meta`` (and optionally data) and return the meta path."""

    def _write(
        meta: dict[str, Any] | str | bytes,
        data: bytes | None = None,
        name: str = "rec",
    ) -> Path:
        meta_path = tmp_path / f"{name}.sigmf-meta"
        if isinstance(meta, dict):
            meta = json.dumps(meta)
        meta_path.write_bytes(meta.encode() if isinstance(meta, str) else meta)
        if data is not None:
            (tmp_path / f"{name}.sigmf-data").write_bytes(data)
        return meta_path

    return _write
