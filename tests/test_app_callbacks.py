"""The page's server callbacks through Flask's test client: valid, changed and forged input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app import create_app
from layouts.controls import MAX_PAGE_RACERS, card_field
from optimizers import run_race
from service.compact import decode
from service.store import cache_config
from tests.dash_requests import (
    dependency,
    error_of,
    opening_controls,
    post,
    prop_id,
    race_body,
    racer_controls,
)


@pytest.fixture(scope="module")
def client():
    return create_app({}).server.test_client()


@pytest.fixture(scope="module")
def first(client):
    response = post(client, race_body(client, opening_controls()))
    assert response.status_code == 200
    return response.get_json()["response"]


def test_first_race_holds_every_racer_and_matches_the_engine(first):
    store = first["race-store"]["data"]
    assert store["order"] == ["0", "1", "2", "3"]
    engine = run_race(
        {
            "surface": {"name": "rosenbrock"},
            "steps": 300,
            "racers": [{"optimizer": r["optimizer"], "lr": r["lr"]} for r in opening_controls()],
        }
    )
    for key, expected in zip(store["order"], engine.racers, strict=True):
        racer = store["racers"][key]
        assert racer["n"] == len(expected.path)
        np.testing.assert_allclose(decode(racer["x"]), expected.path[:, 0], rtol=1e-6)
        np.testing.assert_allclose(decode(racer["y"]), expected.path[:, 1], rtol=1e-6)
        assert racer["final_loss"] == expected.final_loss
    assert first["surface-store"]["data"]["name"] == "rosenbrock"
    assert set(first["race-keys"]["data"]) == {"surface", "0", "1", "2", "3"}


def test_changing_one_rate_sends_only_that_racer(client, first):
    racers = opening_controls()
    racers[2]["lr"] = 0.02
    body = race_body(client, racers, keys=first["race-keys"]["data"])
    response = post(client, body).get_json()["response"]
    patch = response["race-store"]["data"]
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    racer_ops = [op for op in patch["operations"] if op["location"][0] == "racers"]
    assert [op["location"] for op in racer_ops] == [["racers", "2"]]
    assert "surface-store" not in response  # the contour is not sent again
    keys = response["race-keys"]["data"]
    assert keys["2"] != first["race-keys"]["data"]["2"]
    assert {k: v for k, v in keys.items() if k != "2"} == {
        k: v for k, v in first["race-keys"]["data"].items() if k != "2"
    }


def test_an_unchanged_race_sends_nothing(client, first):
    body = race_body(client, opening_controls(), keys=first["race-keys"]["data"])
    response = post(client, body).get_json()["response"]
    assert "race-store" not in response and "race-keys" not in response


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ("lr", "learning rate"),
        ("sam_rho", "SAM ρ"),
        ("clip_norm", "clip norm"),
        ("params.weight_decay", "weight decay"),
        ("params.betas[1]", "betas (box 2)"),
        ("schedule.params.warmup_steps", "schedule warmup steps"),
        ("optimizer", "optimizer"),
        ("", "racer"),
    ],
)
def test_a_refusal_in_a_card_names_the_field_as_its_control_does(field, shown):
    # The validator's names (sam_rho, params.betas[1]) are the API's; a card says what its
    # control says. Labels come from the registries and the card's own table.
    assert card_field(field) == shown


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        ({"lr": 1e9}, 1, ["learning rate", "(0, 10]"]),
        ({"lr": "fast"}, 1, ["learning rate: a number in (0, 10], got 'fast'"]),
        ({"lr": None}, 1, ["learning rate"]),
        ({"optimizer": "evil()"}, 1, ["optimizer", "unknown"]),
        ({"params": {"momentum": -1}}, 1, ["momentum: in [0, 1), got -1"]),
        ({"params": {"no_such_knob": 1}}, 1, ["no_such_knob", "not a parameter"]),
        ({"params": {"nesterov": "yes"}}, 1, ["nesterov: must be true or false"]),
        ({"schedule": "os.system"}, 1, ["schedule", "unknown"]),
        ({"clip": -3}, 1, ["clip norm"]),
    ],
)
def test_a_bad_racer_value_is_named_beside_its_racer(client, first, change, where, words):
    racers = opening_controls()
    racers[where].update(change)
    response = post(client, race_body(client, racers, keys=first["race-keys"]["data"]))
    assert response.status_code == 200
    body = response.get_json()["response"]
    message = error_of(body, where)
    for word in words:
        assert word in message, message
    assert "race-store" not in body  # the last good race stays
    assert all(error_of(body, i) == "" for i in range(4) if i != where)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("settings", "target", "words"),
    [
        ({"steps": "x"}, "settings-error", ["steps", "number"]),
        ({"steps": 10**9}, "settings-error", ["steps", "5,000", "got 1000000000"]),
        ({"steps": 3}, "settings-error", ["steps: a whole number from 10 to 5,000, got 3"]),
        ({"noise_std": float("nan")}, "settings-error", ["noise σ: "]),
        ({"noise_seed": 1.5}, "settings-error", ["noise seed: a whole number"]),
        ({"work_budget": -1}, "settings-error", ["work budget: "]),
        ({"start": ["a", 0]}, "settings-error", ["start"]),
        ({"surface": "nowhere"}, "surface-error", ["surface: ", "unknown"]),
        ({"surface": "quadratic", "surface_params": {"a": -5}}, "surface-error", ["a: ", "-5"]),
    ],
)
def test_a_bad_shared_setting_is_named(client, first, settings, target, words):
    body = race_body(client, opening_controls(), keys=first["race-keys"]["data"], **settings)
    text = json.dumps(body, allow_nan=True)
    response = client.post("/_dash-update-component", data=text, content_type="application/json")
    assert response.status_code == 200
    answer = response.get_json()["response"]
    for word in words:
        assert word in answer[target]["children"], answer[target]["children"]
    assert "race-store" not in answer


def test_forged_control_ids_are_refused(client, first):
    body = race_body(client, opening_controls(), keys=first["race-keys"]["data"])
    body["inputs"][7][0]["id"] = {"type": "racer-lr", "index": "0; DROP"}
    answer = post(client, body).get_json()["response"]
    assert "racer index" in answer["settings-error"]["children"]
    assert "race-store" not in answer


def test_too_many_racers_for_the_page(client):
    racers = [racer_controls(i, {"optimizer": "sgd", "lr": 1e-3}) for i in range(9)]
    answer = post(client, race_body(client, racers)).get_json()["response"]
    assert str(MAX_PAGE_RACERS) in answer["settings-error"]["children"]


def test_malformed_requests_never_show_a_traceback(client):
    for data in ("{not json", json.dumps({"output": "race-store.data"}), "[]"):
        response = client.post(
            "/_dash-update-component", data=data, content_type="application/json"
        )
        assert response.status_code >= 400
        assert "Traceback" not in response.get_data(as_text=True)


def test_optimizer_change_regenerates_its_controls_and_ignores_unknown_names(client):
    dep = dependency(client, "racer-params")
    out = {"id": {"type": "racer-params", "index": 0}, "property": "children"}

    def ask(value):
        body = {
            "output": dep["output"],
            "outputs": out,
            "inputs": [
                {"id": {"type": "racer-optimizer", "index": 0}, "property": "value", "value": value}
            ],
            "changedPropIds": ['{"index":0,"type":"racer-optimizer"}.value'],
            "state": [],
        }
        return post(client, body)

    text = ask("adam").get_data(as_text=True)
    assert "betas:0" in text and "amsgrad" in text and "momentum" not in text
    assert ask("no_such_optimizer").get_json()["response"] == {}  # nothing to update


@pytest.mark.parametrize(
    ("before", "change", "after"),
    [
        (
            {"optimizer": "momentum", "lr": 1e-3, "params": {"momentum": 0.5}},
            {"optimizer": "sophia"},
            {"optimizer": "sophia"},
        ),
        (
            {"optimizer": "momentum", "lr": 1e-3, "schedule": "step"}
            | {"schedule_params": {"step_size": 50}},
            {"schedule": "cosine"},
            {"optimizer": "momentum", "schedule": "cosine"},
        ),
    ],
    ids=["optimizer", "schedule"],
)
def test_controls_left_from_a_cards_previous_choice_are_stale_not_refused(
    client, before, change, after
):
    """Card 1 goes from Momentum to Sophia and card 2 changes before Dash has replaced card 1's
    controls: the request for card 2's change still carries Momentum's (their ids say so).
    Card 1 races Sophia with her defaults and no card shows a refusal (a newcomer's try-out
    saw "Not raced: momentum of Sophia: is not a parameter" for a moment). The same for a
    schedule's controls."""
    racers = opening_controls()
    racers[1] = racer_controls(1, before)  # with a value the person chose for the old one
    racers[1].update(change)  # the card's choice changed; its controls are still the old ones
    racers[2]["optimizer"] = "adagrad"
    changed = [prop_id({"type": "racer-optimizer", "index": 2}, "value")]
    answer = post(client, race_body(client, racers, changed=changed)).get_json()["response"]
    assert [error_of(answer, i) for i in range(4)] == ["", "", "", ""]
    # Card 1 is the racer its new choice makes with its own defaults.
    fresh = opening_controls()
    fresh[1] = racer_controls(1, {"lr": 1e-3, **after})
    fresh[2]["optimizer"] = "adagrad"
    expected = post(client, race_body(client, fresh)).get_json()["response"]
    assert answer["race-keys"]["data"] == expected["race-keys"]["data"]
    assert answer["race-store"]["data"]["order"] == ["0", "1", "2", "3"]


