"""Validated, typed race configuration. Only ``optimizers.validate`` builds these from JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class NamedParams:
    """A registry name with its full parameter set (defaults filled in)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "params": _plain(self.params)}


@dataclass(frozen=True)
class RacerConfig:
    optimizer: str
    lr: float
    params: dict[str, Any]
    schedule: NamedParams = field(default_factory=lambda: NamedParams("constant"))
    clip_norm: float | None = None
    label: str | None = None
    # Sharpness-aware steps (SAM): the optimizer steps with the gradient taken at θ + e, e of
    # length ρ along the gradient (``sam_adaptive``: ASAM's e). None: off. The validator
    # keeps ``sam_adaptive`` False while ``sam_rho`` is None.
    sam_rho: float | None = None
    sam_adaptive: bool = False

    def to_json(self) -> dict[str, Any]:
        """The normalised JSON form. The SAM keys appear only when SAM is on, so the form of a
        racer without it (share links, cache keys) is unchanged."""
        out = {
            "optimizer": self.optimizer,
            "lr": self.lr,
            "params": _plain(self.params),
            "schedule": self.schedule.to_json(),
            "clip_norm": self.clip_norm,
            "label": self.label,
        }
        if self.sam_rho is not None:
            out["sam_rho"] = self.sam_rho
            out["sam_adaptive"] = self.sam_adaptive
        return out


@dataclass(frozen=True)
class NoiseConfig:
    std: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class RaceConfig:
    surface: NamedParams
    start: tuple[float, float]
    steps: int
    tol: float
    noise: NoiseConfig
    racers: tuple[RacerConfig, ...]
    # Every racer stops once its work (gradient evaluations, oracle.COST) reaches this; None:
    # only ``steps`` bounds the race.
    work_budget: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The normalised JSON form: every default explicit, so equal races compare equal.
        ``work_budget`` appears only when set, so the form of a race without one (share
        links, cache keys) is unchanged."""
        out = {
            "surface": self.surface.to_json(),
            "start": list(self.start),
            "steps": self.steps,
            "tol": self.tol,
            "noise": {"std": self.noise.std, "seed": self.noise.seed},
            "racers": [r.to_json() for r in self.racers],
        }
        if self.work_budget is not None:
            out["work_budget"] = self.work_budget
        return out


@dataclass(frozen=True)
class Criterion:
    """How a sweep judges a rate: ``label`` for a control, ``text`` for a sentence."""

    label: str
    text: str


# The criteria a sweep can judge by (the validator's choices, the page's radio, the note).
CRITERIA = {
    "final_loss": Criterion("final loss", "final loss over the whole horizon"),
    "steps_to_tol": Criterion("steps to tolerance", "steps to tolerance (then final loss)"),
}
DEFAULT_CRITERION = "final_loss"


@dataclass(frozen=True)
class RateGrid:
    """A log-spaced grid of learning rates, ends included."""

    low: float = 1e-5
    high: float = 10.0
    count: int = 48

    def rates(self) -> np.ndarray:
        return np.logspace(np.log10(self.low), np.log10(self.high), self.count)

    def to_json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "count": self.count}


@dataclass(frozen=True)
class SweepRequest:
    race: RaceConfig
    grid: RateGrid
    criterion: str


@dataclass(frozen=True)
class FanRequest:
    race: RaceConfig
    runs: int


@dataclass(frozen=True)
class StartsRequest:
    race: RaceConfig
    racer: int
    layout: str
    count: int
    seed: int


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
