"""Heavy fair-race views through the page's own callbacks (issue 13, item 8): they take the
race's config (race-share), never the race store, and a view over the work budget says why."""

from __future__ import annotations

import json

import pytest

from app import create_app
from optimizers import validate
from optimizers.validate import validate_race
from service.share import encode_race
from tests.dash_requests import analysis_body, dependency, post

# Eight racers × 5,000 steps × noise 0.5: the race store the page holds is ~2 MB (the browser
# tests of the views race it too).
HEAVY = {
    "surface": {"name": "rosenbrock"},
    "steps": 5000,
    "noise": {"std": 0.5, "seed": 3},
    "racers": [
        {"optimizer": name, "lr": 0.001}
        for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam")
    ],
}
SHARE = {"share": encode_race(validate_race(HEAVY)), "order": [str(i) for i in range(8)]}


@pytest.fixture(scope="module")
def client():
    app = create_app({"RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"})
    return app.server.test_client()


def test_no_view_callback_reads_the_race_store(client):
    for output in ("sweep-store.data", "tune-store.data", "starts-store.data"):
        dep = dependency(client, output)
        read = [i["id"] for i in dep["inputs"] + dep["state"]]
        assert "race-store" not in read and "race-share" in read, (output, read)


def test_a_heavy_sweep_is_asked_for_in_a_few_hundred_bytes(client):
    body = analysis_body(client, "sweep-store.data", SHARE)
    assert len(json.dumps(body)) < 4096
    answer = post(client, body)
    assert answer.status_code == 200
    data = answer.get_json()["response"]["sweep-store"]["data"]
    assert len(data["racers"]) == 8 and data["share"] == SHARE["share"]
    assert data["steps"] == 5000


@pytest.fixture
def small_budget(monkeypatch):
    monkeypatch.setattr(validate, "MAX_RUN_STEPS", 1_000_000)


def test_a_sweep_over_the_budget_says_why_in_words(client, small_budget):
    answer = post(client, analysis_body(client, "sweep-store.data", SHARE)).get_json()
    words = (
        "Too much work for one sweep: 8 racers × 49 rates (each racer's own too) × 5,000 steps"
        " = 1,960,000 run-steps; the limit is 1,000,000. Use fewer racers or steps."
    )
    response = answer["response"]
    assert response["sweep-store"]["data"] == {"share": SHARE["share"], "refused": words}
    assert response["sweep-status"]["children"] == words
    tuned = post(client, analysis_body(client, "tune-store.data", SHARE)).get_json()["response"]
    assert tuned["sweep-status"]["children"] == words and "tune-store" not in tuned


def test_many_starts_over_the_budget_say_why_and_keep_the_menu(client, small_budget):
    body = analysis_body(client, "starts-store.data", SHARE, count=256)
    response = post(client, body).get_json()["response"]
    words = (
        "Too much work for one view of many starts: 256 starts × 5,000 steps = 1,280,000 "
        "run-steps; the limit is 1,000,000. Use fewer racers or steps."
    )
    assert response["starts-store"]["data"]["refused"] == words
    assert response["starts-status"]["children"] == words
    assert "starts-racer" not in response
    # Within the budget, the same view is computed.
    fewer = post(client, analysis_body(client, "starts-store.data", SHARE, count=100))
    assert fewer.get_json()["response"]["starts-store"]["data"]["basins"] is not None


def test_a_bad_count_is_still_named_not_called_too_much_work(client, small_budget):
    response = post(
        client, analysis_body(client, "starts-store.data", SHARE, count=100000)
    ).get_json()["response"]
    assert "starts-store" not in response
    assert response["starts-status"]["children"].startswith("count:")
