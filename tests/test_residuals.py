"""Residuals r and Jacobians J of the sums of squares: f = ½‖r‖², Jᵀr = ∇f, J against finite
differences; every other surface refuses Gauss–Newton by name."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import ConfigError
from optimizers.validate import race_errors, validate_race
from surfaces import SURFACES, get_surface
from surfaces.compiled import evaluate, evaluate_residuals, sum_of_squares

SUMS = [name for name in SURFACES if sum_of_squares(name)]
OTHERS = [name for name in SURFACES if not sum_of_squares(name)]
CASES = [(name, {}) for name in SUMS] + [
    ("quadratic", {"a": 20.0, "b": 1.0, "angle": 30.0}),
    ("quadratic", {"a": 3.5, "b": 0.2, "angle": -120.0}),
    ("quadratic", {"a": 0.01, "b": 1000.0, "angle": 77.7}),
]


def _points(surface, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(11)
    (x0, x1), (y0, y1) = surface.view
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


def test_the_sums_of_squares_are_the_issues_four():
    assert sorted(SUMS) == ["beale", "himmelblau", "quadratic", "rosenbrock"]


@pytest.mark.parametrize(("name", "params"), CASES, ids=str)
def test_half_the_squared_residuals_is_the_apps_f_and_jtr_its_gradient(name, params):
    surface = get_surface(name, **params)
    points = _points(surface)
    r, j = evaluate_residuals(surface, points)
    f, g = evaluate(surface, points)
    np.testing.assert_allclose(0.5 * (r**2).sum(axis=1), f, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(surface.value(points), f, rtol=1e-15, atol=0)
    jtr = np.einsum("nij,ni->nj", j, r)
    scale = np.maximum(np.abs(g), 1.0)
    assert np.max(np.abs(jtr - g) / scale) < 1e-12


@pytest.mark.parametrize(("name", "params"), CASES, ids=str)
def test_the_jacobian_is_the_residuals_derivative(name, params):
    surface = get_surface(name, **params)
    points = _points(surface, 100)
    _, j = evaluate_residuals(surface, points)
    h = 1e-6
    for axis in range(2):
        step = np.zeros(2)
        step[axis] = h
        up, _ = evaluate_residuals(surface, points + step)
        down, _ = evaluate_residuals(surface, points - step)
        central = (up - down) / (2 * h)
        scale = np.maximum(np.abs(j[:, :, axis]), 1.0)
        assert np.max(np.abs(central - j[:, :, axis]) / scale) < 1e-6


@pytest.mark.parametrize("name", OTHERS)
def test_a_surface_without_residuals_refuses_gauss_newton_by_name(name):
    race = {"surface": {"name": name}, "racers": [{"optimizer": "gauss_newton", "lr": 1.0}]}
    with pytest.raises(ConfigError) as refused:
        validate_race(race)
    assert refused.value.field == "racers[0].optimizer"
    assert f"'{SURFACES[name].title}'" in refused.value.message
    assert "sum of squares" in refused.value.message
    # The page's list of every refusal says the same, beside the racer.
    race["racers"].insert(0, {"optimizer": "sgd", "lr": 1e-3})
    errors = race_errors(race)
    assert [e.field for e in errors] == ["racers[1].optimizer"]
    r, _ = evaluate_residuals(get_surface(name), np.zeros((1, 2)))
    assert np.isnan(r).all()  # and the engine would see no residuals there


@pytest.mark.parametrize("name", SUMS)
def test_a_sum_of_squares_takes_gauss_newton(name):
    race = {"surface": {"name": name}, "racers": [{"optimizer": "gauss_newton", "lr": 1.0}]}
    assert race_errors(race) == []
    assert validate_race(race).racers[0].optimizer == "gauss_newton"


@pytest.mark.parametrize(("name", "params"), CASES, ids=str)
def test_the_residuals_text_is_the_compiled_residuals(name, params):
    """``Surface.residuals`` (Copy as PyTorch writes it) evaluates to the compiled r."""
    surface = get_surface(name, **params)
    points = _points(surface, 50)
    r, _ = evaluate_residuals(surface, points)
    names = {"x": points[:, 0], "y": points[:, 1]}
    for i, text in enumerate(surface.residuals):
        # Our own registry text, not user input.
        value = eval(compile(text, name, "eval"), {"__builtins__": {}}, names)
        np.testing.assert_allclose(value, r[:, i], rtol=1e-14, atol=1e-13)
    assert (r[:, len(surface.residuals) :] == 0).all()
    assert all(not get_surface(other).residuals for other in OTHERS)
