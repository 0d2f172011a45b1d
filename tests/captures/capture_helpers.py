"""Helpers shared by the capture-format tests (imported by name; fixtures are in conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from captures import keys

#: Real recordings shared by the project (read-only; never copied into the repository).
REAL_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"

ALL_DATATYPES = list(keys.DATATYPES)


def random_samples(datatype: str, num_samples: int, seed: int = 0) -> np.ndarray:
    """Interleaved native samples of ``datatype`` covering its value range."""
    rng = np.random.default_rng(seed)
    dtype = keys.DATATYPES[datatype].dtype
    if dtype.kind == "f":
        return rng.standard_normal(2 * num_samples).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=2 * num_samples, endpoint=True).astype(dtype)


def minimal_meta(**global_fields: Any) -> dict[str, Any]:
    """A small valid cu8 SigMF metadata dict; keyword arguments update the global object."""
    glob = {
        keys.DATATYPE_KEY: "cu8",
        keys.SAMPLE_RATE_KEY: 1e6,
        keys.VERSION_KEY: "1.2.0",
    }
    glob.update(global_fields)
    return {
        keys.GLOBAL_KEY: glob,
        keys.CAPTURE_KEY: [{keys.SAMPLE_START_KEY: 0, keys.FREQUENCY_KEY: 100e6}],
        keys.ANNOTATION_KEY: [],
    }
