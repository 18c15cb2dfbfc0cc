"""Thousands of malformed and hostile requests: never a 5xx, never a leak, and the server goes on.

The payloads are generated deterministically: every field of a valid request (API race and
page callback) replaced in turn by every hostile value, plus broken and oversized bodies.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from app import create_app
from tests.dash_requests import analysis_body, opening_controls, page_store, post, race_body

LEAKS = ("Traceback", "Werkzeug", "Python/", "/work/", "site-packages", 'File "')
DEEP = json.loads("[" * 200 + "]" * 200)
HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**63,
    -(2**63),
    2**200,
    1e308,
    -1e308,
    5e-324,
    -0.0,
    0.5,
    1e-300,
    "",
    "x",
    "NaN",
    "Infinity",
    "-inf",
    "1e999",
    "__proto__",
    "constructor",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "%s%s%n",
    "\u0000",
    "\ud83d",
    "é" * 50,
    "a" * 20000,
    [],
    [None],
    [1, 2, 3],
    [[1, 2]],
    [1] * 5000,
    ["x"] * 300,
    {},
    {"a": 1},
    {"__class__": "x"},
    {"name": "rosenbrock"},
    DEEP,
    [DEEP],
    {"x": DEEP},
    3.14,
]

API_RACE = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}},
    "start": [1.0, 1.0],
    "steps": 60,
    "tol": 1e-6,
    "noise": {"std": 0.1, "seed": 2},
    "racers": [
        {
            "optimizer": "adam",
            "lr": 0.05,
            "params": {"betas": [0.9, 0.999], "amsgrad": False},
            "schedule": {"name": "one_cycle", "params": {"pct_start": 0.3}},
            "clip_norm": 1.0,
            "label": "A",
        },
        {"optimizer": "sgd", "lr": 0.01, "params": {"momentum": 0.9}},
    ],
}


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every location in a JSON value (the value itself included)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    out = copy.deepcopy(value)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return out


def mutants(valid: Any, limit: int) -> list[str]:
    """About ``limit`` copies of ``valid``, each with one location replaced by a hostile value,
    sampled evenly over every (location, value) pair."""
    locations = list(paths(valid))
    pairs = [(path, new) for path in locations for new in HOSTILE]
    stride = max(1, len(pairs) // limit)
    return [json.dumps(replaced(valid, path, new)) for path, new in pairs[::stride]]


RAW = [
    "",
    "{",
    "}",
    "[",
    "null",
    "0",
    '"race"',
    "{'single': 'quotes'}",
    '{"a": NaN}',
    '{"steps": Infinity}',
    '{"x": -Infinity}',
    "\x00\x01\x02",
    "{" * 100000,
    "[" * 100000,
    '{"surface": {"name": "rosenbrock"}, "racers": [' + "{}," * 20000 + "{}]}",
]


@pytest.fixture(scope="module")
def client():
    # Every request is charged its CPU (web/metering.py): on a slow machine hundreds of hostile
    # bodies from this one client spent its work budget, and the normal request after them was
    # refused with a 429. What hostile traffic costs is tests/test_work_budget.py's; here the
    # budget is out of the way, so "still answers" is about validation alone.
    app = create_app(
        {
            "RATE_LIMIT": "1000000 per minute",
            "API_RATE_LIMIT": "1000000 per minute",
            "WORK_RATE": "1e15",
        }
    )
    return app.server.test_client()


def check(answer) -> None:
    assert answer.status_code < 500, answer.get_data(as_text=True)[:300]
    text = answer.get_data(as_text=True)
    assert not any(leak in text for leak in LEAKS), text[:300]


def test_hostile_api_races(client):
    bodies = [*mutants(API_RACE, 1400), *RAW]
    assert len(bodies) >= 1200
    for body in bodies:
        check(client.post("/api/race", data=body, content_type="application/json"))
    huge = b'{"racers": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    check(client.post("/api/race", data=huge, content_type="application/json"))
    check(client.post("/api/race", data=b"\xff\xfe\xfd", content_type="application/json"))
    normal = client.post("/api/race", json=API_RACE)
    assert normal.status_code == 200 and len(normal.get_json()["racers"]) == 2


def test_hostile_callback_requests(client):
    valid = race_body(client, opening_controls(), steps=60)
    bodies = [*mutants(valid, 1000), *RAW]
    assert len(bodies) >= 800
    for body in bodies:
        check(client.post("/_dash-update-component", data=body, content_type="application/json"))
    huge = b'{"output": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    check(client.post("/_dash-update-component", data=huge, content_type="application/json"))
    normal = client.post(
        "/_dash-update-component", data=json.dumps(valid), content_type="application/json"
    )
    assert normal.status_code == 200
    assert normal.get_json()["response"]["race-store"]["data"]["order"] == ["0", "1", "2", "3"]


def encodable(text: str) -> bool:
    """A URL can carry it (lone surrogates cannot be percent-encoded as UTF-8)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def test_hostile_share_links_and_exports(client):
    """Links arrive as query strings: the race inside is mutated like a body, then encoded;
    the other query values get the raw hostile strings."""
    links = [
        base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        for body in [*mutants(API_RACE, 300), *RAW[:12]]
    ]
    words = [str(v) for v in HOSTILE if isinstance(v, (str, int, float)) and encodable(str(v))]
    assert len(links) >= 250
    for link in links:
        check(client.get("/api/export", query_string={"race": link, "format": "json"}))
        check(client.get("/api/inspect", query_string={"race": link, "racer": "0"}))
        check(client.get("/_dash-layout", headers={"Referer": f"http://localhost/?race={link}"}))
    good = base64.urlsafe_b64encode(json.dumps(API_RACE).encode()).decode()
    for word in words:
        for query in ({"format": word}, {"format": "csv", "racer": word}):
            check(client.get("/api/export", query_string={"race": good, **query}))
        check(client.get("/api/inspect", query_string={"race": good, "racer": word}))
        check(client.get("/api/export", query_string={"race": word}))
    normal = client.get("/api/export", query_string={"race": good, "format": "csv", "racer": "1"})
    assert normal.status_code == 200 and normal.get_data(as_text=True).startswith("step,x,y")


