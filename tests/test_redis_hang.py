"""A hung Redis costs milliseconds, not seconds (issue 15, item 5).

The breaker and the service are checked with a cache that fails on demand and a clock the test
moves; then the production server (gunicorn, as ``make serve`` runs it) against a real
redis-server stopped with SIGSTOP mid-load, and against a port that accepts connections and
never answers: the API keeps answering at p99 < 1 s, /healthz says the cache is stalled, and
start-up with the silent Redis takes < 5 s.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.breaker import CircuitBreaker
from service.races import RaceService
from service.store import cache_config
from tests.live import free_port, start_gunicorn, until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FailingCache:
    """A cache that raises ``error`` (when set) and counts the calls that reached it."""

    def __init__(self) -> None:
        self.error: Exception | None = None
        self.calls = 0
        self.store: dict[str, object] = {}

    def get(self, key):
        self.calls += 1
        if self.error:
            raise self.error
        return self.store.get(key)

    def set(self, key, value, timeout=None):
        self.calls += 1
        if self.error:
            raise self.error
        self.store[key] = value


RACE = {"surface": {"name": "beale"}, "steps": 200, "racers": [{"optimizer": "adam", "lr": 0.01}]}


def test_breaker_skips_the_cache_for_its_cooldown_then_lets_one_trial_through():
    clock = Clock()
    breaker = CircuitBreaker(5.0, clock)
    assert breaker.allow() and not breaker.open
    assert breaker.failed("stalled") is True  # closed until now
    assert breaker.failed("stalled") is False
    assert not breaker.allow()
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # the others keep skipping while it runs
    assert breaker.succeeded() is True and not breaker.open and breaker.allow()


def test_a_stalled_cache_is_called_once_per_cooldown_and_reported(caplog):
    from optimizers.validate import validate_race

    clock = Clock()
    cache = FailingCache()
    service = RaceService(cache, CircuitBreaker(5.0, clock))
    config = validate_race(RACE)
    expected = service.race_json(config)
    assert service.cache_health() == "ok"

    cache.error = RedisTimeoutError("Timeout reading from socket")
    cache.store.clear()
    cache.calls = 0
    for _ in range(5):
        assert service.race_json(config) == expected  # computed without the cache
    assert cache.calls == 1  # the first call failed; the breaker skipped the rest
    assert service.cache_health() == "stalled" and cache.calls == 1
    assert sum("cache unavailable" in r.getMessage() for r in caplog.records) == 1

    clock.now += 5.1  # one trial after the cooldown; it fails, the breaker opens again
    service.race_json(config)
    assert cache.calls == 2

    cache.error = RedisConnectionError("Connection refused")
    clock.now += 5.1
    assert service.cache_health() == "down"

    cache.error = None
    clock.now += 5.1
    assert service.cache_health() == "ok"
    service.race_json(config)
    assert cache.store  # caching resumed


def test_redis_clients_have_short_timeouts_and_do_not_retry_a_timeout():
    client = cache_config({"CACHE_REDIS_URL": "redis://127.0.0.1:1/0"})["CACHE_REDIS_HOST"]
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] <= 0.5 and kwargs["socket_connect_timeout"] <= 0.5
    retry = kwargs["retry"]
    assert retry.get_retries() <= 1
    assert RedisTimeoutError not in retry._supported_errors


# The production server against a real Redis that hangs.

SLOW = 1.0  # the bound on the API's p99 while Redis hangs


@dataclass
class Load:
    """Client threads posting races (one cached, the others new) until stopped."""

    base: str
    threads: int = 3
    done: list[tuple[float, float, int]] = field(default_factory=list)  # (start, seconds, code)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, worker: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            lr = 0.01 if n % 2 else 0.01 * (1 + worker * 1e-3 + n * 1e-6)  # cached / new
            body = dict(RACE, racers=[{"optimizer": "adam", "lr": lr}])
            request = urllib.request.Request(
                self.base + "/api/race",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            started = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    answer.read()
                    code = answer.status
            except urllib.error.HTTPError as exc:
                code = exc.code
            self.done.append((started, time.monotonic() - started, code))

    def __enter__(self) -> Load:
        self.pool = [threading.Thread(target=self.run, args=(i,)) for i in range(self.threads)]
        for thread in self.pool:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.pool:
            thread.join(timeout=60)

    def since(self, moment: float) -> list[tuple[float, float, int]]:
        return [d for d in list(self.done) if d[0] >= moment]


def p99(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def health(base: str) -> dict:
    with urllib.request.urlopen(base + "/healthz", timeout=10) as answer:
        return json.load(answer)


ENV = {
    "WORKERS": "2",
    "ACCESS_LOG": "",
    "API_RATE_LIMIT": "100000 per minute",  # the load is one client; only Redis is tested
    "CACHE_RETRY_AFTER": "1",
}


@pytest.fixture
def redis_paused_mid_load(redis_server):
    yield redis_server
    redis_server.resume()


@pytest.mark.alone  # its answers are timed (p99 under 1 s)
def test_api_keeps_answering_while_redis_is_stopped_mid_load(redis_paused_mid_load):
    redis = redis_paused_mid_load
    port = free_port()
    proc = start_gunicorn(port, dict(ENV, CACHE_REDIS_URL=redis.url), workers=2)
    base = f"http://127.0.0.1:{port}"
    try:
        assert health(base)["cache"] == "ok"
        with Load(base) as load:
            until(lambda: len(load.done) >= 60, 60, "60 requests before the stop")
            stopped = time.monotonic()
            redis.pause()
            until(lambda: health(base)["cache"] == "stalled", 10, "/healthz: cache stalled")
            until(lambda: len(load.since(stopped)) >= 200, 120, "200 requests while stopped")
            during = load.since(stopped)
        assert {code for *_, code in during} == {200}
        assert p99([s for _, s, _ in during]) < SLOW, sorted(s for _, s, _ in during)[-5:]
        redis.resume()
        until(lambda: health(base)["cache"] == "ok", 20, "/healthz: cache ok again")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)
        yield listener.getsockname()[1]


def boot_seconds(env: dict) -> float:
    """How long gunicorn takes to answer /healthz with ``env`` (then stopped)."""
    started = time.monotonic()
    proc = start_gunicorn(free_port(), env, workers=2, output=subprocess.PIPE)
    seconds = time.monotonic() - started
    proc.terminate()
    proc.wait(timeout=30)
    return seconds


@pytest.mark.alone  # its start-ups and answers are timed
def test_a_silent_redis_neither_slows_start_up_nor_the_api(silent_port):
    # The same start-up without Redis, timed just before: the machine's load stretches both
    # alike, while a start-up that waited on the silent Redis would take its timeouts longer.
    reference = boot_seconds(ENV)
    port = free_port()
    started = time.monotonic()
    proc = start_gunicorn(
        port,
        dict(ENV, CACHE_REDIS_URL=f"redis://127.0.0.1:{silent_port}/0"),
        workers=2,
        output=subprocess.PIPE,
    )
    boot = time.monotonic() - started
    base = f"http://127.0.0.1:{port}"
    try:
        assert boot < reference + 3, f"start-up took {boot:.1f} s, without Redis {reference:.1f} s"
        with Load(base) as load:
            until(lambda: len(load.done) >= 150, 120, "150 requests")
        assert {code for *_, code in load.done} == {200}
        assert p99([s for _, s, _ in load.done]) < SLOW
        assert health(base)["cache"] == "stalled"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log = proc.stdout.read().decode()
    assert "Traceback" not in log
