"""Fixtures for the source tests live in source_helpers (importable by a unique name)."""

from source_helpers import *  # noqa: F401,F403
