"""The step inspector's curvature view (service/curvature.py, issue 17 item 3): the model's
eigen-decomposition, level set and steps (sent to 10 significant digits, so compared to 1e-9),
and the line search's slice with its trials (sent whole), checked against the surfaces' own
math and the engine's own record."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from optimizers.trace import trace_racer
from optimizers.validate import validate_race
from service.curvature import CURVATURE_SCHEMA, SLICE_STEPS, curvature, quadratic_model
from surfaces import get_surface
from tests.openapi_check import errors


def view(race: dict, index: int = 0):
    config = validate_race(race)
    trace = trace_racer(config, index)
    out = curvature(config, index, trace)
    json.dumps(out, allow_nan=False)  # what the API sends: no NaN or Inf anywhere
    assert errors(out, CURVATURE_SCHEMA) == []  # and what the API document says it sends
    return config, trace, out


def on_level_set(out: dict, r: int) -> float:
    """λ₁u₁² + λ₂u₂² − K at θ (u: θ's coordinates about the model's centre, eigenbasis)."""
    lam, vec = np.array(out["eigenvalues"][r]), np.array(out["eigenvectors"][r])
    u = vec @ -np.array(out["newton_step"][r])
    return float(lam @ u**2 - out["level"][r])


def quadratic(angle: float, start=(2.0, 1.5)) -> dict:
    return {
        "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": angle}},
        "start": list(start),
        "steps": 3,
        "racers": [{"optimizer": "newton", "lr": 1}, {"optimizer": "sgd", "lr": 0.04}],
    }


@pytest.mark.parametrize("angle", [0.0, 30.0, 71.0])
def test_a_quadratic_is_an_ellipse_whose_centre_is_the_newton_step(angle):
    _, trace, out = view(quadratic(angle))
    assert out["matrix_name"] == "H"
    np.testing.assert_allclose(out["eigenvalues"][0], [1.0, 20.0], rtol=1e-9)
    # The steep direction: u = x·cos − y·sin (surfaces/quadratic.py), i.e. along (cos, −sin).
    steep = np.array(out["eigenvectors"][0][1])
    t = math.radians(angle)
    assert abs(abs(steep @ [math.cos(t), -math.sin(t)]) - 1) < 1e-9
    assert out["level_set"][0] == "ellipse"
    # The Newton step lands on the minimum, and θ is on the model's level set through it.
    np.testing.assert_allclose(trace.path[0] + out["newton_step"][0], [0, 0], atol=1e-9)
    assert abs(on_level_set(out, 0)) < 1e-9 * abs(out["level"][0])
    # The gradient step of best length minimises the model along −g.
    g = trace.gradient[0]
    h = np.array(get_surface("quadratic", a=20, b=1, angle=angle).hessian(trace.path[0]))
    c = np.array(out["cauchy_step"][0])
    t_best = (g @ g) / (g @ h @ g)
    np.testing.assert_allclose(c, -t_best * g, rtol=1e-9)


def test_first_order_racers_have_no_curvature_view():
    _, _, out = view(quadratic(30.0), index=1)
    assert out is None


def test_a_saddle_is_a_hyperbola_and_a_maximum_an_ellipse_cap():
    race = {
        "surface": {"name": "saddle", "params": {}},
        "start": [0.7, 0.4],
        "steps": 2,
        "racers": [{"optimizer": "newton", "lr": 1}],
    }
    _, trace, out = view(race)
    assert out["level_set"][0] == "hyperbola"
    assert out["eigenvalues"][0][0] < 0 < out["eigenvalues"][0][1]
    assert abs(on_level_set(out, 0)) < 1e-9
    np.testing.assert_allclose(trace.path[0] + out["newton_step"][0], [0, 0], atol=1e-9)
    assert out["cauchy_step"][0] is None or np.all(np.isfinite(out["cauchy_step"][0]))
    cap = {
        "surface": {"name": "himmelblau", "params": {}},
        "start": [-0.6, -0.6],
        "steps": 2,
        "racers": [{"optimizer": "newton", "lr": 1}],
    }
    _, _, out = view(cap)
    assert out["level_set"][0] == "ellipse" and max(out["eigenvalues"][0]) < 0
    assert out["cauchy_step"][0] is None  # the model is not convex along −g: no best length


def test_a_singular_matrix_has_no_level_set_and_no_newton_step():
    m = np.array([[[1.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 0.0]]])
    g = np.array([[1.0, 0.0], [0.0, 1.0]])
    out = quadratic_model(m, g)
    assert out["level_set"] == ["none", "none"]
    assert out["newton_step"] == [None, None] and out["level"] == [None, None]
    json.dumps(out, allow_nan=False)


def line_race(search: str, optimizer: str = "gd_line_search") -> dict:
    params = (
        {"search": search} if optimizer == "gd_line_search" else {"line_search_fn": "strong_wolfe"}
    )
    return {
        "surface": {"name": "rosenbrock", "params": {}},
        "start": [-1.2, 1.0],
        "steps": 40,
        "racers": [{"optimizer": optimizer, "lr": 1, "params": params}],
    }


def test_armijo_trials_are_the_backtracking_steps_and_the_last_is_accepted():
    _, trace, out = view(line_race("armijo"))
    ls = out["line_search"]
    surface = get_surface("rosenbrock")
    assert (ls["search"], ls["c1"]) == ("armijo", 1e-4)
    checked = 0
    for r, s in enumerate(ls["slices"]):
        trials = np.array(s["trials"])
        assert len(trials) == s["evaluated"] >= 1  # all of them, beyond the probes kept
        # t₀, t₀/2, t₀/4, … (shrink 0.5, alpha0 1, lr 1) up to the accepted one.
        np.testing.assert_allclose(trials, 0.5 ** np.arange(len(trials)), rtol=1e-12)
        if s["evaluated"] == len(trials):
            assert s["accepted"] == pytest.approx(trials[-1], rel=1e-12)
            moved = np.linalg.norm(trace.path[r + 1] - trace.path[r])
            assert moved == pytest.approx(trials[-1] * np.linalg.norm(trace.gradient[r]))
            checked += 1
        theta, d = trace.path[r], -trace.gradient[r]
        phi = surface.value(theta + trials[:, None] * d)
        np.testing.assert_allclose(s["trial_phi"], phi, rtol=1e-9)
        armijo = s["phi0"] + ls["c1"] * trials * s["slope0"]
        passed = np.array(s["trial_phi"]) <= armijo
        assert not passed[:-1].any()  # every trial before the last was rejected
        assert passed[-1] or s["evaluated"] > len(trials)
        assert s["end"] >= s["accepted"] and len(s["phi"]) == 33
    assert checked > 10


@pytest.mark.parametrize("optimizer", ["gd_line_search", "lbfgs"])
def test_strong_wolfe_accepts_inside_the_curvature_band(optimizer):
    _, trace, out = view(line_race("strong_wolfe", optimizer))
    ls = out["line_search"]
    assert ls["search"] == "strong_wolfe" and ls["c2"] == 0.9
    surface = get_surface("rosenbrock")
    for r, s in enumerate(ls["slices"][:20]):
        theta = trace.path[r]
        d = -trace.gradient[r] if optimizer == "gd_line_search" else trace.path[r + 1] - theta
        t = s["accepted"]
        slope = surface.gradient(theta + t * d) @ d
        assert abs(slope) <= ls["c2"] * abs(s["slope0"]) * (1 + 1e-9)
        # The band is sampled (257 slopes): the accepted step is inside it to one spacing.
        spacing = s["end"] / 256
        assert any(a - spacing <= t <= b + spacing for a, b in s["band"]) or t > s["end"]
        assert t in s["trials"] or s["evaluated"] > len(s["trials"])  # kept: the first 7


def test_slices_stop_at_slice_steps_and_plain_lbfgs_has_none():
    race = line_race("armijo")
    race["steps"] = SLICE_STEPS + 50
    race["surface"] = {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 0}}
    _, trace, out = view(race)
    assert len(out["line_search"]["slices"]) == min(SLICE_STEPS, len(trace.gradient))
    plain = line_race("armijo", "lbfgs")
    plain["racers"][0]["params"] = {}
    _, _, out = view(plain)
    assert out["line_search"] is None and out["level_set"][0] in ("ellipse", "hyperbola")


def test_gauss_newton_shows_jtj_and_its_step_is_the_racers():
    race = {
        "surface": {"name": "rosenbrock", "params": {}},
        "start": [-1.2, 1.0],
        "steps": 3,
        "racers": [
            {"optimizer": "gauss_newton", "lr": 1, "params": {"damping": 0, "adaptive": False}}
        ],
    }
    _, trace, out = view(race)
    assert out["matrix_name"] == "JᵀJ"
    # JᵀJ is never indefinite: its level set is an ellipse (or nothing, if singular).
    assert set(out["level_set"]) <= {"ellipse", "none"}
    assert min(min(lam) for lam in out["eigenvalues"]) >= -1e-9
    # Undamped Gauss–Newton takes exactly the JᵀJ Newton step (its first step is accepted).
    np.testing.assert_allclose(
        trace.path[0] + out["newton_step"][0], trace.path[1], rtol=1e-9, atol=1e-12
    )
