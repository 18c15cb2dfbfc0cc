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

from optimizers.config import RaceConfig, RacerConfig
from optimizers.engine import Noise, Record, Trajectories, simulate
from optimizers.registry import OPTIMIZERS
from surfaces import get_surface


def swept_value(racer: RacerConfig) -> float:
    """The racer's value of what a sweep varies (``Kernel.swept``: lr, or for a racer
    that takes no rate its named hyper-parameter)."""
    swept = OPTIMIZERS[racer.optimizer].kernel.swept
    return racer.lr if swept == "lr" else float(racer.params[swept])


def with_swept(racer: RacerConfig, value: float) -> RacerConfig:
    """``racer`` with its swept value (``swept_value``) set to ``value``."""
    swept = OPTIMIZERS[racer.optimizer].kernel.swept
    if swept == "lr":
        return dataclasses.replace(racer, lr=float(value))
    return dataclasses.replace(racer, params={**racer.params, swept: float(value)})


@dataclass(frozen=True)
class BatchResult:
    """Runs in the order racer × rate × start × seed; ``trajectories`` holds their histories.
    ``lr`` holds each run's swept value (``swept_value``: its rate for most racers)."""

    racer: np.ndarray
    lr: np.ndarray
    start: np.ndarray
    seed: np.ndarray
    trajectories: Trajectories

    @property
    def final_loss(self) -> np.ndarray:
        return self.trajectories.final_loss

    @property
    def final_point(self) -> np.ndarray:
        return self.trajectories.final_point

    @property
    def best_loss(self) -> np.ndarray:
        return self.trajectories.best_loss


def run_batch(
    config: RaceConfig,
    lrs: Sequence[float] | None = None,
    starts: Sequence[Sequence[float]] | None = None,
    seeds: Sequence[int] | None = None,
    record: Record = Record.PATHS,
) -> BatchResult:
    """Every racer of ``config`` once per combination of the given rates, starts and seeds.

    ``lrs`` are the values of what each racer's sweep varies (``Kernel.swept``): its
    rate, or for a racer that takes none (Gauss–Newton) its damping. A grid left out keeps
    the race's own value. With seeds, run ``i`` draws its own noise
    sequence from its seed, the same one a race with that seed would use. ``record`` says what
    the trajectories keep (a sweep needs only each run's outcome).
    """
    rate_grid = list(lrs) if lrs is not None else [None]
    start_grid = [tuple(s) for s in starts] if starts is not None else [config.start]
    seed_grid = list(seeds) if seeds is not None else [config.noise.seed]
    runs: list[RacerConfig] = []
    index, rates, points, run_seeds = [], [], [], []
    for (r, racer), lr, start, seed in itertools.product(
        enumerate(config.racers), rate_grid, start_grid, seed_grid
    ):
        runs.append(racer if lr is None else with_swept(racer, lr))
        index.append(r)
        rates.append(swept_value(runs[-1]))
        points.append(start)
        run_seeds.append(seed)
    surface = get_surface(config.surface.name, **config.surface.params)
    noise = Noise(config.noise.std, run_seeds) if config.noise.std > 0 else None
    traj = simulate(
        surface,
        runs,
        np.array(points, dtype=float),
        config.steps,
        noise,
        config.tol,
        record=record,
        budget=config.work_budget,
    )
    return BatchResult(
        racer=np.array(index),
        lr=np.array(rates),
        start=np.array(points, dtype=float),
        seed=np.array(run_seeds),
        trajectories=traj,
    )
