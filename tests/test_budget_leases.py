"""The work budget as issue 24 left it: a class's sessions and their address's ceiling, leases
that end by themselves and charges a Redis stall cannot orphan, every request's CPU charged,
and fixed answers kept as bytes.

A charge sent to Redis while it is stopped runs when Redis resumes, after its worker gave up on
it and paid on the host instead: its running mark then refused the client ("already has as many
computations running") for a minute (finding 3). Now the worker leaves it as an orphan in the
host's store, and the next worker to reach Redis releases it there (refunding it) and cancels
it if it has not run yet.
"""

from __future__ import annotations

import gzip
import time

import brotli
import pytest
from flask import Flask
from redis import Redis

from service.breaker import CircuitBreaker
from service.budget import KEY_PREFIX, OverBudget, WorkBudget, cpu_run_steps
from service.clients import Client
from service.hoststore import BUSY, Allowance, HostStore
from service.store import redis_options
from tests.live import until
from tests.test_production_stack import Stack
from tests.test_redis_hang import Load
from web.answers import Answers
from web.metering import meter


def charge(budget: WorkBudget, cost: int) -> None:
    with budget.spend(cost):
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Sessions and the classroom ceiling.


def test_sessions_behind_one_address_each_pay_their_own_under_the_class_ceiling(tmp_path):
    """Each session has a client's bucket; all sessions behind one address share a ceiling of
    ``class_sessions`` buckets; a client without a session pays from its address's own
    bucket, apart from the sessions' ceiling."""
    clock = Clock()
    budget = WorkBudget(
        HostStore(str(tmp_path / "b.sqlite"), clock=clock), rate=1, burst=100, class_sessions=3
    )
    for n in range(3):  # three students: each spends a whole bucket
        budget.client = lambda n=n: Client(f"student{n}", "10.9.0.1")
        charge(budget, 100)
    budget.client = lambda: Client("student3", "10.9.0.1")  # a fourth: its own bucket is full,
    with pytest.raises(OverBudget) as info:  # but the address has spent a class's three
        charge(budget, 100)
    assert info.value.retry_after == 34  # 100 more at the ceiling's 3 a second
    budget.client = lambda: Client("student0", "10.9.0.2")  # the same session elsewhere:
    with pytest.raises(OverBudget):  # its own bucket is still empty
        charge(budget, 100)
    budget.client = lambda: Client(None, "10.9.0.1")  # a script at the school: its own bucket
    charge(budget, 100)
    with pytest.raises(OverBudget):
        charge(budget, 100)


def test_the_ceiling_bounds_how_many_computations_an_address_runs_at_once(tmp_path):
    budget = WorkBudget(HostStore(str(tmp_path / "c.sqlite")), concurrency=1, class_sessions=2)
    budget.client = lambda: Client("a", "10.9.1.1")
    with budget.spend(10):
        budget.client = lambda: Client("b", "10.9.1.1")
        with budget.spend(10):
            budget.client = lambda: Client("c", "10.9.1.1")
            with pytest.raises(OverBudget) as info:
                charge(budget, 10)
            assert "running" in info.value.description
        charge(budget, 10)  # b's lease ended


def test_a_lease_ends_by_itself_after_its_hold(tmp_path):
    """A computation whose worker died never releases its lease: the lease ends at its
    deadline, and the client may run again."""
    clock = Clock()
    store = HostStore(str(tmp_path / "l.sqlite"), clock=clock)
    allowance = Allowance(burst=1e9, rate=1e9, running=1, hold=35)
    assert store.take("k", 1, allowance, "dead-worker") == 0  # never released
    assert store.take("k", 1, allowance, "next") == BUSY
    clock.now += 35.001
    assert store.take("k", 1, allowance, "next") == 0


def test_a_cost_charged_after_the_fact_puts_the_client_in_debt_until_it_refills(tmp_path):
    clock = Clock()
    store = HostStore(str(tmp_path / "d.sqlite"), clock=clock)
    budget = WorkBudget(store, rate=100, burst=1000, client=lambda: "k")
    budget.leave(budget.enter())  # a new client owes nothing
    budget.charge(1500)  # its request turned out to cost 1,500
    with pytest.raises(OverBudget) as info:
        budget.enter()
    assert info.value.retry_after == 5  # 500 owed at 100 a second
    assert "run-steps" in info.value.description
    budget.charge(10**9)  # debt is bounded: at most one burst
    clock.now += 10
    budget.leave(budget.enter())


