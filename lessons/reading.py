"""The engine's reading of a race: the numbers the page would show, computed without a page.

Built from ``run_race`` and the same sweep request the page's sweep view sends (the default
grid and criterion, through ``sweep_options``), so a claim that holds here holds against the
page's own numbers, and a BestRate claim agrees with what Auto-tune would do.
"""

from __future__ import annotations

import copy
import math
from functools import cached_property
from typing import Any

import numpy as np

from lessons.claims import Point
from optimizers.fan import NoisyFan, noisy_fans, sampled_steps
from optimizers.race import RaceResult, run_race
from optimizers.starts import MOVING, ManyStarts, many_starts
from optimizers.sweep import SweepResult, sweep
from optimizers.trace import trace_racer
from optimizers.validate import FAN_RUNS, starts_options, sweep_options, validate_race
from service.best_rate import robust_best
from service.compact import BAND_POINTS
from service.curvature import curvature
from surfaces import get_surface


def tie_key(value: float) -> str:
    """What the leaderboard shows to 3 significant digits: equal keys are a tie."""
    return "inf" if math.isinf(value) else f"{value:.2e}"


class EngineReading:
    """A ``Reading`` of one race JSON, run once; the sweep runs only if a claim asks for it."""

    def __init__(self, race: dict[str, Any]) -> None:
        self.config = validate_race(copy.deepcopy(race))
        surface = get_surface(self.config.surface.name, **self.config.surface.params)
        # Where f* is unknown the page ranks by the loss itself.
        self.f_star = surface.f_star if surface.f_star is not None else 0.0
        self.f_star_or_none = surface.f_star
        self.view = surface.view
        self._views: dict[int, dict[str, Any]] = {}
        self._starts: dict[int, ManyStarts] = {}

    @cached_property
    def result(self) -> RaceResult:
        return run_race(self.config)

    @cached_property
    def sweep(self) -> SweepResult:
        request = sweep_options({}, self.config)
        return sweep(request.race, request.grid, request.criterion)

    def _check_step(self, step: int) -> None:
        if not 0 <= step <= self.config.steps:
            raise IndexError(f"step {step} is outside the race's 0…{self.config.steps}")

    @cached_property
    def fans(self) -> list[NoisyFan] | None:
        """With noise the page ranks each racer by its median over FAN_RUNS seeds: so must
        the claims (one seed's run is one draw)."""
        if self.config.noise.std <= 0:
            return None
        return noisy_fans(self.config, FAN_RUNS.default)

    def _median_gap(self, racer: int, step: int) -> float:
        """The noisy leaderboard's value: the median loss at the last thinned band step ≤
        ``step`` (service.compact.compact_fan, assets/playback.js loadFan), minus f*."""
        q50 = self.fans[racer].loss_quantiles()[1]
        band = sampled_steps(len(q50) - 1, BAND_POINTS)
        if step > band[-1]:
            return math.inf
        value = q50[band[np.searchsorted(band, step, side="right") - 1]]
        return float(value) - self.f_star if math.isfinite(value) else math.inf

    def gap(self, racer: int, step: int) -> float:
        self._check_step(step)
        if self.fans is not None:
            return self._median_gap(racer, step)
        r = self.result.racers[racer]
        if step >= len(r.loss):  # the step it diverged on, or later
            return math.inf
        return float(r.loss[step]) - self.f_star

    def order(self, step: int) -> list[list[int]]:
        gaps = [self.gap(i, step) for i in range(len(self.result.racers))]
        groups: dict[str, list[int]] = {}
        for i in sorted(range(len(gaps)), key=lambda i: gaps[i]):
            groups.setdefault(tie_key(gaps[i]), []).append(i)
        return list(groups.values())

    def steps_to_tol(self, racer: int) -> int | None:
        return self.result.racers[racer].steps_to_tol

    def diverged_at(self, racer: int) -> int | None:
        return self.result.racers[racer].diverged_at

    def position(self, racer: int, step: int) -> Point:
        """The racer's point at ``step``; after it diverged, its last finite point (where the
        page leaves its marker)."""
        self._check_step(step)
        path = self.result.racers[racer].path
        x, y = path[min(step, len(path) - 1)]
        return float(x), float(y)

    def distance(self, racer: int, step: int, point: Point) -> float:
        x, y = self.position(racer, step)
        return float(np.hypot(x - point[0], y - point[1]))

    def best_rate(self, racer: int) -> tuple[float, float, float]:
        swept = self.sweep.racers[racer]
        # The page's best: a rate whose neighbours on the grid also do well (Auto-tune's rule).
        best = robust_best(swept, self.sweep.criterion, self.f_star_or_none)
        grid = self.sweep.grid
        ratio = (grid.high / grid.low) ** (1 / (grid.count - 1))
        return swept.current.lr, math.nan if best is None else best.lr, ratio

    def sweep_losses(self, racer: int) -> list[tuple[float, float | None]]:
        swept = self.sweep.racers[racer]
        return [(o.lr, None if o.diverged_at is not None else o.final_loss) for o in swept.grid]

    def buffers(self, racer: int) -> list[str]:
        return list(trace_racer(self.config, racer).state)

    def work_to_tol(self, racer: int) -> float | None:
        return self.result.racers[racer].work_to_tol

    def _curvature(self, racer: int) -> dict[str, Any]:
        """The step inspector's curvature view of ``racer`` (service.curvature), once."""
        if racer not in self._views:
            view = curvature(self.config, racer, trace_racer(self.config, racer))
            if view is None:
                raise ValueError(f"racer {racer} has no curvature view")
            self._views[racer] = view
        return self._views[racer]

    def trials(self, racer: int, step: int) -> int:
        search = self._curvature(racer)["line_search"]
        if search is None:
            raise ValueError(f"racer {racer} does not search along a line")
        return int(search["slices"][step]["evaluated"])

    def level_set(self, racer: int, step: int) -> str:
        return str(self._curvature(racer)["level_set"][step])

    def _many(self, racer: int) -> ManyStarts:
        """The many-starts view the page asks for (its default layout and count, through
        ``starts_options`` as the page's request goes), once per racer."""
        if racer not in self._starts:
            request = starts_options({"racer": racer}, self.config)
            self._starts[racer] = many_starts(
                request.race, request.racer, request.layout, request.count, request.seed
            )
        return self._starts[racer]

    def basin_runs(self, racer: int) -> list[tuple[Point | None, int]]:
        view = self._many(racer)
        groups: list[tuple[Point | None, int]] = [(b.point, b.count) for b in view.basins]
        moving = int((view.basin == MOVING).sum())
        return [*groups, (None, moving)] if moving else groups

    def moving_ends(self, racer: int) -> list[Point]:
        view = self._many(racer)
        return [(float(x), float(y)) for x, y in view.finals[view.basin == MOVING]]

    def rate(self, racer: int) -> float:
        return float(self.config.racers[racer].lr)

    def loss_curve(self, racer: int, steps: tuple[int, int]) -> list[float]:
        a, b = steps
        return [self.gap(racer, t) for t in range(a, b + 1)]
