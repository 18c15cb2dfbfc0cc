"""A lesson's shape: a few beats, each one observation the screen can show, and an optional
question asked before playing (predict first).

The page, the share links, the API and the tests all read these dataclasses, so they hold
only data: JSON-able races and numbers, never callables. Racers are named by their index in
the race's ``racers`` list, which is also their colour on the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lessons.claims import Claim

# The page's playback speeds (layouts/page.py SPEEDS; a test keeps the two equal). Kept here
# too so that lessons, which are data, never import the page.
SPEEDS = (0.25, 0.5, 1, 2, 4, 8, 16)
VIEWS = (None, "sweep", "starts", "3d")
MEASURES = (None, "distance")
# What the page's lower chart shows (layouts/page.py LOWER_CHARTS); None leaves its choice.
CHARTS = (None, "lr", "step_length", "grad_norm")
# The loss chart's clock (layouts/page.py LOSS_AXIS): by step, or by work done.
LOSS_AXES = ("step", "work")

Box = tuple[tuple[float, float], tuple[float, float]]
Mark = tuple[float, float, str]


@dataclass(frozen=True)
class Beat:
    """One observation: what race to show, where to stop, how to look, and what to watch.

    ``race`` None keeps the previous beat's race, so a beat that only zooms or stops
    elsewhere does not repeat (and risk diverging from) the race it looks at.
    """

    caption: str
    race: dict[str, Any] | None = None
    step: int | None = None
    play_from: int | None = None
    speed: float = 1
    zoom: Box | None = None
    view: str | None = None
    inspect: int | None = None
    highlight: tuple[int, ...] = ()
    hidden: tuple[int, ...] = ()
    measure: str | None = None
    chart: str | None = None
    loss_axis: str = "step"
    marks: tuple[Mark, ...] = ()
    claims: tuple[Claim, ...] = ()

    def __post_init__(self) -> None:
        # Mistakes in a lesson's data are caught when the module loads, not in front of a class.
        if self.speed not in SPEEDS:
            raise ValueError(f"speed {self.speed} is not one of the page's speeds {SPEEDS}")
        if self.view not in VIEWS:
            raise ValueError(f"view {self.view!r} is not one of {VIEWS}")
        if self.measure not in MEASURES:
            raise ValueError(f"measure {self.measure!r} is not one of {MEASURES}")
        if self.chart not in CHARTS:
            raise ValueError(f"chart {self.chart!r} is not one of {CHARTS}")
        if self.loss_axis not in LOSS_AXES:
            raise ValueError(f"loss_axis {self.loss_axis!r} is not one of {LOSS_AXES}")
        if self.step is not None and self.step < 0:
            raise ValueError("step must be ≥ 0")
        if self.play_from is not None and self.step is not None and self.play_from > self.step:
            raise ValueError("play_from must not come after step")
        if self.zoom is not None:
            (x0, x1), (y0, y1) = self.zoom
            if not (x0 < x1 and y0 < y1 and all(map(math.isfinite, (x0, x1, y0, y1)))):
                raise ValueError(f"zoom {self.zoom} is not a box")

    def to_json(self) -> dict[str, Any]:
        return {
            "caption": self.caption,
            "race": self.race,
            "step": self.step,
            "play_from": self.play_from,
            "speed": self.speed,
            "zoom": None if self.zoom is None else [list(self.zoom[0]), list(self.zoom[1])],
            "view": self.view,
            "inspect": self.inspect,
            "highlight": list(self.highlight),
            "hidden": list(self.hidden),
            "measure": self.measure,
            "chart": self.chart,
            "loss_axis": self.loss_axis,
            "marks": [list(m) for m in self.marks],
            "claims": [c.to_json() for c in self.claims],
            # Derived from the claims (from_json ignores it): what the page must keep in view.
            "reads": sorted({c.reads for c in self.claims if c.reads}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Beat:
        zoom = data.get("zoom")
        return cls(
            caption=data["caption"],
            race=data.get("race"),
            step=data.get("step"),
            play_from=data.get("play_from"),
            speed=data.get("speed", 1),
            zoom=None if zoom is None else (tuple(zoom[0]), tuple(zoom[1])),
            view=data.get("view"),
            inspect=data.get("inspect"),
            highlight=tuple(data.get("highlight", ())),
            hidden=tuple(data.get("hidden", ())),
            measure=data.get("measure"),
            chart=data.get("chart"),
            loss_axis=data.get("loss_axis", "step"),
            marks=tuple((float(x), float(y), str(text)) for x, y, text in data.get("marks", ())),
            claims=tuple(Claim.from_json(c) for c in data.get("claims", ())),
        )


@dataclass(frozen=True)
class Question:
    """Predict first: asked before beat ``beat`` plays; ``claim`` is what makes ``answer``
    right, so the answer is checked like any caption rather than trusted."""

    prompt: str
    answer: int
    claim: Claim
    beat: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "answer": self.answer,
            "beat": self.beat,
            "claim": self.claim.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        return cls(
            prompt=data["prompt"],
            answer=data["answer"],
            claim=Claim.from_json(data["claim"]),
            beat=data.get("beat", 0),
        )


@dataclass(frozen=True)
class Lesson:
    """A titled sequence of beats; beat 0 sets the race, later beats may keep or change it."""

    name: str
    title: str
    beats: tuple[Beat, ...]
    question: Question | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.beats) <= 6:
            raise ValueError(f"{self.name}: a lesson has 1 to 6 beats, not {len(self.beats)}")
        if self.beats[0].race is None:
            raise ValueError(f"{self.name}: the first beat must set the race")
        if self.question is not None and not 0 <= self.question.beat < len(self.beats):
            raise ValueError(f"{self.name}: the question's beat is not one of the lesson's")

    def race_of(self, beat: int) -> dict[str, Any]:
        """The race in force at ``beat``: its own, else the nearest earlier beat's."""
        for index in range(beat, -1, -1):
            race = self.beats[index].race
            if race is not None:
                return race
        raise AssertionError("beat 0 always has a race")  # __post_init__ guarantees it

    # The page reads these until it moves to beats: the first beat's values.
    @property
    def race(self) -> dict[str, Any]:
        return self.race_of(0)

    @property
    def caption(self) -> str:
        return self.beats[0].caption

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "beats": [b.to_json() for b in self.beats],
            "question": None if self.question is None else self.question.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lesson:
        question = data.get("question")
        return cls(
            name=data["name"],
            title=data["title"],
            beats=tuple(Beat.from_json(b) for b in data["beats"]),
            question=None if question is None else Question.from_json(question),
        )
