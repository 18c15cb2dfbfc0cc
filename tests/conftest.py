"""Shared test helpers. In CI nothing may be skipped: a missing dependency fails the run."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.live import RedisServer, free_port, launch, open_tab, serve

IN_CI = bool(os.environ.get("CI"))


def require_module(name: str) -> ModuleType:
    """Import ``name``; outside CI a missing module skips the test with a reason."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if IN_CI:
            raise RuntimeError(f"{name} is required in CI but cannot be imported: {exc}") from exc
        pytest.skip(f"{name} is not installed (run `make test` to set up the environment)")


def require_file(path: Path, installer: str) -> Path:
    """``path`` if it exists (a file a set-up script fetches); else skip, or fail in CI."""
    if path.exists():
        return path
    if IN_CI:
        raise RuntimeError(f"{path} is required in CI ({installer} installs it)")
    pytest.skip(f"{path} is missing (make test runs {installer})")


def require_executable(path: str) -> str:
    """``path`` if it is an executable; outside CI a missing one skips the test with a reason."""
    if os.access(path, os.X_OK):
        return path
    if IN_CI:
        raise RuntimeError(f"{path} is required in CI (scripts/install-system.sh installs it)")
    pytest.skip(f"{path} is missing (scripts/install-system.sh installs it)")


_ODD_SIGNATURES: set[str] = set()


@pytest.fixture(autouse=True)
def kernels_keep_one_signature(request):
    """After each test: every engine driver in this process still has the one signature the
    first was called with (``engine.driver`` loads later kernels for it). A call with another
    argument type (a read-only or Fortran-ordered array) compiles a kernel anew, tens of
    seconds, and made a later browser test time out in CI; this names the test that did it."""
    yield
    engine = sys.modules.get("optimizers.engine")
    if engine is None:
        return
    signatures = {str(s) for made in engine._DRIVERS.values() for s in made.signatures}
    new = signatures - _ODD_SIGNATURES
    if len(signatures) > 1 and new:
        _ODD_SIGNATURES.update(signatures)
        pytest.fail(f"{request.node.nodeid} called a kernel with other argument types: {new}")


# The live app and a real headless Chromium, shared by the browser tests (one app per module).


@pytest.fixture(scope="module")
def live():
    from app import create_app  # only the browser tests need the app served

    app = create_app({})
    with serve(app.server) as url:
        yield url, app


@pytest.fixture(scope="module")
def browser():
    require_executable("/usr/bin/chromium")
    sync_api = require_module("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live):
    context, tab = open_tab(browser, live[0])
    yield tab
    context.close()


@pytest.fixture
def tabs(browser, live):
    """Opens tabs on the live app (a path and the context's options, as ``open_tab``), each
    closed after the test."""
    opened = []

    def open_(path: str, **context):
        ctx, tab = open_tab(browser, live[0] + path, **context)
        opened.append(ctx)
        return tab

    yield open_
    for ctx in opened:
        ctx.close()


@pytest.fixture(scope="module")
def redis_server():
    """A redis-server for the module (scripts/install-system.sh installs it)."""
    binary = require_executable(shutil.which("redis-server") or "/usr/bin/redis-server")
    server = RedisServer(binary, free_port())
    server.start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.stop()
