"""Fixtures for the service tests live in service_helpers (importable by a unique name)."""

from service_helpers import *  # noqa: F401,F403
