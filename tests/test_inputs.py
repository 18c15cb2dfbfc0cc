"""The page's number boxes: what +/− step to, and what a refusal says (item 6 of issue 13).

Text typed on the page reaches the one validator as ``TypedText``; its refusals name the field,
say what is allowed and quote what was typed. The JSON API stays strict.
"""

from __future__ import annotations

import json
import math

import pytest

from common.errors import ConfigError
from common.params import Param, TypedText, parse_number, typed
from layouts.controls import PAGE_FIELDS, PAGE_STEPS
from optimizers.base import LR
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import parse_race, race_errors, validate_race
from surfaces import SURFACES
from tests.dash_requests import error_of, opening_controls, post, race_body

MOMENTUM = {p.name: p for p in OPTIMIZERS["momentum"].params}["momentum"]
ADAM = {p.name: p for p in OPTIMIZERS["adam"].params}
ADAMW = {p.name: p for p in OPTIMIZERS["adamw"].params}
ANGLE = {p.name: p for p in SURFACES["quadratic"].params}["angle"]
SEED = PAGE_FIELDS["noise-seed"]


def every_param() -> list[tuple[str, Param]]:
    """Every number parameter the page shows a box for, named by where it is."""
    out = [(f"page.{name}", p) for name, p in PAGE_FIELDS.items()]
    for group, registry in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
        out += [
            (f"{group}.{n}.{p.name}", p)
            for n, spec in registry.items()
            for p in spec.params
            if p.kind in ("float", "int", "pair")
        ]
    out += [
        (f"surface.{n}.{p.name}", p)
        for n, spec in SURFACES.items()
        for p in spec.params
        if p.kind in ("float", "int", "pair")
    ]
    return out


def message(param: Param, value, field: str | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        param.validate(value, field or param.name)
    return str(caught.value)


# Messages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "text", "expected"),
    [
        (PAGE_STEPS, "0", "steps: a whole number from 10 to 5,000, got 0"),
        (PAGE_STEPS, "6000", "steps: a whole number from 10 to 5,000, got 6000"),
        (PAGE_STEPS, "12.5", "steps: a whole number from 10 to 5,000, got 12.5"),
        (PAGE_STEPS, "x", "steps: a whole number from 10 to 5,000, got 'x'"),
        (PAGE_STEPS, "", "steps: a whole number from 10 to 5,000, got nothing"),
        (LR, "abc", "lr: a number in (0, 10], got 'abc'"),
        (LR, "20", "lr: in (0, 10], got 20"),
        (LR, "0", "lr: in (0, 10], got 0"),
        (LR, "1e-999", "lr: in (0, 10], got 1e-999"),  # a number, so it is not quoted
        (LR, "1e999", "lr: a number in (0, 10], got '1e999'"),  # not a finite number
        (MOMENTUM, "1.5", "momentum: in [0, 1), got 1.5"),
        (MOMENTUM, "-0.5", "momentum: in [0, 1), got -0.5"),
        (MOMENTUM, "x", "momentum: a number in [0, 1), got 'x'"),
        (MOMENTUM, "1", "momentum: in [0, 1), got 1"),
        (SEED, "1.5", "seed: a whole number from 0 to 4,294,967,295, got 1.5"),
    ],
)
def test_a_typed_value_is_refused_naming_the_field_the_rule_and_the_text(param, text, expected):
    assert message(param, TypedText(text)) == expected


def test_long_text_is_quoted_cut_short():
    text = message(LR, TypedText("x" * 10_000))
    assert text.startswith("lr: a number in (0, 10], got 'xxxx") and text.endswith("…'")
    assert len(text) < 80


def test_typed_numbers_are_read_as_numbers():
    assert PAGE_STEPS.validate(TypedText(" 300 "), "steps") == 300
    assert PAGE_STEPS.validate(TypedText("1e3"), "steps") == 1000
    assert LR.validate(TypedText("1e-3"), "lr") == 0.001
    assert MOMENTUM.validate(TypedText(".9"), "momentum") == 0.9
    assert ANGLE.validate(TypedText("\u221245"), "angle") == -45.0  # − as the buttons show it
    clip = PAGE_FIELDS["racer-clip"]
    assert clip.validate(TypedText(""), "clip_norm") is None  # an emptied box: off
    assert clip.validate(TypedText("  "), "clip_norm") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "inf",
        "-inf",
        "nan",
        "NaN",
        "0x10",
        "1_000",
        "1,5",
        "１２",
        "1e",
        "e3",
        "--1",
        "1e999",
        "2*3",
        "__import__('os')",
        "1" * 101,
    ],
)
def test_parse_number_takes_plain_decimal_notation_only(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1.0),
        (" 0.5 ", 0.5),
        ("5.", 5.0),
        (".5", 0.5),
        ("-2", -2.0),
        ("+2", 2.0),
        ("\u22122", -2.0),
        ("1e-8", 1e-8),
        ("2.5E3", 2500.0),
    ],
)
def test_parse_number_reads_numbers(text, number):
    assert parse_number(text) == number


