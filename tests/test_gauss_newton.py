"""Gauss–Newton / Levenberg–Marquardt: a direct solve of the damped normal equations at every
step, the two-step Rosenbrock fact, and its basins on Himmelblau (only the four minima)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers import run_race
from optimizers.gauss_newton import CEILING, FLOOR, GROW, SHRINK, TRIALS
from optimizers.starts import DIVERGED, MOVING, many_starts
from optimizers.sweep import sweep, tuned_race
from optimizers.validate import sweep_options, validate_race
from surfaces import get_surface
from surfaces.compiled import evaluate_residuals

TOLERANCE = 1e-9


def _race(surface: dict, start, steps: int, params: dict, **extra):
    racer = {"optimizer": "gauss_newton", "lr": 1.0, "params": params}
    return validate_race(
        {"surface": surface, "start": list(start), "steps": steps, "racers": [racer], **extra}
    )


def direct_solve(surface, start, steps: int, damping: float, scaling: str, adaptive: bool):
    """The reference: r and J at θ, then numpy's solve of (JᵀJ + λD)d = −Jᵀr, with the
    module's stated acceptance rule; returns the points and each step's function values."""
    p = np.array(start, dtype=float)
    lam = damping
    points, trials = [p.copy()], []
    for _ in range(steps):
        r, j = (a[0] for a in evaluate_residuals(surface, p[None]))
        jtj, g = j.T @ j, j.T @ r
        scale = np.diag(np.diag(jtj)) if scaling == "diagonal" else np.eye(2)
        f = float(surface.value(p))

        def solve(lam, jtj=jtj, g=g, scale=scale):
            return np.linalg.solve(jtj + lam * scale, -g)

        if not adaptive:
            p = p + solve(lam)
            trials.append(0)
        else:
            tried = 0
            while tried < TRIALS:
                d = solve(lam)
                tried += 1
                if surface.value(p + d) < f:
                    p = p + d
                    lam *= SHRINK
                    break
                lam = min(max(GROW * lam, FLOOR), CEILING)
            trials.append(tried)
        points.append(p.copy())
    return np.array(points), np.array(trials)


CASES = [
    ({"name": "rosenbrock"}, (-1.2, 1.0), 1e-3, "identity", True),
    ({"name": "rosenbrock"}, (-1.5, 2.0), 1.0, "diagonal", True),
    ({"name": "rosenbrock"}, (-1.5, 2.0), 0.5, "identity", False),
    ({"name": "himmelblau"}, (-0.6, -0.6), 1e-3, "identity", True),
    ({"name": "himmelblau"}, (1.0, 1.0), 2.0, "diagonal", False),
    ({"name": "beale"}, (1.0, 1.5), 1e-2, "diagonal", True),
    ({"name": "beale"}, (2.0, 0.2), 1.0, "identity", False),
    ({"name": "quadratic", "params": {"angle": 30.0}}, (1.0, 1.0), 5.0, "identity", True),
    ({"name": "quadratic", "params": {"angle": -75.0}}, (1.5, -1.0), 3.0, "diagonal", False),
]


@pytest.mark.parametrize(("surface", "start", "damping", "scaling", "adaptive"), CASES, ids=str)
def test_every_step_is_a_direct_solve_of_the_damped_normal_equations(
    surface, start, damping, scaling, adaptive
):
    steps = 40
    params = {"damping": damping, "scaling": scaling, "adaptive": adaptive}
    ours = run_race(_race(surface, start, steps, params)).racers[0]
    s = get_surface(surface["name"], **surface.get("params", {}))
    theirs, trials = direct_solve(s, start, steps, damping, scaling, adaptive)
    assert ours.diverged_at is None
    np.testing.assert_allclose(ours.path, theirs, rtol=0, atol=TOLERANCE)
    # The work: one Jacobian (counted as a gradient) a step, and one function value per
    # trial, rejected ones included (a step at a stationary point tries nothing).
    assert (ours.evaluations[:, 1] == 1).all()
    assert (ours.evaluations[:, 2] == 0).all()
    moved = np.abs(np.diff(theirs, axis=0)).max(axis=1) > 0
    np.testing.assert_array_equal(ours.evaluations[moved, 0], trials[moved])
    if adaptive:
        assert (trials > 1).any() or surface["name"] == "quadratic"  # some trial was rejected


def test_rosenbrock_from_its_classic_start_in_two_steps():
    """Plain Gauss–Newton (λ = 0, every step taken): the residual 1 − x is linear, so the
    first step solves it exactly; then 10(y − x²) is linear in y, and the second step does."""
    params = {"damping": 0.0, "adaptive": False}
    path = run_race(_race({"name": "rosenbrock"}, (-1.2, 1.0), 2, params)).racers[0].path
    assert abs(path[1, 0] - 1.0) <= 1e-12 and abs(path[1, 1] - 1.0) > 1  # x first, y far off
    np.testing.assert_allclose(path[2], [1.0, 1.0], rtol=0, atol=1e-12)


def test_on_himmelblau_it_ends_only_at_the_four_minima():
    config = _race({"name": "himmelblau"}, (0.0, 0.0), 100, {})
    result = many_starts(config, 0, "grid", 144)
    assert not (result.basin == DIVERGED).any()
    assert not (result.basin == MOVING).any()
    surface = get_surface("himmelblau")
    assert all(b.listed and b.kind == "minimum" for b in result.basins)
    assert sorted(b.point for b in result.basins) == sorted(surface.minima)
    assert sum(b.count for b in result.basins) == 144


def test_newtons_basins_on_himmelblau_include_the_maximum():
    race = {"surface": {"name": "himmelblau"}, "steps": 100}
    config = validate_race({**race, "racers": [{"optimizer": "newton", "lr": 1.0}]})
    result = many_starts(config, 0, "grid", 144)
    surface = get_surface("himmelblau")
    kinds = {b.kind for b in result.basins}
    assert {"minimum", "maximum"} <= kinds
    (peak,) = [b for b in result.basins if b.kind == "maximum"]
    assert peak.point == surface.maxima[0] and peak.count > 0
    # The map's other racer, for contrast: saddle-free Newton never rests on the maximum.
    saddle_free = {"optimizer": "newton", "lr": 1.0, "params": {"mode": "saddle_free"}}
    free = validate_race({**race, "racers": [saddle_free]})
    assert "maximum" not in {b.kind for b in many_starts(free, 0, "grid", 144).basins}


def test_a_sweep_varies_the_damping():
    config = _race({"name": "rosenbrock"}, (-1.2, 1.0), 50, {"damping": 0.5, "adaptive": False})
    result = sweep(config, sweep_options({"grid": {"count": 6}}, config).grid)
    (racer,) = result.racers
    assert racer.parameter == "damping"
    assert racer.to_json(result.criterion)["parameter"] == "damping"
    assert racer.current.lr == 0.5  # the racer's own damping is a candidate too
    np.testing.assert_allclose([o.lr for o in racer.grid], np.logspace(-5, 1, 6))
    # Each grid run is the race at that damping.
    for outcome in racer.grid:
        params = {"damping": outcome.lr, "adaptive": False}
        alone = run_race(_race({"name": "rosenbrock"}, (-1.2, 1.0), 50, params)).racers[0]
        assert alone.final_loss == outcome.final_loss
    assert result.best_rates() == [None]  # auto-tune sets rates: this racer keeps its own
    (best,) = result.best_values()
    assert best is not None
    tuned = tuned_race(config, [best])
    assert tuned.racers[0].params["damping"] == best and tuned.racers[0].lr == 1.0
