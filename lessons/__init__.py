"""Classroom lessons: one-click races that each make one fact visible (reference/lessons.md).

A lesson is data: a race in the JSON form of race-config.md and a caption saying what to
watch. Every caption's claim is checked numerically in tests/test_lessons.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    caption: str
    race: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "caption": self.caption, "race": self.race}


def _race(surface: str, racers: list[dict], steps: int, start=None, noise=None, **params) -> dict:
    race: dict[str, Any] = {
        "surface": {"name": surface, "params": params},
        "steps": steps,
        "racers": racers,
    }
    if start is not None:
        race["start"] = start
    if noise is not None:
        race["noise"] = noise
    return race


RAVINE = {"a": 50, "b": 1, "angle": 0}
SEED_QUADRATIC = {"a": 20, "b": 1, "angle": 0}

LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        Lesson(
            "ravine",
            "Momentum in a ravine",
            "Plain SGD bounces from wall to wall of the narrow valley and inches along its "
            "floor. Momentum lets the bounces cancel and the steady downhill pull add up: it "
            "reaches the bottom in about half the steps.",
            _race(
                "quadratic",
                [{"optimizer": "sgd", "lr": 0.035}, {"optimizer": "momentum", "lr": 0.01}],
                300,
                [-1.0, 1.0],
                **RAVINE,
            ),
        ),
        Lesson(
            "how_much_momentum",
            "How much momentum?",
            "Same rate, three memories. With β = 0 the racer forgets every past step and "
            "crawls; β = 0.9 remembers roughly the last ten gradients and arrives; β = 0.99 "
            "carries so much speed that it swings past the minimum again and again.",
            _race(
                "quadratic",
                [
                    {"optimizer": "sgd", "lr": 0.01, "params": {"momentum": m}, "label": f"β {m}"}
                    for m in (0.0, 0.9, 0.99)
                ],
                300,
                [-1.0, 1.0],
                **RAVINE,
            ),
        ),
        Lesson(
            "nesterov",
            "Nesterov vs heavy ball",
            "Both keep a velocity, but Nesterov measures the slope where the velocity is "
            "about to take it. It notices the far wall sooner, swings out less and settles "
            "first.",
            _race(
                "quadratic",
                [{"optimizer": "momentum", "lr": 0.01}, {"optimizer": "nesterov", "lr": 0.01}],
                300,
                [-1.0, 1.0],
                **RAVINE,
            ),
        ),
        Lesson(
            "adagrad_rmsprop",
            "AdaGrad runs out of steam; RMSProp does not",
            "AdaGrad divides by everything it has ever seen, so its steps keep shrinking until "
            "it almost stops in the banana's valley. RMSProp averages only recent gradients "
            "and keeps walking.",
            _race(
                "rosenbrock",
                [{"optimizer": "adagrad", "lr": 0.1}, {"optimizer": "rmsprop", "lr": 0.01}],
                1000,
            ),
        ),
        Lesson(
            "fair_comparison",
            "SGD, momentum and Adam, each at its best rate",
            "On a bowl twenty times steeper one way than the other, each racer uses the "
            "largest rate it can stand. Adam ends lowest: it sizes the step separately for "
            "the steep and the flat direction, so both shrink at the same pace.",
            _race(
                "quadratic",
                [
                    {"optimizer": "sgd", "lr": 0.04},
                    {"optimizer": "momentum", "lr": 0.02},
                    {"optimizer": "adam", "lr": 0.2},
                ],
                300,
                [1.0, 1.0],
                **SEED_QUADRATIC,
            ),
        ),
        Lesson(
            "bias_correction",
            "Adam's bias correction",
            "Adam's running averages start at zero. Corrected, its very first step moves each "
            "coordinate by exactly the learning rate; uncorrected, the first steps are off by "
            "a factor of about three, until the averages have filled up.",
            _race(
                "quadratic",
                [
                    {"optimizer": "adam", "lr": 0.1},
                    {
                        "optimizer": "adam",
                        "lr": 0.1,
                        "params": {"bias_correction": False},
                        "label": "Adam, no bias correction",
                    },
                ],
                100,
                [1.0, 1.0],
                **SEED_QUADRATIC,
            ),
        ),
        Lesson(
            "adamw",
            "AdamW vs Adam with L2 decay",
            "Same decay strength, two places to apply it. Adam adds it to the gradient, where "
            "its per-coordinate scaling waters it down; AdamW shrinks the weights directly, "
            "and ends much nearer the origin.",
            _race(
                "rosenbrock",
                [
                    {"optimizer": "adam", "lr": 0.05, "params": {"weight_decay": 0.5}},
                    {"optimizer": "adamw", "lr": 0.05, "params": {"weight_decay": 0.5}},
                ],
                1000,
            ),
        ),
        Lesson(
            "warmup",
            "Warmup saves a large rate",
            "Started at full speed, momentum SGD is flung off the map within a few steps. "
            "Ramped up over the first fifty steps, the same peak rate takes it all the way "
            "to the minimum.",
            _race(
                "rosenbrock",
                [
                    {"optimizer": "momentum", "lr": 0.004},
                    {
                        "optimizer": "momentum",
                        "lr": 0.004,
                        "schedule": {"name": "warmup_cosine", "params": {"warmup_steps": 50}},
                    },
                ],
                1000,
            ),
        ),
        Lesson(
            "schedules",
            "Decaying the rate under noise",
            "With noisy gradients a constant rate keeps the racer jittering around the "
            "minimum. Step decay, one-cycle and cosine all calm it down by the end; cosine, "
            "which slows smoothly to zero, finishes lowest.",
            _race(
                "quadratic",
                [
                    {"optimizer": "sgd", "lr": 0.03, "schedule": {"name": name}}
                    for name in ("constant", "step", "one_cycle", "cosine")
                ],
                500,
                [1.0, 1.0],
                {"std": 1.0, "seed": 1},
                **SEED_QUADRATIC,
            ),
        ),
        Lesson(
            "saddle",
            "Escaping a saddle",
            "Started exactly on the ridge line with a little gradient noise (σ = 0.1), SGD is "
            "tipped off the ridge and escapes downhill. Set σ to 0: exact gradients never "
            "point off the ridge, so it slides into the saddle point and stays there.",
            _race(
                "saddle",
                [{"optimizer": "sgd", "lr": 0.05}],
                100,
                [1.0, 0.0],
                {"std": 0.1, "seed": 0},
            ),
        ),
        Lesson(
            "rate_first",
            "The rate matters more than the optimizer",
            "A well-tuned plain SGD beats Adam left at a rate far too small for this problem. "
            "Sweep the learning rate before you judge an optimizer.",
            _race(
                "quadratic",
                [{"optimizer": "sgd", "lr": 0.04}, {"optimizer": "adam", "lr": 0.001}],
                300,
                [1.0, 1.0],
                **SEED_QUADRATIC,
            ),
        ),
        Lesson(
            "lion",
            "Lion's sign steps",
            "Lion keeps only the sign of its momentum blend, so every coordinate moves by "
            "exactly the learning rate at every step: a staircase, steep slope or flat.",
            _race("rosenbrock", [{"optimizer": "lion", "lr": 0.01}], 300),
        ),
    )
}
