"""The JSON API and the serving hardening, through Flask's test client."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from app import create_app
from optimizers import run_race
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import MAX_BODY_BYTES, validate_racer
from surfaces import SURFACES, get_surface

RACE = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}},
    "steps": 200,
    "noise": {"std": 0.1, "seed": 3},
    "racers": [
        {"optimizer": "momentum", "lr": 0.02},
        {"optimizer": "adamw", "lr": 0.05, "schedule": {"name": "cosine"}, "clip_norm": 2.0},
    ],
}
LEAKS = ("Traceback", "Werkzeug", "Python/", "/work/", "site-packages", 'File "')


@pytest.fixture(scope="module")
def client():
    return create_app({"FRAME_ANCESTORS": "https://course.example.org"}).server.test_client()


def post_race(client, body, **kw):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/race", data=data, content_type="application/json", **kw)


@pytest.mark.parametrize(
    ("path", "registry"),
    [("/api/surfaces", SURFACES), ("/api/optimizers", OPTIMIZERS), ("/api/schedules", SCHEDULES)],
)
def test_listings_come_from_the_registries(client, path, registry):
    listed = client.get(path).get_json()
    assert [entry["name"] for entry in listed] == list(registry)
    for entry in listed:
        for param in entry["params"]:
            assert {"name", "default", "help", "kind"} <= set(param)


def test_race_through_the_api_equals_the_engine(client):
    answer = post_race(client, RACE)
    assert answer.status_code == 200
    assert answer.get_json() == run_race(RACE).to_json()
    again = post_race(client, RACE)  # from the cache: the same bytes
    assert again.data == answer.data


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RACE, "steps": 0}, "steps"),
        ({**RACE, "racers": [{"optimizer": "sgd", "lr": -1}]}, "racers[0].lr"),
        ({**RACE, "racers": [{"optimizer": "eval", "lr": 1}]}, "racers[0].optimizer"),
        ({**RACE, "surface": {"name": "quadratic", "params": {"a": "big"}}}, "surface.params.a"),
        ({**RACE, "extra": 1}, "extra"),
        ('{"surface": NaN}', ""),
        ("[[[[" * 5000 + "]]]]" * 5000, ""),
        ("not json", ""),
    ],
)
def test_bad_races_get_400_naming_the_field(client, body, field):
    answer = post_race(client, body)
    assert answer.status_code == 400
    error = answer.get_json()
    assert error["field"] == field and error["error"]


def test_oversized_bodies_get_413(client):
    small_enough_for_flask = b"[" + b"1," * (MAX_BODY_BYTES // 2) + b"1]"
    assert post_race(client, small_enough_for_flask).status_code == 413
    assert post_race(client, b" " * (2 * 1024 * 1024)).status_code == 413


def test_the_openapi_document_lists_the_registries(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    race = doc["paths"]["/api/race"]["post"]
    schema = race["requestBody"]["content"]["application/json"]["schema"]
    racer = schema["properties"]["racers"]["items"]
    assert racer["properties"]["optimizer"]["enum"] == list(OPTIMIZERS)
    assert schema["properties"]["surface"]["properties"]["name"]["enum"] == list(SURFACES)
    assert {"200", "400", "413", "429"} <= set(race["responses"])


def test_rate_limits_answer_429_in_json():
    client = create_app({"API_RATE_LIMIT": "2 per minute", "RATE_LIMIT": "2 per minute"})
    client = client.server.test_client()
    codes = [client.get("/api/surfaces").status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    assert client.get("/api/surfaces").get_json()["error"].startswith("too many")
    forged = [client.post("/_dash-update-component", json={}).status_code for _ in range(3)]
    assert forged[-1] == 429


def test_security_headers_and_compression(client):
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(page.data)
    csp = page.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in csp
    assert "frame-ancestors https://course.example.org" in csp
    assert "script-src 'self' 'sha256-" in csp
    for response in (page, client.get("/api/surfaces")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]


def test_errors_leak_nothing(client):
    answers = [
        client.get("/api/race"),  # 405
        client.get("/api/nothing-here"),  # 404
        client.post("/_dash-update-component", json={}),  # malformed callback
        client.post(
            "/_dash-update-component",
            data=b"x" * (2 * 1024 * 1024),
            content_type="application/json",
        ),  # 413
    ]
    assert [a.status_code for a in answers] == [405, 404, 400, 413]
    for answer in answers:
        text = answer.get_data(as_text=True)
        assert not any(leak in text for leak in LEAKS), text


def test_health(client):
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["cache"] == "ok"
    assert isinstance(health["engine_runs"], int)
    # A process that never ran a background warm-up (gunicorn's master warms before it forks).
    assert health["warm_up"]["state"] in {"idle", "ready"}


def test_lbfgs_says_where_torchs_own_rule_stopped_it(client):
    """The result JSON carries L-BFGS's stop (step and rule); after it the racer evaluates
    nothing and stays put; a racer without such a rule says null."""
    race = {
        "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}},
        "start": [1.0, 1.0],
        "steps": 40,
        "racers": [
            {"optimizer": "lbfgs", "lr": 1.0, "params": {"line_search_fn": "strong_wolfe"}},
            {"optimizer": "lbfgs", "lr": 1.0, "params": {"tolerance_grad": 1e-12}},
            {"optimizer": "sgd", "lr": 0.01},
        ],
    }
    answer = post_race(client, race)
    assert answer.status_code == 200
    racers = answer.get_json()["racers"]
    assert racers[2]["stopped"] is None
    surface = get_surface("quadratic", a=20, b=1, angle=30)
    params = [validate_racer(r, "racer").params for r in race["racers"][:2]]
    reasons = set()
    for racer, p in zip(racers[:2], params, strict=True):
        stop = racer["stopped"]
        k = stop["step"]
        reasons.add(stop["reason"])
        path = np.array(racer["path"])
        # The step that fired evaluated once at x_{k-1} and did not move; nothing after it.
        assert racer["evaluations"]["g"][k - 1] == 1
        assert not any(racer["evaluations"]["g"][k:])
        assert (path[k - 1 :] == path[k - 1]).all()
        assert all(g > 0 for g in racer["evaluations"]["g"][: k - 1])  # it ran until then
        if stop["reason"] == "tolerance_grad":
            assert np.abs(surface.gradient(path[k - 1])).max() <= p["tolerance_grad"]
    assert reasons == {"tolerance_grad", "tolerance_change"}  # both rules, one each
    doc = client.get("/api/openapi.json").get_json()
    ok = doc["paths"]["/api/race"]["post"]["responses"]["200"]
    racer = ok["content"]["application/json"]["schema"]["properties"]["racers"]["items"]
    assert "stopped" in racer["required"]
    assert set(racer["properties"]["stopped"]["properties"]["reason"]["enum"]) == reasons


def test_the_api_sweeps_best_is_the_pages_best_rate(client):
    """/api/sweep's ``best`` is the page's best rate (its sweep chart's ★ and Auto-tune's), by
    the same rule, and the plain lowest run is reported apart as ``lowest``. On the opening
    Rosenbrock race the two differ: Adam's lowest run (rate 1.28) is an isolated dip."""
    from flask import Flask
    from flask_caching import Cache

    from callbacks.analysis import sweep_view, tune
    from callbacks.form import OPENING_RACE
    from optimizers.validate import validate_race
    from service.races import RaceService
    from service.share import encode_race
    from tests.openapi_check import errors

    response = client.post("/api/sweep", json={"race": OPENING_RACE})
    assert response.status_code == 200
    body = response.get_json()
    service = RaceService(Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    store = {"share": encode_race(validate_race(OPENING_RACE)), "order": ["0", "1", "2", "3"]}
    page = sweep_view(store, "final_loss", service).data
    assert page is not None
    assert [r["best"] for r in body["racers"]] == [r["best"] for r in page["racers"]]
    assert [r["dip"] for r in body["racers"]] == [r["dip"] for r in page["racers"]]
    assert body["rule"] == page["rule"]
    # Auto-tune sets each racer to that rate (as the card shows it: to 3 significant digits).
    rates = tune(store, "final_loss", service).extra["rates"]
    assert rates == {
        i: pytest.approx(r["best"]["lr"], rel=5e-3) for i, r in enumerate(body["racers"])
    }
    # Adam: the lowest single run is the dip at 1.28, not the best rate.
    adam = next(r for r in body["racers"] if r["optimizer"] == "adam")
    assert adam["lowest"]["lr"] == pytest.approx(1.2776, rel=1e-3)
    assert adam["best"]["lr"] < adam["lowest"]["lr"]
    assert adam["dip"]["lr"] == adam["lowest"]["lr"]
    assert adam["best"]["final_loss"] > adam["lowest"]["final_loss"]
    # RMSProp's lowest run has good neighbours: there the two agree.
    rmsprop = next(r for r in body["racers"] if r["optimizer"] == "rmsprop")
    assert rmsprop["best"] == rmsprop["lowest"] and rmsprop["dip"] is None
    # The answer is what the API document says, and the document says how best is chosen.
    document = client.get("/api/openapi.json").get_json()
    post = document["paths"]["/api/sweep"]["post"]
    schema = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert errors(body, schema) == []
    assert errors({**body, "extra": 1}, schema) != []
    row = schema["properties"]["racers"]["items"]["properties"]
    assert "neighbours" in row["best"]["description"]
    assert "lowest" in row["lowest"]["description"]
    assert "neighbours" in post["description"]
