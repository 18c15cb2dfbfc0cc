"""``run_race``: the public entry point, from the JSON contract to per-racer results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.config import RaceConfig, RacerConfig
from optimizers.engine import Trajectories, common_noise, simulate
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import validate_race
from surfaces import get_surface


def default_label(racer: RacerConfig) -> str:
    """A readable name: optimizer, rate and, if not constant, the schedule."""
    label = f"{OPTIMIZERS[racer.optimizer].title} (lr {racer.lr:g}"
    if racer.schedule.name != "constant":
        label += f", {SCHEDULES[racer.schedule.name].title.lower()}"
    return label + ")"


@dataclass(frozen=True)
class RacerResult:
    """One racer's history, cut at divergence so that every number in it is finite."""

    label: str
    optimizer: str
    path: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    grad_norm: np.ndarray
    diverged_at: int | None
    steps_to_tol: int | None

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    @property
    def best_loss(self) -> float:
        return float(self.loss.min())

    @classmethod
    def from_trajectories(cls, traj: Trajectories, run: int, racer: RacerConfig) -> RacerResult:
        k = traj.length(run)
        diverged = int(traj.diverged_at[run]) or None
        arrived = int(traj.steps_to_tol[run])
        return cls(
            label=racer.label or default_label(racer),
            optimizer=racer.optimizer,
            path=traj.points[:k, run],
            loss=traj.losses[:k, run],
            lr=traj.lrs[: k - 1, run],
            grad_norm=traj.grad_norms[: k - 1, run],
            diverged_at=diverged,
            steps_to_tol=None if arrived < 0 else arrived,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "optimizer": self.optimizer,
            "path": self.path.tolist(),
            "loss": self.loss.tolist(),
            "lr": self.lr.tolist(),
            "grad_norm": self.grad_norm.tolist(),
            "diverged_at": self.diverged_at,
            "steps_to_tol": self.steps_to_tol,
            "final_loss": self.final_loss,
            "best_loss": self.best_loss,
        }


@dataclass(frozen=True)
class RaceResult:
    config: RaceConfig
    racers: tuple[RacerResult, ...]

    def to_json(self) -> dict[str, Any]:
        """The result JSON of race-config.md, as a dict ready for ``json.dumps``."""
        return {
            "surface": self.config.surface.to_json(),
            "start": list(self.config.start),
            "steps": self.config.steps,
            "racers": [r.to_json() for r in self.racers],
        }


def run_race(config: Mapping[str, Any] | RaceConfig) -> RaceResult:
    """Run a race given its JSON form (validated here) or an already validated config."""
    cfg = config if isinstance(config, RaceConfig) else validate_race(config)
    surface = get_surface(cfg.surface.name, **cfg.surface.params)
    starts = np.tile(np.array(cfg.start, dtype=float), (len(cfg.racers), 1))
    noise = common_noise(cfg.noise.std, cfg.noise.seed, cfg.steps)
    traj = simulate(surface, cfg.racers, starts, cfg.steps, noise, cfg.tol)
    return RaceResult(
        cfg,
        tuple(RacerResult.from_trajectories(traj, i, r) for i, r in enumerate(cfg.racers)),
    )