def test_a_parameter_the_optimizer_lacks_is_refused_in_a_control_of_its_own(client, first):
    """A control whose id names the card's current optimizer goes to the validator, whoever
    sent it: a parameter Sophia does not have is refused, named beside her card."""
    racers = opening_controls()
    racers[1] = racer_controls(1, {"optimizer": "sophia", "lr": 0.06})
    racers[1]["params"]["momentum"] = 0.9
    body = race_body(client, racers, keys=first["race-keys"]["data"])
    answer = post(client, body).get_json()["response"]
    assert error_of(answer, 1).startswith("momentum: is not a parameter of optimizer 'sophia'")
    assert "race-store" not in answer  # the last good race stays


def test_adding_racers_stops_at_the_page_limit(client):
    dep = dependency(client, "racers.children")

    def ask(present):
        body = {
            "output": dep["output"],
            "outputs": [
                {"id": "racers", "property": "children"},
                {"id": "next-index", "property": "data"},
                {"id": "add-racer", "property": "children"},
                {"id": "add-racer", "property": "disabled"},
            ],
            "inputs": [
                {"id": "add-racer", "property": "n_clicks", "value": 1},
                [
                    {"id": {"type": "racer-remove", "index": i}, "property": "n_clicks", "value": 0}
                    for i in range(present)
                ],
            ],
            "changedPropIds": ["add-racer.n_clicks"],
            "state": [
                [
                    {
                        "id": {"type": "racer-optimizer", "index": i},
                        "property": "value",
                        "value": "sgd",
                    }
                    for i in range(present)
                ],
                {"id": "next-index", "property": "data", "value": present},
            ],
        }
        return post(client, body)

    added = ask(3).get_json()["response"]
    assert added["next-index"]["data"] == 4
    assert "racer-optimizer" in json.dumps(added["racers"])
    assert added["add-racer"] == {"children": "+ Add racer", "disabled": False}
    # The card that fills the page turns the button off, and it says why.
    last = ask(MAX_PAGE_RACERS - 1).get_json()["response"]["add-racer"]
    assert last["disabled"] is True and f"{MAX_PAGE_RACERS} racers" in last["children"]
    assert ask(MAX_PAGE_RACERS).get_json()["response"] == {}


def test_cache_is_embedded_unless_redis_is_configured():
    assert cache_config({})["CACHE_TYPE"] == "service.lru.ByteCache"  # bounded in bytes
    redis = cache_config({"CACHE_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert redis["CACHE_TYPE"] == "RedisCache"


def test_surface_change_regenerates_its_parameters_and_ignores_unknown_names(client):
    dep = dependency(client, "surface-params.children")

    def ask(value):
        body = {
            "output": dep["output"],
            "outputs": {"id": "surface-params", "property": "children"},
            "inputs": [{"id": "surface-select", "property": "value", "value": value}],
            "changedPropIds": ["surface-select.value"],
            "state": [],
        }
        return post(client, body).get_json()["response"]

    text = json.dumps(ask("quadratic"))
    assert '"name": "angle"' in text and '"name": "a"' in text
    assert ask({"__proto__": 1}) == {}
