"""Each client's share of the engine: its work, in run-steps, against a token bucket.

A count of requests says nothing of their cost: a cached race costs microseconds, a sweep of
12 racers × 49 rates × 5,000 steps seconds of a core. So everything that runs the engine is
charged what it runs, in the validator's one measure of work (``optimizers.validate``'s
run-steps), before it runs and only for what is not already cached. Each client (its address,
as web/proxy.py makes it out) has a bucket of ``WORK_BURST`` run-steps refilled at
``WORK_RATE`` per second: the burst lets a page open a heavy race and a view at once, and the
rate is the share of the cores one client can hold for long. And a client runs at most
``WORK_CONCURRENCY`` computations at once, so that it never holds more than that many
workers, whatever its bucket holds (a bucket alone let a flood's admitted requests pile up
in every worker while the cores were busy). A request refused either way gets
``OverBudget``: 429 with Retry-After, the seconds until it could be paid.

The buckets live in Redis when CACHE_REDIS_URL is set (one atomic script per charge, so all
workers of all hosts share them) and in the host's SQLite file otherwise (service/hoststore.py:
shared by the host's workers). A Redis that fails or hangs costs one short timeout, then the
host's buckets are used while its breaker is open: still per client, per host.
"""

from __future__ import annotations

import contextlib
import logging
import math
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flask import has_request_context, request
from redis import Redis
from werkzeug.exceptions import TooManyRequests

from optimizers.validate import MAX_RUN_STEPS
from service.breaker import CircuitBreaker
from service.hoststore import BUSY, Allowance, HostStore
from service.store import failure_kind, make_breaker, redis_options, redis_url

log = logging.getLogger(__name__)
# One core runs 1.5 to 2 million run-steps a second here (bench/engine.py), so a client holds
# about a third of one core for long, can spend two maximum requests at once, and holds at
# most two of make serve's five workers.
DEFAULT_RATE = 500_000
DEFAULT_BURST = 2 * MAX_RUN_STEPS
DEFAULT_CONCURRENCY = 2
HOLD = 60.0  # a running mark outlives any request (gunicorn's timeout is 30 s)
KEY_PREFIX = "or:work:"

# KEYS: the bucket, the running set; ARGV: cost, burst, rate, running, ticket, hold. Redis's
# own clock, so hosts need not agree. Answers "-1" (busy), "0" (taken) or the wait.
TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local cost, burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return '-1'
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if state[1] then
  tokens = math.min(burst, tonumber(state[1]) + (now - tonumber(state[2])) * rate)
end
local needed = math.min(cost, burst)
if tokens < needed then
  return tostring((needed - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - cost), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(2 * burst / rate) + 1)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[5])
redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[6])) + 1)
return '0'
"""


class OverBudget(TooManyRequests):
    """429: this client's work budget cannot pay for the request now, or it already runs as
    many computations as it may at once; ``retry_after`` seconds."""

    def __init__(self, cost: int, wait: float) -> None:
        if wait == BUSY:
            seconds = 1
            text = "this client already has as many computations running as it may; retry"
        else:
            seconds = max(1, math.ceil(wait))
            text = (
                f"this needs {cost:,} run-steps of computing, more than this client has left; "
                f"retry in about {seconds} s"
            )
        super().__init__(text, retry_after=seconds)


def requester() -> str | None:
    """Who pays: the request's client address (after ProxyFix), or None outside a request
    (the opening page built at start-up is nobody's)."""
    return request.remote_addr if has_request_context() else None


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    value = float(raw) if raw else float(default)
    if not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {raw!r}")
    return value


class WorkBudget:
    """Charges run-steps to the requesting client, in Redis or the host's store."""

    def __init__(
        self,
        host: HostStore,
        rate: float = DEFAULT_RATE,
        burst: float = DEFAULT_BURST,
        redis: Redis | None = None,
        breaker: CircuitBreaker | None = None,
        client: Callable[[], str | None] = requester,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.host = host
        self.allowance = Allowance(burst, rate, concurrency, HOLD)
        self.redis = redis
        self.breaker = breaker or CircuitBreaker(cooldown=5.0)
        self.client = client
        self._take = redis.register_script(TAKE) if redis is not None else None

    @contextlib.contextmanager
    def spend(self, cost: int) -> Iterator[None]:
        """Around a computation of ``cost`` run-steps: charged to the client and counted as
        running until it ends; or OverBudget raised, and nothing runs."""
        who = self.client()
        if who is None or cost <= 0:
            yield
            return
        ticket = uuid.uuid4().hex
        wait = self._shared(who, cost, ticket)
        shared = wait is not None
        if wait is None:
            wait = self.host.take(who, cost, self.allowance, ticket)
        if wait != 0:
            raise OverBudget(cost, wait)
        try:
            yield
        finally:
            self._release(who, ticket, shared)

    def _shared(self, who: str, cost: int, ticket: str) -> float | None:
        """Redis's answer (as HostStore.take's), or None when there is no Redis or it failed."""
        if self._take is None or not self.breaker.allow():
            return None
        a = self.allowance
        try:
            wait = float(
                self._take(
                    keys=[KEY_PREFIX + who, KEY_PREFIX + "running:" + who],
                    args=[cost, a.burst, a.rate, a.running, ticket, a.hold],
                )
            )
        except Exception as exc:
            self._failed(exc)
            return None
        if self.breaker.succeeded():
            log.warning("work budget: Redis available again")
        return wait

    def _release(self, who: str, ticket: str, shared: bool) -> None:
        if not shared:
            self.host.release(ticket)
            return
        try:
            assert self.redis is not None
            self.redis.zrem(KEY_PREFIX + "running:" + who, ticket)
        except Exception as exc:  # the mark expires after HOLD seconds
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        kind = failure_kind(exc)
        if self.breaker.failed(kind):
            log.warning("work budget: Redis %s, counting on this host for a while", kind)


def make_budget(env: Mapping[str, str], host: HostStore, **options: Any) -> WorkBudget:
    """WORK_RATE, WORK_BURST (run-steps) and WORK_CONCURRENCY from the environment; the
    buckets in Redis when it is set."""
    url = redis_url(env)
    return WorkBudget(
        host,
        rate=_positive(env, "WORK_RATE", DEFAULT_RATE),
        burst=_positive(env, "WORK_BURST", DEFAULT_BURST),
        redis=Redis.from_url(url, **redis_options(env)) if url else None,
        breaker=make_breaker(env),
        concurrency=int(_positive(env, "WORK_CONCURRENCY", DEFAULT_CONCURRENCY)),
        **options,
    )
