"""The shared cache against a real redis-server, with two app instances on two ports.

A race computed through one instance is served from Redis through the other (each instance
counts its engine runs at /healthz); with Redis stopped both keep answering correctly, and
the outage is logged once; when Redis is back, caching resumes.
"""

from __future__ import annotations

import json
import logging
import urllib.request

from app import create_app
from optimizers import run_race
from tests.live import serve, until


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
    # A short breaker cooldown, so that the return of Redis is seen within the test.
    env = {
        "CACHE_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "CACHE_RETRY_AFTER": "0.3",
    }
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

        # Redis is back: once each breaker's cooldown is over, caching resumes (A computes
        # and stores, B reads it).
        redis_server.start()
        for url in (a, b):
            until(lambda url=url: call(url, "/healthz")["cache"] == "ok", 10, "cache back")
        call(a, "/api/race", race(0.03))
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
