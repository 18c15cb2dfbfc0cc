"""The validator: every bad input becomes one ConfigError naming the field."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from common.errors import ConfigError
from optimizers import run_race
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import (
    MAX_BODY_BYTES,
    WorkLimitError,
    parse_json,
    parse_race,
    race_work,
    racer_cost,
    sweep_options,
    validate_race,
)
from surfaces import SURFACES

BASE = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 0}},
    "start": [1.0, 1.0],
    "steps": 300,
    "racers": [{"optimizer": "adam", "lr": 0.1}],
}


def with_change(path: list, value) -> dict:
    config = copy.deepcopy(BASE)
    target = config
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return config


BAD = [
    (["racers", 0, "lr"], 1e9, "racers[0].lr", "in (0, 10], got 1000000000"),
    (["racers", 0, "lr"], 0, "racers[0].lr", "in (0, 10], got 0"),
    (["racers", 0, "lr"], True, "racers[0].lr", "a number in (0, 10], got a boolean"),
    (["racers", 0, "lr"], float("nan"), "racers[0].lr", "a number in (0, 10], got nan"),
    # The API takes JSON numbers: a string is refused, quoted.
    (["racers", 0, "lr"], "0.1", "racers[0].lr", "a number in (0, 10], got the string '0.1'"),
    (["steps"], "x", "steps", "a whole number from 1 to 5,000, got the string 'x'"),
    (["steps"], 5001, "steps", "a whole number from 1 to 5,000, got 5001"),
    (["steps"], 2.5, "steps", "a whole number from 1 to 5,000, got 2.5"),
    (["racers", 0, "optimizer"], "adamx", "racers[0].optimizer", "unknown optimizer"),
    (["racers", 0, "optimizer"], ["adam"], "racers[0].optimizer", "must be the name"),
    (
        ["racers", 0, "params"],
        {"betas": [0.9, 1.5]},
        "racers[0].params.betas[1]",
        "in [0, 1), got 1.5",
    ),
    (["racers", 0, "params"], {"betas": [0.9]}, "racers[0].params.betas", "two numbers"),
    (["racers", 0, "params"], {"momentum": 0.9}, "racers[0].params.momentum", "not a parameter"),
    (["racers", 0, "params"], {"amsgrad": 1}, "racers[0].params.amsgrad", "true or false"),
    (["racers", 0, "schedule"], {"name": "linear"}, "racers[0].schedule.name", "unknown schedule"),
    (
        ["racers", 0, "schedule"],
        {"name": "step", "params": {"step_size": 0}},
        "racers[0].schedule.params.step_size",
        "a whole number from 1 to 100,000, got 0",
    ),
    (
        ["racers", 0, "schedule"],
        {"name": "one_cycle", "params": {"base_momentum": 0.99}},
        "racers[0].schedule.params.base_momentum",
        "must not exceed",
    ),
    (["racers", 0, "clip_norm"], -1, "racers[0].clip_norm", "in (0, 1000000], got -1"),
    (["racers", 0, "label"], "x" * 500, "racers[0].label", "at most"),
    (["racers", 0, "extra"], 1, "racers[0].extra", "not a known key"),
    (["racers"], [], "racers", "1 to 12"),
    (["racers"], [{"optimizer": "sgd", "lr": 0.1}] * 13, "racers", "1 to 12"),
    (["racers"], {"optimizer": "sgd"}, "racers", "must be a list"),
    (["surface"], {"name": "bowl"}, "surface.name", "unknown surface"),
    (["surface"], {"name": "quadratic", "params": {"a": -1}}, "surface.params.a", "in [0.01"),
    (["surface"], "quadratic", "surface", "must be an object"),
    (["start"], [1.0], "start", "two numbers"),
    (["start"], [1.0, float("inf")], "start[1]", "finite"),
    (["start"], [1e300, 0.0], "start[0]", "within"),
    (["noise"], {"std": -1}, "noise.std", "in [0, 1000], got -1"),
    (["noise"], {"seed": 1.5}, "noise.seed", "a whole number from 0 to 4,294,967,295, got 1.5"),
    (["tol"], None, "tol", "a number in [0, 1000000], got null"),
    (["hack"], 1, "hack", "not a known key"),
]


@pytest.mark.parametrize(
    ("path", "value", "field", "message"), BAD, ids=[b[2] + ":" + b[3] for b in BAD]
)
def test_bad_input_names_the_field(path, value, field, message):
    with pytest.raises(ConfigError) as caught:
        validate_race(with_change(path, value))
    assert caught.value.field == field
    assert message in caught.value.message
    assert caught.value.to_json() == {"error": caught.value.message, "field": field}


def test_nesterov_needs_momentum_and_no_dampening():
    config = with_change(
        ["racers", 0], {"optimizer": "sgd", "lr": 0.1, "params": {"nesterov": True}}
    )
    with pytest.raises(ConfigError, match="Nesterov") as caught:
        validate_race(config)
    assert caught.value.field == "racers[0].params.nesterov"
    ok = with_change(["racers", 0], {"optimizer": "nesterov", "lr": 0.1})
    assert validate_race(ok).racers[0].params["nesterov"] is True


def test_defaults_are_filled_from_the_registries():
    config = validate_race(
        {"surface": {"name": "rosenbrock"}, "racers": [{"optimizer": "adamw", "lr": 1e-3}]}
    )
    assert config.start == SURFACES["rosenbrock"].build().default_start
    assert config.steps == 300 and config.tol == 1e-6
    assert config.racers[0].params == OPTIMIZERS["adamw"].defaults()
    assert config.racers[0].schedule.name == "constant"
    assert json.loads(json.dumps(config.to_json())) == config.to_json()


def test_normalised_form_round_trips():
    config = validate_race(BASE)
    assert validate_race(config.to_json()) == config


def _out_of_range(param):
    if param.high is not None:
        return param.high * 2 + 1
    return (param.low or 0) - 1


def _numeric(params):
    return [
        p
        for p in params
        if p.kind in ("float", "int") and (p.high is not None or p.low is not None)
    ]


@pytest.mark.parametrize(
    ("name", "param"),
    [(n, p) for n, s in OPTIMIZERS.items() for p in _numeric(s.params)],
    ids=lambda v: getattr(v, "name", v),
)
def test_optimizer_bounds_come_from_the_registry(name, param):
    racer = {"optimizer": name, "lr": 0.1, "params": {param.name: _out_of_range(param)}}
    with pytest.raises(ConfigError) as caught:
        validate_race(with_change(["racers", 0], racer))
    assert caught.value.field == f"racers[0].params.{param.name}"


@pytest.mark.parametrize(
    ("name", "param"),
    [(n, p) for n, s in SCHEDULES.items() for p in _numeric(s.params)],
    ids=lambda v: getattr(v, "name", v),
)
def test_schedule_bounds_come_from_the_registry(name, param):
    racer = {
        "optimizer": "sgd",
        "lr": 0.1,
        "schedule": {"name": name, "params": {param.name: _out_of_range(param)}},
    }
    with pytest.raises(ConfigError) as caught:
        validate_race(with_change(["racers", 0], racer))
    assert caught.value.field == f"racers[0].schedule.params.{param.name}"


def test_raw_bodies():
    assert parse_race(json.dumps(BASE)).steps == 300
    for body, message in [
        ('{"steps": NaN}', "NaN is not allowed"),
        ('{"steps": Infinity}', "Infinity is not allowed"),
        ("{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "limit"),
        ("[" * 20_000 + "]" * 20_000, "nested too deeply"),
        (" " * (MAX_BODY_BYTES + 1), "limit"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_json(body)


def test_schedule_free_adamw_refuses_beta1_zero_and_keeps_beta2_zero():
    """x = lerp(y, z, 1 − 1/β1): β1 = 0 is refused by name (it raised ZeroDivisionError in
    the engine, as in the package's .eval()); β2 = 0 stays allowed and runs finite."""
    racer = {"optimizer": "schedule_free_adamw", "lr": 0.01, "params": {"betas": [0.0, 0.0]}}
    with pytest.raises(ConfigError) as refused:
        validate_race(with_change(["racers"], [racer]))
    assert refused.value.field == "racers[0].params.betas[0]"
    assert "above 0" in refused.value.message
    racer["params"]["betas"] = [0.5, 0.0]
    (result,) = run_race(with_change(["racers"], [racer])).racers
    assert result.diverged_at is None and np.isfinite(result.loss).all()
    assert len(result.loss) == BASE["steps"] + 1


def test_costly_steps_count_several_in_the_work_limits():
    """A step of L-BFGS walks its history, a line search tries many points, Sophia seeds a
    probe, SAM takes two gradients: the limits count a racer's steps at their cost
    (``Limits.step_cost``), so a request of costly racers is refused sooner, by name."""
    plain = validate_race(with_change(["racers"], [{"optimizer": "adam", "lr": 0.1}] * 2))
    assert race_work(plain) == [(2, "racers"), (1, "runs")]
    lbfgs = {"optimizer": "lbfgs", "lr": 1, "params": {"history_size": 100}}
    sam = {"optimizer": "adam", "lr": 0.1, "sam_rho": 0.05}
    costly = validate_race(with_change(["racers"], [lbfgs, sam]))
    cost, name = race_work(costly)[0]
    assert cost == 11 + 2 and "2 racers" in name
    assert racer_cost(costly.racers[1]) == 2 * racer_cost(plain.racers[0])
    every_step = {"optimizer": "sophia", "lr": 0.01, "params": {"update_period": 1}}
    every_tenth = {"optimizer": "sophia", "lr": 0.01}
    sophia = validate_race(with_change(["racers"], [every_step, every_tenth]))
    assert racer_cost(sophia.racers[0]) > racer_cost(sophia.racers[1]) > 1
    # The same sweep: accepted for two plain racers, refused for the costly two, by name.
    options = {"grid": {"count": 48}}
    big = {**BASE, "steps": 5000}
    sweep_options(options, validate_race({**big, "racers": BASE["racers"] * 2}))
    with pytest.raises(WorkLimitError) as refused:
        sweep_options(options, validate_race({**big, "racers": [lbfgs, sam]}))
    assert "13 racer-steps' cost (2 racers" in refused.value.message
    assert refused.value.field == "grid.count"
