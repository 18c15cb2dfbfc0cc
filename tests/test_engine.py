"""Engine behaviour: independence of racers, divergence, noise, arrival and batches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.jit import jit
from common.params import Param
from optimizers import engine, oracle, run_batch, run_race
from optimizers.base import Card, Kernel, OptimizerSpec
from optimizers.registry import OPTIMIZERS
from optimizers.validate import validate_race
from surfaces import get_surface

MIXED = [
    {"optimizer": "sgd", "lr": 1e-3},
    {"optimizer": "momentum", "lr": 5e-4, "schedule": {"name": "one_cycle"}},
    {"optimizer": "nesterov", "lr": 5e-4, "clip_norm": 10.0},
    {"optimizer": "adagrad", "lr": 0.3},
    {"optimizer": "rmsprop", "lr": 0.01, "params": {"centered": True}},
    {"optimizer": "adadelta", "lr": 1.0},
    {"optimizer": "adam", "lr": 0.02, "params": {"amsgrad": True}},
    {"optimizer": "adam", "lr": 0.05},
    {"optimizer": "adamw", "lr": 0.02, "schedule": {"name": "warmup_cosine"}},
    {"optimizer": "adamax", "lr": 0.02},
    {"optimizer": "nadam", "lr": 0.02},
    {"optimizer": "lion", "lr": 0.01},
]


def race(racers, **extra):
    return {"surface": {"name": "rosenbrock"}, "steps": 400, "racers": racers, **extra}


def test_a_racer_alone_equals_the_same_racer_in_a_race():
    """The per-racer cache relies on this: other racers never change a racer's result."""
    together = run_race(race(MIXED, noise={"std": 0.3, "seed": 5})).racers
    for racer, result in zip(MIXED, together, strict=True):
        alone = run_race(race([racer], noise={"std": 0.3, "seed": 5})).racers[0]
        np.testing.assert_array_equal(alone.path, result.path)
        np.testing.assert_array_equal(alone.lr, result.lr)
        assert alone.steps_to_tol == result.steps_to_tol


FAMILIES = [
    {"optimizer": "sgd", "lr": 1e-3, "params": {"weight_decay": 0.1}},
    {"optimizer": "momentum", "lr": 5e-4, "params": {"dampening": 0.3}},
    {"optimizer": "nesterov", "lr": 5e-4, "schedule": {"name": "one_cycle"}},
    {"optimizer": "sgd", "lr": 2e-4, "params": {"momentum": 0.5}},
    {"optimizer": "adam", "lr": 0.02, "params": {"weight_decay": 0.05}},
    {"optimizer": "adamw", "lr": 0.03, "params": {"weight_decay": 0.2}},
    {"optimizer": "adam", "lr": 0.05, "schedule": {"name": "cosine"}},
    {"optimizer": "adamw", "lr": 0.01},
]


def test_presets_share_a_kernel_and_each_run_keeps_its_own_path():
    """SGD/momentum/Nesterov and Adam/AdamW each run through one compiled loop, and every
    run's path is still bit for bit the one it takes alone."""
    kernels = {OPTIMIZERS[r["optimizer"]].kernel.step for r in FAMILIES}
    assert len(kernels) == 2
    assert engine.driver(OPTIMIZERS["sgd"].kernel.step) is engine.driver(
        OPTIMIZERS["nesterov"].kernel.step
    )
    together = run_race(race(FAMILIES, noise={"std": 0.2, "seed": 9})).racers
    for racer, result in zip(FAMILIES, together, strict=True):
        alone = run_race(race([racer], noise={"std": 0.2, "seed": 9})).racers[0]
        np.testing.assert_array_equal(alone.path, result.path)


def test_order_of_racers_does_not_matter():
    forward = run_race(race(MIXED)).racers
    backward = run_race(race(MIXED[::-1])).racers[::-1]
    for a, b in zip(forward, backward, strict=True):
        np.testing.assert_array_equal(a.path, b.path)


