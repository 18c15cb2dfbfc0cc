"""Gradient descent with a line search: Armijo's and strong Wolfe's conditions at every step,
strong Wolfe equal to torch's ``_strong_wolfe`` on the same ray, trials as the oracle's probes."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers import run_race
from optimizers.engine import MAX_PROBES, Record, simulate
from optimizers.gd_line_search import ACCEPTED, GD_LINE_SEARCH, MAX_LS, STEP
from optimizers.validate import validate_race
from surfaces import get_surface
from tests.conftest import require_module

SURFACES = [
    ("rosenbrock", {}, (-1.5, 2.0)),
    ("himmelblau", {}, (-0.5, 0.0)),
    ("beale", {}, (1.0, 1.0)),
    ("quadratic", {"a": 20, "b": 1, "angle": 30}, (1.0, 1.0)),
]


def _trace(name, params, start, steps, search_params):
    config = validate_race(
        {
            "surface": {"name": name, "params": params},
            "start": list(start),
            "steps": steps,
            "racers": [{"optimizer": "gd_line_search", "lr": 1.0, "params": search_params}],
        }
    )
    surface = get_surface(name, **params)
    traj = simulate(surface, config.racers, np.array([start]), steps, record=Record.STATE)
    return surface, traj


@pytest.mark.parametrize(("name", "params", "start"), SURFACES)
def test_armijo_holds_at_every_accepted_step_and_failed_at_the_trial_before(name, params, start):
    c1, shrink = 1e-4, 0.5
    surface, traj = _trace(name, params, start, 60, {"alpha0": 1.0, "shrink": shrink, "c1": c1})
    backtracked = 0
    for k in range(int(traj.ends[0]) - 1):
        x = traj.points[k, 0]
        g = surface.gradient(x)
        f = float(surface.value(x))
        if traj.states[k, 0, ACCEPTED] == 0:
            continue
        t = traj.states[k, 0, STEP]
        gtd = -float(g @ g)
        assert float(surface.value(x - t * g)) <= f + c1 * t * gtd
        np.testing.assert_allclose(traj.points[k + 1, 0], x - t * g, rtol=1e-15, atol=1e-15)
        count = int(traj.probe_counts[k, 0])
        assert count == 1 + round(np.log(t) / np.log(shrink)) + 1  # θ, then each trial
        if count > 2:  # the trial before, twice as long, failed
            backtracked += 1
            before = t / shrink
            assert float(surface.value(x - before * g)) > f + c1 * before * gtd
        shown = min(count, MAX_PROBES)
        np.testing.assert_array_equal(traj.probes[k, 0, 0], x)  # where it stood
        if count <= MAX_PROBES:
            np.testing.assert_allclose(traj.probes[k, 0, shown - 1], traj.points[k + 1, 0])
        assert (traj.evaluations[k, 0] == [count - 1, 1, 0]).all()
    assert backtracked > 0


@pytest.mark.parametrize(("name", "params", "start"), SURFACES)
def test_strong_wolfe_equals_torch_on_the_same_ray_and_satisfies_both(name, params, start):
    torch = require_module("torch")
    from torch.optim.lbfgs import _strong_wolfe

    c1, c2 = 1e-4, 0.9
    surface, traj = _trace(name, params, start, 40, {"search": "strong_wolfe", "c1": c1, "c2": c2})
    checked = 0
    for k in range(int(traj.ends[0]) - 1):
        x = traj.points[k, 0]
        g = surface.gradient(x)
        if np.abs(g).max() < 1e-6:
            # Converged: torch's search then ends on its bracket tolerance (|Δt|·‖d‖∞ < 1e-9)
            # before the curvature condition, as ours does; the checks end there.
            break
        checked += 1
        f = float(surface.value(x))
        d = torch.tensor(-g)

        def obj(x0, t, d):
            p = x0[0].clone().add_(d, alpha=t)  # as LBFGS's _directional_evaluate
            return float(surface.value(p.numpy())), torch.tensor(surface.gradient(p.numpy()))

        gtd = torch.tensor(g).dot(d)
        _, _, t, evals = _strong_wolfe(obj, [torch.tensor(x)], 1.0, d, f, torch.tensor(g), gtd)
        t = float(t)
        np.testing.assert_allclose(traj.states[k, 0, STEP], t, rtol=1e-9)
        assert int(traj.probe_counts[k, 0]) == 1 + evals
        new = traj.points[k + 1, 0]
        slope = float(surface.gradient(new) @ -g)
        assert float(surface.value(new)) <= f + c1 * t * float(gtd)
        assert abs(slope) <= c2 * abs(float(gtd)) or evals >= 25
    assert checked >= 3


def test_armijo_counts_its_trials_as_function_values():
    _, traj = _trace("rosenbrock", {}, (-1.5, 2.0), 20, {})
    evaluations = traj.evaluations[:, 0]
    assert (evaluations[:, 1] == 1).all() and (evaluations[:, 2] == 0).all()
    assert evaluations[:, 0].sum() > 20  # trials beyond the first


def test_a_full_strong_wolfe_search_fits_the_declared_gradients_under_noise():
    """f and ∇f at θ, the search's first trial and MAX_LS more: every one gets its own noise
    column, so the spec must declare them all (one fewer raised IndexError mid-race)."""
    # A curvature condition almost never met (c2 just above c1): the search uses all it may.
    params = {"search": "strong_wolfe", "c1": 1e-4, "c2": 1.1e-4, "alpha0": 50.0}
    config = validate_race(
        {
            "surface": {"name": "rosenbrock"},
            "steps": 30,
            "noise": {"std": 0.5, "seed": 4},
            "racers": [{"optimizer": "gd_line_search", "lr": 1.0, "params": params}],
        }
    )
    counts = run_race(config).racers[0].evaluations[:, 1]
    assert counts.max() == 2 + MAX_LS == GD_LINE_SEARCH.kernel.gradients
