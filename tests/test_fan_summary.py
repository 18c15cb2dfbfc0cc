"""A fan keeps its summaries, not its runs' paths: the summaries are NumPy's statistics of those
paths bit for bit, and a big fan runs in batches that bound the paths held at once."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers import fan as fan_module
from optimizers.fan import QUARTILES, noisy_fans, sampled_steps, sorted_quantiles
from optimizers.validate import validate_race


def race(**extra) -> dict:
    return {
        "surface": {"name": "rosenbrock"},
        "steps": 300,
        "noise": {"std": 30.0, "seed": 3},
        # sgd at 0.0022 under this noise: most runs blow up, at different steps.
        "racers": [
            {"optimizer": "sgd", "lr": 0.0022},
            {"optimizer": "adam", "lr": 0.02},
            {"optimizer": "momentum", "lr": 0.0005},
        ],
        **extra,
    }


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 32, 33, 64])
def test_sorted_quantiles_are_numpys(n):
    rng = np.random.default_rng(n)
    values = rng.standard_normal((200, n)) * 10.0 ** rng.uniform(-8, 8, (200, 1))
    values[rng.random((200, n)) < 0.3] = np.inf  # ended runs count as +inf
    values.sort(axis=1)
    for qs in (QUARTILES, (0.0, 0.1, 0.5, 0.9, 1.0)):
        with np.errstate(all="ignore"):
            expected = np.quantile(values, qs, axis=1)
        np.testing.assert_array_equal(sorted_quantiles(values, qs), expected)


def old_median_path(points: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The fan's first definition, over every path."""
    alive = np.arange(points.shape[0])[:, None] < lengths[None, :]
    majority = alive.sum(axis=1) * 2 > len(lengths)
    k = int(np.argmin(majority)) if not majority.all() else len(majority)
    with np.errstate(all="ignore"):
        return np.nanmedian(points[:k], axis=1)


def old_quartiles(losses: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    alive = np.arange(losses.shape[0])[:, None] < lengths[None, :]
    with np.errstate(all="ignore"):
        out = np.quantile(np.where(alive, losses, np.inf), QUARTILES, axis=1)
    finite = np.isfinite(out).all(axis=0)
    k = int(np.argmin(finite)) if not finite.all() else out.shape[1]
    return out[:, :k]


@pytest.mark.parametrize(("runs", "extra"), [(32, {}), (7, {}), (6, {"work_budget": 120})])
def test_summaries_are_numpys_statistics_of_the_paths(runs, extra):
    fans = noisy_fans(validate_race(race(**extra)), runs, paths=True)
    assert sum(int((f.diverged_at > 0).sum()) for f in fans) > 0  # the cut is exercised
    for fan in fans:
        np.testing.assert_array_equal(fan.median_path(), old_median_path(fan.points, fan.lengths))
        np.testing.assert_array_equal(fan.loss_quantiles(), old_quartiles(fan.losses, fan.lengths))
        last = fan.losses[fan.lengths - 1, np.arange(runs)]
        np.testing.assert_array_equal(
            fan.final_losses(), np.where(fan.diverged_at > 0, np.inf, last)
        )
        np.testing.assert_array_equal(fan.copy_steps, sampled_steps(fan.points.shape[0] - 1))
        np.testing.assert_array_equal(fan.copies, fan.points[fan.copy_steps])


def test_a_big_fan_runs_in_batches_and_keeps_no_paths(monkeypatch):
    config = validate_race(race())
    whole = noisy_fans(config, 8)
    assert all(f.points is None and f.losses is None for f in whole)
    sizes = []
    real = fan_module.run_batch

    def counted(some, **kwargs):
        sizes.append(len(some.racers))
        return real(some, **kwargs)

    monkeypatch.setattr(fan_module, "run_batch", counted)
    monkeypatch.setattr(fan_module, "BATCH_RUN_STEPS", 2 * 8 * 301)  # two racers a batch
    batched = noisy_fans(config, 8)
    assert sizes == [2, 1]
    assert [f.to_json() for f in batched] == [f.to_json() for f in whole]
    for a, b in zip(batched, whole, strict=True):
        np.testing.assert_array_equal(a.copies, b.copies)