def test_hostile_tuned_claims(client):
    opened = post(client, race_body(client, opening_controls(), steps=60))
    store = page_store(opened.get_json())
    tuned = post(client, analysis_body(client, "tune-store.data", store)).get_json()
    note = tuned["response"]["tune-store"]["data"]
    tuned_store = {"share": note["share"], "order": store["order"]}
    valid = analysis_body(client, "tune-claim.data", tuned_store)
    for body in [*mutants(valid, 400), *RAW]:
        check(client.post("/_dash-update-component", data=body, content_type="application/json"))
    normal = post(client, valid).get_json()["response"]
    assert normal["tune-store"]["data"] == note
    # The same claim for the race before tuning is refused: nothing is sent.
    refused = client.post(
        "/_dash-update-component", json=analysis_body(client, "tune-claim.data", store)
    )
    assert refused.status_code == 200 and "tune-store" not in refused.get_json()["response"]


BATCH_BODIES = {
    "/api/sweep": {
        "race": API_RACE,
        "grid": {"low": 1e-4, "high": 1.0, "count": 8},
        "criterion": "steps_to_tol",
    },
    "/api/fan": {"race": API_RACE, "runs": 4},
    "/api/starts": {"race": API_RACE, "racer": 1, "layout": "cloud", "count": 9, "seed": 3},
}


@pytest.mark.parametrize("endpoint", list(BATCH_BODIES))
def test_hostile_batch_requests(client, endpoint):
    valid = BATCH_BODIES[endpoint]
    bodies = [*mutants(valid, 500), *RAW]
    for body in bodies:
        check(client.post(endpoint, data=body, content_type="application/json"))
    normal = client.post(endpoint, json=valid)
    assert normal.status_code == 200, normal.get_json()
    text = normal.get_data(as_text=True)
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.parametrize("output", ["sweep-store.data", "tune-store.data", "starts-store.data"])
def test_hostile_analysis_callbacks(client, output):
    opened = post(client, race_body(client, opening_controls(), steps=60))
    valid = analysis_body(client, output, page_store(opened.get_json()))
    for body in [*mutants(valid, 400), *RAW]:
        check(client.post("/_dash-update-component", data=body, content_type="application/json"))
    normal = client.post(
        "/_dash-update-component", data=json.dumps(valid), content_type="application/json"
    )
    assert normal.status_code == 200
    response = normal.get_json()["response"]
    key = output.split(".")[0]
    assert response[key]["data"], response
