"""The shared cache against a real redis-server, with two app instances on two ports.

A race computed through one instance is served from Redis through the other (each instance
counts its engine runs at /healthz); with Redis stopped both keep answering correctly, and
the outage is logged once; when Redis is back, caching resumes.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
import urllib.request

import pytest

from app import create_app
from optimizers import run_race
from tests.conftest import require_executable, require_module
from tests.live import free_port, serve


class RedisServer:
    def __init__(self, binary: str, port: int) -> None:
        self.binary, self.port = binary, port
        self.redis = require_module("redis")
        self.client = self.redis.Redis(port=port, socket_timeout=2)
        self.proc: subprocess.Popen | None = None

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

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server():
    binary = require_executable(shutil.which("redis-server") or "/usr/bin/redis-server")
    server = RedisServer(binary, free_port())
    server.start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.stop()


def call(url: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def race(lr: float) -> dict:
    return {
        "surface": {"name": "beale"},
        "steps": 400,
        "racers": [{"optimizer": "adam", "lr": lr}, {"optimizer": "nesterov", "lr": 1e-3}],
    }


def runs(url: str) -> int:
    return call(url, "/healthz")["engine_runs"]


def test_two_instances_share_redis_and_survive_its_outage(redis_server, caplog):
    env = {"CACHE_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0"}
    first, second = create_app(env), create_app(env)
    assert len(redis_server.client.keys("or:race:*")) >= 5  # the opening race, cached once
    with serve(first.server) as a, serve(second.server) as b:
        # Computed through A, served from Redis through B.
        before_a, before_b = runs(a), runs(b)
        through_a = call(a, "/api/race", race(0.01))
        assert runs(a) == before_a + 1  # both racers in one engine batch
        through_b = call(b, "/api/race", race(0.01))
        assert runs(b) == before_b and through_b == through_a
        assert through_a == run_race(race(0.01)).to_json()

        # Redis stops: both still answer correctly, computing; one log line per instance.
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="service.races"):
            for url in (a, b, a, b):
                assert call(url, "/api/race", race(0.02)) == run_race(race(0.02)).to_json()
            assert call(a, "/healthz")["cache"] == "down"
        outages = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
        assert len(outages) == 2

        # Redis is back: caching resumes (A computes and stores, B reads it).
        redis_server.start()
        call(a, "/api/race", race(0.03))
        assert call(a, "/healthz")["cache"] == "ok"
        before_b = runs(b)
        assert call(b, "/api/race", race(0.03)) == run_race(race(0.03)).to_json()
        assert runs(b) == before_b


def test_rate_limit_counters_are_shared_through_redis(redis_server):
    env = {
        "CACHE_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "API_RATE_LIMIT": "3 per minute",
    }
    first, second = (create_app(env).server.test_client() for _ in range(2))
    codes = [c.get("/api/schedules").status_code for c in (first, second, first, second)]
    assert codes == [200, 200, 200, 429]  # one budget for the client, whichever worker answers