def test_divergence_is_reported_and_cut():
    result = run_race(race([{"optimizer": "sgd", "lr": 1.0}, {"optimizer": "sgd", "lr": 1e-4}]))
    blown, fine = result.racers
    k = blown.diverged_at
    assert k is not None and k < 20
    assert len(blown.path) == k and len(blown.lr) == k - 1
    assert np.all(np.isfinite(blown.path)) and np.all(np.isfinite(blown.loss))
    assert fine.diverged_at is None and len(fine.path) == 401
    json.dumps(result.to_json(), allow_nan=False)


def test_unbounded_surface_stops_at_the_box():
    # y doubles every step (1 + 2·lr), so the run leaves the 1e6-times view box within ~30 steps.
    config = {
        "surface": {"name": "saddle"},
        "steps": 2000,
        "racers": [{"optimizer": "sgd", "lr": 0.5}],
    }
    racer = run_race(config).racers[0]
    assert racer.diverged_at is not None
    assert np.max(np.abs(racer.path)) <= 2e6
    assert racer.steps_to_tol is None


def test_noise_is_common_and_reproducible():
    twins = [{"optimizer": "sgd", "lr": 1e-3}, {"optimizer": "sgd", "lr": 1e-3}]
    a = run_race(race(twins, noise={"std": 1.0, "seed": 3}))
    b = run_race(race(twins, noise={"std": 1.0, "seed": 3}))
    c = run_race(race(twins, noise={"std": 1.0, "seed": 4}))
    np.testing.assert_array_equal(a.racers[0].path, a.racers[1].path)
    assert a.to_json() == b.to_json()
    assert not np.array_equal(a.racers[0].path, c.racers[0].path)


def test_steps_to_tol_is_the_first_arrival():
    racer = run_race(
        {
            "surface": {"name": "quadratic"},
            "tol": 1e-4,
            "racers": [{"optimizer": "momentum", "lr": 0.02}],
        }
    ).racers[0]
    below = np.nonzero(racer.loss <= 1e-4)[0]
    assert racer.steps_to_tol == below[0]
    assert racer.best_loss == racer.loss.min() and racer.final_loss == racer.loss[-1]


def test_result_json_follows_the_contract():
    out = run_race(race(MIXED[:2])).to_json()
    assert set(out) == {"surface", "start", "steps", "racers"}
    keys = {
        "label",
        "optimizer",
        "path",
        "loss",
        "lr",
        "grad_norm",
        "diverged_at",
        "steps_to_tol",
        "final_loss",
        "best_loss",
        "evaluations",
        "work",
        "work_to_tol",
        "stopped",
    }
    assert all(set(r) == keys for r in out["racers"])
    assert all(set(r["evaluations"]) == {"f", "g", "h"} for r in out["racers"])
    assert out["racers"][0]["label"] == "SGD (lr 0.001)"
    assert out["racers"][1]["label"] == "Momentum (lr 0.0005, one cycle)"


def test_batch_over_rates_equals_separate_races():
    config = validate_race(
        race([{"optimizer": "adam", "lr": 0.01}, {"optimizer": "momentum", "lr": 1e-4}])
    )
    rates = np.logspace(-4, -1, 7)
    batch = run_batch(config, lrs=rates)
    assert len(batch.racer) == 14
    for i in (0, 6, 9):
        optimizer = config.racers[batch.racer[i]].optimizer
        single = run_race(race([{"optimizer": optimizer, "lr": float(batch.lr[i])}])).racers[0]
        k = len(single.path)
        np.testing.assert_array_equal(batch.trajectories.points[:k, i], single.path)
        assert batch.final_loss[i] == single.final_loss


