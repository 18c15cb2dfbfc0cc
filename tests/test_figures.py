"""The source material's figures, reproduced through the public engine (seed-examples.md)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers import run_race
from optimizers.schedules import SCHEDULES

THREE_OPTIMIZERS = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 0}},
    "start": [1.0, 1.0],
    "steps": 300,
    "racers": [
        {"optimizer": "sgd", "lr": 0.04},
        {"optimizer": "sgd", "lr": 0.02, "params": {"momentum": 0.9}},
        {"optimizer": "adam", "lr": 0.2, "params": {"betas": [0.9, 0.999], "eps": 1e-8}},
    ],
}


def test_three_optimizers_on_the_ill_conditioned_quadratic():
    finals = [r.final_loss for r in run_race(THREE_OPTIMIZERS).racers]
    for got, expected in zip(finals, [1.15e-11, 2.07e-13, 3.63e-16], strict=True):
        assert f"{got:.2e}" == f"{expected:.2e}"
    assert finals[2] < finals[1] < finals[0]


def _warmup_cosine(t: np.ndarray) -> np.ndarray:
    spec = SCHEDULES["warmup_cosine"]
    params = {"warmup_steps": 50, "min_lr": 0.0, "total_steps": 1000}
    return spec.lr(t, np.array([1e-3]), params, 1000)[:, 0]


def test_warmup_cosine_shape():
    rates = _warmup_cosine(np.arange(1001))
    assert rates[0] == 0.0
    assert rates[50] == pytest.approx(1e-3, rel=1e-15)
    assert int(np.argmax(rates)) == 50
    assert np.all(np.diff(rates[:51]) > 0)
    assert np.all(np.diff(rates[50:]) <= 0)
    assert rates[525] == pytest.approx(0.5e-3, rel=1e-3)
    steepest = 50 + int(np.argmin(np.diff(rates[50:])))
    assert abs(steepest - 525) <= 1
    assert rates[1000] == 0.0
    assert rates[999] < 1e-8


def test_warmup_cosine_drives_a_race():
    race = {
        "surface": {"name": "quadratic"},
        "steps": 1000,
        "racers": [
            {
                "optimizer": "adam",
                "lr": 1e-3,
                "schedule": {"name": "warmup_cosine", "params": {"warmup_steps": 50}},
            }
        ],
    }
    rates = run_race(race).racers[0].lr
    np.testing.assert_array_equal(rates, _warmup_cosine(np.arange(1000)))


def _first_step(bias_correction: bool) -> np.ndarray:
    race = {
        "surface": {"name": "quadratic"},
        "start": [1.0, 1.0],
        "steps": 1,
        "racers": [
            {"optimizer": "adam", "lr": 0.01, "params": {"bias_correction": bias_correction}}
        ],
    }
    path = run_race(race).racers[0].path
    return path[0] - path[1]


def test_bias_correction_makes_the_first_step_the_rate():
    # m̂ = g and v̂ = g² after one step, so each coordinate moves by lr·g/|g| = lr.
    np.testing.assert_allclose(_first_step(True), [0.01, 0.01], rtol=1e-6)
    # Without it m = 0.1g and v = 0.001g²: the step is 0.1/√0.001 ≈ 3.16 times the rate.
    np.testing.assert_allclose(_first_step(False), [0.01 * 0.1 / np.sqrt(0.001)] * 2, rtol=1e-6)
