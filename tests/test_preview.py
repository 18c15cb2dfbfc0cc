"""A quick slider's drag preview (web/preview.py): one racer's path at a new rate, the same
result and cache entry the page's race gets on release; every field validated; charged to the
client's work budget and counted in the page's rate limit."""

from __future__ import annotations

import json

import pytest

from app import create_app
from optimizers.validate import validate_race
from service.share import encode_race
from tests.dash_requests import post, race_body, racer_controls
from web.preview import MAX_PREVIEW_BYTES, PREVIEW_PATH

UNLIMITED = {"RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"}
RACERS = [{"optimizer": "adam", "lr": 0.05}, {"optimizer": "momentum", "lr": 0.001}]


def race(racers=RACERS, **settings) -> dict:
    return {"surface": {"name": "rosenbrock"}, "steps": 400, "racers": racers, **settings}


def share(**settings) -> str:
    return encode_race(validate_race(race(**settings)))


@pytest.fixture(scope="module")
def app():
    return create_app(UNLIMITED)


def preview(client, body, address="10.9.0.1"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        PREVIEW_PATH,
        data=data,
        content_type="application/json",
        environ_base={"REMOTE_ADDR": address},
    )


def page_racers(client, lr: float, **settings) -> dict:
    """The page's race store after a rate change of racer 1, through Dash's own callback."""
    racers = [
        racer_controls(0, RACERS[0]),
        racer_controls(1, {**RACERS[1], "lr": lr}),
    ]
    body = race_body(client, racers, steps=400, **settings)
    return post(client, body).get_json()["response"]["race-store"]["data"]


def test_a_preview_is_the_racer_the_page_gets_on_release_and_fills_its_cache(app):
    client = app.server.test_client()
    before = page_racers(client, 0.001)  # the page's race, as it stands before the drag
    answer = preview(client, {"race": before["share"], "racer": 1, "lr": 0.0023})
    assert answer.status_code == 200, answer.get_json()
    got = answer.get_json()
    assert got["racer"] == 1
    runs = app.server.test_client().get("/healthz").get_json()["engine_runs"]
    store = page_racers(client, 0.0023)
    # The release finds the previewed racer computed: the whole race ran nothing new.
    assert app.server.test_client().get("/healthz").get_json()["engine_runs"] == runs
    committed = store["racers"]["1"]
    for field in ("x", "y", "loss", "n", "label", "final_loss", "steps_to_tol"):
        assert got["result"][field] == committed[field], field
    # And it is a different path from the racer's old rate.
    assert got["result"]["x"] != before["racers"]["1"]["x"]


def test_a_preview_keeps_the_race_s_shared_settings(app):
    client = app.server.test_client()
    noisy = share(noise={"std": 0.5, "seed": 3}, start=[0.5, -0.5])
    got = preview(client, {"race": noisy, "racer": 0, "lr": 0.01}).get_json()["result"]
    alone = app.server.test_client()
    plain = preview(alone, {"race": share(start=[0.5, -0.5]), "racer": 0, "lr": 0.01})
    assert "fan" in got and "fan" not in plain.get_json()["result"]
    assert got["x"] != plain.get_json()["result"]["x"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"race": share(), "racer": 0, "lr": -1}, "lr", "(0, 10]"),
        ({"race": share(), "racer": 0, "lr": 1e9}, "lr", "(0, 10]"),
        ({"race": share(), "racer": 0, "lr": "0.1"}, "lr", "a number in (0, 10]"),
        ({"race": share(), "racer": 0}, "lr", "got null"),
        ({"race": share(), "racer": 2, "lr": 0.1}, "racer", "0 to 1"),
        ({"race": share(), "racer": True, "lr": 0.1}, "racer", "0 to 1"),
        ({"race": share(), "racer": "0", "lr": 0.1}, "racer", "0 to 1"),
        ({"race": "not a link", "racer": 0, "lr": 0.1}, "race", "not valid"),
        ({"racer": 0, "lr": 0.1}, "race", "link value"),
        ({"race": share(), "racer": 0, "lr": 0.1, "steps": 9}, "steps", "not allowed"),
        ([1, 2], "", "object"),
    ],
)
def test_bad_previews_name_the_field_and_what_is_allowed(app, body, field, words):
    answer = preview(app.server.test_client(), body)
    assert answer.status_code == 400
    got = answer.get_json()
    assert got["field"] == field and words in got["error"] and "Traceback" not in got["error"]


@pytest.mark.parametrize("body", [b"{", b"[NaN]", '{"lr": Infinity}', b"\xff\xfe"])
def test_a_preview_that_is_not_json_is_refused(app, body):
    answer = preview(app.server.test_client(), body)
    assert answer.status_code == 400 and answer.get_json()["error"]


def test_a_preview_body_is_bounded(app):
    body = json.dumps({"race": "A" * MAX_PREVIEW_BYTES, "racer": 0, "lr": 0.1})
    answer = preview(app.server.test_client(), body)
    assert answer.status_code == 413


def test_a_preview_is_charged_to_the_client_s_work_budget():
    app = create_app({**UNLIMITED, "WORK_BURST": "1", "WORK_RATE": "0.001"})
    client = app.server.test_client()
    assert preview(client, {"race": share(), "racer": 0, "lr": 0.011}).status_code == 200
    refused = preview(client, {"race": share(), "racer": 0, "lr": 0.012})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # Another client has its own budget; what is cached runs no engine (the first client
    # is in debt until its bucket refills: web/metering.py refuses it anything meanwhile).
    runs = client.get("/healthz").get_json()["engine_runs"]
    cached = preview(client, {"race": share(), "racer": 0, "lr": 0.011}, address="10.9.0.3")
    assert cached.status_code == 200
    assert client.get("/healthz").get_json()["engine_runs"] == runs
    other = preview(client, {"race": share(), "racer": 0, "lr": 0.012}, address="10.9.0.2")
    assert other.status_code == 200


def test_previews_and_the_page_s_callbacks_share_one_rate_limit():
    client = create_app({"RATE_LIMIT": "3 per minute"}).server.test_client()
    body = {"race": share(), "racer": 0, "lr": 0.02}
    codes = [preview(client, body).status_code for _ in range(2)]
    forged = client.post(
        "/_dash-update-component", json={}, environ_base={"REMOTE_ADDR": "10.9.0.1"}
    )
    codes.append(forged.status_code)
    codes.append(preview(client, body).status_code)
    assert codes[:2] == [200, 200] and codes[2] != 429 and codes[3] == 429
