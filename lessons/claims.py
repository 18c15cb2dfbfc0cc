"""What a caption states, in a form that can be checked against what a race shows.

A claim reads numbers through a ``Reading``: the engine's (lessons.reading, from run_race and
the sweep) in the unit tests, the page's (from what the browser shows) in the browser tests.
So one claim is checked twice, and a caption cannot say what the screen does not show.

``holds`` answers None when the claim holds, else a sentence saying what was seen instead,
so a failing test names the numbers rather than just "False".
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

Point = tuple[float, float]


class Reading(Protocol):
    """The numbers a student can read off one race at its lesson's settings."""

    def gap(self, racer: int, step: int) -> float:
        """f − f* at ``step`` (the leaderboard's value; f itself where f* is unknown); inf
        from the step the racer diverged on."""
        ...

    def order(self, step: int) -> list[list[int]]:
        """Racers best first; racers whose values agree to 3 significant digits share a group."""
        ...

    def steps_to_tol(self, racer: int) -> int | None: ...

    def diverged_at(self, racer: int) -> int | None: ...

    def position(self, racer: int, step: int) -> Point: ...

    def distance(self, racer: int, step: int, point: Point) -> float: ...

    def best_rate(self, racer: int) -> tuple[float, float, float]:
        """(rate in use, best rate of the page's sweep by its default criterion, the grid's
        ratio between neighbouring rates)."""
        ...

    def sweep_losses(self, racer: int) -> list[tuple[float, float | None]]:
        """The page's sweep for ``racer``: (rate, final loss) at each grid rate, None where
        the run diverged."""
        ...

    def buffers(self, racer: int) -> list[str]:
        """The names of the state buffers the step inspector shows for ``racer``."""
        ...

    def work_to_tol(self, racer: int) -> float | None:
        """The ranking's work to tol: gradient evaluations until the tolerance (None: never)."""
        ...

    def trials(self, racer: int, step: int) -> int:
        """How many trial points the inspector's line search evaluated on the step that
        leaves ``step``."""
        ...

    def level_set(self, racer: int, step: int) -> str:
        """The shape of the inspector's quadratic model's level set at ``step``: "ellipse",
        "hyperbola" or "none"."""
        ...

    def basin_runs(self, racer: int) -> list[tuple[Point | None, int]]:
        """The many-starts view of ``racer`` (the page's default grid): each place runs came
        to rest (its point) with its number of runs, and (None, n) for the n runs still
        moving at the last step."""
        ...

    def moving_ends(self, racer: int) -> list[Point]:
        """Where the many-starts view's still-moving runs of ``racer`` are at the last step
        (the ends of its dotted paths)."""
        ...

    def rate(self, racer: int) -> float:
        """The rate ``racer`` races at, as the page states it (its name, "lr 0.068", or its
        quick slider's value)."""
        ...

    def loss_curve(self, racer: int, steps: tuple[int, int]) -> list[float]:
        """``racer``'s f − f* at each step a…b, as the loss chart draws it."""
        ...


def _plain(value: Any) -> Any:
    """Tuples as lists, all the way down: the JSON form."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _frozen(value: Any) -> Any:
    """Lists as tuples, all the way down: back from JSON into a hashable dataclass field."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _g(value: float | None) -> str:
    return "never" if value is None else f"{value:.3g}"