def test_batch_over_starts_and_seeds():
    config = validate_race(race([{"optimizer": "adam", "lr": 0.05}], noise={"std": 0.5, "seed": 0}))
    starts = [[-1.0, 1.0], [0.5, 2.5]]
    batch = run_batch(config, starts=starts, seeds=[11, 12])
    assert batch.start.tolist() == [[-1.0, 1.0], [-1.0, 1.0], [0.5, 2.5], [0.5, 2.5]]
    for i in range(4):
        single = run_race(
            race(
                [{"optimizer": "adam", "lr": 0.05}],
                start=batch.start[i].tolist(),
                noise={"std": 0.5, "seed": int(batch.seed[i])},
            )
        )
        assert batch.final_loss[i] == single.racers[0].final_loss
        np.testing.assert_array_equal(batch.final_point[i], single.racers[0].path[-1])


def test_himmelblau_starts_reach_all_four_minima():
    config = validate_race(
        {
            "surface": {"name": "himmelblau"},
            "steps": 500,
            "racers": [{"optimizer": "adam", "lr": 0.05}],
        }
    )
    grid = [[x, y] for x in np.linspace(-4.5, 4.5, 8) for y in np.linspace(-4.5, 4.5, 8)]
    batch = run_batch(config, starts=grid)
    minima = np.array(get_surface("himmelblau").minima)
    nearest = np.argmin(np.linalg.norm(batch.final_point[:, None] - minima[None], axis=-1), axis=1)
    assert set(nearest.tolist()) == {0, 1, 2, 3}


@jit
def _sign_step(o, w, s, h, lr, cyc, t):
    gx, gy = oracle.gradient(o, w[0], w[1])
    w[0] = w[0] - lr * h[0] * oracle.sign(gx)
    w[1] = w[1] - lr * h[0] * oracle.sign(gy)
    return w[0], w[1]


def test_adding_an_optimizer_is_one_registry_entry(monkeypatch):
    """A new spec (a kernel and its entry) is validated, raced and listed with no other
    change."""
    spec = OptimizerSpec(
        name="signsgd",
        params=(Param("scale", 1.0, low=0.0, high=2.0, help="multiplies the sign step"),),
        kernel=Kernel(step=_sign_step),
        card=Card(title="SignSGD", default_lr=1e-2, help="Steps by the sign of the gradient."),
    )
    monkeypatch.setitem(OPTIMIZERS, "signsgd", spec)
    result = run_race(
        {
            "surface": {"name": "quadratic"},
            "steps": 3,
            "racers": [{"optimizer": "signsgd", "lr": 0.1, "params": {"scale": 2.0}}],
        }
    )
    np.testing.assert_allclose(result.racers[0].path[-1], [1.0 - 0.6, 1.0 - 0.6])
    assert spec.to_json()["params"][0]["name"] == "scale"
    with pytest.raises(Exception, match="scale"):
        validate_race(
            {
                "surface": {"name": "quadratic"},
                "racers": [{"optimizer": "signsgd", "lr": 0.1, "params": {"scale": 5}}],
            }
        )


# A step that reports its own rate (as Prodigy does its d·lr): lr·t, infinite from step
# ``h[0]`` on, while the point itself stays finite.
@jit
def _rate_step(o, w, s, h, lr, cyc, t):
    gx, gy = oracle.gradient(o, w[0], w[1])
    w[0] = w[0] - lr * gx
    w[1] = w[1] - lr * gy
    s[0] = lr * t if t < h[0] else np.inf
    return w[0], w[1]


def test_an_optimizers_own_rate_is_shown_instead_of_the_schedule(monkeypatch):
    """``Kernel.shown_rate``: the engine records the scalar the kernel wrote as the
    step's rate (any optimizer, from its registry entry alone), and a rate that stops being
    finite ends the run as diverged at that step (no Infinity reaches the results)."""
    spec = OptimizerSpec(
        name="self_rated",
        params=(Param("blow_up_at", 5.0, low=1.0, high=1e9, help="step of the infinite rate"),),
        kernel=Kernel(step=_rate_step, scalars=("rate",), shown_rate="rate"),
        card=Card(
            title="Self-rated",
            default_lr=1e-2,
            rate_name="lr·t",
            help="Gradient descent that reports lr·t as its rate.",
        ),
    )
    monkeypatch.setitem(OPTIMIZERS, "self_rated", spec)
    racers = [
        {"optimizer": "self_rated", "lr": 1e-3, "params": {"blow_up_at": 1e9}},
        {"optimizer": "sgd", "lr": 1e-3},
        {"optimizer": "self_rated", "lr": 1e-3, "params": {"blow_up_at": 4}},
    ]
    rated, plain, blown = run_race(race(racers)).racers
    np.testing.assert_array_equal(rated.lr, 1e-3 * np.arange(1, 401))
    np.testing.assert_array_equal(plain.lr, np.full(400, 1e-3))  # the scheduled rate
    assert rated.diverged_at is None and plain.diverged_at is None
    assert blown.diverged_at == 4 and blown.lr.tolist() == [1e-3, 2e-3, 3e-3]


