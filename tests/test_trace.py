"""The step inspector's numbers: the engine's own state, checked against torch.optim's."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers.race import run_race
from optimizers.trace import TRACE_SCHEMA, trace_racer
from optimizers.validate import validate_race
from surfaces import get_surface
from tests.conftest import require_module
from tests.openapi_check import errors
from tests.torch_reference import build_optimizer

# (our optimizer, its params, the state entry, torch's name for it)
CASES = [
    ("adam", {}, "m", "exp_avg"),
    ("adam", {"amsgrad": True}, "v_max", "max_exp_avg_sq"),
    ("adamw", {}, "v", "exp_avg_sq"),
    ("momentum", {"dampening": 0.3}, "buf", "momentum_buffer"),
    ("rmsprop", {"centered": True, "momentum": 0.5}, "grad_avg", "grad_avg"),
    ("rmsprop", {}, "square_avg", "square_avg"),
    ("adagrad", {"lr_decay": 0.01}, "sum", "sum"),
]


def race(optimizer: str, params: dict, **extra) -> dict:
    racers = [
        {"optimizer": "sgd", "lr": 1e-3},
        {"optimizer": optimizer, "lr": 2e-4 if optimizer == "momentum" else 0.02, "params": params},
    ]
    return {"surface": {"name": "rosenbrock"}, "steps": 60, "racers": racers, **extra}


def torch_states(torch, config, index: int, name: str) -> np.ndarray:
    """torch's state entry ``name`` after every step of the same run."""
    racer = config.racers[index]
    surface = get_surface(config.surface.name, **config.surface.params)
    param = torch.nn.Parameter(torch.tensor(config.start, dtype=torch.float64))
    opt = build_optimizer(torch, racer, param)
    out = []
    for _ in range(config.steps):
        param.grad = torch.tensor(surface.gradient(param.detach().numpy().copy()))
        opt.step()
        out.append(opt.state[param][name].detach().numpy().copy())
    return np.array(out)


@pytest.mark.parametrize(("optimizer", "params", "ours", "theirs"), CASES)
def test_the_inspected_state_is_torchs_state(optimizer, params, ours, theirs):
    torch = require_module("torch")
    config = validate_race(race(optimizer, params))
    trace = trace_racer(config, 1)
    np.testing.assert_allclose(
        trace.state[ours], torch_states(torch, config, 1, theirs), rtol=1e-13, atol=1e-300
    )


def test_the_trace_follows_the_race_bit_for_bit():
    config = validate_race(race("adam", {}, noise={"std": 0.5, "seed": 3}))
    trace = trace_racer(config, 1)
    assert np.array_equal(trace.path, run_race(config).racers[1].path)
    assert np.array_equal(trace.lr, run_race(config).racers[1].lr)


def test_adams_derived_numbers_follow_their_definitions():
    config = validate_race(race("adam", {"betas": [0.8, 0.99], "eps": 1e-6}))
    trace = trace_racer(config, 1)
    t = np.arange(1, config.steps + 1)
    bc1, bc2 = 1 - 0.8**t, 1 - 0.99**t
    np.testing.assert_allclose(trace.derived["bias_correction1"][:, 0], bc1, rtol=1e-15)
    np.testing.assert_allclose(trace.derived["bias_correction2"][:, 1], bc2, rtol=1e-15)
    v_hat = trace.state["v"] / bc2[:, None]
    np.testing.assert_allclose(
        trace.derived["effective_lr"], 0.02 / (np.sqrt(v_hat) + 1e-6), rtol=1e-14
    )
    # The step taken is exactly −effective_lr · m̂, coordinate by coordinate.
    steps = np.diff(trace.path, axis=0)
    np.testing.assert_allclose(
        steps, -trace.derived["effective_lr"] * trace.derived["m_hat"], rtol=1e-10
    )