def test_the_api_stays_strict_a_string_is_refused_quoted():
    race = {"surface": {"name": "rosenbrock"}, "racers": [{"optimizer": "sgd", "lr": "0.1"}]}
    with pytest.raises(ConfigError) as caught:
        parse_race(json.dumps(race))
    assert caught.value.field == "racers[0].lr"
    assert caught.value.message == "a number in (0, 10], got the string '0.1'"
    race["racers"][0]["lr"] = 0.1
    race["steps"] = "300"
    with pytest.raises(ConfigError, match="steps: a whole number from 1 to 5,000"):
        validate_race(race)


def test_the_validator_reads_typed_text_anywhere_a_number_goes():
    race = {
        "surface": {"name": "quadratic", "params": {"angle": typed("30")}},
        "steps": typed("200"),
        "noise": {"std": typed("0.1"), "seed": typed("7")},
        "racers": [
            {
                "optimizer": "adam",
                "lr": typed("0.01"),
                "params": {"betas": [typed("0.8"), typed("0.99")]},
                "clip_norm": typed(""),
            }
        ],
    }
    config = validate_race(race)
    assert config.steps == 200 and config.noise.std == 0.1 and config.noise.seed == 7
    assert config.racers[0].lr == 0.01 and config.racers[0].params["betas"] == (0.8, 0.99)
    assert config.racers[0].clip_norm is None
    race["racers"][0]["params"]["betas"][1] = typed("1")
    with pytest.raises(ConfigError) as caught:
        validate_race(race)
    assert str(caught.value) == "racers[0].params.betas[1]: in [0, 1), got 1"


# Through the page's callback (the request a browser sends) --------------------------------


@pytest.fixture(scope="module")
def client():
    from app import create_app

    return create_app({}).server.test_client()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"lr": "abc"}, "learning rate: a number in (0, 10], got 'abc'"),
        ({"lr": "20"}, "learning rate: in (0, 10], got 20"),
        ({"params": {"momentum": "1.5"}}, "momentum: in [0, 1), got 1.5"),
        ({"params": {"momentum": "-0.5"}}, "momentum: in [0, 1), got -0.5"),
        ({"params": {"momentum": "x"}}, "momentum: a number in [0, 1), got 'x'"),
        ({"clip": "-3"}, "clip norm: in (0, 1000000], got -3 (leave it empty for off)"),
    ],
)
def test_the_page_shows_the_message_beside_the_racer(client, change, expected):
    racers = opening_controls()
    for key, value in change.items():
        if key == "params":
            racers[1]["params"].update(value)
        else:
            racers[1][key] = value
    response = post(client, race_body(client, racers)).get_json()["response"]
    assert error_of(response, 1) == expected
    assert "race-store" not in response  # the last accepted race stays


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ("0", "steps: a whole number from 10 to 5,000, got 0"),
        ("6000", "steps: a whole number from 10 to 5,000, got 6000"),
        ("12.5", "steps: a whole number from 10 to 5,000, got 12.5"),
        ("x", "steps: a whole number from 10 to 5,000, got 'x'"),
        (None, "steps: a whole number from 10 to 5,000, got null"),
    ],
)
def test_the_page_shows_the_steps_message(client, steps, expected):
    response = post(client, race_body(client, opening_controls(), steps=steps))
    answer = response.get_json()["response"]
    assert answer["settings-error"]["children"] == expected


def test_every_refused_box_gets_its_message_at_once(client):
    racers = opening_controls()
    racers[0]["lr"] = "abc"
    racers[1]["params"]["momentum"] = "1.5"
    racers[3]["params"]["eps"] = "-1"
    response = post(client, race_body(client, racers, steps="12.5")).get_json()["response"]
    assert response["settings-error"]["children"] == (
        "steps: a whole number from 10 to 5,000, got 12.5"
    )
    assert error_of(response, 0) == "learning rate: a number in (0, 10], got 'abc'"
    assert error_of(response, 1) == "momentum: in [0, 1), got 1.5"
    assert error_of(response, 2) == ""
    assert error_of(response, 3) == "eps: in [0, 1], got -1"
    assert "race-store" not in response


def test_race_errors_lists_one_refusal_per_part():
    race = {
        "surface": {"name": "quadratic", "params": {"a": -1}},
        "steps": 0,
        "racers": [{"optimizer": "sgd", "lr": 0}, {"optimizer": "sgd", "lr": 0.1}, {"lr": 1}],
    }
    fields = [e.field for e in race_errors(race)]
    assert fields == ["surface.params.a", "steps", "racers[0].lr", "racers[2].optimizer"]
    assert (
        race_errors({"surface": {"name": "rosenbrock"}, "racers": [{"optimizer": "sgd", "lr": 1}]})
        == []
    )
    assert [e.field for e in race_errors([1])] == [""]


