"""The production stack as `make serve` runs it (scripts/serve.sh: nginx in front of gunicorn),
on loopback (issue 15, items 1 and 2).

200 slow clients (half of them stuck in their headers, half in their bodies) hold nothing a
request needs: /healthz and a cached race answer in < 1 s meanwhile, and when they go no
worker was lost. Behind the proxy two client addresses are counted apart; nginx refuses a flood
on a computing route with 429 and Retry-After itself; SIGTERM stops the whole stack.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_executable
from tests.live import ROOT, free_port, until, until_healthy, workers_of

RACE = json.dumps(
    {"surface": {"name": "himmelblau"}, "racers": [{"optimizer": "adam", "lr": 0.1}]}
).encode()


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Stack:
    """scripts/serve.sh on a free port with ``workers`` workers (make serve's default is the
    cores × 2 + 1 of gunicorn.conf.py) and ``env`` added to its environment."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        require_executable("/usr/sbin/nginx")
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=ROOT,
            env={
                **os.environ,
                "PORT": str(self.port),
                "WORKERS": str(workers),
                "ACCESS_LOG": "",
                **env,
            },
            stdout=subprocess.DEVNULL,
            # A file, not a pipe: a pipe nobody reads until the end fills up and then blocks
            # whichever process writes to it (nginx's one worker, or gunicorn's).
            stderr=self.log,
        )
        until_healthy(self.proc, self.port)
        self.base = f"http://127.0.0.1:{self.port}"
        kids = children(self.proc.pid)
        self.master = next(p for p in kids if "gunicorn" in command(p))
        self.nginx = next(p for p in kids if "nginx" in command(p))
        until(lambda: len(workers_of(self.master)) == workers, 30, "every worker forked")

    def stop(self) -> str:
        """SIGTERM, then the stack's log (gunicorn's and nginx's stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.seek(0)
        return self.log.read().decode()


@pytest.fixture
def stack() -> Iterator[Stack]:
    running = Stack({"API_RATE_LIMIT": "10000 per minute"})
    yield running
    if running.proc.poll() is None:
        running.stop()


def timed(port: int, path: str, body: bytes | None = None, source: str = "127.0.0.2"):
    """(seconds, status, body) of one request from the loopback address ``source`` (the slow
    clients are 127.0.0.1: this is another client)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request("POST" if body else "GET", path, body=body, headers=headers)
        answer = conn.getresponse()
        return time.monotonic() - started, answer.status, answer.read()
    finally:
        conn.close()


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """Half send part of their headers, half their headers and 10 of 60,000 body bytes."""
    held = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 2:
            sock.sendall(b"POST /api/race HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:
            sock.sendall(
                b"POST /api/race HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 60000\r\n\r\n" + b'{"surface"'
            )
        held.append(sock)
    return held


@pytest.mark.alone  # its answers are timed (under 1 s)
def test_slow_clients_hold_no_worker_and_the_stack_stops_cleanly(stack):
    workers = sorted(workers_of(stack.master))
    assert len(workers) == 2
    assert timed(stack.port, "/api/race", RACE)[1] == 200  # cached from now on
    held = slow_clients(stack.port, 200)
    try:
        for _ in range(5):
            seconds, status, body = timed(stack.port, "/healthz")
            assert status == 200 and json.loads(body)["status"] == "ok" and seconds < 1.0
            seconds, status, body = timed(stack.port, "/api/race", RACE)
            assert status == 200 and json.loads(body)["racers"] and seconds < 1.0, seconds
        assert all(s.fileno() >= 0 for s in held)
    finally:
        for sock in held:
            sock.close()
    # Nothing stuck: the same workers (none killed for a timeout), still answering at once.
    assert sorted(workers_of(stack.master)) == workers
    assert timed(stack.port, "/healthz")[0] < 1.0
    master, nginx = stack.master, stack.nginx
    log = stack.stop()
    assert stack.proc.returncode is not None
    until(lambda: not alive(master) and not alive(nginx), 10, "gunicorn and nginx gone")
    assert "Traceback" not in log and "WORKER TIMEOUT" not in log, log[-2000:]


def ask(port: int, path: str, source: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` from the loopback address ``source`` (127.0.0.x: another client)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_behind_the_proxy_clients_are_counted_apart_and_nginx_refuses_a_flood(redis_server):
    # The limiter's counters in Redis: without it each worker counts apart (issue 15, item 3).
    limits = {"API_RATE_LIMIT": "3 per minute", "COMPUTE_BURST": "3", "COMPUTE_RATE": "1r/s"}
    stack = Stack(dict(limits, CACHE_REDIS_URL=redis_server.url, PUBLIC_HOSTS="x"))
    try:
        # The app's limit, per client address as nginx saw it (forged headers or not).
        a = [ask(stack.port, "/api/schedules", "127.0.0.1")[0] for _ in range(4)]
        assert a == [200, 200, 200, 429]
        assert ask(stack.port, "/api/schedules", "127.0.0.2")[0] == 200
        # A flood on a computing route meets nginx's own limit first: 429, Retry-After, text.
        answers = [ask(stack.port, "/api/qr", "127.0.0.3") for _ in range(10)]
        refused = [(h, b) for code, h, b in answers if code == 429]
        assert refused, [code for code, *_ in answers]
        headers, body = refused[-1]
        assert headers["Retry-After"].isdigit() and headers["Server"] == "nginx"
        assert headers["Content-Type"].startswith("text/plain") and b"too many" in body
        assert ask(stack.port, "/api/qr", "127.0.0.4")[0] == 200  # another client is served
    finally:
        stack.stop()
