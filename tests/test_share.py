"""Share links: a race survives the trip through a URL exactly, and forged links are refused."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from app import create_app
from callbacks.entry import UNKNOWN, EntryKey, entry_key, entry_race
from callbacks.form import OPENING_RACE
from common.errors import ConfigError
from lessons import LESSONS
from optimizers.validate import validate_race
from service.share import MAX_SHARE_CHARS, compact_race, decode_race, encode_race

BUSY_RACE = {
    "surface": {"name": "quadratic", "params": {"a": 13.5, "b": 0.7, "angle": 0.3}},
    "start": [-1.2345678901234567, 0.1 + 0.2],
    "steps": 777,
    "tol": 1e-4,
    "noise": {"std": 0.25, "seed": 2024},
    "racers": [
        {
            "optimizer": "adamw",
            "lr": 0.0123,
            "params": {"betas": [0.8, 0.95], "eps": 3e-7, "amsgrad": True},
            "schedule": {"name": "one_cycle", "params": {"pct_start": 0.4}},
            "clip_norm": 2.5,
            "label": "Adam-ish ✓ «quoted»",
        },
        {"optimizer": "nesterov", "lr": 0.004, "params": {"momentum": 0.95}},
        {"optimizer": "lion", "lr": 1e-4, "schedule": {"name": "cosine", "params": {}}},
    ],
}

# The curvature racers with settings changed, on a sum of squares (Gauss–Newton needs one).
CURVATURE_RACE = {
    "surface": {"name": "beale"},
    "racers": [
        {"optimizer": "gauss_newton", "lr": 1.0, "params": {"damping": 0.5, "adaptive": False}},
        {"optimizer": "lbfgs", "lr": 0.5, "params": {"line_search_fn": "strong_wolfe"}},
        {"optimizer": "newton", "lr": 1.0, "params": {"mode": "saddle_free"}},
        {"optimizer": "gd_line_search", "lr": 1.0, "params": {"search": "strong_wolfe"}},
    ],
}
RACES = [
    OPENING_RACE,
    BUSY_RACE,
    CURVATURE_RACE,
    *(lesson.race for lesson in LESSONS.values()),
]


@pytest.mark.parametrize("race", RACES)
def test_a_link_restores_the_race_exactly(race):
    config = validate_race(copy.deepcopy(race))
    assert decode_race(encode_race(config)) == config


def test_a_link_leaves_defaults_out_and_fits_in_a_url():
    compact = compact_race(validate_race(copy.deepcopy(OPENING_RACE)))
    assert compact["racers"][0] == {"optimizer": "sgd", "lr": 0.001}
    assert "noise" not in compact and "tol" not in compact
    everything = validate_race(
        {**BUSY_RACE, "racers": [BUSY_RACE["racers"][0]] * 8}
    )  # eight racers with most settings changed
    assert len(encode_race(everything)) < MAX_SHARE_CHARS


def test_every_spelling_of_a_race_shares_one_page():
    config = validate_race(copy.deepcopy(BUSY_RACE))
    spelled = base64.urlsafe_b64encode(json.dumps(config.to_json()).encode()).decode()
    assert spelled != encode_race(config)
    assert entry_key({"race": spelled}) == EntryKey("", encode_race(config))


@pytest.mark.parametrize(
    ("value", "field", "words"),
    [
        ("", "race", "non-empty"),
        ("!!!not base64!!!", "race", "not a valid link"),
        ("A" * (MAX_SHARE_CHARS + 1), "race", "a link holds"),
        (base64.urlsafe_b64encode(b"{not json").decode(), "race", "not valid JSON"),
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), "race", "not valid JSON"),
        (base64.urlsafe_b64encode(b'{"racers": NaN}').decode(), "race", "NaN"),
    ],
)
def test_a_broken_link_is_refused_with_its_reason(value, field, words):
    with pytest.raises(ConfigError) as caught:
        decode_race(value)
    assert caught.value.field == field and words in caught.value.message


def test_an_invalid_race_in_a_link_names_the_field():
    bad = copy.deepcopy(OPENING_RACE)
    bad["racers"][2]["lr"] = 1e9
    value = base64.urlsafe_b64encode(json.dumps(bad).encode()).decode()
    with pytest.raises(ConfigError) as caught:
        decode_race(value)
    assert caught.value.field == "racers[2].lr"
    key = entry_key({"race": value})
    assert key.race == UNKNOWN
    race, lesson, note = entry_race(key)
    assert race == validate_race(copy.deepcopy(OPENING_RACE)).to_json() and lesson is None
    assert "racer 3's learning rate: in (0, 10]" in note and "opening race" in note


def test_a_lesson_link_with_its_own_race_keeps_the_caption():
    config = validate_race(copy.deepcopy(BUSY_RACE))
    race, lesson, note = entry_race(entry_key({"lesson": "ravine", "race": encode_race(config)}))
    assert lesson is LESSONS["ravine"] and note == ""
    assert race == config.to_json()


def props_of(node, id_):
    """The props of the component with ``id_`` in a serialized Dash layout."""
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("id") == id_:
            return props
        node = props.get("children")
    for child in node if isinstance(node, list) else [node] if isinstance(node, dict) else []:
        found = props_of(child, id_)
        if found is not None:
            return found
    return None


def test_the_page_for_a_link_carries_its_race():
    client = create_app({}).server.test_client()
    config = validate_race(copy.deepcopy(BUSY_RACE))
    link = "http://localhost/?race=" + encode_race(config)
    layout = client.get("/_dash-layout", headers={"Referer": link}).get_json()
    assert props_of(layout, "steps-input")["value"] == 777
    assert props_of(layout, {"type": "racer-label", "index": 0})["value"] == "Adam-ish ✓ «quoted»"
    assert props_of(layout, {"type": "racer-lr", "index": 2})["value"] == 1e-4
    stored = props_of(layout, "race-store")["data"]
    assert stored["share"] == encode_race(config) and stored["steps"] == 777
    forged = client.get("/_dash-layout", headers={"Referer": "http://localhost/?race=%%%"})
    assert forged.status_code == 200
    assert "could not be read" in json.dumps(props_of(forged.get_json(), "lesson-caption"))


def test_a_link_with_gauss_newton_on_a_surface_without_residuals_is_refused():
    bad = {**copy.deepcopy(CURVATURE_RACE), "surface": {"name": "ackley"}}
    value = base64.urlsafe_b64encode(json.dumps(bad).encode()).decode()
    with pytest.raises(ConfigError) as caught:
        decode_race(value)
    assert caught.value.field == "racers[0].optimizer"
    assert "'Ackley'" in caught.value.message
