"""``run_race``: the public entry point, from the JSON contract to per-racer results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.config import RaceConfig, RacerConfig
from optimizers.engine import Trajectories, common_noise, simulate
from optimizers.oracle import COST, KINDS
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import validate_race
from surfaces import get_surface


def default_label(racer: RacerConfig) -> str:
    """A readable name: optimizer, rate, the choices that differ from the optimizer's defaults
    (two Newtons, plain and saddle-free, must not share a name) and, if not constant, the
    schedule; SAM if on."""
    spec = OPTIMIZERS[racer.optimizer]
    # An optimizer that takes no rate is named by what sets its step (Gauss–Newton: damping).
    swept = spec.kernel.swept
    step = racer.params[swept] if swept != "lr" else racer.lr
    label = f"{spec.card.title} ({swept} {step:g}"
    for p in spec.params:
        value = racer.params.get(p.name, p.default)
        if value == p.default or p.kind not in ("choice", "bool"):
            continue
        label += ", " + (
            str(value).replace("_", " ")
            if p.kind == "choice"
            else p.name.replace("_", " ")
            if value
            else "no " + p.name.replace("_", " ")
        )
    if racer.schedule.name != "constant":
        label += f", {SCHEDULES[racer.schedule.name].title.lower()}"
    if racer.sam_rho is not None:
        label += f", {'ASAM' if racer.sam_adaptive else 'SAM'} ρ {racer.sam_rho:g}"
    return label + ")"


_NUMBERS = {"type": "array", "items": {"type": "number"}}
_COUNTS = {"type": "array", "items": {"type": "integer", "minimum": 0}}
# The JSON Schema (OpenAPI 3.0 dialect) of ``RacerResult.to_json``: defined here, beside the
# method, so the API document can take it as is (tests/test_oracle.py checks they agree).
RACER_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
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
    ],
    "properties": {
        "label": {"type": "string"},
        "optimizer": {"type": "string"},
        "path": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        },
        "loss": _NUMBERS,
        "lr": {
            **_NUMBERS,
            "description": "per step, the rate the racer stepped with: the scheduled learning "
            "rate, or, for an optimizer that estimates its own rate, that estimate after the "
            "step (Prodigy: d·lr, prodigyopt's group['d'] * group['lr'], the rate the next "
            "step applies before bias correction)",
        },
        "grad_norm": _NUMBERS,
        "diverged_at": {"type": "integer", "nullable": True},
        "steps_to_tol": {"type": "integer", "nullable": True},
        "final_loss": {"type": "number"},
        "best_loss": {"type": "number"},
        "evaluations": {
            "type": "object",
            "description": "per step: function values (f), gradients (g) and Hessians (h) "
            "the optimizer asked for",
            "required": list(KINDS),
            "properties": {kind: _COUNTS for kind in KINDS},
        },
        "work": {
            "type": "number",
            "description": "the work of the whole run, in gradient evaluations: "
            + ", ".join(f"{kind} costs {cost:g}" for kind, cost in COST.items()),
        },
        "work_to_tol": {
            "type": "number",
            "nullable": True,
            "description": "the work done before the racer arrived (null: it never did)",
        },
        "stopped": {
            "type": "object",
            "nullable": True,
            "description": "where an optimizer's own stopping rule ended its run for good "
            "(L-BFGS: torch's tolerance_grad or tolerance_change); later steps stay at that "
            "point and evaluate nothing. null: no rule fired",
            "required": ["step", "reason"],
            "properties": {
                "step": {"type": "integer", "minimum": 1},
                "reason": {
                    "type": "string",
                    "enum": sorted({r for spec in OPTIMIZERS.values() for r in spec.kernel.stops}),
                },
            },
        },
    },
}


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
    # (steps, 3): each step's function values, gradients and Hessians (oracle.KINDS).
    evaluations: np.ndarray
    # The step at which the optimizer's own rule stopped it, and the rule (None: it did not).
    stopped: tuple[int, str] | None = None

    @property
    def work(self) -> np.ndarray:
        """(steps+1,): the work done before each point, in gradient evaluations (0 at x_0)."""
        per_step = self.evaluations @ np.array([COST[k] for k in KINDS])
        return np.concatenate([[0.0], np.cumsum(per_step)])

    @property
    def work_to_tol(self) -> float | None:
        return None if self.steps_to_tol is None else float(self.work[self.steps_to_tol])

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
        stop_at, reason = int(traj.stopped_at[run]), int(traj.stop_reason[run])
        stops = OPTIMIZERS[racer.optimizer].kernel.stops
        return cls(
            label=racer.label or default_label(racer),
            optimizer=racer.optimizer,
            path=traj.points[:k, run],
            loss=traj.losses[:k, run],
            lr=traj.lrs[: k - 1, run],
            grad_norm=traj.grad_norms[: k - 1, run],
            diverged_at=diverged,
            steps_to_tol=None if arrived < 0 else arrived,
            evaluations=traj.evaluations[: k - 1, run],
            stopped=(stop_at, stops[reason - 1]) if 0 < stop_at < k else None,
        )

    def stopped_json(self) -> dict[str, Any] | None:
        """``stopped`` as the result JSON gives it (RACER_RESULT_SCHEMA)."""
        return (
            None if self.stopped is None else {"step": self.stopped[0], "reason": self.stopped[1]}
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
            "evaluations": {kind: self.evaluations[:, i].tolist() for i, kind in enumerate(KINDS)},
            "work": float(self.work[-1]),
            "work_to_tol": self.work_to_tol,
            "stopped": self.stopped_json(),
        }


@dataclass(frozen=True)
class RaceResult:
    config: RaceConfig
    racers: tuple[RacerResult, ...]

    def to_json(self) -> dict[str, Any]:
        """The result JSON of race-config.md, as a dict ready for ``json.dumps``."""
        return result_json(self.config, [r.to_json() for r in self.racers])


def result_json(config: RaceConfig, racers: list[dict[str, Any]]) -> dict[str, Any]:
    """A race's result JSON around its racers' (each ``RacerResult.to_json``): the one
    definition of its shape, for callers that assemble racers from a cache."""
    return {
        "surface": config.surface.to_json(),
        "start": list(config.start),
        "steps": config.steps,
        "racers": racers,
    }


def run_race(config: Mapping[str, Any] | RaceConfig) -> RaceResult:
    """Run a race given its JSON form (validated here) or an already validated config."""
    cfg = config if isinstance(config, RaceConfig) else validate_race(config)
    surface = get_surface(cfg.surface.name, **cfg.surface.params)
    starts = np.tile(np.array(cfg.start, dtype=float), (len(cfg.racers), 1))
    noise = common_noise(cfg.noise.std, cfg.noise.seed, len(cfg.racers))
    traj = simulate(surface, cfg.racers, starts, cfg.steps, noise, cfg.tol, budget=cfg.work_budget)
    return RaceResult(
        cfg,
        tuple(RacerResult.from_trajectories(traj, i, r) for i, r in enumerate(cfg.racers)),
    )
