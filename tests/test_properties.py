"""Property tests: the validator never fails in another way, and every valid race is clean."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from common.errors import ConfigError
from optimizers import run_race
from optimizers.config import RaceConfig
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import validate_race
from surfaces import SURFACES
from surfaces.compiled import sum_of_squares

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


def param_value(param):
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    low = param.low if param.low is not None else -1e3
    high = param.high if param.high is not None else 1e3
    if param.kind == "int":
        return st.integers(math.ceil(low) + param.low_open, min(int(high), 400))
    value = st.floats(low, high, exclude_min=param.low_open, exclude_max=param.high_open)
    if param.scale == "log" and low >= 0:
        floor = math.log10(low) if low > 0 else -8.0
        exponent = st.floats(floor, math.log10(high), exclude_max=param.high_open)
        # 10 ** e rounds up to the open bound itself for e just below log10(high).
        power = exponent.map(lambda e: 10.0**e)
        value = (power.filter(lambda v: v < high) if param.high_open else power) | value
    if param.kind == "pair":
        return st.tuples(value, value).map(list)
    return value


def params_for(specs):
    return st.fixed_dictionaries({}, optional={p.name: param_value(p) for p in specs})


@st.composite
def racers(draw, sum_of_squares: bool = True):
    # An optimizer that needs residuals (Gauss–Newton) only where the surface gives them.
    allowed = [n for n, spec in OPTIMIZERS.items() if sum_of_squares or not spec.limits.residuals]
    name = draw(st.sampled_from(allowed))
    params = draw(params_for(OPTIMIZERS[name].params))
    if params.get("nesterov", OPTIMIZERS[name].defaults().get("nesterov")):
        params.update(momentum=draw(st.floats(0.01, 0.99)), dampening=0.0)
    spec = OPTIMIZERS[name]
    try:  # a combination the optimizer's own check refuses (strong Wolfe's c1 < c2) is no race
        spec.limits.check({**spec.defaults(), **params}, "params")
    except ConfigError:
        reject()
    racer = {"optimizer": name, "lr": 10.0 ** draw(st.floats(-5, 1)), "params": params}
    if draw(st.booleans()):
        schedule = draw(st.sampled_from(list(SCHEDULES)))
        sparams = draw(params_for(SCHEDULES[schedule].params))
        if "base_momentum" in sparams or "max_momentum" in sparams:
            # Cycled momentum needs base_momentum ≤ max_momentum: draw them as a sorted pair.
            pair = st.floats(0.0, 1.0, exclude_min=True, exclude_max=True)
            lo, hi = sorted([draw(pair), draw(pair)])
            sparams.update(base_momentum=lo, max_momentum=hi)
        racer["schedule"] = {"name": schedule, "params": sparams}
    if draw(st.booleans()):
        racer["clip_norm"] = draw(st.floats(0.01, 100))
    return racer


@st.composite
def races(draw):
    surface = draw(st.sampled_from(list(SURFACES)))
    spec = SURFACES[surface]
    view = spec.build(**{p.name: p.default for p in spec.params}).view
    return {
        "surface": {"name": surface, "params": draw(params_for(spec.params))},
        "start": [draw(st.floats(*view[0])), draw(st.floats(*view[1]))],
        "steps": draw(st.integers(1, 120)),
        "noise": {
            "std": draw(st.sampled_from([0.0, 0.1, 3.0])),
            "seed": draw(st.integers(0, 2**32 - 1)),
        },
        "racers": draw(st.lists(racers(sum_of_squares(surface)), min_size=1, max_size=3)),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_gives_a_config_or_the_error(value):
    try:
        assert isinstance(validate_race(value), RaceConfig)
    except ConfigError as error:
        assert isinstance(error.field, str) and error.message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(races(), st.data())
def test_corrupted_races_give_a_config_or_the_error(race, data):
    """Replace one value anywhere in a valid race with arbitrary JSON."""
    node, path = race, []
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        key = data.draw(
            st.sampled_from(list(node.keys()) if isinstance(node, dict) else list(range(len(node))))
        )
        path.append((node, key))
        node = node[key]
    if path:
        parent, key = path[-1]
        parent[key] = data.draw(json_values)
    try:
        validate_race(race)
    except ConfigError as error:
        assert error.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(races())
def test_valid_races_are_finite_consistent_and_reproducible(race):
    config = validate_race(race)
    first = run_race(config)
    text = json.dumps(first.to_json(), allow_nan=False)
    for racer in first.racers:
        n = len(racer.path)
        if racer.diverged_at is None:
            assert n == config.steps + 1
        else:
            assert 1 <= racer.diverged_at <= config.steps and n == racer.diverged_at
        assert len(racer.loss) == n and len(racer.lr) == len(racer.grad_norm) == n - 1
        assert np.all(np.isfinite(racer.path)) and np.all(np.isfinite(racer.lr))
        if racer.steps_to_tol is not None:
            assert racer.steps_to_tol < n
    assert json.dumps(run_race(config).to_json(), allow_nan=False) == text
