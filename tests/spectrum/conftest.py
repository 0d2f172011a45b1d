"""Fixtures for the spectrum package: the CLI run in-process, real recordings, scenario captures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from spectrum.cli import main
from source_helpers import *  # noqa: F401,F403  (fixtures for sources and the live sensor)

REAL_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture
def cli(capsys):
    """Run ``spectrum ARGS`` in-process; return its exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def real_dir() -> Path:
    if not REAL_DIR.is_dir():
        pytest.skip(f"real recordings not found at {REAL_DIR} (expected ../shared/data/real)")
    return REAL_DIR


@pytest.fixture(scope="session")
def scenario_capture(tmp_path_factory):
    """Render a scenario once per session (``name, seconds``) and return its .sigmf-meta path."""
    from spectrum.cli.simulate_cmd import write_scenario
    from spectrum.sim.scenarios import get_scenario

    cache: dict[tuple[str, float], Path] = {}
    root = tmp_path_factory.mktemp("scenarios")

    def make(name: str, seconds: float) -> Path:
        key = (name, seconds)
        if key not in cache:
            cache[key], _ = write_scenario(get_scenario(name), root / f"{name}_{seconds:g}", seconds, seed=11)
        return cache[key]

    return make
