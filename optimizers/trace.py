"""The step inspector's data: one racer's internal state after every step.

Read from the engine's own loop (``simulate(observe=…)``), not recomputed beside it, so what
the inspector shows is what the race did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.config import RaceConfig
from optimizers.engine import Record, common_noise, simulate, step_values
from optimizers.registry import OPTIMIZERS
from surfaces import get_surface

# The state entry drawn as the racer's velocity or first moment, if it has one.
MOMENT_NAMES = ("m", "buf")

NUMBER = {"type": "number"}
PAIR = {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2}
PAIRS = {"type": "array", "items": PAIR}
NUMBERS = {"type": "array", "items": NUMBER}
# The JSON Schema (OpenAPI 3.0 dialect) of ``Trace.to_json``, beside it: /api/inspect's
# document takes it (web/openapi.py), tests/test_trace.py validates traces against it.
TRACE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "optimizer",
        "path",
        "gradient",
        "clip_factor",
        "lr",
        "state",
        "derived",
        "moment",
        "sam",
    ],
    "additionalProperties": False,
    "properties": {
        "optimizer": {"type": "string"},
        "path": {**PAIRS, "description": "x_0 … x_n"},
        "gradient": {
            **PAIRS,
            "description": "row t−1: the gradient at x_{t−1}, noise added, before clipping",
        },
        "clip_factor": {**NUMBERS, "description": "what clipping multiplied it by (1: none)"},
        "lr": {**NUMBERS, "description": "the rate of each step"},
        "state": {
            "type": "object",
            "description": "each named buffer of the optimizer after every step",
            "additionalProperties": PAIRS,
        },
        "derived": {
            "type": "object",
            "description": "what the optimizer's inspector derives from its state, per step: "
            "a vector or one number (e.g. Prodigy's d·lr)",
            "additionalProperties": {"type": "array", "items": {"oneOf": [PAIR, NUMBER]}},
        },
        "moment": {
            "type": "string",
            "nullable": True,
            "description": "the state entry drawn as the racer's velocity (null: none)",
        },
        "sam": {
            "type": "object",
            "nullable": True,
            "description": "a racer with sharpness-aware steps (sam_rho; null: none): where "
            "each step asked for its gradient and where SAM took it instead",
            "required": ["point", "probe"],
            "additionalProperties": False,
            "properties": {
                "point": {
                    **PAIRS,
                    "description": "row t−1: θ, where step t asked for its gradient (the "
                    "racer's point; Schedule-Free's y)",
                },
                "probe": {
                    **PAIRS,
                    "description": "row t−1: θ + e, where SAM took the gradient step t "
                    "stepped with",
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Trace:
    """Row t−1 of every per-step array belongs to step t (1 … n). Cut before divergence, so
    every number in it is finite."""

    optimizer: str
    path: np.ndarray  # (n+1, 2): x_0 … x_n
    gradient: np.ndarray  # (n, 2): the gradient at x_{t−1}, noise added, before clipping
    # (n,): what clipping multiplied the gradient the optimizer stepped with by (1: none); with
    # SAM that gradient is the one at θ + e, while ``gradient`` stays the one at x_{t−1}
    clip_factor: np.ndarray
    lr: np.ndarray  # (n,)
    state: dict[str, np.ndarray]  # each (n, 2), after step t
    derived: dict[str, np.ndarray]  # each (n, 2), from the optimizer's inspect hook
    moment: str | None
    # (n, MAX_PROBES, 2): the points each step evaluated, in order (NaN past the count), and
    # (n,) how many: the line searches' trials, SAM's θ and θ + e (Trajectories.probes).
    probes: np.ndarray
    probe_counts: np.ndarray
    sam: bool = False  # the racer takes sharpness-aware steps: probes 0 and 1 are θ, θ + e

    def to_json(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "path": self.path.tolist(),
            "gradient": self.gradient.tolist(),
            "clip_factor": self.clip_factor.tolist(),
            "lr": self.lr.tolist(),
            "state": {k: v.tolist() for k, v in self.state.items()},
            "derived": {k: v.tolist() for k, v in self.derived.items()},
            "moment": self.moment,
            "sam": (
                {"point": self.probes[:, 0].tolist(), "probe": self.probes[:, 1].tolist()}
                if self.sam
                else None
            ),
        }


def trace_racer(config: RaceConfig, index: int) -> Trace:
    """Run racer ``index`` of ``config`` alone (racers never interact) and record its state."""
    racer = config.racers[index]
    spec = OPTIMIZERS[racer.optimizer]
    steps = config.steps
    surface = get_surface(config.surface.name, **config.surface.params)
    noise = common_noise(config.noise.std, config.noise.seed, 1)
    start = np.array([config.start], dtype=float)
    traj = simulate(
        surface,
        [racer],
        start,
        steps,
        noise,
        config.tol,
        record=Record.STATE,
        budget=config.work_budget,
    )
    first = traj.first[:, 0]
    raw, factor = first[:, :2], first[:, 2]
    lr, cyc = step_values([racer], steps)
    t = np.arange(1, steps + 1)
    named = spec.kernel.unpack_state(traj.states[:, 0])
    state = {k: v for k, v in named.items() if k in spec.kernel.state}
    derived: dict[str, np.ndarray] = {}
    if spec.card.inspect is not None:
        with np.errstate(all="ignore"):
            # Given the scalars too (Prodigy's d): what the panel shows is derived from them.
            derived = spec.card.inspect(named, racer.params, lr[:, 0], cyc[:, 0], t)
    # Steps before divergence, and before any recorded number stops being finite.
    n = traj.length(0) - 1
    rows = [raw, factor[:, None], *state.values(), *derived.values()]
    if racer.sam_rho is not None:  # θ and θ + e are drawn
        rows.append(traj.probes[:, 0, :2])
    # Rows of one number a step (a scalar's series) and of two (a vector's) alike.
    finite = np.all([np.isfinite(r).reshape(len(r), -1).all(axis=1) for r in rows], axis=0)
    if not finite[:n].all():
        n = int(np.argmin(finite[:n]))
    # Buffers a run never touched (plain SGD's velocity, v_max without amsgrad) stay zero:
    # they would only clutter the panel.
    state = {k: v for k, v in state.items() if np.any(v[:n] != 0)}
    moment = next((name for name in MOMENT_NAMES if name in state), None)
    return Trace(
        optimizer=racer.optimizer,
        path=traj.points[: n + 1, 0],
        gradient=raw[:n],
        clip_factor=factor[:n],
        lr=traj.lrs[:n, 0],
        state={k: np.array(v[:n]) for k, v in state.items()},
        derived={k: np.array(v[:n]) for k, v in derived.items()},
        moment=moment,
        probes=traj.probes[:n, 0],
        probe_counts=traj.probe_counts[:n, 0],
        sam=racer.sam_rho is not None,
    )