def test_a_client_has_at_most_its_requests_in_progress_apart_from_its_computations(tmp_path):
    """Whole requests hold leases of their own (web/metering.py): a third request at once is
    refused, while the computations inside the two admitted ones still run."""
    budget = WorkBudget(
        HostStore(str(tmp_path / "r.sqlite")), requests=2, concurrency=2, client=lambda: "k"
    )
    one, two = budget.enter(), budget.enter()
    with pytest.raises(OverBudget) as info:
        budget.enter()
    assert info.value.retry_after == 1 and "running" in info.value.description
    with budget.spend(10), budget.spend(10):  # the engine's own two
        pass
    assert budget.enter(lease=False) is None  # the page itself: checked for debt, not leased
    budget.leave(one)
    budget.leave(budget.enter())
    budget.leave(two)
    budget.charge(10**9)
    with pytest.raises(OverBudget):
        budget.enter(lease=False)  # a client in debt is refused the page too


class CountingStore(HostStore):
    """The host's store, counting its transactions."""

    transactions = 0

    def transaction(self):
        self.transactions += 1
        return super().transaction()


def test_a_request_ends_in_one_transaction_its_lease_released_and_its_cpu_charged(tmp_path):
    clock = Clock()
    store = CountingStore(str(tmp_path / "f.sqlite"), clock=clock)
    budget = WorkBudget(store, rate=100, burst=1000, requests=1, client=lambda: "k")
    lease = budget.enter()
    before = store.transactions
    budget.finish(lease, 1500)
    assert store.transactions == before + 1
    with pytest.raises(OverBudget) as info:  # charged: 500 owed at 100 a second
        budget.enter()
    assert info.value.retry_after == 5
    clock.now += 5
    budget.finish(budget.enter(), 0)  # released: the one request allowed is free again
    budget.finish(budget.enter(), 0)
    budget.finish(None, 100)  # the page (no lease) is charged too
    with pytest.raises(OverBudget):
        budget.enter()


def test_a_request_leased_in_redis_ends_there_and_is_charged_there(redis_server, tmp_path):
    redis = Redis.from_url(redis_server.url)
    budget = WorkBudget(
        HostStore(str(tmp_path / "fr.sqlite")),
        rate=1,
        burst=1000,
        redis=redis,
        requests=1,
        client=lambda: "10.9.2.9",
    )
    lease = budget.enter()
    assert lease is not None and lease.shared
    budget.finish(lease, 400)
    assert redis.zcard(KEY_PREFIX + "running:request:10.9.2.9") == 0
    assert float(redis.hget(KEY_PREFIX + "10.9.2.9", "tokens")) <= 600 + 1
    budget.finish(budget.enter(), 0)  # the one request allowed is free again


# Redis: leases released in the store they were taken in.


def test_a_release_that_reaches_redis_first_cancels_the_charge_still_queued(redis_server, tmp_path):
    """After a stall, the worker's release and the charge it gave up on reach Redis in either
    order. Release first: the charge, when it runs, takes nothing."""
    redis = Redis.from_url(redis_server.url)
    budget = WorkBudget(
        HostStore(str(tmp_path / "o.sqlite")),
        rate=1,
        burst=1000,
        redis=redis,
        client=lambda: "10.9.2.1",
        concurrency=1,
    )
    levels = budget.levels()
    assert budget._release_in_redis(levels, "late", 1000, "")
    assert budget._shared(levels, 1000, "late", "") == 0  # "taken": it ran, and took nothing
    assert redis.zcard(KEY_PREFIX + "running:10.9.2.1") == 0
    charge(budget, 1000)  # the whole bucket is still there


def test_a_redis_stall_leaves_no_client_locked_out_once_redis_answers(redis_server, tmp_path):
    """Charges sent while Redis is stopped time out (each request paid on the host); they run
    when Redis resumes. The next charge releases and refunds them there: the client, allowed
    one computation at a time, is never refused, and Redis holds no lease of it."""
    redis = Redis.from_url(redis_server.url, **redis_options({}))
    host = HostStore(str(tmp_path / "s.sqlite"))
    budget = WorkBudget(
        host,
        rate=1,
        burst=10_000,
        redis=redis,
        breaker=CircuitBreaker(cooldown=0.0),  # every charge tries Redis
        client=lambda: "10.9.3.1",
        concurrency=1,
    )
    charge(budget, 100)
    redis_server.pause()
    try:
        for _ in range(4):
            charge(budget, 100)  # Redis times out: the host pays
        assert len(host.orphans()) == 4
    finally:
        redis_server.resume()
    running = KEY_PREFIX + "running:10.9.3.1"
    for _ in range(4):
        charge(budget, 100)  # not BUSY: the stalled charges were released
    assert host.orphans() == []
    until(lambda: redis_server.client.zcard(running) == 0, 5, "no lease left in Redis")
    tokens = float(redis_server.client.hget(KEY_PREFIX + "10.9.3.1", "tokens"))
    assert tokens > 10_000 - 6 * 100  # the stalled charges were refunded (the host paid them)


