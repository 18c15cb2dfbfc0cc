"""The best rate of a sweep: one whose neighbours on the grid also do well (issue 25, item 13).

The lowest single run can be a lone dip: Adam on Rosenbrock ends at 1e-13 at rate 1.28 while
the next rate up ends at 153, and its path leaves the map. So a rate is judged by the worst of
its own result and its two neighbours' on the grid (a diverged neighbour is the worst of all),
and the best rate is the one whose worst is lowest. Results are compared to 3 significant
digits of f − f* (the ranking's own ties, floored at 1e-30 as the charts are): which rate wins
never hangs on the last bit of an exp or a log, which differs between CPUs. On a tie the racer
keeps its own rate (Auto-tune run twice changes nothing), then the rate with the better result
of its own, then the smaller rate.

Pure functions of a sweep's results, below the page (callbacks/analysis.py draws and tunes
with them), the API (/api/sweep answers ``sweep_json``) and the lessons (lessons/reading.py
reads their claims with them). The sweep's own ``RacerSweep.best`` (optimizers/sweep.py) is
still the plain lowest run, which ``sweep_json`` reports apart as ``lowest``: moving this rule
there is left for when optimizers/ is open (its sources key the compile cache).
"""

from __future__ import annotations

import math
from typing import Any

from optimizers.config import RaceConfig
from optimizers.sweep import Outcome, RacerSweep, SweepResult
from surfaces import get_surface

ROBUST_RULE = (
    "a rate is judged by the worst result among it and its two neighbours on the grid "
    "(a diverged neighbour is the worst), so a lone dip is not chosen"
)
GAP_FLOOR = 1e-30
LOWEST = (
    "the single run with the lowest result by the criterion (own rate included), whatever its "
    "neighbours do: it may be an isolated dip"
)


def _rounded(value: float) -> float:
    """``value`` to 3 significant digits: equal results at the ranking's precision tie."""
    return value if not math.isfinite(value) else float(f"{value:.2e}")


def outcome_key(outcome: Outcome, criterion: str, f_star: float | None) -> tuple[float, float]:
    """What the rule minimises for one run: the criterion's pair, each part rounded."""
    if outcome.diverged_at is not None:
        return (math.inf, math.inf)
    gap = outcome.final_loss if f_star is None else max(outcome.final_loss - f_star, GAP_FLOOR)
    steps = math.inf if outcome.steps_to_tol is None else float(outcome.steps_to_tol)
    loss = _rounded(gap)
    return (steps, loss) if criterion == "steps_to_tol" else (loss, steps)


def neighbourhoods(swept: RacerSweep) -> list[tuple[Outcome, list[Outcome]]]:
    """Each candidate (the racer's own rate first, then the grid's) with the runs it is judged
    by: itself and its nearest grid rates below and above."""
    grid = list(swept.grid)
    out = []
    for i, outcome in enumerate(grid):
        out.append((outcome, grid[max(i - 1, 0) : i + 2]))
    own = swept.current
    below = [o for o in grid if o.lr < own.lr * (1 - 1e-9)]
    above = [o for o in grid if o.lr > own.lr * (1 + 1e-9)]
    near = [*below[-1:], own, *above[:1]]
    return [(own, near), *out]


def robust_best(swept: RacerSweep, criterion: str, f_star: float | None) -> Outcome | None:
    """The best rate of ``swept`` whose neighbours also do well (ROBUST_RULE); None when every
    rate diverges."""
    ranked = []
    for position, (outcome, near) in enumerate(neighbourhoods(swept)):
        if outcome.diverged_at is not None:
            continue
        worst = max(outcome_key(o, criterion, f_star) for o in near)
        own = outcome_key(outcome, criterion, f_star)
        ranked.append(((worst, position > 0, own, outcome.lr), outcome))
    return min(ranked, key=lambda pair: pair[0])[1] if ranked else None


def isolated_dip(swept: RacerSweep, criterion: str, f_star: float | None) -> dict[str, Any] | None:
    """The lowest single run when it is not the best rate (a neighbour does badly), with that
    neighbour's result: the page shows it as an isolated dip. None when there is none."""
    best = robust_best(swept, criterion, f_star)
    if best is None:
        return None
    pairs = neighbourhoods(swept)
    candidates = [(o, near) for o, near in pairs if o.diverged_at is None]
    lowest, near = min(candidates, key=lambda pair: outcome_key(pair[0], criterion, f_star))
    if outcome_key(lowest, criterion, f_star) >= outcome_key(best, criterion, f_star):
        return None
    worst = max(near, key=lambda o: outcome_key(o, criterion, f_star))
    return {**lowest.to_json(), "neighbour": worst.to_json()}


def best_rates(result: SweepResult, f_star: float | None) -> list[float | None]:
    """Each racer's best rate by ROBUST_RULE; None for a racer that diverges at every rate or
    is swept over another parameter (it keeps its settings)."""
    rates: list[float | None] = []
    for racer in result.racers:
        best = robust_best(racer, result.criterion, f_star)
        rates.append(None if best is None or racer.parameter != "lr" else best.lr)
    return rates


def f_star_of(config: RaceConfig) -> float | None:
    """The race's surface's minimum value, which the rule's results are measured from."""
    return get_surface(config.surface.name, **config.surface.params).f_star


def sweep_json(result: SweepResult, f_star: float | None) -> dict[str, Any]:
    """The sweep as /api/sweep answers it: each racer's ``best`` by ROBUST_RULE and its
    isolated ``dip`` (None when the lowest run is the best rate), as the page's sweep view
    has them, its ``lowest`` single run (LOWEST), and the rule in words."""
    data = result.to_json()
    for racer, row in zip(result.racers, data["racers"], strict=True):
        best = robust_best(racer, result.criterion, f_star)
        lowest = racer.best(result.criterion)
        row["best"] = None if best is None else best.to_json()
        row["lowest"] = None if lowest is None else lowest.to_json()
        row["dip"] = isolated_dip(racer, result.criterion, f_star)
    data["rule"] = ROBUST_RULE
    return data
