"""One client flooding the routes that compute, and another client's probes beside it, over
real sockets (issue 15, item 3). Shared by the test (tests/test_flood.py) and the bench
(bench/stack.py).

The flood runs in a process of its own (``Flood``), so its threads never hold the probes'
interpreter lock: 16 connections from 127.0.0.1, each posting maximum-budget sweeps and fans
and fetching the layouts of heavy share links, every request a new one (a fresh rate or
seed: nothing cached), as fast as answers come. The probes come from 127.0.0.2.
"""

from __future__ import annotations

import functools
import http.client
import itertools
import json
import multiprocessing
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import quote

from optimizers.validate import validate_race
from service.share import encode_race

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad")
FLOODER, PROBE = "127.0.0.1", "127.0.0.2"
CONNECTIONS = 16


def heavy_race(n: int, noise: float = 0.0) -> dict[str, Any]:
    """12 racers × 5,000 steps, new for each ``n`` (its rates)."""
    return {
        "surface": {"name": "rosenbrock"},
        "steps": 5000,
        "noise": {"std": noise, "seed": n % 1000},
        "racers": [
            {"optimizer": OPTIMIZERS[k % len(OPTIMIZERS)], "lr": 1e-4 * (1 + k) + 1e-9 * n}
            for k in range(12)
        ],
    }


def flood_request(n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
    """(kind, path, body, headers) of the flood's n-th request: the largest each route allows
    (a sweep of 12 × 49 rates × 5,000 steps and a fan of 12 × 50 runs × 5,000 steps are both
    just under the 3,000,000 run-steps one request may cost)."""
    json_headers = {"Content-Type": "application/json"}
    kind = ("sweep", "fan", "layout")[n % 3]
    if kind == "sweep":
        body = {"race": heavy_race(n), "grid": {"count": 48}}
        return kind, "/api/sweep", json.dumps(body).encode(), json_headers
    if kind == "fan":
        body = {"race": heavy_race(n, noise=0.5), "runs": 50}
        return kind, "/api/fan", json.dumps(body).encode(), json_headers
    return kind, "/_dash-layout", None, {"Referer": f"http://x/?race={noisy_link(n)}"}


def noisy_link(n: int) -> str:
    """The share link (quoted) of the ``n``-th heavy race with noise."""
    return quote(encode_race(validate_race(heavy_race(n, noise=0.5))))


@functools.cache
def heavy_link() -> str:
    """The share link of one heavy race (12 racers × 5,000 noisy steps), the same every time."""
    return noisy_link(0)


def cached_request(n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
    """(kind, path, body, headers) of the cached flood's n-th request: one heavy race's JSON
    export (~6 MB) and its page's layout (~4 MB), the same race every time, so only the first
    runs the engine and the rest are answers kept as bytes (web/answers.py)."""
    link = heavy_link()
    if n % 2:
        return "export", f"/api/export?race={link}&format=json", None, {"Accept-Encoding": "gzip"}
    headers = {"Referer": f"http://x/?race={link}", "Accept-Encoding": "gzip"}
    return "layout", "/_dash-layout", None, headers


@functools.cache
def forged_body(changed: int) -> bytes:
    """Issue 24's forged callback request: the race callback with ``changed`` changed inputs
    (2,000 of them took 28 s of a worker before web/callback_guard.py)."""
    from app import app
    from tests.dash_requests import forged_callback_body

    return forged_callback_body(app, changed)


def forged_request(n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
    """(kind, path, body, headers) of the forged flood's n-th request: 2,000 or 10,000
    changed inputs in turn."""
    changed = (2000, 10000)[n % 2]
    headers = {"Content-Type": "application/json"}
    return "forged", "/_dash-update-component", forged_body(changed), headers


FLOODS = {"costly": flood_request, "cached": cached_request, "forged": forged_request}


def request(
    port: int,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    source: str = PROBE,
    timeout: float = 60,
) -> tuple[float, int, dict[str, str], bytes]:
    """(seconds, status, headers, body) of one request on a new connection from ``source``."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0)
    )
    try:
        conn.request("POST" if body else "GET", path, body=body, headers=headers or {})
        answer = conn.getresponse()
        data = answer.read()
        return time.monotonic() - started, answer.status, dict(answer.getheaders()), data
    finally:
        conn.close()


def refuser(headers: dict[str, str], body: bytes) -> str:
    """Which layer answered a 429: the work budget ("app": it names run-steps or running
    computations), flask-limiter's count ("limiter", JSON) or nginx ("nginx", plain text;
    every answer says Server: nginx, so the header cannot tell)."""
    if b"run-steps" in body or b"computations running" in body:
        return "app"
    return "nginx" if headers.get("Content-Type", "").startswith("text/plain") else "limiter"


def _flood(port: int, seconds: float, results: Any, mix: str) -> None:
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    numbers = itertools.count()
    deadline = time.monotonic() + seconds

    def loop() -> None:
        # One kept-alive connection per thread, opened again only when the server closes it:
        # a new connection per request left tens of thousands of 127.0.0.1's ports in
        # TIME_WAIT, and the next test on this machine could not open one.
        conn = None
        while time.monotonic() < deadline:
            kind, path, body, headers = FLOODS[mix](next(numbers))
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(
                        "127.0.0.1", port, timeout=60, source_address=(FLOODER, 0)
                    )
                conn.request("POST" if body else "GET", path, body=body, headers=headers)
                answer = conn.getresponse()
                status, head, data = answer.status, dict(answer.getheaders()), answer.read()
                if answer.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                if conn is not None:
                    conn.close()
                    conn = None
                with lock:
                    counts[f"error {type(exc).__name__}"] += 1
                continue
            if status == 429:
                key = f"429 {refuser(head, data)}"
                key += "" if head.get("Retry-After", "").isdigit() else " bare"
            else:
                key = f"{status} {kind}"
            with lock:
                counts[key] += 1

    threads = [threading.Thread(target=loop) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(counts))


class Flood:
    """The flood (``mix``: a key of FLOODS), in its own process, for ``seconds``;
    ``result()`` is what it got back: a count per "status kind" ("200 sweep", "429 nginx",
    "429 app", "error")."""

    def __init__(self, port: int, seconds: float, mix: str = "costly") -> None:
        ctx = multiprocessing.get_context("fork")
        self.results = ctx.Queue()
        self.proc = ctx.Process(target=_flood, args=(port, seconds, self.results, mix), daemon=True)
        self.proc.start()

    def running(self) -> bool:
        return self.proc.is_alive() and self.results.empty()

    def result(self, timeout: float = 120) -> dict[str, int]:
        counts = self.results.get(timeout=timeout)
        self.proc.join(timeout=10)
        return counts


PROBE_RACE = json.dumps(
    {"surface": {"name": "himmelblau"}, "racers": [{"optimizer": "adam", "lr": 0.05}]}
).encode()
PROBES = {
    "/healthz": ("/healthz", None, {}),
    "GET /": ("/", None, {}),
    "cached race": ("/api/race", PROBE_RACE, {"Content-Type": "application/json"}),
}


def probe_round(port: int) -> dict[str, tuple[float, int]]:
    """Each probe once from the other client: (seconds, status)."""
    out = {}
    for name, (path, body, headers) in PROBES.items():
        seconds, status, _, _ = request(port, path, body, headers, timeout=30)
        out[name] = (seconds, status)
    return out


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
