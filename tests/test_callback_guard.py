"""Forged callback requests are held to their callback's declared shape (issue 24, item 1).

A ``POST /_dash-update-component`` whose ``changedPropIds`` listed 2,000 inputs held a worker
for 28 s: ``_stale`` read ``ctx.triggered_prop_ids`` (rebuilt by Dash on every read) once per
changed input. Every callback in the app's own registry is forged here with 2,000, 10,000 and
100,000 changed inputs and refused with 400 (413 past the body limit) before Dash reads it,
in the app and through the production stack; what the page sends is never refused.
"""

from __future__ import annotations

import copy
import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app import create_app
from callbacks import wiring
from layouts.controls import MAX_PAGE_RACERS
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import MAX_RACERS
from surfaces import SURFACES
from tests.dash_requests import (
    UPDATE,
    callback_key,
    declared_callbacks,
    forged_callback_body,
    opening_controls,
    page_body,
    post,
    race_body,
)
from tests.live import race_link, workers_of
from tests.test_production_stack import Stack
from web.callback_guard import SLACK, wildcard_bounds
from web.hardening import MAX_REQUEST_BYTES

REFUSED = "callback request refused: "
FLOODS = (2_000, 10_000, 100_000)
# Built once at collection: the callbacks are parametrized from its registry.
APP = create_app({"RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"})
CALLBACKS = list(APP.callback_map)
SERVER = {
    dep["output"]
    for dep in declared_callbacks(APP.server.test_client())
    if dep["clientside_function"] is None
}


def short(key: str) -> str:
    """A test id for a callback: its first output (or its hash, for one without outputs)."""
    return key.strip(".").split("...")[0].split("@")[0][:48]


@pytest.fixture(scope="module")
def client():
    return APP.server.test_client()


@pytest.fixture(scope="module")
def layout(client) -> Any:
    return client.get("/_dash-layout").get_json()


def send(client, body: bytes):
    return client.post(UPDATE, data=body, content_type="application/json")


def test_every_callback_is_one_the_tests_reach():
    assert len(SERVER) >= 10 and SERVER < set(CALLBACKS)


@pytest.mark.parametrize("changed", FLOODS)
@pytest.mark.parametrize("key", CALLBACKS, ids=[short(k) for k in CALLBACKS])
def test_a_forged_flood_of_changed_inputs_is_refused_for_every_callback(client, key, changed):
    body = forged_callback_body(APP, changed, key)
    answer = send(client, body)
    text = answer.get_data(as_text=True)
    if len(body) > MAX_REQUEST_BYTES:
        assert answer.status_code == 413, text
        return
    assert answer.status_code == 400, text[:300]
    assert text.startswith(REFUSED)
    if key in SERVER:
        assert f"changedPropIds lists {changed} props" in text, text
    else:  # the browser runs it: the server answers no request of it
        assert "no server callback has the output" in text, text


def near_limit(carried: bool) -> bytes:
    """The race callback's forgery grown to just under the body limit (it reaches the app)."""
    size = len(forged_callback_body(APP, 1000, carried=carried))
    changed = int(1000 * MAX_REQUEST_BYTES / size)
    body = forged_callback_body(APP, changed, carried=carried)
    while len(body) > MAX_REQUEST_BYTES:
        changed -= 100
        body = forged_callback_body(APP, changed, carried=carried)
    assert len(body) > 0.95 * MAX_REQUEST_BYTES
    return body


@pytest.mark.parametrize("carried", [False, True], ids=["changed", "long-list"])
def test_a_forgery_just_under_the_body_limit_reaches_the_guard(client, carried):
    answer = send(client, near_limit(carried))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400 and text.startswith(REFUSED), text[:300]
    assert ("the page has at most" if carried else "changedPropIds lists") in text


def test_a_long_wildcard_list_is_refused_by_the_page_bound(client):
    answer = send(client, forged_callback_body(APP, 2_000, carried=True))
    text = answer.get_data(as_text=True)
    most = wildcard_bounds()["name"] * SLACK
    assert answer.status_code == 400
    assert '{"name":["ALL"],"type":"surface-param"}.value lists 2000 entries' in text
    assert f"the page has at most {most}" in text


