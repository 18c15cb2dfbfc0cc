"""Shared test helpers. In CI nothing may be skipped: a missing dependency fails the run."""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
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


# The longest single tests (minutes each on two shared cores), run first: under pytest-xdist
# (`make test`) a long test that started last would leave the other workers idle at the end.
# Only tests that use no module-scoped fixture, so moving them sets nothing up twice.
LONG_FIRST = ("tests/test_memory_bounds.py::test_a_worker_stays_under_300_mb_after_",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))  # stable: else unchanged


# Tests marked ``alone`` run with no other test running beside them: under pytest-xdist
# (`make test`) the other workers wait at their next test until it is done. They either load
# every core (a flood through the production stack), which would stretch another worker's
# waits past their deadlines, or time answers (p99 under 1 s), which another worker's load
# would stretch instead. A lock every worker shares: each test holds it shared, an ``alone``
# test exclusively; a worker waiting for it exclusively holds a gate the others pass before
# taking it shared, so a stream of short tests cannot keep it waiting for ever.


class _RunLock:
    def __init__(self, folder: Path) -> None:
        # Both open for the worker's whole session.
        self.gate = (folder / "gate").open("a+b")
        self.lock = (folder / "lock").open("a+b")

    @contextlib.contextmanager
    def held(self, alone: bool) -> Iterator[None]:
        fcntl.flock(self.gate, fcntl.LOCK_EX)  # waits while an ``alone`` test waits or runs
        if alone:
            fcntl.flock(self.lock, fcntl.LOCK_EX)  # every other worker's test is done
            fcntl.flock(self.gate, fcntl.LOCK_UN)
        else:
            fcntl.flock(self.gate, fcntl.LOCK_UN)
            fcntl.flock(self.lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(self.lock, fcntl.LOCK_UN)


LOCKS = "OPTIMIZER_RACE_TEST_LOCKS"  # the lock's folder, from pytest-xdist's controller
_run_lock: _RunLock | None = None


def pytest_configure(config):
    global _run_lock
    config.addinivalue_line(
        "markers", "alone: no other test runs at the same time (under pytest-xdist)"
    )
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        _run_lock = _RunLock(Path(os.environ[LOCKS]))
    elif config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses"):
        # The controller, before it starts its workers (they inherit the environment).
        os.environ[LOCKS] = tempfile.mkdtemp(prefix="optimizer-race-tests-")


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput") and LOCKS in os.environ:
        shutil.rmtree(os.environ.pop(LOCKS), ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _run_lock is None:  # one process: nothing runs beside any test
        return (yield)
    with _run_lock.held(item.get_closest_marker("alone") is not None):
        return (yield)


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


# The live app (one per module) and a real headless Chromium (one per process), shared by the
# browser tests.


@pytest.fixture(scope="module")
def live():
    from app import create_app  # only the browser tests need the app served

    app = create_app({})
    with serve(app.server) as url:
        yield url, app


# How long a page's wait for a condition may take before it fails (Playwright's default is
# 30 s): under pytest-xdist two workers' Chromiums share the cores, and in a parallel run on a
# loaded machine the accessibility tests' page waited past 30 s for its first race. A
# deadline, not a sleep: each wait returns as soon as its condition holds.
WAIT_MS = 60_000


@pytest.fixture(scope="session")
def browser():
    """One Chromium per test process (launching one, with Playwright's driver, took ~3 s on
    two busy cores, once per module); each test opens its own context, closed after it."""
    require_executable("/usr/bin/chromium")
    sync_api = require_module("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        new_context = chromium.new_context

        def with_deadline(**options):
            context = new_context(**options)
            context.set_default_timeout(WAIT_MS)
            return context

        chromium.new_context = with_deadline
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