# Every request's CPU.


def test_every_request_is_charged_its_cpu_and_a_debtor_is_refused_before_it_runs(tmp_path):
    server = Flask(__name__)
    clock = Clock()
    budget = WorkBudget(
        HostStore(str(tmp_path / "m.sqlite"), clock=clock),
        rate=1000,
        burst=50_000,
        client=lambda: Client(None, "10.9.4.1"),
    )
    meter(server, budget)
    ran = []

    @server.get("/costly")
    def costly() -> str:
        ran.append(1)
        started = time.thread_time()
        while time.thread_time() - started < 0.05:  # 50 ms of CPU: 75,000 run-steps
            pass
        return "done"

    @server.get("/healthz")
    def healthz() -> str:
        return "ok"

    client = server.test_client()
    assert client.get("/costly").status_code == 200
    answer = client.get("/costly")
    assert answer.status_code == 429 and len(ran) == 1  # refused before it ran
    assert int(answer.headers["Retry-After"]) >= 20  # over 73,500 spent of 50,000
    assert client.get("/healthz").status_code == 200  # not metered
    clock.now += 60
    assert client.get("/costly").status_code == 200


def test_cpu_is_charged_beyond_its_free_millisecond_and_the_engine_work_already_paid():
    assert cpu_run_steps(0.0005, 0) == 0
    assert cpu_run_steps(0.011, 0) == 15_000
    assert cpu_run_steps(0.011, 20_000) == 0


# Answers kept as bytes.


def test_a_fixed_answer_is_made_once_and_compressed_once_per_encoding():
    server = Flask(__name__)
    answers = Answers(10**6)
    made = []

    def make() -> bytes:
        made.append(1)
        return b'{"x": "' + b"a" * 5000 + b'"}'

    def get(encoding: str):
        with server.test_request_context(headers={"Accept-Encoding": encoding}):
            return answers.response("k", make)

    plain = get("")
    gz = get("gzip")
    either = get("br, gzip")  # a kept copy it accepts serves: nothing compressed again
    br = get("br")
    again = get("gzip")
    assert len(made) == 1
    assert "Content-Encoding" not in plain.headers
    assert gz.headers["Content-Encoding"] == "gzip" and again.get_data() == gz.get_data()
    assert gzip.decompress(gz.get_data()) == plain.get_data()
    assert brotli.decompress(br.get_data()) == plain.get_data()
    assert either.headers["Content-Encoding"] == "gzip"
    assert gz.headers["Vary"] == "Accept-Encoding"
    assert answers.bytes == len(plain.get_data()) + len(gz.get_data()) + len(br.get_data())


# The production stack through a Redis stall.

STALL_SECONDS = 20


def test_after_redis_stops_under_load_for_20_s_no_client_is_refused_once_it_answers(
    redis_server,
):
    stack = Stack(
        {
            "CACHE_REDIS_URL": redis_server.url,
            "CACHE_RETRY_AFTER": "1",
            "API_RATE_LIMIT": "100000 per minute",  # only the budget is tested here
            "COMPUTE_RATE": "1000r/s",
            "COMPUTE_BURST": "1000",
        }
    )
    base = stack.base
    try:
        with Load(base, threads=2) as load:  # one client, as many at once as it may run
            until(lambda: len(load.done) >= 40, 60, "40 requests before the stop")
            redis_server.pause()
            stopped = time.monotonic()
            time.sleep(STALL_SECONDS)  # the stall's length is what is tested, not a wait
            redis_server.resume()
            resumed = time.monotonic()
            until(lambda: len(load.since(resumed + 2)) >= 100, 120, "100 requests after it")
        during = [code for start, _, code in load.done if stopped <= start < resumed]
        after = [code for start, _, code in load.since(resumed)]
        assert len(during) > 0
        assert set(after) == {200}, sorted(set(after))
    finally:
        log = stack.stop()
    assert "Traceback" not in log, log[-2000:]
