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

Who the client is (service/clients.py): a browser session (a signed cookie issued with the
page) pays from its own bucket and, with every other session behind its address, from the
address's classroom ceiling (``CLASS_SESSIONS`` times one client's allowance): thirty students
behind one school address each get a client's share, and the address as a whole a class's. A
client without a session (the API, a script, a forged cookie) pays from its address's bucket
at one client's allowance, as before sessions existed.

Engine work is charged before it runs. What a request costs besides (serialising, compressing,
a path nobody thought of) is measured as CPU time and charged after it ends (``charge``), and a
client in debt is refused before its next request runs (``enter``): nothing is free. Each
request also holds a lease while it runs, so one client has at most ``WORK_REQUESTS``
requests in progress at once, whatever they do.

The buckets live in Redis when CACHE_REDIS_URL is set (one atomic script per charge, so all
workers of all hosts share them) and in the host's SQLite file otherwise (service/hoststore.py:
shared by the host's workers). A Redis that fails or hangs costs one short timeout, then the
host's buckets are used while its breaker is open: still per client, per host. Every running
mark is a lease that ends by itself (``HOLD`` after it was taken), and a charge whose answer
never came (Redis stalled: the script may still run when Redis resumes) is released in Redis
by the next worker of the host that reaches it, and cancelled there if it has not run yet: a
stall never locks a client out for longer than it lasted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from redis import Redis
from werkzeug.exceptions import TooManyRequests

from optimizers.validate import MAX_RUN_STEPS
from service.breaker import CircuitBreaker
from service.clients import DEFAULT_CLASS_SESSIONS, Client, class_sessions, current_client
from service.hoststore import BUSY, Allowance, HostStore, Levels
from service.store import failure_kind, make_breaker, redis_options, redis_url

log = logging.getLogger(__name__)
# One core runs 1.5 to 2 million run-steps a second here (bench/engine.py), so a client holds
# about a third of one core for long, can spend two maximum requests at once, and holds at
# most two of make serve's five workers.
DEFAULT_RATE = 500_000
DEFAULT_BURST = 2 * MAX_RUN_STEPS
DEFAULT_CONCURRENCY = 2
# Whole requests one client may have in progress at once (web/metering.py): a page has at
# most two in flight as it opens, and one more while a view computes; make serve runs five
# workers, so a client alone never holds them all.
DEFAULT_REQUESTS = 3
# A lease outlives any request: gunicorn kills a worker after WORKER_TIMEOUT (30 s).
HOLD_BEYOND_TIMEOUT = 5.0
DEFAULT_HOLD = 30.0 + HOLD_BEYOND_TIMEOUT
# CPU time in run-steps: what one core computes in that time (the lower figure above, so a
# second of CPU costs at least what a second of engine work is charged).
RUN_STEPS_PER_CPU_SECOND = 1_500_000
# A request's first millisecond of CPU is free: a cached race, a listing, a static file.
FREE_CPU_SECONDS = 0.001
KEY_PREFIX = "or:work:"
CANCELLED = -2.0  # the script ran after its charge had been given up: it took nothing

# KEYS: each level's bucket and running set, then the ticket's cancel mark; ARGV: cost,
# ticket, hold, levels, then each level's burst, rate, running (-1: take no lease). Redis's
# own clock, so hosts need not agree. Answers "-2" (cancelled), "-1" (busy), "0" (taken) or
# the wait.
TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local cost, ticket, hold, n = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[2 * n + 1]) == 1 then
  return '-2'
end
local tokens, wait = {}, 0
for i = 1, n do
  local burst, rate = tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3])
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', now)
  local running = tonumber(ARGV[3 * i + 4])
  if running >= 0 and redis.call('ZCARD', KEYS[2 * i]) >= running then
    return '-1'
  end
  local state = redis.call('HMGET', KEYS[2 * i - 1], 'tokens', 'at')
  tokens[i] = burst
  if state[1] then
    tokens[i] = math.min(burst, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * rate)
  end
  local needed = math.min(cost, burst)
  if tokens[i] < needed then
    wait = math.max(wait, (needed - tokens[i]) / rate)
  end
end
if wait > 0 then
  return tostring(wait)
