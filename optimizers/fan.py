"""Noisy-gradient fans: one racer run under many noise seeds, summarised robustly.

With noise, one run is one draw; what a racer does is a distribution. Run ``k`` uses seed
``seed + k`` (mod 2³²), so run 0 is exactly the race's own run and any run can be replayed as
a race with its seed. A diverged run counts as an infinite loss, so the median says
"diverged" only once most runs have.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.batch import run_batch
from optimizers.config import RaceConfig
from optimizers.engine import Record
from optimizers.validate import NOISE_SEED

SEED_SPACE = NOISE_SEED.high + 1  # seeds wrap within the race's own seed range


def fan_seeds(seed: int, runs: int) -> list[int]:
    return [(seed + k) % SEED_SPACE for k in range(runs)]


@dataclass(frozen=True)
class NoisyFan:
    """``points`` (steps+1, runs, 2) and ``losses`` (steps+1, runs) are NaN after divergence."""

    seeds: tuple[int, ...]
    points: np.ndarray
    losses: np.ndarray
    lengths: np.ndarray
    diverged_at: np.ndarray

    @property
    def runs(self) -> int:
        return len(self.seeds)

    def alive(self) -> np.ndarray:
        """(steps+1, runs): whether each run still holds a valid point at each step."""
        return np.arange(self.points.shape[0])[:, None] < self.lengths[None, :]

    def median_path(self) -> np.ndarray:
        """The coordinate-wise median of the runs still going, while most of them are."""
        alive = self.alive()
        majority = alive.sum(axis=1) * 2 > self.runs
        k = int(np.argmin(majority)) if not majority.all() else len(majority)
        with np.errstate(all="ignore"):
            return np.nanmedian(self.points[:k], axis=1)

    def loss_quantiles(self, qs: tuple[float, ...]) -> np.ndarray:
        """(len(qs), n) quantiles of the loss per step, a diverged run counting as +inf; cut
        at the first step where any of them is no longer finite."""
        losses = np.where(self.alive(), self.losses, np.inf)
        with np.errstate(all="ignore"):
            out = np.quantile(losses, qs, axis=1)
        finite = np.isfinite(out).all(axis=0)
        k = int(np.argmin(finite)) if not finite.all() else out.shape[1]
        return out[:, :k]

    def final_losses(self) -> np.ndarray:
        """Each run's final loss; inf for a run that diverged."""
        last = self.losses[self.lengths - 1, np.arange(self.runs)]
        return np.where(self.diverged_at > 0, np.inf, last)

    def summary(self) -> dict[str, Any]:
        """Median and spread (quartiles) of the final loss, and how many runs diverged."""
        final = self.final_losses()
        with np.errstate(all="ignore"):
            q25, median, q75 = np.quantile(final, (0.25, 0.5, 0.75))

        def shown(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "runs": self.runs,
            "median": shown(median),
            "q25": shown(q25),
            "q75": shown(q75),
            "diverged": int((self.diverged_at > 0).sum()),
        }

    def to_json(self) -> dict[str, Any]:
        """The API's form: the summary, every run's seed and outcome, and per step the median
        path and the loss quartiles (full floats; no run's whole path)."""
        final = self.final_losses()
        q25, q50, q75 = self.loss_quantiles((0.25, 0.5, 0.75))
        return {
            **self.summary(),
            "seeds": list(self.seeds),
            "final_loss": [float(v) if np.isfinite(v) else None for v in final],
            "diverged_at": [int(k) or None for k in self.diverged_at],
            "median_path": self.median_path().tolist(),
            "loss_quartiles": [q25.tolist(), q50.tolist(), q75.tolist()],
        }


def noisy_fans(config: RaceConfig, runs: int) -> list[NoisyFan]:
    """Every racer of ``config`` once per seed ``seed``, ``seed+1``, …, all in one batch."""
    seeds = fan_seeds(config.noise.seed, runs)
    batch = run_batch(config, seeds=seeds, record=Record.POINTS)
    traj = batch.trajectories
    lengths = traj.ends
    points, losses = traj.points, traj.losses  # NaN after each run's end
    fans = []
    for index in range(len(config.racers)):
        mine = slice(index * runs, (index + 1) * runs)  # runs are racer × seed, racer-major
        fans.append(
            NoisyFan(
                seeds=tuple(seeds),
                points=points[:, mine],
                losses=losses[:, mine],
                lengths=lengths[mine],
                diverged_at=traj.diverged_at[mine].copy(),
            )
        )
    return fans


def noisy_fan(config: RaceConfig, index: int, runs: int) -> NoisyFan:
    """Racer ``index`` of ``config`` under ``runs`` seeds (the racer alone, one batch)."""
    return noisy_fans(dataclasses.replace(config, racers=(config.racers[index],)), runs)[0]