def test_prodigy_shows_d_lr_and_every_other_racer_its_schedule():
    """In a race beside scheduled racers, Prodigy's rate is its d (after each step) times the
    step's scheduled lr, and every other racer's rate is exactly the one the engine handed its
    kernel (``step_values``; tests/test_conformance_torch.py checks those against torch's
    schedulers)."""
    cosine = {"name": "cosine"}
    racers = [
        {"optimizer": "prodigy", "lr": 1.0, "schedule": cosine},
        {"optimizer": "adam", "lr": 0.05, "schedule": cosine},
        *MIXED[:3],
    ]
    config = validate_race(race(racers))
    results = run_race(config).racers
    scheduled, _ = engine.step_values(config.racers, config.steps)
    surface = get_surface("rosenbrock")
    traj = engine.simulate(
        surface,
        config.racers[:1],
        np.array([config.start]),
        config.steps,
        record=engine.Record.STATE,
    )
    d = OPTIMIZERS["prodigy"].kernel.unpack_state(traj.states[:, 0])["d"]
    np.testing.assert_array_equal(results[0].lr, d * scheduled[:, 0])
    assert d[-1] > 100 * d[0] and results[0].lr.max() > 100 * results[0].lr[0]  # d grew
    for i, result in enumerate(results[1:], start=1):
        np.testing.assert_array_equal(result.lr, scheduled[: len(result.lr), i])


def test_every_race_calls_its_kernels_with_one_signature():
    """The first driver's argument types are the ones every later driver is loaded for
    (``engine.driver``); an argument of another numba type makes a process compile that
    kernel anew, tens of seconds (CI's line-search page never loaded). Two did: a caller's
    read-only start, and the shown rates of a scheduled race, a transposed (Fortran-ordered)
    table. Races of every shape here, then one signature per driver, the same for all."""
    from numba import types

    def run(racers, start, steps=6, **extra):
        config = validate_race(
            {"surface": {"name": "rosenbrock"}, "steps": steps, "racers": racers}
        )
        surface = get_surface("rosenbrock")
        for record in engine.Record:
            engine.simulate(surface, config.racers, start, steps, record=record, **extra)

    frozen = np.array([[-1.0, 1.0]])
    frozen.setflags(write=False)
    run([{"optimizer": "adam", "lr": 0.01}], frozen)
    scheduled = [
        {"optimizer": name, "lr": 0.01, "schedule": {"name": "cosine"}}
        for name in ("sgd", "adam", "prodigy", "lbfgs")
    ]
    run(scheduled, np.array([[-1.0, 1.0]] * 4, order="F"))
    run(scheduled[:2], np.array([[-1.0, 1.0]] * 2), noise=engine.Noise(0.1, [1, 2]))
    run(scheduled[:2], np.array([[-1.0, 1.0]] * 2), budget=3.0)
    signatures = {str(s) for made in engine._DRIVERS.values() for s in made.signatures}
    assert len(signatures) == 1, signatures
    for made in engine._DRIVERS.values():
        assert len(made.signatures) == 1, made
        arrays = [a for a in made.signatures[0] if isinstance(a, types.Array)]
        assert all(a.mutable and a.layout == "C" for a in arrays), arrays
