"""The oracle: what a kernel may ask for, how each evaluation is noised, clipped and counted,
and the work clock built on the counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.errors import ConfigError
from common.jit import jit
from common.params import Param
from optimizers import oracle, run_race
from optimizers.base import Card, Kernel, OptimizerSpec
from optimizers.engine import Noise, Record, simulate
from optimizers.oracle import CLIP_EPS, COST, noise_table
from optimizers.race import RACER_RESULT_SCHEMA
from optimizers.registry import OPTIMIZERS
from optimizers.validate import validate_race
from surfaces import SURFACES, get_surface
from surfaces.compiled import evaluate

SHIFT = 0.1  # the second gradient is taken this far along x from the current point

# The first edition's NumPy engine, recorded: its paths and the gradients it saw (noise added,
# before clipping) for the races of the first-edition tests below, and its noise for seed 5.
# The engine left the product tree; bench/first_edition.md names the git tag that holds it and
# the script that wrote this file.
FIRST_EDITION = Path(__file__).parent / "data" / "first_edition.npz"


def _first_edition(name: str, surface: str) -> tuple[np.ndarray, np.ndarray]:
    """The first edition's path (steps+1, 2) and the gradients it saw (steps, 2)."""
    with np.load(FIRST_EDITION) as recorded:
        i = list(recorded["names"]).index(name)
        j = list(recorded["surfaces"]).index(surface)
        return recorded["points"][i, j], recorded["seen"][i, j]


@jit
def _two_gradients_and_a_hessian(o, w, s, h, lr, cyc, t):
    """A test optimizer: two gradients (here and SHIFT along x) and a Hessian per step, kept
    in its state so the test can read what the oracle gave it; steps along the mean."""
    x, y = w[0], w[1]
    g1x, g1y = oracle.gradient(o, x, y)
    g2x, g2y = oracle.gradient(o, x + SHIFT, y)
    hxx, hxy, hyy = oracle.hessian(o, x, y)
    s[0], s[1], s[2], s[3] = g1x, g1y, g2x, g2y
    s[4], s[5], s[6] = hxx, hxy, hyy
    s[7], s[8] = x, y
    w[0] = x - lr * 0.5 * (g1x + g2x)
    w[1] = y - lr * 0.5 * (g1y + g2y)
    return w[0], w[1]


PROBE = OptimizerSpec(
    name="probe",
    params=(Param("unused", 0.0, low=0.0, high=1.0, help="no effect"),),
    kernel=Kernel(
        step=_two_gradients_and_a_hessian,
        state=("g1", "g2"),
        scalars=("hxx", "hxy", "hyy", "x", "y"),
        gradients=2,
    ),
    card=Card(
        title="Probe", default_lr=1e-3, help="Asks for two gradients and a Hessian per step."
    ),
)


@pytest.fixture
def probe(monkeypatch):
    monkeypatch.setitem(OPTIMIZERS, "probe", PROBE)
    return PROBE


def _config(racers, steps=50, noise=None, budget=None):
    race = {"surface": {"name": "rosenbrock"}, "steps": steps, "racers": racers}
    if noise:
        race["noise"] = noise
    if budget is not None:
        race["work_budget"] = budget
    return validate_race(race)


def _clipped(g: np.ndarray, clip: float) -> np.ndarray:
    norm = np.sqrt(g[..., 0] * g[..., 0] + g[..., 1] * g[..., 1])
    return g * np.minimum(clip / (norm + CLIP_EPS), 1.0)[..., None]


def test_todays_optimizers_take_exactly_one_gradient_a_step():
    # The first-order ones: L-BFGS's closure calls are compared with torch's in
    # test_lbfgs.py, Newton's gradient and Hessian a step in test_newton.py, the line
    # search's trials in test_line_search.py, Sophia's Hessian every update_period steps in
    # test_conformance_packages.py.
    curvature = ("lbfgs", "newton", "gd_line_search", "gauss_newton", "sophia")
    racers = [{"optimizer": n, "lr": 1e-4} for n in OPTIMIZERS if n not in curvature]
    assert len(racers) == 18
    races = [racers[:12], racers[12:]]  # a race holds at most 12 racers
    results = [run_race(_config(r, steps=200, noise={"std": 0.1, "seed": 2})) for r in races]
    for racer in [racer for result in results for racer in result.racers]:
        assert racer.diverged_at is None
        counts = racer.evaluations
        assert counts.shape == (200, 3)
        assert (counts == [0, 1, 0]).all(), racer.optimizer
        np.testing.assert_array_equal(racer.work, np.arange(201.0))
        out = racer.to_json()
        assert out["evaluations"] == {"f": [0] * 200, "g": [1] * 200, "h": [0] * 200}
        assert out["work"] == 200.0