@pytest.mark.parametrize("key", sorted(SERVER), ids=[short(k) for k in sorted(SERVER)])
def test_what_the_page_sends_is_not_refused(client, layout, key):
    answer = post(client, page_body(layout, APP, key))
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:300]


def controls(spec: Any) -> int:
    return sum(2 if p.kind == "pair" else 1 for p in spec.params)


def test_a_link_with_the_most_racers_and_parameters_is_not_refused(client):
    """The bounds hold the fullest page a link can open: the validator's most racers, each
    with the optimizer and the schedule that have the most controls."""
    heaviest = max(OPTIMIZERS, key=lambda name: controls(OPTIMIZERS[name]))
    schedule = max(SCHEDULES, key=lambda name: controls(SCHEDULES[name]))
    surface = max(SURFACES, key=lambda name: controls(SURFACES[name]))
    race = {
        "surface": {"name": surface},
        "steps": 20,
        "racers": [
            {"optimizer": heaviest, "lr": 1e-3, "schedule": {"name": schedule}}
            for _ in range(MAX_RACERS)
        ],
    }
    page = client.get("/_dash-layout", headers={"Referer": f"http://localhost{race_link(race)}"})
    body = page_body(page.get_json(), APP, "race-store.data")
    params = body["inputs"][8]
    assert len(body["inputs"][6]) == MAX_RACERS > MAX_PAGE_RACERS
    assert len(params) == MAX_RACERS * controls(OPTIMIZERS[heaviest])
    answer = post(client, body)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert (
        f"at most {MAX_PAGE_RACERS} racers"
        in answer.get_json()["response"]["settings-error"]["children"]
    )


