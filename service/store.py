"""Where the cache and the rate-limit counters live: memory in the process, or a shared Redis.

Redis is an accelerator, never a dependency, so no call may wait on it for long: redis-py's
defaults (no socket timeout, then 5 s, and three retries with back-off) turned a hung Redis
into seconds per request and a 51 s boot. Every client made here uses short connect and read
timeouts and retries only a dropped connection (a restarted Redis), never a timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_caching import Cache
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from service.breaker import CircuitBreaker

# Redis answers in well under a millisecond on a LAN, and a read timeout applies to each
# socket read, not to a whole (up to ~1 MB) value: 0.2 s is generous, yet a hung Redis costs
# one request 0.2 s per breaker cooldown.
DEFAULT_TIMEOUT = 0.2
DEFAULT_RETRY_AFTER = 5.0
# The in-process cache's bound (per worker): with the pages' 16 MB, a worker with both full
# stays under 300 MB (tests/test_memory_bounds.py).
DEFAULT_MEMORY_MB = 32


def redis_url(env: Mapping[str, str]) -> str:
    """CACHE_REDIS_URL, or "" for memory in the process."""
    return env.get("CACHE_REDIS_URL", "").strip()


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    value = float(raw) if raw else default
    if not value >= 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {raw!r}")
    return value


def redis_options(env: Mapping[str, str]) -> dict[str, Any]:
    """redis-py keyword arguments for every client: the cache's and the limiter's."""
    timeout = _seconds(env, "CACHE_REDIS_TIMEOUT", DEFAULT_TIMEOUT)
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # One immediate retry for a pooled connection the server dropped (Redis restarted);
        # a timeout is not retried: the breaker takes over.
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    }


def megabytes(env: Mapping[str, str], name: str, default: float) -> int:
    """A size setting in MB (``name``), as bytes."""
    raw = env.get(name, "").strip()
    value = float(raw) if raw else default
    if not value >= 0:
        raise ValueError(f"{name} must be a number of megabytes >= 0, got {raw!r}")
    return int(value * 1024 * 1024)


def cache_config(env: Mapping[str, str]) -> dict[str, Any]:
    """flask-caching settings: Redis when CACHE_REDIS_URL is set, else memory in the process,
    at most CACHE_MEMORY_MB of it (service/lru.py).

    The Redis client is built here (and handed over as the "host"), so that its timeouts are
    ours rather than whatever flask-caching passes on."""
    url = redis_url(env)
    if url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_HOST": Redis.from_url(url, **redis_options(env)),
            "CACHE_KEY_PREFIX": "or:",
        }
    return {
        "CACHE_TYPE": "service.lru.ByteCache",
        "CACHE_MAX_BYTES": megabytes(env, "CACHE_MEMORY_MB", DEFAULT_MEMORY_MB),
    }


def make_cache(server: Flask, env: Mapping[str, str]) -> Cache:
    """The cache for ``server``. Nothing is sent to Redis here: start-up never waits on it."""
    return Cache(server, config=cache_config(env))


def make_breaker(env: Mapping[str, str]) -> CircuitBreaker:
    """The cache's breaker: after a failure, the cache is skipped for CACHE_RETRY_AFTER s."""
    return CircuitBreaker(_seconds(env, "CACHE_RETRY_AFTER", DEFAULT_RETRY_AFTER))


def failure_kind(exc: BaseException) -> str:
    """ "stalled" when the cache timed out (a hung Redis), else "down"."""
    return "stalled" if isinstance(exc, RedisTimeoutError | TimeoutError) else "down"