end
for i = 1, n do
  local burst, rate = tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3])
  redis.call('HSET', KEYS[2 * i - 1], 'tokens', tostring(tokens[i] - cost), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[2 * i - 1], math.ceil(2 * burst / rate) + 1)
  if tonumber(ARGV[3 * i + 4]) >= 0 then
    redis.call('ZADD', KEYS[2 * i], now + hold, ticket)
    redis.call('EXPIRE', KEYS[2 * i], math.ceil(hold) + 1)
  end
end
return '0'
"""

# KEYS: each level's bucket and running set, then the ticket's cancel mark; ARGV: ticket,
# hold, levels, refund (the cost, or 0), then each level's burst. Ends the ticket's leases;
# refunds the cost where it had been taken (a charge whose request was paid on the host);
# marks the ticket cancelled, so that a TAKE still queued behind a stall takes nothing.
RELEASE = """
local ticket, hold, n, refund = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('SET', KEYS[2 * n + 1], '1', 'EX', math.ceil(hold) + 1)
for i = 1, n do
  if redis.call('ZREM', KEYS[2 * i], ticket) == 1 and refund > 0 then
    local tokens = tonumber(redis.call('HGET', KEYS[2 * i - 1], 'tokens'))
    if tokens then
      local burst = tonumber(ARGV[4 + i])
      redis.call('HSET', KEYS[2 * i - 1], 'tokens', tostring(math.min(burst, tokens + refund)))
    end
  end
end
return '0'
"""

# KEYS: each level's bucket; ARGV: cost, levels, then each level's burst and rate. Takes the
# cost after the fact, down to one burst of debt.
CHARGE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local cost, n = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, n do
  local burst, rate = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local tokens = burst
  if state[1] then
    tokens = math.min(burst, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * rate)
  end
  redis.call('HSET', KEYS[i], 'tokens', tostring(math.max(tokens - cost, -burst)),
    'at', tostring(now))
  redis.call('EXPIRE', KEYS[i], math.ceil(3 * burst / rate) + 1)
end
return '0'
"""


class OverBudget(TooManyRequests):
    """429: this client's work budget cannot pay for the request now, or it already runs as
    many computations as it may at once; ``retry_after`` seconds."""

    def __init__(self, cost: int, wait: float) -> None:
        if wait == BUSY:
            seconds = 1
            text = "this client already has as many computations running as it may; retry"
        elif cost <= 0:
            seconds = max(1, math.ceil(wait))
            text = (
                "this client has used more run-steps of computing than its share lately; "
                f"retry in about {seconds} s"
            )
        else:
            seconds = max(1, math.ceil(wait))
            text = (
                f"this needs {cost:,} run-steps of computing, more than this client has left; "
                f"retry in about {seconds} s"
            )
        super().__init__(text, retry_after=seconds)


def requester() -> Client | None:
    """Who pays: the request's client (its session, or its address), or None outside a
    request (the opening page built at start-up is nobody's)."""
    return current_client()


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    value = float(raw) if raw else float(default)
    if not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {raw!r}")
    return value


def cpu_run_steps(cpu_seconds: float, charged: float) -> int:
    """What a request that used ``cpu_seconds`` of CPU still owes, in run-steps, beyond the
    ``charged`` engine work it paid before running and its free first millisecond."""
    owed = (cpu_seconds - FREE_CPU_SECONDS) * RUN_STEPS_PER_CPU_SECOND - charged
    return max(0, math.ceil(owed))


@dataclass(frozen=True)
class Lease:
    """A running mark taken on every level of a client: an engine computation (``kind`` "")
    or a whole request ("request:"), in Redis (``shared``) or the host's store."""

    levels: Levels
    ticket: str
    shared: bool
    kind: str


REQUEST = "request:"  # the kind of a whole request's lease (web/metering.py)
UNLEASED = "unleased:"  # a debt check that takes no lease (``running`` -1)