@dataclass(frozen=True)
class Claim:
    """Base of every claim kind; subclasses register themselves under their ``kind``."""

    kind: ClassVar[str] = ""
    # The part of the screen only this kind is read off, which Present must then keep in view
    # (assets/lesson.js marks the page, as for a beat read off the work clock): "" for the
    # ranking, the map and the beat's view, always shown.
    reads: ClassVar[str] = ""
    _kinds: ClassVar[dict[str, type[Claim]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Claim._kinds[cls.kind] = cls

    def holds(self, reading: Reading) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        fields = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {"kind": self.kind, **fields}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Claim:
        cls = Claim._kinds[data["kind"]]
        return cls(**{k: _frozen(v) for k, v in data.items() if k != "kind"})


@dataclass(frozen=True)
class Ahead(Claim):
    """``first`` shows a lower f − f* than ``second`` at ``step``."""

    kind: ClassVar[str] = "ahead"
    step: int
    first: int
    second: int

    def holds(self, reading: Reading) -> str | None:
        a, b = reading.gap(self.first, self.step), reading.gap(self.second, self.step)
        if a < b:
            return None
        return f"at step {self.step} racer {self.first} is at {a:.3g}, not below {b:.3g}"


@dataclass(frozen=True)
class Order(Claim):
    """At ``step`` the leaderboard ranks ``racers`` in this order, none tied with the next."""

    kind: ClassVar[str] = "order"
    step: int
    racers: tuple[int, ...]

    def holds(self, reading: Reading) -> str | None:
        groups = reading.order(self.step)
        rank = {racer: g for g, group in enumerate(groups) for racer in group}
        ranks = [rank[r] for r in self.racers]
        if all(a < b for a, b in itertools.pairwise(ranks)):
            return None
        return f"at step {self.step} the ranking is {groups}, not {list(self.racers)}"


@dataclass(frozen=True)
class Below(Claim):
    """``racer``'s f − f* at ``step`` is below ``value``."""

    kind: ClassVar[str] = "below"
    racer: int
    step: int
    value: float

    def holds(self, reading: Reading) -> str | None:
        gap = reading.gap(self.racer, self.step)
        if gap < self.value:
            return None
        return f"racer {self.racer} is at {gap:.3g} at step {self.step}, not below {self.value:g}"


@dataclass(frozen=True)
class Above(Claim):
    """``racer``'s f − f* at ``step`` is above ``value`` (a diverged racer is above all)."""

    kind: ClassVar[str] = "above"
    racer: int
    step: int
    value: float

    def holds(self, reading: Reading) -> str | None:
        gap = reading.gap(self.racer, self.step)
        if gap > self.value:
            return None
        return f"racer {self.racer} is at {gap:.3g} at step {self.step}, not above {self.value:g}"


@dataclass(frozen=True)
class ReachesFirst(Claim):
    """``first`` reaches the tolerance in fewer steps than ``second`` (never counts as last)."""

    kind: ClassVar[str] = "reaches_first"
    first: int
    second: int

    def holds(self, reading: Reading) -> str | None:
        a, b = reading.steps_to_tol(self.first), reading.steps_to_tol(self.second)
        if a is not None and (b is None or a < b):
            return None
        return f"steps to tolerance: racer {self.first} {_g(a)}, racer {self.second} {_g(b)}"


@dataclass(frozen=True)
class ReachesWithin(Claim):
    """``racer`` reaches the tolerance within ``steps`` steps."""

    kind: ClassVar[str] = "reaches_within"
    racer: int
    steps: int

    def holds(self, reading: Reading) -> str | None:
        seen = reading.steps_to_tol(self.racer)
        if seen is not None and seen <= self.steps:
            return None
        return f"racer {self.racer} reaches tolerance at {_g(seen)}, not within {self.steps}"


@dataclass(frozen=True)
class NeverReaches(Claim):
    """``racer`` does not reach the tolerance in the race (the column stays empty)."""

    kind: ClassVar[str] = "never_reaches"
    racer: int

    def holds(self, reading: Reading) -> str | None:
        seen = reading.steps_to_tol(self.racer)
        return None if seen is None else f"racer {self.racer} reaches tolerance at step {seen}"


@dataclass(frozen=True)
class Diverges(Claim):
    """``racer`` diverges at or before ``by_step``."""

    kind: ClassVar[str] = "diverges"
    racer: int
    by_step: int

    def holds(self, reading: Reading) -> str | None:
        seen = reading.diverged_at(self.racer)
        if seen is not None and seen <= self.by_step:
            return None
        return f"racer {self.racer} diverges at {_g(seen)}, not by step {self.by_step}"


@dataclass(frozen=True)
class Survives(Claim):
    """``racer`` never diverges."""

    kind: ClassVar[str] = "survives"
    racer: int

    def holds(self, reading: Reading) -> str | None:
        seen = reading.diverged_at(self.racer)
        return None if seen is None else f"racer {self.racer} diverges at step {seen}"


@dataclass(frozen=True)
class Swing(Claim):
    """The largest |coordinate ``axis``| of ``racer`` over steps a…b (inclusive) is at least
    ``at_least`` and/or at most ``at_most``: how far it swings sideways."""

    kind: ClassVar[str] = "swing"
    racer: int
    steps: tuple[int, int]
    axis: int
    at_least: float | None = None
    at_most: float | None = None

    def holds(self, reading: Reading) -> str | None:
        a, b = self.steps
        swing = max(abs(reading.position(self.racer, t)[self.axis]) for t in range(a, b + 1))
        low = self.at_least is None or swing >= self.at_least
        high = self.at_most is None or swing <= self.at_most
        if low and high:
            return None
        name = "xy"[self.axis]
        return (
            f"racer {self.racer}'s largest |{name}| over steps {a}–{b} is {swing:.3g}, outside "
            f"[{_g(self.at_least)}, {_g(self.at_most)}]"
        )


@dataclass(frozen=True)
class At(Claim):
    """``racer``'s coordinate ``axis`` at ``step``, written with as many decimals as the
    caption's ``quoted`` ("y = −0.04 at step 25"), is ``quoted``: read off the map's marker."""

    kind: ClassVar[str] = "at"
    racer: int
    step: int
    axis: int
    quoted: str

    def holds(self, reading: Reading) -> str | None:
        seen = reading.position(self.racer, self.step)[self.axis]
        decimals = len(self.quoted.partition(".")[2])
        if float(f"{seen:.{decimals}f}") == float(self.quoted.replace("−", "-")):
            return None
        name = "xy"[self.axis]
        return f"racer {self.racer}'s {name} at step {self.step} is {seen:.4g}, not {self.quoted}"


@dataclass(frozen=True)
class Near(Claim):
    """``racer`` is within ``radius`` of ``point`` at ``step``."""

    kind: ClassVar[str] = "near"
    racer: int
    step: int
    point: Point
    radius: float

    def holds(self, reading: Reading) -> str | None:
        d = reading.distance(self.racer, self.step, self.point)
        if d <= self.radius:
            return None
        return f"racer {self.racer} is {d:.3g} from {self.point} at step {self.step}"


@dataclass(frozen=True)
class Closer(Claim):
    """At ``step``, ``first`` is nearer ``point`` than ``second`` is."""

    kind: ClassVar[str] = "closer"
    step: int
    first: int
    second: int
    point: Point

    def holds(self, reading: Reading) -> str | None:
        a = reading.distance(self.first, self.step, self.point)
        b = reading.distance(self.second, self.step, self.point)
        if a < b:
            return None
        return f"at step {self.step} racer {self.first} is {a:.3g} from {self.point}, {b:.3g}"


@dataclass(frozen=True)
class BestRate(Claim):
    """``racer``'s rate is within one grid step of the best rate the page's sweep finds, so
    Auto-tune would leave it (nearly) where it is."""

    kind: ClassVar[str] = "best_rate"
    racer: int

    def holds(self, reading: Reading) -> str | None:
        rate, best, ratio = reading.best_rate(self.racer)
        # A hair of slack: a rate read back from the page's text may be rounded.
        if abs(math.log(rate / best)) <= math.log(ratio) * (1 + 1e-6):
            return None
        return f"racer {self.racer} uses {rate:.3g}; the sweep's best is {best:.3g}"


@dataclass(frozen=True)
class GoodRates(Claim):
    """In the page's sweep, ``racer``'s rates that end with a final loss below ``below`` span
    at least ``at_least`` and/or at most ``at_most`` decades (smallest to largest such rate):
    how forgiving the optimizer is about its rate."""

    kind: ClassVar[str] = "good_rates"
    racer: int
    below: float
    at_least: float | None = None
    at_most: float | None = None

    def holds(self, reading: Reading) -> str | None:
        good = [
            lr
            for lr, loss in reading.sweep_losses(self.racer)
            if loss is not None and loss < self.below
        ]
        span = math.log10(max(good) / min(good)) if good else 0.0
        low = self.at_least is None or span >= self.at_least
        high = self.at_most is None or span <= self.at_most
        if low and high:
            return None
        return (
            f"racer {self.racer}'s rates ending below {self.below:g} span {span:.2f} decades, "
            f"outside [{_g(self.at_least)}, {_g(self.at_most)}]"
        )


@dataclass(frozen=True)
class Steps(Claim):
    """Every step of ``racer`` over steps a…b moves each coordinate by ``size`` (relative
    tolerance ``rtol``): Lion's ±lr staircase."""

    kind: ClassVar[str] = "steps"
    racer: int
    steps: tuple[int, int]
    size: float
    rtol: float = 1e-6

    def holds(self, reading: Reading) -> str | None:
        a, b = self.steps
        for t in range(max(a, 1), b + 1):
            before, after = reading.position(self.racer, t - 1), reading.position(self.racer, t)
            for axis in (0, 1):
                moved = abs(after[axis] - before[axis])
                if abs(moved - self.size) > self.rtol * self.size:
                    return (
                        f"racer {self.racer}'s step {t} moves {'xy'[axis]} by {moved:.6g}, "
                        f"not {self.size:g}"
                    )
        return None


@dataclass(frozen=True)
class Moves(Claim):
    """``racer`` moves a straight-line distance of at least ``at_least`` and/or at most
    ``at_most`` from step a to step b (one step apart: the step-length chart's value)."""

    kind: ClassVar[str] = "moves"
    racer: int
    steps: tuple[int, int]
    at_least: float | None = None
    at_most: float | None = None

    def holds(self, reading: Reading) -> str | None:
        a, b = self.steps
        moved = reading.distance(self.racer, b, reading.position(self.racer, a))
        low = self.at_least is None or moved >= self.at_least
        high = self.at_most is None or moved <= self.at_most
        if low and high:
            return None
        return (
            f"racer {self.racer} moves {moved:.3g} from step {a} to {b}, outside "
            f"[{_g(self.at_least)}, {_g(self.at_most)}]"
        )


@dataclass(frozen=True)
class Memory(Claim):
    """The step inspector shows exactly these state buffers for ``racer`` (any order)."""

    kind: ClassVar[str] = "memory"
    racer: int
    buffers: tuple[str, ...]

    def holds(self, reading: Reading) -> str | None:
        seen = sorted(reading.buffers(self.racer))
        if seen == sorted(self.buffers):
            return None
        return f"racer {self.racer} keeps {seen or 'nothing'}, not {list(self.buffers)}"


@dataclass(frozen=True)
class WorkWithin(Claim):
    """``racer`` reaches the tolerance within ``work`` gradient evaluations (the work clock:
    a function value alone counts half, a Hessian two; oracle.COST), and, given ``at_least``,
    not with fewer: a caption saying a step costs twice the work states both bounds."""

    kind: ClassVar[str] = "work_within"
    racer: int
    work: float
    at_least: float | None = None

    def holds(self, reading: Reading) -> str | None:
        seen = reading.work_to_tol(self.racer)
        low = self.at_least is None or (seen is not None and seen >= self.at_least)
        if seen is not None and seen <= self.work and low:
            return None
        return (
            f"racer {self.racer}'s work to tolerance is {_g(seen)}, not within "
            f"[{_g(self.at_least)}, {self.work:g}]"
        )


@dataclass(frozen=True)
class Trials(Claim):
    """The line search of ``racer``'s step that leaves ``step`` evaluates at least
    ``at_least`` and/or at most ``at_most`` trial points (the inspector's count)."""

    kind: ClassVar[str] = "trials"
    racer: int
    step: int
    at_least: int | None = None
    at_most: int | None = None

    def holds(self, reading: Reading) -> str | None:
        seen = reading.trials(self.racer, self.step)
        low = self.at_least is None or seen >= self.at_least
        high = self.at_most is None or seen <= self.at_most
        if low and high:
            return None
        return (
            f"racer {self.racer}'s line search at step {self.step} tries {seen} points, "
            f"outside [{_g(self.at_least)}, {_g(self.at_most)}]"
        )


@dataclass(frozen=True)
class LevelSet(Claim):
    """The inspector's quadratic model of ``racer`` at ``step`` has a level set of this
    ``shape``: "ellipse" (a bowl or a cap), "hyperbola" (a saddle) or "none" (singular)."""

    kind: ClassVar[str] = "level_set"
    racer: int
    step: int
    shape: str

    def holds(self, reading: Reading) -> str | None:
        seen = reading.level_set(self.racer, self.step)
        if seen == self.shape:
            return None
        return f"racer {self.racer}'s model at step {self.step} is a {seen}, not a {self.shape}"


# How near a claimed point a basin the view lists must be to be that point's: a listed
# minimum is exact, and the page's table carries each point's full value.
BASIN_MATCH = 1e-3


@dataclass(frozen=True)
class Basins(Claim):
    """In the many-starts view of ``racer`` (the page's default grid of starts), the runs
    that came to rest at ``point`` (None: the runs still moving at the last step) number at
    least ``at_least`` and/or at most ``at_most``."""

    kind: ClassVar[str] = "basins"
    racer: int
    point: Point | None
    at_least: int | None = None
    at_most: int | None = None

    def holds(self, reading: Reading) -> str | None:
        groups = reading.basin_runs(self.racer)
        if self.point is None:
            runs = sum(n for where, n in groups if where is None)
        else:
            px, py = self.point
            runs = sum(
                n
                for where, n in groups
                if where is not None and math.hypot(where[0] - px, where[1] - py) <= BASIN_MATCH
            )
        low = self.at_least is None or runs >= self.at_least
        high = self.at_most is None or runs <= self.at_most
        if low and high:
            return None
        place = "still moving" if self.point is None else f"at {self.point}"
        return (
            f"racer {self.racer}'s many starts: {runs} runs {place}, outside "
            f"[{_g(self.at_least)}, {_g(self.at_most)}] (the view: {groups})"
        )


@dataclass(frozen=True)
class MovingNear(Claim):
    """In the many-starts view of ``racer`` some runs are still moving at the last step, and
    every one of them is within ``radius`` of ``point`` there: where runs that never settle
    are caught."""

    kind: ClassVar[str] = "moving_near"
    racer: int
    point: Point
    radius: float

    def holds(self, reading: Reading) -> str | None:
        ends = reading.moving_ends(self.racer)
        far = [e for e in ends if math.dist(e, self.point) > self.radius]
        if ends and not far:
            return None
        if not ends:
            return f"racer {self.racer}'s many starts: no run is still moving"
        worst = max(math.dist(e, self.point) for e in far)
        return (
            f"racer {self.racer}'s many starts: {len(far)} of {len(ends)} moving runs end "
            f"farther than {self.radius:g} from {self.point} (up to {worst:.3g})"
        )


@dataclass(frozen=True)
class Rate(Claim):
    """``racer`` races at the rate the caption quotes as ``quoted`` (its rate written with as
    many decimals as ``quoted`` has), and the page states that rate where the room reads it."""

    kind: ClassVar[str] = "rate"
    racer: int
    quoted: str

    def holds(self, reading: Reading) -> str | None:
        seen = reading.rate(self.racer)
        decimals = len(self.quoted.partition(".")[2])
        if f"{seen:.{decimals}f}" == self.quoted:
            return None
        return f"racer {self.racer} races at {seen:.3g}, not at {self.quoted}"


@dataclass(frozen=True)
class Jitters(Claim):
    """Over steps a…b ``racer``'s f − f* goes up again at least ``rises`` times (it jitters
    rather than settles) and stays above ``above``: what the loss chart shows."""

    kind: ClassVar[str] = "jitters"
    reads: ClassVar[str] = "loss_chart"
    racer: int
    steps: tuple[int, int]
    rises: int
    above: float

    def holds(self, reading: Reading) -> str | None:
        curve = reading.loss_curve(self.racer, self.steps)
        rises = sum(b > a for a, b in itertools.pairwise(curve))
        low = min(curve) if curve else math.nan
        if rises >= self.rises and low > self.above:
            return None
        a, b = self.steps
        return (
            f"racer {self.racer}'s f − f* over steps {a}–{b} rises {rises} times (not at "
            f"least {self.rises}) or comes down to {low:.3g} (not above {self.above:g})"
        )


KINDS: dict[str, type[Claim]] = Claim._kinds
