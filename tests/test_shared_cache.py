"""The shared cache against a real redis-server: a racer computed by one app is a hit in another."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from app import create_app
from tests.conftest import require_executable, require_module
from tests.dash_requests import opening_controls, post, race_body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    server = require_executable(shutil.which("redis-server") or "/usr/bin/redis-server")
    redis = require_module("redis")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:  # wait until it answers (a readiness poll, not a fixed sleep)
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
    yield f"redis://127.0.0.1:{port}/0", client
    proc.terminate()
    proc.wait(timeout=10)


def test_two_apps_share_racers_through_redis(redis_url):
    url, client = redis_url
    first, second = (create_app({"CACHE_REDIS_URL": url}) for _ in range(2))
    stored = {k for k in client.keys("or:race:racer:*")}
    assert len(stored) == 4  # the opening race, computed once by the first app
    a, b = first.server.test_client(), second.server.test_client()
    racers = opening_controls()
    racers[0]["lr"] = 0.0042
    answer = post(a, race_body(a, racers)).get_json()["response"]
    assert len(client.keys("or:race:racer:*")) > len(stored)
    hits_before = client.info("stats")["keyspace_hits"]
    again = post(b, race_body(b, racers)).get_json()["response"]
    assert client.info("stats")["keyspace_hits"] > hits_before
    assert again["race-store"]["data"] == answer["race-store"]["data"]
