"""Batches: each racer of a race repeated over grids of rates, starts and noise seeds.

The learning-rate sweep, the multi-start view and noisy-gradient fans are all one call to the
engine with many runs; nothing here loops over runs in Python beyond building the list.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.numpy_engine.engine import Trajectories, simulate
from optimizers.config import RaceConfig, RacerConfig
from surfaces import get_surface


@dataclass(frozen=True)
class BatchResult:
    """Runs in the order racer × rate × start × seed; ``trajectories`` holds their histories."""

    racer: np.ndarray
    lr: np.ndarray
    start: np.ndarray
    seed: np.ndarray
    trajectories: Trajectories

    def _last(self) -> np.ndarray:
        return np.array([self.trajectories.length(i) - 1 for i in range(len(self.racer))])

    @property
    def final_loss(self) -> np.ndarray:
        return self.trajectories.losses[self._last(), np.arange(len(self.racer))]

    @property
    def final_point(self) -> np.ndarray:
        return self.trajectories.points[self._last(), np.arange(len(self.racer))]

    @property
    def best_loss(self) -> np.ndarray:
        losses = self.trajectories.losses
        valid = np.arange(losses.shape[0])[:, None] <= self._last()
        return np.where(valid, losses, np.inf).min(axis=0)


def run_batch(
    config: RaceConfig,
    lrs: Sequence[float] | None = None,
    starts: Sequence[Sequence[float]] | None = None,
    seeds: Sequence[int] | None = None,
) -> BatchResult:
    """Every racer of ``config`` once per combination of the given rates, starts and seeds.

    A grid left out keeps the race's own value. With seeds, run ``i`` draws its own noise
    sequence from its seed, the same one a race with that seed would use.
    """
    rate_grid = list(lrs) if lrs is not None else [None]
    start_grid = [tuple(s) for s in starts] if starts is not None else [config.start]
    seed_grid = list(seeds) if seeds is not None else [config.noise.seed]
    runs: list[RacerConfig] = []
    index, rates, points, run_seeds = [], [], [], []
    for (r, racer), lr, start, seed in itertools.product(
        enumerate(config.racers), rate_grid, start_grid, seed_grid
    ):
        runs.append(racer if lr is None else dataclasses.replace(racer, lr=float(lr)))
        index.append(r)
        rates.append(runs[-1].lr)
        points.append(start)
        run_seeds.append(seed)
    surface = get_surface(config.surface.name, **config.surface.params)
    noise = None
    if config.noise.std > 0:
        unique = {
            s: np.random.default_rng(s).standard_normal((config.steps, 2)) for s in set(run_seeds)
        }
        noise = config.noise.std * np.stack([unique[s] for s in run_seeds], axis=1)
    traj = simulate(surface, runs, np.array(points, dtype=float), config.steps, noise, config.tol)
    return BatchResult(
        racer=np.array(index),
        lr=np.array(rates),
        start=np.array(points, dtype=float),
        seed=np.array(run_seeds),
        trajectories=traj,
    )
