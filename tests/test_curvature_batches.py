"""The curvature racers in every batch: sweeps vary what the registry names (lr, or damping),
noisy fans and many starts take them."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers.fan import noisy_fans
from optimizers.registry import OPTIMIZERS
from optimizers.starts import DIVERGED, many_starts
from optimizers.sweep import sweep
from optimizers.validate import sweep_options, validate_race

NEW = ["lbfgs", "newton", "gd_line_search", "gauss_newton"]


def _race(name: str, surface: str = "himmelblau", **extra):
    racer = {"optimizer": name, "lr": OPTIMIZERS[name].card.default_lr}
    return validate_race({"surface": {"name": surface}, "steps": 60, "racers": [racer], **extra})


def test_the_swept_parameter_comes_from_the_registry():
    swept = {name: spec.kernel.swept for name, spec in OPTIMIZERS.items()}
    assert swept["gauss_newton"] == "damping"
    assert {name for name, p in swept.items() if p != "lr"} == {"gauss_newton"}
    for spec in OPTIMIZERS.values():
        assert spec.kernel.swept == "lr" or spec.kernel.swept in {p.name for p in spec.params}


@pytest.mark.parametrize("name", NEW)
def test_a_sweep_takes_each_curvature_racer(name):
    config = _race(name, "rosenbrock")
    result = sweep(config, sweep_options({"grid": {"count": 5}}, config).grid)
    (racer,) = result.racers
    assert racer.parameter == OPTIMIZERS[name].kernel.swept
    assert len(racer.grid) == 5
    assert result.best_values()[0] is not None  # some value does not diverge


@pytest.mark.parametrize("name", NEW)
def test_a_noisy_fan_takes_each_curvature_racer(name):
    config = _race(name, noise={"std": 0.3, "seed": 5})
    (fan,) = noisy_fans(config, 6, paths=True)
    assert fan.runs == 6
    # Each run draws its own noise: the runs part.
    assert len({tuple(p) for p in fan.points[5]}) > 1
    assert np.isfinite(fan.points[0]).all()


@pytest.mark.parametrize("name", NEW)
def test_many_starts_take_each_curvature_racer(name):
    result = many_starts(_race(name), 0, "grid", 16)
    assert len(result.basin) == 16
    assert (result.basin >= 0).sum() >= 8  # most runs rest somewhere
    assert not (result.basin == DIVERGED).all()