class WorkBudget:
    """Charges run-steps to the requesting client, in Redis or the host's store."""

    def __init__(
        self,
        host: HostStore,
        rate: float = DEFAULT_RATE,
        burst: float = DEFAULT_BURST,
        redis: Redis | None = None,
        breaker: CircuitBreaker | None = None,
        client: Callable[[], Client | str | None] = requester,
        concurrency: int = DEFAULT_CONCURRENCY,
        class_sessions: int = DEFAULT_CLASS_SESSIONS,
        hold: float = DEFAULT_HOLD,
        requests: int = DEFAULT_REQUESTS,
    ) -> None:
        self.host = host
        self.allowance = Allowance(burst, rate, concurrency, hold)
        self.ceiling = Allowance(
            burst * class_sessions, rate * class_sessions, concurrency * class_sessions, hold
        )
        # The same buckets, with whole requests' leases counted apart from the engine's.
        self.request_allowance = dataclasses.replace(self.allowance, running=requests)
        self.request_ceiling = dataclasses.replace(self.ceiling, running=requests * class_sessions)
        self.redis = redis
        self.breaker = breaker or CircuitBreaker(cooldown=5.0)
        self.client = client
        self._take = redis.register_script(TAKE) if redis is not None else None
        self._release_script = redis.register_script(RELEASE) if redis is not None else None
        self._charge = redis.register_script(CHARGE) if redis is not None else None

    def levels(self, kind: str = "") -> Levels:
        """The buckets the current client pays from (empty: nobody pays), with the allowances
        of ``kind``'s leases."""
        own, ceiling = (
            (self.request_allowance, self.request_ceiling)
            if kind == REQUEST
            else (self.allowance, self.ceiling)
        )
        who = self.client()
        if who is None:
            return []
        if isinstance(who, str):  # a bare key (the tests' clients)
            return [(who, own)]
        if who.session is None:
            return [("a:" + who.address, own)]
        return [("s:" + who.session, own), ("c:" + who.address, ceiling)]

    @contextlib.contextmanager
    def spend(self, cost: int) -> Iterator[None]:
        """Around a computation of ``cost`` run-steps: charged to the client and leased as
        running until it ends; or OverBudget raised, and nothing runs."""
        levels = self.levels()
        if not levels or cost <= 0:
            yield
            return
        lease = self._lease(levels, cost, "")
        if has_request_context():
            g.work_charged = getattr(g, "work_charged", 0) + cost  # not charged again as CPU
        try:
            yield
        finally:
            self.leave(lease)

    def enter(self, lease: bool = True) -> Lease | None:
        """A whole request's lease (web/metering.py): refused (OverBudget) to a client in
        debt or already running ``requests`` requests, so that one client holds at most
        that many workers, whatever its requests do. With ``lease`` False only the debt is
        checked (the page itself: a class arrives at once, without sessions yet). None:
        nobody pays, or no lease was taken."""
        levels = self.levels(REQUEST)
        if not levels:
            return None
        if not lease:
            levels = [(key, dataclasses.replace(a, running=-1)) for key, a in levels]
            self._lease(levels, 0, UNLEASED)
            return None
        return self._lease(levels, 0, REQUEST)

    def leave(self, lease: Lease | None) -> None:
        """The lease's request or computation has ended."""
        if lease is None:
            return
        if not lease.shared:
            self.host.release(lease.ticket)
        elif not self._release_in_redis(lease.levels, lease.ticket, 0, lease.kind):
            self._orphan(lease.levels, lease.ticket, 0, lease.kind)

    def charge(self, cost: int) -> None:
        """Charge ``cost`` run-steps the client's request already used (its CPU time beyond
        the engine work it paid for): never refused, repaid by waiting."""
        if cost <= 0:
            return
        levels = self.levels()
        if levels and self._shared_charge(levels, cost) is None:
            self.host.charge(levels, cost)

    def finish(self, lease: Lease | None, cost: int) -> None:
        """A request has ended: its lease ends and ``cost`` (what it used beyond what it paid)
        is charged to the levels the lease was taken on, in one transaction of the host's
        store (web/metering.py ran a release and a charge, each its own, on every request)."""
        if lease is None:
            self.charge(cost)
        elif not lease.shared:
            self.host.finish(lease.ticket, lease.levels, max(0, cost))
        else:
            self.leave(lease)
            if cost > 0 and self._shared_charge(lease.levels, cost) is None:
                self.host.charge(lease.levels, cost)

    def _lease(self, levels: Levels, cost: int, kind: str) -> Lease:
        ticket = uuid.uuid4().hex
        wait = self._shared(levels, cost, ticket, kind)
        shared = wait is not None
        if wait is None:
            wait = self.host.take_all(levels, cost, ticket, kind)
        if wait != 0:
            raise OverBudget(cost, wait)
        return Lease(levels, ticket, shared, kind)

    @staticmethod
    def _keys(levels: Levels, ticket: str, kind: str) -> list[str]:
        keys = []
        for key, _ in levels:
            keys += [KEY_PREFIX + key, KEY_PREFIX + "running:" + kind + key]
        return [*keys, KEY_PREFIX + "cancel:" + ticket]

    def _shared(self, levels: Levels, cost: int, ticket: str, kind: str) -> float | None:
        """Redis's answer (as HostStore.take_all's), or None when there is no Redis or it
        failed (then the charge may still run when Redis resumes: it is left as an orphan,
        cost refunded, for the next worker of the host that reaches Redis)."""
        if self._take is None or not self.breaker.allow():
            return None
        self._adopt_orphans()
        args: list[Any] = [cost, ticket, self.allowance.hold, len(levels)]
        for _, a in levels:
            args += [a.burst, a.rate, a.running]
        try:
            wait = float(self._take(keys=self._keys(levels, ticket, kind), args=args))
        except Exception as exc:
            self._orphan(levels, ticket, cost, kind)
            self._failed(exc)
            return None
        self._answered()
        return 0.0 if wait == CANCELLED else wait

    def _shared_charge(self, levels: Levels, cost: int) -> bool | None:
        if self._charge is None or not self.breaker.allow():
            return None
        args: list[Any] = [cost, len(levels)]
        for _, a in levels:
            args += [a.burst, a.rate]
        try:
            self._charge(keys=[KEY_PREFIX + k for k, _ in levels], args=args)
        except Exception as exc:
            self._failed(exc)
            return None
        self._answered()
        return True

    def _release_in_redis(self, levels: Levels, ticket: str, refund: int, kind: str) -> bool:
        assert self._release_script is not None
        args: list[Any] = [ticket, self.allowance.hold, len(levels), refund]
        args += [a.burst for _, a in levels]
        try:
            self._release_script(keys=self._keys(levels, ticket, kind), args=args)
        except Exception as exc:
            self._failed(exc)
            return False
        return True

    def _orphan(self, levels: Levels, ticket: str, refund: int, kind: str) -> None:
        """A Redis charge or release whose answer never came: kept in the host's store (every
        worker of the host sees it) until it is released in Redis, or its lease has ended."""
        body = json.dumps(
            {
                "levels": [[k, list(dataclasses.astuple(a))] for k, a in levels],
                "refund": refund,
                "kind": kind,
            }
        )
        try:
            self.host.orphan(ticket, body, self.host.clock() + self.allowance.hold)
        except Exception:  # the host's store is down too: the lease still ends by itself
            log.exception("work budget: could not remember an unanswered charge")

    def _adopt_orphans(self) -> None:
        """Release in Redis what this host's workers left there while it did not answer."""
        for ticket, body in self.host.orphans():
            data = json.loads(body)
            levels = [(k, Allowance(*a)) for k, a in data["levels"]]
            if not self._release_in_redis(levels, ticket, data["refund"], data["kind"]):
                return
            self.host.adopted(ticket)

    def _answered(self) -> None:
        if self.breaker.succeeded():
            log.warning("work budget: Redis available again")

    def _failed(self, exc: Exception) -> None:
        kind = failure_kind(exc)
        if self.breaker.failed(kind):
            log.warning("work budget: Redis %s, counting on this host for a while", kind)


def make_budget(env: Mapping[str, str], host: HostStore, **options: Any) -> WorkBudget:
    """WORK_RATE, WORK_BURST (run-steps), WORK_CONCURRENCY, WORK_REQUESTS and CLASS_SESSIONS
    from the environment; leases as long as WORKER_TIMEOUT allows; the buckets in Redis when
    it is set."""
    url = redis_url(env)
    timeout = _positive(env, "WORKER_TIMEOUT", DEFAULT_HOLD - HOLD_BEYOND_TIMEOUT)
    return WorkBudget(
        host,
        rate=_positive(env, "WORK_RATE", DEFAULT_RATE),
        burst=_positive(env, "WORK_BURST", DEFAULT_BURST),
        redis=Redis.from_url(url, **redis_options(env)) if url else None,
        breaker=make_breaker(env),
        concurrency=int(_positive(env, "WORK_CONCURRENCY", DEFAULT_CONCURRENCY)),
        class_sessions=class_sessions(env),
        hold=timeout + HOLD_BEYOND_TIMEOUT,
        requests=int(_positive(env, "WORK_REQUESTS", DEFAULT_REQUESTS)),
        **options,
    )
