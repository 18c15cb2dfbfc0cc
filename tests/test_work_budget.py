"""Limits by cost (issue 15, item 3): every route that runs the engine is charged its work in
run-steps against the client's budget; a client whose budget cannot pay gets 429 with
Retry-After, while what is cached costs nothing and other clients are served. Without Redis
the budget and flask-limiter's counts are shared by the host's processes (one SQLite file);
with Redis, by every host.
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import uuid
from urllib.parse import quote

import pytest

from app import create_app
from optimizers.validate import MAX_RUN_STEPS, validate_race
from service.budget import OverBudget, WorkBudget
from service.hoststore import Allowance, HostStore
from service.share import encode_race
from tests.dash_requests import analysis_body, race_body, racer_controls

# A budget that lets a client one request of anything (a full bucket pays any cost), then
# refills so slowly that the next uncached request is refused.
ENV = {
    "WORK_BURST": "1",
    "WORK_RATE": "0.001",
    "RATE_LIMIT": "1000000 per minute",
    "API_RATE_LIMIT": "1000000 per minute",
}


def race(lr: float, steps: int = 200, noise: float = 0.0, racers: int = 2) -> dict:
    names = ("adam", "sgd", "momentum", "rmsprop")
    return {
        "surface": {"name": "rosenbrock"},
        "steps": steps,
        "noise": {"std": noise, "seed": 1},
        "racers": [{"optimizer": names[i % 4], "lr": lr} for i in range(racers)],
    }


def share(lr: float, **kw) -> str:
    return encode_race(validate_race(race(lr, **kw)))


@pytest.fixture(scope="module")
def app():
    return create_app(ENV)


def charge(budget: WorkBudget, cost: int) -> None:
    with budget.spend(cost):
        pass


def _take_many(path: str, results: multiprocessing.Queue) -> None:
    store = HostStore(path)
    allowance = Allowance(burst=10, rate=1e-9, running=100, hold=60)
    results.put(sum(store.take("client", 1, allowance, uuid.uuid4().hex) == 0 for _ in range(10)))


def test_the_host_buckets_are_shared_by_processes(tmp_path):
    """Four processes (as gunicorn's workers) take from one client's bucket of 10: 10 in all
    are admitted, not 10 each."""
    path = str(tmp_path / "limits.sqlite")
    HostStore(path)
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=_take_many, args=(path, results)) for _ in range(4)]
    for proc in procs:
        proc.start()
    admitted = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert sum(admitted) == 10, admitted


def _hit_many(path: str, results: multiprocessing.Queue) -> None:
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    limiter = FixedWindowRateLimiter(storage_from_string(f"sqlite://{path}"))
    item = parse("4 per minute")
    results.put(sum(limiter.hit(item, "127.0.0.9") for _ in range(5)))


def test_the_request_counts_are_shared_by_processes_without_redis(tmp_path):
    """flask-limiter's counts without Redis (the sqlite:// storage): 3 processes × 5 requests
    against "4 per minute" admit 4 in all, not 4 per process."""
    path = str(tmp_path / "limits.sqlite")
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=_hit_many, args=(path, results)) for _ in range(3)]
    for proc in procs:
        proc.start()
    admitted = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert sum(admitted) == 4, admitted


def test_two_workers_without_redis_count_one_client_together(tmp_path):
    """Two apps on one host file (as two gunicorn workers): one address's requests are
    counted together, so its third request is refused whichever worker answers it."""
    env = dict(
        ENV,
        API_RATE_LIMIT="2 per minute",
        LIMITS_DB=str(tmp_path / "limits.sqlite"),
        WORK_BURST=str(MAX_RUN_STEPS),  # the request counts alone refuse here
    )
    one, two = (create_app(env).server.test_client() for _ in range(2))
    base = {"REMOTE_ADDR": "10.0.0.7"}
    assert one.get("/api/schedules", environ_base=base).status_code == 200
    assert two.get("/api/schedules", environ_base=base).status_code == 200
    assert one.get("/api/schedules", environ_base=base).status_code == 429
    assert two.get("/api/schedules", environ_base=base).status_code == 429
    assert two.get("/api/schedules", environ_base={"REMOTE_ADDR": "10.0.0.8"}).status_code == 200


def refused(answer) -> None:
    assert answer.status_code == 429, (answer.status_code, answer.data[:300])
    assert int(answer.headers["Retry-After"]) >= 1
    text = answer.get_data(as_text=True)
    assert "run-steps" in text and "Traceback" not in text


def api_calls(lr: float) -> dict:
    """Each computing API route as (method, path, json body or None) for a race at ``lr``."""
    noisy = race(lr, noise=0.5)
    link = quote(share(lr))
    return {
        "race": ("POST", "/api/race", race(lr)),
        "sweep": ("POST", "/api/sweep", {"race": race(lr)}),
        "fan": ("POST", "/api/fan", {"race": noisy, "runs": 8}),
        "starts": ("POST", "/api/starts", {"race": race(lr), "count": 16}),
        "inspect": ("GET", f"/api/inspect?race={link}&racer=0", None),
        "export": ("GET", f"/api/export?race={link}&format=json", None),
    }


def call(client, spec, address: str):
    method, path, body = spec
    base = {"REMOTE_ADDR": address}
    if method == "POST":
        return client.post(path, json=body, environ_base=base)
    return client.get(path, environ_base=base)


def engine_runs(client) -> int:
    return client.get("/healthz").get_json()["engine_runs"]


@pytest.mark.parametrize("route", sorted(api_calls(0.001)))
def test_each_api_route_is_charged_its_work(app, route):
    """A full bucket pays anything; the client is then in debt and refused; another client
    is served, and what is cached runs no engine (its CPU alone is charged, web/metering.py)."""
    client = app.server.test_client()
    first, second = api_calls(0.0011)[route], api_calls(0.0012)[route]
    n = sorted(api_calls(0.001)).index(route) + 1
    assert call(client, first, f"10.1.0.{n}").status_code == 200  # a full bucket pays anything
    refused(call(client, second, f"10.1.0.{n}"))  # the next request: refused
    runs = engine_runs(client)
    assert call(client, first, f"10.2.0.{n}").status_code == 200  # another client is served
    assert engine_runs(client) == runs  # from the cache: no engine ran


def test_a_page_layout_with_a_share_link_is_charged(app):
    client = app.server.test_client()

    def layout(lr: float, address: str):
        referer = "http://localhost/?race=" + quote(share(lr, steps=400))
        return client.get(
            "/_dash-layout", headers={"Referer": referer}, environ_base={"REMOTE_ADDR": address}
        )

    assert layout(0.002, "10.3.0.1").status_code == 200
    refused(layout(0.0021, "10.3.0.1"))
    runs = engine_runs(client)
    assert layout(0.002, "10.3.0.2").status_code == 200  # that page is kept: no engine runs
    assert engine_runs(client) == runs
    assert layout(0.0021, "10.3.0.3").status_code == 200


def test_the_index_with_a_share_link_runs_no_engine(app):
    """GET /?race=… only names the race (its layout is fetched, and charged, apart)."""
    client = app.server.test_client()
    before = client.get("/healthz").get_json()["engine_runs"]
    heavy = share(0.003, steps=5000, noise=0.5, racers=12)
    for _ in range(2):
        answer = client.get("/?race=" + quote(heavy), environ_base={"REMOTE_ADDR": "10.4.0.1"})
        assert answer.status_code == 200
    assert client.get("/healthz").get_json()["engine_runs"] == before


def test_the_race_and_view_callbacks_are_charged(app):
    client = app.server.test_client()

    def race_update(lr: float, address: str):
        racers = [racer_controls(0, {"optimizer": "adam", "lr": lr})]
        body = race_body(client, racers, steps=300)
        return client.post(
            "/_dash-update-component",
            data=json.dumps(body),
            content_type="application/json",
            environ_base={"REMOTE_ADDR": address},
        )

    assert race_update(0.004, "10.5.0.1").status_code == 200
    refused(race_update(0.0041, "10.5.0.1"))
    runs = engine_runs(client)
    assert race_update(0.004, "10.5.0.4").status_code == 200  # cached: no engine runs
    assert engine_runs(client) == runs

    def view(lr: float, address: str):
        store = {"share": share(lr), "order": ["0", "1"]}
        body = analysis_body(client, "sweep-store.data", store)
        return client.post(
            "/_dash-update-component",
            data=json.dumps(body),
            content_type="application/json",
            environ_base={"REMOTE_ADDR": address},
        )

    assert view(0.005, "10.5.0.2").status_code == 200
    refused(view(0.0051, "10.5.0.2"))
    assert view(0.0051, "10.5.0.3").status_code == 200


def test_the_budget_refills_at_its_rate(tmp_path):
    now = [1000.0]
    store = HostStore(str(tmp_path / "b.sqlite"), clock=lambda: now[0])
    budget = WorkBudget(store, rate=100, burst=1000, client=lambda: "a")
    charge(budget, 1000)  # the burst
    with pytest.raises(OverBudget) as info:
        charge(budget, 500)
    assert info.value.retry_after == 5  # 500 run-steps at 100 a second
    now[0] += 4.9
    with pytest.raises(OverBudget):
        charge(budget, 500)
    now[0] += 0.1
    charge(budget, 500)


def test_a_clock_that_steps_back_refills_nothing_and_takes_nothing(tmp_path):
    """Workers read the clock at different moments; one whose reading is older than the
    bucket's last charge must neither drain the bucket (a negative refill, which at a high
    rate refused every request) nor refill it."""
    now = [1000.0]
    store = HostStore(str(tmp_path / "b.sqlite"), clock=lambda: now[0])
    budget = WorkBudget(store, rate=1e12, burst=1000, client=lambda: "a")
    charge(budget, 600)
    now[0] -= 0.001  # 1e9 run-steps "before" the last charge
    charge(budget, 400)  # what is left is still there
    with pytest.raises(OverBudget):
        charge(budget, 1)  # and nothing came back
    now[0] += 0.002
    charge(budget, 1000)  # time moved on from the bucket's own last charge: full again


def test_a_client_runs_at_most_its_concurrency_at_once_across_workers(tmp_path):
    """Two workers (two stores on one host file): while a client's two computations run, its
    third is refused at once (Retry-After 1), another client's is not, and once one ends the
    client may start again."""
    path = str(tmp_path / "c.sqlite")
    one, two = (
        WorkBudget(HostStore(path), rate=1e9, burst=1e9, client=lambda: "a") for _ in range(2)
    )
    with one.spend(10), two.spend(10):
        with pytest.raises(OverBudget) as info:
            charge(one, 10)
        assert info.value.retry_after == 1
        two.client = lambda: "b"
        charge(two, 10)
        two.client = lambda: "a"
    charge(two, 10)
    with pytest.raises(RuntimeError), one.spend(10):
        raise RuntimeError("a computation that fails still ends")
    with one.spend(10), one.spend(10):
        pass


def test_with_redis_the_budget_is_shared_by_hosts(redis_server, tmp_path):
    """Two hosts (each its own host file) over one Redis: a client that spent its budget on
    one is refused on the other."""
    from redis import Redis

    def host(name: str) -> WorkBudget:
        budget = WorkBudget(
            HostStore(str(tmp_path / name)),
            rate=1e-3,
            burst=MAX_RUN_STEPS,
            redis=Redis.from_url(redis_server.url),
        )
        budget.client = lambda: "10.6.0.1"
        return budget

    one, two = host("one.sqlite"), host("two.sqlite")
    charge(one, MAX_RUN_STEPS)
    with pytest.raises(OverBudget):
        charge(two, 1000)
    two.client = lambda: "10.6.0.2"
    with two.spend(1000), two.spend(1000):  # two at once, counted in Redis
        three = host("three.sqlite")
        three.client = lambda: "10.6.0.2"
        with pytest.raises(OverBudget) as info:
            charge(three, 1000)
        assert info.value.retry_after == 1
    charge(three, 1000)


def test_a_silent_redis_leaves_the_budget_to_the_host(tmp_path):
    """Redis that accepts and never answers: the budget counts on the host (still per client)
    and its breaker stops asking Redis."""
    from redis import Redis

    from service.store import redis_options

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        budget = WorkBudget(
            HostStore(str(tmp_path / "h.sqlite")),
            rate=1,
            burst=1000,
            redis=Redis.from_url(url, **redis_options({})),
        )
        budget.client = lambda: "10.7.0.1"
        charge(budget, 1000)
        assert budget.breaker.open
        with pytest.raises(OverBudget):
            charge(budget, 1000)