def mutated(body: dict[str, Any], change: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    change(out)
    return out


MISFITS = {
    "unknown output": (lambda b: b.update(output="nope.data"), "no server callback"),
    "clientside output": (
        lambda b: b.update(output="leaderboard.className"),
        "no server callback has the output 'leaderboard.className'",
    ),
    "an input too many": (
        lambda b: b["inputs"].append(b["inputs"][0]),
        "this callback takes 17 inputs, the request has 18",
    ),
    "no state": (lambda b: b.pop("state"), "this callback takes 1 state, the request has 0"),
    "a state too many": (
        lambda b: b["state"].append(b["state"][0]),
        "this callback takes 1 state, the request has 2",
    ),
    "inputs not a list": (lambda b: b.update(inputs={"a": 1}), "inputs must be a list"),
    "a list for one input": (
        lambda b: b["inputs"].__setitem__(0, [b["inputs"][0]]),
        "each entry of inputs surface-select.value must be an object",
    ),
    "one entry for a pattern": (
        lambda b: b["inputs"].__setitem__(6, b["inputs"][6][0]),
        'inputs {"index":["ALL"],"type":"racer-optimizer"}.value must be a list',
    ),
    "another id": (
        lambda b: b["inputs"][0].update(id="steps-input"),
        "an entry of inputs is not surface-select.value",
    ),
    "another property": (
        lambda b: b["inputs"][0].update(property="options"),
        "an entry of inputs is not surface-select.value",
    ),
    "a list in a pattern's id": (
        lambda b: b["inputs"][6][0]["id"].update(index=[0]),
        'an entry of inputs is not {"index":["ALL"],"type":"racer-optimizer"}.value',
    ),
    "a pattern's id with a key more": (
        lambda b: b["inputs"][6][0]["id"].update(name="x"),
        'an entry of inputs is not {"index":["ALL"],"type":"racer-optimizer"}.value',
    ),
    "outputs not a list": (lambda b: b.update(outputs={}), "outputs must be a list"),
    "changed not a list": (
        lambda b: b.update(changedPropIds="surface-select.value"),
        "changedPropIds must be a list",
    ),
    "changed not text": (lambda b: b.update(changedPropIds=[7]), "must hold strings"),
    "changed names a state": (
        lambda b: b.update(changedPropIds=["race-keys.data"]),
        "changedPropIds names 'race-keys.data', not an input of this callback",
    ),
    "changed names an unreadable id": (
        lambda b: b.update(changedPropIds=['{"index":0.value']),
        "changedPropIds names an unreadable id",
    ),
}


@pytest.mark.parametrize("name", list(MISFITS))
def test_a_request_that_does_not_fit_its_callback_is_refused_saying_why(client, layout, name):
    change, words = MISFITS[name]
    body = mutated(page_body(layout, APP, "race-store.data"), change)
    answer = post(client, body)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400 and text.startswith(REFUSED) and words in text, text[:300]


@pytest.mark.parametrize(
    "raw",
    [b"[]", b"null", b"{not json", b"[" * 50_000 + b"]" * 50_000],
    ids=["list", "null", "not-json", "too-deep"],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, raw):
    answer = send(client, raw)
    assert answer.status_code == 400
    assert answer.get_data(as_text=True) == REFUSED + "the body must be a JSON object\n"


class CountingContext:
    """Dash's callback context, counting the reads of ``triggered_prop_ids``."""

    def __init__(self, real: Any) -> None:
        self.real, self.reads = real, 0

    def __getattr__(self, name: str) -> Any:
        if name == "triggered_prop_ids":
            self.reads += 1
        return getattr(self.real, name)


def test_the_race_callback_reads_what_dash_rebuilds_once(client, monkeypatch):
    """Dash builds ``triggered_prop_ids`` from every changed input on each read: one read per
    changed input (before the fix) cost the square of their number."""
    counting = CountingContext(wiring.ctx)
    monkeypatch.setattr(wiring, "ctx", counting)
    racers = opening_controls()
    every = [
        f'{{"index":{r["index"]},"type":"{kind}"}}.value'
        for r in racers
        for kind in ("racer-optimizer", "racer-lr", "racer-schedule")
    ]
    reads = []
    for changed in (every[:1], every):
        counting.reads = 0
        answer = post(client, race_body(client, racers, steps=60, changed=changed))
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        reads.append(counting.reads)
    assert len(every) == 12 and reads == [1, 1]


def test_forged_bodies_are_built_by_name_from_the_registry():
    key = callback_key(APP, "race-store.data")
    body = json.loads(forged_callback_body(APP.callback_map, 3))
    assert body["output"] == key and key.startswith("..race-store.data")
    assert body["changedPropIds"] == [
        f'{{"name":{i},"type":"surface-param"}}.value' for i in range(3)
    ]
    assert len(body["inputs"]) == len(APP.callback_map[key]["inputs"])


def ask(port: int, path: str, source: str, body: bytes | None = None) -> tuple[int, bytes]:
    """(status, body) of one request from the loopback address ``source`` (one client)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request("POST" if body else "GET", path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_the_production_stack_refuses_forged_floods_and_every_worker_goes_on():
    """Five attackers (addresses) send every flood at once through nginx: each is refused
    (400 from the app, or 413 from nginx past 1 MB), no worker is killed or left busy, and a
    bystander is answered afterwards."""
    stack = Stack({"COMPUTE_BURST": "100"}, workers=2)
    try:
        workers = sorted(workers_of(stack.master))
        bodies = [forged_callback_body(APP, n) for n in FLOODS] + [near_limit(False)]
        jobs = [(f"127.0.0.{10 + a}", body) for a in range(5) for body in bodies]
        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(lambda job: ask(stack.port, UPDATE, *job), jobs))
        for (_, body), (status, text) in zip(jobs, answers, strict=True):
            if len(body) > MAX_REQUEST_BYTES:
                assert status == 413, (status, text[:200])
            else:
                assert status == 400 and text.startswith(REFUSED.encode()), (status, text[:200])
                assert b"changedPropIds lists" in text
        status, health = ask(stack.port, "/healthz", "127.0.0.30")
        assert status == 200 and json.loads(health)["status"] == "ok"
        assert sorted(workers_of(stack.master)) == workers  # none killed for a timeout
    finally:
        log = stack.stop()
    assert "WORKER TIMEOUT" not in log and "Traceback" not in log, log[-2000:]