def test_two_gradients_and_a_hessian_are_counted_noised_and_clipped(probe):
    std, seed, clip, steps = 0.7, 11, 3.0, 40
    config = _config(
        [{"optimizer": "probe", "lr": 1e-4, "clip_norm": clip}, {"optimizer": "sgd", "lr": 1e-4}],
        steps=steps,
        noise={"std": std, "seed": seed},
    )
    surface = get_surface("rosenbrock")
    traj = simulate(
        surface,
        config.racers,
        np.tile(config.start, (2, 1)),
        steps,
        Noise(std, [seed] * 2),
        record=Record.STATE,
    )
    assert (traj.evaluations[:, 0] == [0, 2, 1]).all()
    assert (traj.evaluations[:, 1] == [0, 1, 0]).all()
    np.testing.assert_array_equal(traj.totals[0], [0, 2 * steps, steps])
    np.testing.assert_array_equal(traj.work[:, 0], np.full(steps, 2 * COST["g"] + COST["h"]))

    state = PROBE.kernel.unpack_state(traj.states[:, 0])
    here = np.stack([state["x"], state["y"]], axis=-1)
    np.testing.assert_array_equal(here, traj.points[:-1, 0])  # evaluated where it stood
    table = noise_table(std, seed, steps, 2)
    # The k-th gradient of step t gets row [t-1, k] of the table; each is clipped on its own.
    np.testing.assert_array_equal(state["g1"], _clipped(surface.gradient(here) + table[:, 0], clip))
    np.testing.assert_array_equal(
        state["g2"], _clipped(surface.gradient(here + np.array([SHIFT, 0.0])) + table[:, 1], clip)
    )
    assert (np.abs(table[:, 0] - table[:, 1]) > 0).all()  # the two draws differ
    hessian = surface.hessian(here)
    np.testing.assert_array_equal(state["hxx"], hessian[:, 0, 0])  # Hessians are exact
    np.testing.assert_array_equal(state["hxy"], hessian[:, 0, 1])
    np.testing.assert_array_equal(state["hyy"], hessian[:, 1, 1])
    # Every evaluated point, in order: here, SHIFT along x, here (the Hessian).
    assert (traj.probe_counts[:, 0] == 3).all() and (traj.probe_counts[:, 1] == 1).all()
    np.testing.assert_array_equal(traj.probes[:, 0, 0], here)
    np.testing.assert_array_equal(traj.probes[:, 0, 1], here + np.array([SHIFT, 0.0]))
    np.testing.assert_array_equal(traj.probes[:, 0, 2], here)
    # The step's first gradient, before clipping, is what the charts and inspector read.
    np.testing.assert_array_equal(traj.first[:, 0, :2], surface.gradient(here) + table[:, 0])
    # Common random numbers: the one-gradient racer sees the same first column.
    sgd_points = traj.points[:-1, 1]
    np.testing.assert_array_equal(traj.first[:, 1, :2], surface.gradient(sgd_points) + table[:, 0])


def test_a_work_budget_stops_each_racer_at_its_own_step(probe):
    config = _config(
        [{"optimizer": "probe", "lr": 1e-4}, {"optimizer": "sgd", "lr": 1e-4}],
        steps=100,
        budget=10,
    )
    probe_result, sgd_result = run_race(config).racers
    # 4 per step for the probe (2 gradients + a Hessian at 2): work 12 ≥ 10 after 3 steps.
    assert len(probe_result.path) == 4 and probe_result.work[-1] == 12.0
    assert len(sgd_result.path) == 11 and sgd_result.work[-1] == 10.0
    assert probe_result.diverged_at is None and sgd_result.diverged_at is None


def test_work_to_tol_counts_the_work_before_arrival(probe):
    config = validate_race(
        {
            "surface": {"name": "quadratic"},
            "steps": 400,
            "tol": 0.05,  # the probe settles where its two gradients cancel, f ≈ 0.025
            "racers": [{"optimizer": "probe", "lr": 0.02}, {"optimizer": "momentum", "lr": 0.02}],
        }
    )
    for racer, per_step in zip(run_race(config).racers, (4.0, 1.0), strict=True):
        assert racer.steps_to_tol is not None
        assert racer.work_to_tol == racer.steps_to_tol * per_step
        assert racer.to_json()["work_to_tol"] == racer.work_to_tol


