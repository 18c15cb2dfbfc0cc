"""Shared test helpers. In CI nothing may be skipped: a missing dependency fails the run."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

IN_CI = bool(os.environ.get("CI"))


def require_module(name: str) -> ModuleType:
    """Import ``name``; outside CI a missing module skips the test with a reason."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if IN_CI:
            raise RuntimeError(f"{name} is required in CI but cannot be imported: {exc}") from exc
        pytest.skip(f"{name} is not installed (run `make test` to set up the environment)")


def require_executable(path: str) -> str:
    """``path`` if it is an executable; outside CI a missing one skips the test with a reason."""
    if os.access(path, os.X_OK):
        return path
    if IN_CI:
        raise RuntimeError(f"{path} is required in CI (scripts/install-system.sh installs it)")
    pytest.skip(f"{path} is missing (scripts/install-system.sh installs it)")
