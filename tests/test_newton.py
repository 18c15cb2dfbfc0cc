"""Newton and saddle-free Newton: against a torch loop, and the facts the lessons tell."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers import run_race
from optimizers.engine import Record, simulate
from optimizers.newton import FELL_BACK, absolute, solve
from optimizers.validate import validate_race
from surfaces import get_surface
from tests.conftest import require_module

TOLERANCE = 1e-9


def _run(surface: dict, start, steps: int, params: dict, lr: float = 1.0):
    racer = {"optimizer": "newton", "lr": lr, "params": params}
    config = validate_race(
        {"surface": surface, "start": list(start), "steps": steps, "racers": [racer]}
    )
    return run_race(config).racers[0], config


def torch_newton(surface, start, steps: int, lr: float, damping: float, mode: str):
    """The reference: torch.func.hessian of the surface's expression, torch.linalg.solve."""
    torch = require_module("torch")
    names = {"torch": torch, **{n: getattr(torch, n) for n in ("cos", "exp", "sin", "sqrt")}}

    def f(p):
        return eval(surface.expression, names, {"x": p[0], "y": p[1]})

    p = torch.tensor(start, dtype=torch.float64)
    points = [p.numpy().copy()]
    for _ in range(steps):
        g = torch.func.grad(f)(p)
        h = torch.func.hessian(f)(p)
        if mode == "saddle_free":
            values, vectors = torch.linalg.eigh(h)
            h = vectors @ torch.diag(values.abs()) @ vectors.T
        d = torch.linalg.solve(h + damping * torch.eye(2, dtype=torch.float64), g)
        p = p - lr * d
        points.append(p.numpy().copy())
    return np.array(points)


CASES = [
    ({"name": "rosenbrock"}, (-1.2, 1.0), 0.0, 1.0),
    ({"name": "rosenbrock"}, (-1.5, 2.0), 10.0, 1.0),
    ({"name": "himmelblau"}, (-0.6, -0.6), 0.0, 1.0),
    ({"name": "himmelblau"}, (1.0, 1.0), 2.0, 0.5),
    ({"name": "beale"}, (1.0, 1.0), 1.0, 1.0),
    ({"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}}, (1.0, 1.0), 3.0, 0.5),
]


@pytest.mark.parametrize("mode", ["plain", "saddle_free"])
@pytest.mark.parametrize(("surface", "start", "damping", "lr"), CASES, ids=str)
def test_newton_equals_a_torch_loop(surface, start, damping, lr, mode):
    steps = 60
    ours, _ = _run(surface, start, steps, {"damping": damping, "mode": mode}, lr)
    s = get_surface(surface["name"], **surface.get("params", {}))
    theirs = torch_newton(s, start, steps, lr, damping, mode)
    assert ours.diverged_at is None
    np.testing.assert_allclose(ours.path, theirs, rtol=0, atol=TOLERANCE)
    assert (ours.evaluations == [0, 1, 1]).all()  # one gradient and one Hessian a step


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_step_to_the_minimum_of_a_random_quadratic(seed):
    rng = np.random.default_rng(seed)
    a, b = sorted(rng.uniform(0.5, 30, size=2))
    angle = float(rng.uniform(0, 180))
    start = rng.uniform(-2, 2, size=2)
    surface = {"name": "quadratic", "params": {"a": a, "b": b, "angle": angle}}
    ours, _ = _run(surface, start, 3, {})
    assert np.abs(ours.path[1]).max() <= 1e-12
    assert np.abs(start).max() > 0.1  # it did move


def test_newton_lands_on_the_saddle_in_one_step_and_stays():
    ours, _ = _run({"name": "saddle"}, (0.7, -0.4), 10, {})
    assert np.abs(ours.path[1:]).max() <= 1e-15


def test_on_himmelblau_plain_newton_climbs_and_saddle_free_descends():
    start = (-0.6, -0.6)
    surface = get_surface("himmelblau")
    plain, _ = _run({"name": "himmelblau"}, start, 40, {"mode": "plain"})
    peak = plain.path[-1]
    np.testing.assert_allclose(peak, [-0.270845, -0.923039], atol=1e-5)
    np.testing.assert_allclose(surface.gradient(peak), [0, 0], atol=1e-9)
    assert np.all(np.linalg.eigvalsh(surface.hessian(peak)) < 0)  # a maximum
    free, _ = _run({"name": "himmelblau"}, start, 40, {"mode": "saddle_free"})
    assert free.final_loss <= 1e-12  # one of the four minima (f = 0)


def test_absolute_hessian_has_the_eigenvalues_magnitudes():
    rng = np.random.default_rng(5)
    for _ in range(200):
        a, b, d = rng.normal(size=3) * 10
        h = np.array([[a, b], [b, d]])
        values, vectors = np.linalg.eigh(h)
        expected = vectors @ np.diag(np.abs(values)) @ vectors.T
        xx, xy, yy = absolute.py_func(a, b, d)
        np.testing.assert_allclose([[xx, xy], [xy, yy]], expected, atol=1e-12 * np.abs(h).max())


def test_a_singular_system_falls_back_to_the_gradient_step_never_nan():
    assert solve.py_func(1.0, 2.0, 2.0, 4.0, 1.0, 1.0)[2] is False
    assert solve.py_func(0.0, 0.0, 0.0, 0.0, 1.0, 1.0)[2] is False
    # The monkey saddle x³ − 3xy² has H = 0 at its centre: the fallback step, no NaN.
    config = validate_race(
        {
            "surface": {"name": "monkey_saddle"},
            "start": [0.0, 0.0],
            "steps": 5,
            "racers": [{"optimizer": "newton", "lr": 1.0}],
        }
    )
    surface = get_surface("monkey_saddle")
    traj = simulate(surface, config.racers, np.array([[0.0, 0.0]]), 5, record=Record.STATE)
    assert traj.states[0, 0, FELL_BACK] == 1.0
    assert np.isfinite(traj.points[:, 0]).all()