@pytest.mark.parametrize("surface", ["rosenbrock", "himmelblau", "quadratic"])
@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "lion"])
def test_a_one_gradient_optimizer_sees_the_first_editions_noise_bit_for_bit(name, surface):
    """Against the first edition's NumPy engine, recorded: the same noisy, clipped path, bit
    for bit (the Adam family's bias corrections use pow, whose last bit NumPy's vector code and
    the C library may round apart, so they are compared through the noise the path saw
    instead)."""
    config = validate_race(
        {
            "surface": {"name": surface},
            "steps": 300,
            "noise": {"std": 0.5, "seed": 21},
            "racers": [{"optimizer": name, "lr": 1e-3, "clip_norm": 8.0}],
        }
    )
    old_points, seen = _first_edition(name, surface)
    new = simulate(
        get_surface(surface),
        config.racers,
        np.array([config.start]),
        config.steps,
        Noise(0.5, [21]),
        record=Record.STATE,
    )
    np.testing.assert_array_equal(new.points[:, 0], old_points)
    np.testing.assert_array_equal(new.first[:, 0, :2], seen)


@pytest.mark.parametrize("name", ["adam", "adamw", "nadam", "radam", "adamax", "adadelta"])
def test_every_optimizer_gets_the_first_editions_noise_sequence(name):
    """Each step's gradient is the gradient where it was taken plus the first edition's noise
    for that step (recorded), bit for bit."""
    config = validate_race(
        {
            "surface": {"name": "rosenbrock"},
            "steps": 300,
            "noise": {"std": 0.5, "seed": 5},
            "racers": [{"optimizer": name, "lr": 1e-3}],
        }
    )
    s = get_surface("rosenbrock")
    new = simulate(
        s,
        config.racers,
        np.array([config.start]),
        config.steps,
        Noise(0.5, [5]),
        record=Record.STATE,
    )
    with np.load(FIRST_EDITION) as recorded:
        expected = recorded["noise_seed5"]
    np.testing.assert_array_equal(noise_table(0.5, 5, config.steps, 1)[:, 0], expected)
    np.testing.assert_array_equal(new.first[:, 0, :2], s.gradient(new.points[:-1, 0]) + expected)


# Surfaces whose array functions use NumPy's vectorised pow, exp, sin or cos, whose last bit
# can differ from the C library's that compiled code calls.
TRANSCENDENTAL = {
    "ackley",
    "monkey_saddle",
    "styblinski_tang",
    "six_hump_camel",
    "rastrigin",
    "two_wells",
}


@pytest.mark.parametrize("name", list(SURFACES))
def test_compiled_surfaces_agree_with_the_arrays(name):
    surface = get_surface(name)
    (x0, x1), (y0, y1) = surface.view
    rng = np.random.default_rng(3)
    points = np.column_stack([rng.uniform(x0, x1, 500), rng.uniform(y0, y1, 500)])
    f, g = evaluate(surface, points)
    if name in TRANSCENDENTAL:
        np.testing.assert_allclose(f, surface.value(points), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(g, surface.gradient(points), rtol=1e-13, atol=1e-12)
    else:
        np.testing.assert_array_equal(f, surface.value(points))
        np.testing.assert_array_equal(g, surface.gradient(points))


def test_the_work_budget_is_validated_and_kept_out_of_unbudgeted_races():
    base = {"surface": {"name": "quadratic"}, "racers": [{"optimizer": "sgd", "lr": 0.01}]}
    assert validate_race(base).work_budget is None
    assert "work_budget" not in validate_race(base).to_json()  # links and cache keys unchanged
    budgeted = validate_race({**base, "work_budget": 25})
    assert budgeted.work_budget == 25.0 and budgeted.to_json()["work_budget"] == 25.0
    for bad in (0, -1, "10", float("nan"), 1e9):
        with pytest.raises(ConfigError) as refused:
            validate_race({**base, "work_budget": bad})
        assert refused.value.field == "work_budget"


def test_the_racer_result_schema_describes_the_result():
    """The schema the API document can take (optimizers.race.RACER_RESULT_SCHEMA) lists every
    field of a racer's result JSON, with the right JSON types."""
    out = run_race(_config([{"optimizer": "adam", "lr": 0.01}], steps=20)).to_json()["racers"][0]
    assert set(RACER_RESULT_SCHEMA["required"]) == set(out)
    assert set(RACER_RESULT_SCHEMA["properties"]) == set(out)
    kinds = {"number": (int, float), "integer": int, "string": str, "array": list, "object": dict}
    for name, schema in RACER_RESULT_SCHEMA["properties"].items():
        value = out[name]
        if value is None:
            assert schema.get("nullable"), name
        else:
            assert isinstance(value, kinds[schema["type"]]), name
