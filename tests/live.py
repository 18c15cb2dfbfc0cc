"""Live servers (in-process or gunicorn) and Debian's Chromium, for the tests and the benches."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# No internet here: without these, Chromium's background connections fail noisily.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
    # WebGL (the 3-D view) through the software renderer: there is no GPU here.
    "--enable-unsafe-swiftshader",
]
VIEWPORT = {"width": 1400, "height": 1000}
# Drawn: the racers are on the map and no chart or update rule is still queued for a frame.
READY = (
    "() => window.optimizerRace && window.optimizerRace.heads.length > 0"
    " && window.optimizerRace.idle()"
)
RACE = "window.optimizerRace"


def open_tab(browser: Any, url: str, **context: Any) -> tuple[Any, Any]:
    """(context, tab) with ``url`` open and its first race drawn; ``tab.problems`` collects
    console errors and uncaught exceptions."""
    ctx = browser.new_context(**{"viewport": VIEWPORT, **context})
    tab = ctx.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    tab.goto(url)
    tab.wait_for_function(READY)
    return ctx, tab


def space_plays_and_pauses(tab: Any) -> None:
    """Space starts the race playing and a second Space pauses it: the page has the keys."""
    tab.keyboard.press("Space")
    tab.wait_for_function(f"() => {RACE}.playing")
    tab.keyboard.press("Space")
    tab.wait_for_function(f"() => !{RACE}.playing")


def race_link(race: dict[str, Any], extra: str = "") -> str:
    """The page's path for ``race`` (a share link's ``race`` value), plus ``extra`` query."""
    from optimizers.validate import validate_race
    from service.share import encode_race

    return "/?race=" + encode_race(validate_race(race)) + extra


def state(page: Any, expression: str) -> Any:
    """The value of a JavaScript expression in the page."""
    return page.evaluate(f"() => {expression}")


@contextlib.contextmanager
def serve(wsgi_app: Any) -> Iterator[str]:
    """Serve ``wsgi_app`` on a free loopback port in a thread; yields its URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def control(kind: str, index: int) -> str:
    """CSS selector of a pattern-matching control (Dash writes the id as sorted JSON)."""
    return f'[id=\'{{"index":{index},"type":"{kind}"}}\']'


def _local_port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


# A port handed out by ``free_port`` is bound later by another process (redis-server,
# gunicorn, nginx), so until then nothing reserves it. Ports the kernel picks itself (bind to
# port 0, every outgoing connection) come from the ephemeral range, and parallel test
# processes (pytest-xdist workers) or a flood's thousands of connections could take the same
# one meanwhile. So ports are handed out below that range, each process from its own slice.
_SLICE = 500
_next_port = 0  # where the next search starts, in this process's slice


def _slice() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ... under xdist
    index = int(worker[2:]) + 1 if worker.startswith("gw") and worker[2:].isdigit() else 0
    top = _local_port_range()[0]
    slices = (top - 10_000) // _SLICE  # from port 10000 up to the ephemeral range
    if slices < 1:
        return range(0)  # an ephemeral range reaching down that far: the kernel's ports
    low = top - _SLICE * (index % slices + 1)
    return range(low, low + _SLICE)


def free_port() -> int:
    """A loopback port nothing listens on, for a server another process starts."""
    global _next_port
    ports = _slice()
    for i in range(len(ports)):
        port = ports.start + (_next_port + i) % len(ports)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (perhaps by a server of an earlier test): the next one
        _next_port = port - ports.start + 1  # not handed out again soon
        return port
    with socket.socket() as s:  # the whole slice is in use: any port the kernel picks
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workers_of(master: int) -> list[int]:
    """The gunicorn master's worker processes."""
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def start_gunicorn(
    port: int, env: Mapping[str, str], *, workers: int = 1, output: Any = subprocess.DEVNULL
) -> subprocess.Popen:
    """gunicorn with gunicorn.conf.py on ``port``, returned once ``/healthz`` answers and at
    least ``workers`` workers are forked (a readiness poll, not a sleep)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env=dict(os.environ, PORT=str(port), **env),
        stdout=output,
        stderr=output,
    )
    return until_healthy(proc, port, lambda: len(workers_of(proc.pid)) >= workers)


def until_healthy(proc: subprocess.Popen, port: int, ready: Any = lambda: True) -> subprocess.Popen:
    """``proc`` once its ``/healthz`` on ``port`` answers and ``ready()`` holds (a readiness
    poll, not a sleep); killed, with an error, if it exits or a minute passes first."""
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            if ready():
                return proc
        except (OSError, http.client.HTTPException):
            pass  # not up yet, or something else answered while it starts: ask again
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server on port {port} did not start")
        # The poll's pace, not a wait for an event: nginx allows one address 20 /healthz a
        # second (deploy/nginx.conf), and a faster poll would be refused for ever.
        time.sleep(0.1)


def until(condition: Any, seconds: float, what: str) -> None:
    """Poll ``condition()`` until it holds (a deadline, not a sleep); fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.02)  # the poll's interval, not a wait for an event


class RedisServer:
    """A real redis-server on a loopback port, without persistence: started, stopped,
    paused (SIGSTOP: it keeps its connections and answers nothing) and resumed."""

    def __init__(self, binary: str, port: int) -> None:
        import redis  # a runtime requirement; imported here as only these tests need it

        self.binary, self.port = binary, port
        self.redis = redis
        self.client = redis.Redis(port=port, socket_timeout=2)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:  # readiness poll, not a fixed sleep
            try:
                self.client.ping()
                return
            except self.redis.ConnectionError:
                assert self.proc.poll() is None and time.monotonic() < deadline

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)  # a paused server would not act on SIGTERM
        self.proc.terminate()
        self.proc.wait(timeout=10)
