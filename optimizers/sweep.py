"""Learning-rate sweeps and auto-tuning: every racer judged at its own best rate.

A sweep runs each racer over a log grid of rates (its other settings unchanged) for the race's
whole horizon, in one batch. Judging after the whole horizon, not a short prefix, is the
point: a short horizon favours fast starters. The racer's current rate is always a candidate
too, so tuning can only keep or improve a racer's result by the chosen criterion.

What a sweep measures does not depend on the criterion, only which rate wins does: a racer's
sweep is computed (and cached) once, and judged by either criterion on demand.

What is swept is the registry's choice (``Kernel.swept``): the rate lr for every
optimizer that takes one (Newton and L-BFGS included), and for one that takes none its named
hyper-parameter instead (Gauss–Newton: its damping λ, over the same log grid). Each racer's
sweep says which (``parameter``); its values keep the key ``lr`` in the JSON. Auto-tuning
(``best_rates``) sets rates only: a racer swept over another parameter keeps its settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.batch import run_batch, with_swept
from optimizers.config import CRITERIA, DEFAULT_CRITERION, RaceConfig, RateGrid
from optimizers.engine import Record
from optimizers.race import default_label
from optimizers.registry import OPTIMIZERS


@dataclass(frozen=True)
class Outcome:
    """One run's result as a sweep ranks it; ``final_loss`` is inf for a diverged run. ``lr``
    is the swept value (the racer's ``parameter``)."""

    lr: float
    final_loss: float
    steps_to_tol: int | None
    diverged_at: int | None

    def key(self, criterion: str) -> tuple[float, float]:
        """Minimised by the best rate; unreached tolerance and divergence rank last."""
        steps = np.inf if self.steps_to_tol is None else float(self.steps_to_tol)
        if criterion == "steps_to_tol":
            return (steps, self.final_loss)
        return (self.final_loss, steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "final_loss": None if self.diverged_at is not None else self.final_loss,
            "steps_to_tol": self.steps_to_tol,
            "diverged_at": self.diverged_at,
        }


@dataclass(frozen=True)
class RacerSweep:
    label: str
    optimizer: str
    current: Outcome
    grid: tuple[Outcome, ...]
    edge_lr: float | None
    parameter: str = "lr"

    def best(self, criterion: str) -> Outcome | None:
        """The best stable rate by ``criterion``; the current rate comes first, so on a tie
        the racer keeps its rate. None when every rate diverges."""
        finite = [o for o in (self.current, *self.grid) if o.diverged_at is None]
        return min(finite, key=lambda o: o.key(criterion)) if finite else None

    def to_json(self, criterion: str) -> dict[str, Any]:
        best = self.best(criterion)
        return {
            "label": self.label,
            "optimizer": self.optimizer,
            "parameter": self.parameter,
            "lr": self.current.lr,
            "current": self.current.to_json(),
            "final_loss": [o.to_json()["final_loss"] for o in self.grid],
            "steps_to_tol": [o.steps_to_tol for o in self.grid],
            "diverged_at": [o.diverged_at for o in self.grid],
            "best": None if best is None else best.to_json(),
            "edge_lr": self.edge_lr,
        }


@dataclass(frozen=True)
class SweepResult:
    grid: RateGrid
    criterion: str
    steps: int
    racers: tuple[RacerSweep, ...]

    def best_values(self) -> list[float | None]:
        """Each racer's best value of its swept parameter, None where every value diverges."""
        return [None if (b := r.best(self.criterion)) is None else b.lr for r in self.racers]

    def best_rates(self) -> list[float | None]:
        """Each racer's best rate; None for a racer that diverges at every rate or is swept
        over another parameter (it keeps its settings)."""
        return [
            value if racer.parameter == "lr" else None
            for racer, value in zip(self.racers, self.best_values(), strict=True)
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "criterion_text": CRITERIA[self.criterion].text,
            "steps": self.steps,
            "grid": self.grid.to_json(),
            "rates": self.grid.rates().tolist(),
            "racers": [r.to_json(self.criterion) for r in self.racers],
        }


def _outcomes(config: RaceConfig, rates: np.ndarray | None) -> list[list[Outcome]]:
    """Per racer, the outcome at each rate (or at its own rate when ``rates`` is None)."""
    batch = run_batch(config, lrs=None if rates is None else list(rates), record=Record.OUTCOME)
    traj = batch.trajectories
    final = batch.final_loss
    per_racer: list[list[Outcome]] = [[] for _ in config.racers]
    for run, racer in enumerate(batch.racer):
        diverged = int(traj.diverged_at[run]) or None
        arrived = int(traj.steps_to_tol[run])
        per_racer[int(racer)].append(
            Outcome(
                lr=float(batch.lr[run]),
                final_loss=np.inf if diverged else float(final[run]),
                steps_to_tol=None if arrived < 0 else arrived,
                diverged_at=diverged,
            )
        )
    return per_racer


def divergence_edge(outcomes: tuple[Outcome, ...]) -> float | None:
    """The smallest grid rate from which every larger rate diverges (None if the top holds)."""
    edge = None
    for outcome in reversed(outcomes):
        if outcome.diverged_at is None:
            break
        edge = outcome.lr
    return edge


def sweep(config: RaceConfig, grid: RateGrid, criterion: str = DEFAULT_CRITERION) -> SweepResult:
    """Each racer over ``grid`` (one batch) plus its current rate, judged by ``criterion``."""
    racers = [
        RacerSweep(
            label=racer.label or default_label(racer),
            optimizer=racer.optimizer,
            current=own,
            grid=tuple(outcomes),
            edge_lr=divergence_edge(tuple(outcomes)),
            parameter=OPTIMIZERS[racer.optimizer].kernel.swept,
        )
        for racer, outcomes, (own,) in zip(
            config.racers, _outcomes(config, grid.rates()), _outcomes(config, None), strict=True
        )
    ]
    return SweepResult(grid, criterion, config.steps, tuple(racers))


def tuned_race(config: RaceConfig, rates: Sequence[float | None]) -> RaceConfig:
    """``config`` with each racer at its value in ``rates`` of what its sweep varies (its rate
    from ``best_rates``; ``best_values`` tunes every swept parameter); None: the racer keeps
    its own."""
    racers = tuple(
        racer if lr is None else with_swept(racer, lr)
        for racer, lr in zip(config.racers, rates, strict=True)
    )
    return dataclasses.replace(config, racers=racers)