def test_text_that_reads_as_a_number_races(client):
    racers = opening_controls()
    racers[1]["lr"] = "0.002"
    racers[1]["params"]["momentum"] = "0.8"
    response = post(client, race_body(client, racers, steps="500")).get_json()["response"]
    assert response["race-store"]["data"]["steps"] == 500
    assert all(error_of(response, i) == "" for i in range(4))


# Steps of + and − -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "value", "direction", "after"),
    [
        (LR, 0.001, 1, 0.002),  # not 1
        (LR, 0.002, 1, 0.005),
        (LR, 0.005, 1, 0.01),
        (LR, 0.1, -1, 0.05),  # not -1
        (LR, 0.003, 1, 0.005),  # a typed value moves to the series
        (LR, 0.003, -1, 0.002),
        (LR, 5.0, 1, 10.0),
        (LR, 10.0, 1, 10.0),  # the closed bound is the end
        (LR, 20.0, 1, 20.0),  # beyond the bound "+" does not move it further
        (LR, 20.0, -1, 10.0),
        (ADAM["eps"], 1e-8, 1, 2e-8),  # not 1
        (ADAM["eps"], 1e-8, -1, 5e-9),
        (ADAM["eps"], 0.0, 1, 1e-8),  # from 0: the default
        (ADAM["weight_decay"], 0.0, 1, 0.01),
        (ADAM["weight_decay"], 0.01, 1, 0.02),
        (ADAM["weight_decay"], 0.01, -1, 0.0),  # a magnitude goes back to 0
        (ADAM["weight_decay"], 0.0, -1, 0.0),
        (ADAMW["weight_decay"], 0.0, 1, 0.01),
        (MOMENTUM, 0.9, 1, 0.91),
        (MOMENTUM, 0.99, 1, 0.99),  # 1 is open: never reached
        (MOMENTUM, 0.995, 1, 0.995),
        (MOMENTUM, 0.0, -1, 0.0),
        (MOMENTUM, 0.29, -1, 0.28),
        (ADAM["betas"], 0.999, 1, 0.999),
        (ADAM["betas"], 0.999, -1, 0.99),
        (ANGLE, 0.0, -1, -1.0),
        (ANGLE, 180.0, 1, 180.0),
        (PAGE_STEPS, 1000, 1, 2000.0),
        (PAGE_STEPS, 300, 1, 500.0),
        (PAGE_STEPS, 5000, 1, 5000),
        (PAGE_STEPS, 10, -1, 10),
        (PAGE_STEPS, 20, -1, 10.0),
        (SEED, 0, -1, 0),
        (SEED, 41, 1, 42.0),
        (PAGE_FIELDS["noise-std"], 0.0, 1, 0.01),
        (PAGE_FIELDS["noise-std"], 0.5, 1, 1.0),
        (PAGE_FIELDS["racer-clip"], None, 1, None),  # "off" stays off until typed
    ],
)
def test_each_parameter_steps_by_its_rule(param, value, direction, after):
    assert param.nudge(value, direction) == after


def _probes(p: Param) -> list[float]:
    low = p.low if p.low is not None else -1e3
    high = p.high if p.high is not None else 1e3
    values = {low, high, p.default if isinstance(p.default, (int, float)) else low}
    values |= {low + (high - low) * f for f in (0.001, 0.013, 0.25, 0.5, 0.77, 0.999)}
    values |= {10.0**k for k in range(-9, 4) if low <= 10.0**k <= high}
    return sorted(v for v in values if isinstance(v, (int, float)) and math.isfinite(v))


@pytest.mark.parametrize(
    ("where", "param"), every_param(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_steps_stay_inside_the_bounds_and_move_the_right_way(where, param):
    for value in _probes(param):
        if not param.contains(value):
            continue
        for direction in (1, -1):
            after = param.nudge(value, direction)
            assert param.contains(after), (where, value, direction, after)
            assert (after - value) * direction >= 0, (where, value, direction, after)
            if param.kind == "int":
                assert float(after).is_integer(), (where, value, after)
        up = param.nudge(value, 1)
        if param.stepping()["rule"] == "log" and value > 0 and up != value:
            # a third of a decade at most: never the 1000-fold jump of a step of 1
            assert up / value <= 2.5 + 1e-9, (where, value, up)


def test_every_box_carries_its_rule():
    from layouts.controls import number_box

    box = number_box({"type": "racer-lr", "index": 0}, 0.001, LR, "learning rate")
    rule = json.loads(box.to_plotly_json()["props"]["data-step"])
    assert rule == LR.stepping()
    assert rule["rule"] == "log" and rule["lowOpen"] and rule["high"] == 10