def test_clipping_is_reported_as_the_factor_applied():
    config = validate_race(
        {
            **race("momentum", {}),
            "racers": [{"optimizer": "momentum", "lr": 1e-3, "clip_norm": 1.0}],
        }
    )
    trace = trace_racer(config, 0)
    norms = np.hypot(*trace.gradient.T)
    np.testing.assert_allclose(trace.clip_factor, np.minimum(1.0, 1.0 / (norms + 1e-6)), rtol=1e-15)
    assert trace.clip_factor[0] < 0.1  # the far arm of the banana is steep


def test_a_diverging_racer_is_traced_up_to_its_divergence():
    config = validate_race({**race("sgd", {}), "racers": [{"optimizer": "sgd", "lr": 0.5}]})
    result = run_race(config).racers[0]
    trace = trace_racer(config, 0)
    assert result.diverged_at is not None
    assert len(trace.path) == len(result.path) and len(trace.gradient) == len(result.path) - 1
    assert all(np.isfinite(v).all() for v in (trace.path, trace.gradient, trace.clip_factor))
    assert "buf" not in trace.state and trace.moment is None  # plain SGD keeps no velocity


def test_prodigys_estimated_rate_is_traced_from_its_scalars():
    """Prodigy's d is one of its state's scalars, not a vector: the inspector's d·lr is derived
    from it (the trace once kept vectors only, and inspecting Prodigy failed)."""
    lr = 0.5
    config = validate_race(
        {
            "surface": {"name": "rosenbrock"},
            "steps": 80,
            "racers": [{"optimizer": "prodigy", "lr": lr}],
        }
    )
    trace = trace_racer(config, 0)
    d_lr = trace.derived["d_lr"]
    assert d_lr.shape == (80,) and np.all(np.isfinite(d_lr)) and np.all(d_lr > 0)
    assert np.all(np.diff(d_lr) >= 0)  # d only grows (growth_rate unbounded by default)
    assert d_lr[-1] > 10 * d_lr[0]  # and it does grow: the rate is found, not set
    assert trace.to_json()["derived"]["d_lr"] == d_lr.tolist()


def sam_race(optimizer: str, rho: float | None) -> dict:
    racer = {"optimizer": optimizer, "lr": 0.02, "sam_rho": rho}
    surface = {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}}
    return {"surface": surface, "start": [1.0, 1.0], "steps": 30, "racers": [racer]}


def test_a_sam_racers_trace_carries_theta_and_its_probe():
    """The inspector draws θ + e from the engine's own record of the step's evaluations."""
    body = trace_racer(validate_race(sam_race("sgd", 0.05)), 0).to_json()
    assert errors(body, TRACE_SCHEMA) == []
    point, probe = np.array(body["sam"]["point"]), np.array(body["sam"]["probe"])
    assert len(point) == len(probe) == len(body["gradient"]) == 30
    np.testing.assert_array_equal(point, body["path"][:-1])  # θ: the racer's point
    # e points up the gradient at θ: SAM's e = ρ·g/(‖g‖ + 1e-12) (no noise here).
    g = np.array(body["gradient"])
    norm = np.linalg.norm(g, axis=1)[:, None]
    np.testing.assert_allclose(probe - point, 0.05 * g / (norm + 1e-12), rtol=1e-10)
    without = trace_racer(validate_race(sam_race("sgd", None)), 0).to_json()
    assert without["sam"] is None and errors(without, TRACE_SCHEMA) == []


def test_schedule_free_with_sam_probes_around_y_not_the_drawn_x():
    trace = trace_racer(validate_race(sam_race("schedule_free_sgd", 0.05)), 0)
    point = np.array(trace.to_json()["sam"]["point"])
    # Step t asks for its gradient at y_{t−1}: the start, then the y the last step left.
    np.testing.assert_array_equal(point[1:], trace.state["y"][:-1])
    assert not np.allclose(point[1:], trace.path[1:-1])  # x, drawn, is elsewhere
