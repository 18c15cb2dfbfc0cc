"""L-BFGS against torch.optim.LBFGS (max_iter 1): the same path, the same closure calls."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers import run_race
from optimizers.engine import Record, simulate
from optimizers.lbfgs import LBFGS, STOPPED
from optimizers.validate import validate_race
from surfaces import get_surface
from tests.conftest import require_module

STEPS = 200
TOLERANCE = 1e-9
SURFACES = {
    "rosenbrock": ({"name": "rosenbrock"}, (-1.5, 2.0)),
    "quadratic30": ({"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}}, (1.0, 1.0)),
    "himmelblau": ({"name": "himmelblau"}, (-0.5, 0.0)),
    "beale": ({"name": "beale"}, (1.0, 1.0)),
}


def torch_lbfgs(surface, start, steps: int, params: dict) -> tuple[np.ndarray, list[int]]:
    """torch.optim.LBFGS, one step(closure) per race step: points and closure calls per step."""
    torch = require_module("torch")
    param = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    search = params.get("line_search_fn", "none")
    opt = torch.optim.LBFGS(
        [param],
        lr=params.get("lr", 1.0),
        max_iter=1,
        max_eval=params.get("max_eval", 25),
        history_size=params.get("history_size", 100),
        line_search_fn=None if search == "none" else search,
    )
    calls = [0]

    def closure():
        calls[0] += 1
        p = param.detach().numpy().copy()
        param.grad = torch.tensor(surface.gradient(p), dtype=torch.float64)
        return torch.tensor(float(surface.value(p)), dtype=torch.float64)

    points, counts = [np.array(start, dtype=float)], []
    for _ in range(steps):
        calls[0] = 0
        opt.step(closure)
        counts.append(calls[0])
        points.append(param.detach().numpy().copy())
    return np.array(points), counts


def _race(key: str, params: dict, steps: int = STEPS):
    surface, start = SURFACES[key]
    racer = {"optimizer": "lbfgs", "lr": 1.0, "params": params}
    config = validate_race(
        {"surface": surface, "start": list(start), "steps": steps, "racers": [racer]}
    )
    return config, get_surface(surface["name"], **surface.get("params", {})), start


CASES = [
    {"line_search_fn": search, "history_size": history}
    for search in ("none", "strong_wolfe")
    for history in (1, 5, 100)
]


@pytest.mark.parametrize("key", list(SURFACES))
@pytest.mark.parametrize("params", CASES, ids=str)
def test_lbfgs_equals_torch_step_for_step(key, params):
    config, surface, start = _race(key, params)
    result = run_race(config).racers[0]
    theirs, calls = torch_lbfgs(surface, start, STEPS, params)
    assert result.diverged_at is None
    np.testing.assert_allclose(result.path, theirs, rtol=0, atol=TOLERANCE)
    # torch's own stop: the first step that did not move (it returned before the update).
    still = [k for k in range(STEPS) if (theirs[k + 1] == theirs[k]).all()]
    stop = still[0] + 1 if still else STEPS
    ours = result.evaluations[:, 1].tolist()
    assert ours[:stop] == calls[:stop]
    assert result.evaluations[:, [0, 2]].sum() == 0
    if still:  # the racer stops there: nothing evaluated afterwards, and the state says why
        assert sum(ours[stop:]) == 0
        traj = simulate(surface, config.racers, np.array([start]), STEPS, record=Record.STATE)
        assert traj.states[stop - 1, 0, STOPPED] in (1.0, 2.0)
        assert (traj.states[: stop - 1, 0, STOPPED] == 0).all()


def test_the_line_search_uses_more_closures_than_the_plain_step():
    config, _, _ = _race("rosenbrock", {"line_search_fn": "strong_wolfe"})
    result = run_race(config).racers[0]
    assert result.evaluations[:, 1].max() > 1
    assert np.linalg.norm(result.path[-1] - [1.0, 1.0]) < 1e-5  # stopped at ‖g‖∞ ≤ 1e-7


def test_max_eval_one_is_torchs_own_default_which_may_not_move():
    params = {"line_search_fn": "strong_wolfe", "max_eval": 1}
    config, surface, start = _race("rosenbrock", params, steps=30)
    theirs, calls = torch_lbfgs(surface, start, 30, params)
    result = run_race(config).racers[0]
    np.testing.assert_allclose(result.path, theirs, rtol=0, atol=TOLERANCE)
    assert result.evaluations[:, 1].tolist() == calls  # one closure at the start, one trial


def test_the_history_lives_in_memory_not_in_the_inspectors_record():
    kernel = LBFGS.kernel
    assert kernel.memory > 0 and kernel.state_size == kernel.named_size + kernel.memory
    config, surface, start = _race("rosenbrock", {})
    traj = simulate(surface, config.racers, np.array([start]), 20, record=Record.STATE)
    assert traj.states.shape[2] == kernel.named_size


def test_a_division_by_zero_is_a_divergence_as_in_torch_not_an_exception():
    """On x² − y² from (0, 1) strong Wolfe's interpolation divides by zero (found by
    hypothesis): torch's tensors give ±inf and its first step lands near y = 1e21; the
    engine's IEEE division (common.jit) does the same, so the run is stopped as diverged at
    step 1 where it used to raise ZeroDivisionError and end the whole request."""
    racer = {"optimizer": "lbfgs", "lr": 1.0, "params": {"line_search_fn": "strong_wolfe"}}
    config = {"surface": {"name": "saddle"}, "start": [0.0, 1.0], "steps": 5, "racers": [racer]}
    (result,) = run_race(config).racers
    assert result.diverged_at == 1
    surface = get_surface("saddle")
    theirs, _ = torch_lbfgs(surface, (0.0, 1.0), 1, racer["params"])
    low, high = surface.divergence_box()
    assert not (np.all(theirs[1] > low) and np.all(theirs[1] < high))  # torch leaves too
