"""Lessons on the surface's shape: escaping a saddle."""

from __future__ import annotations

from lessons.beats import Beat, Lesson
from lessons.claims import Below, Near, Swing
from lessons.races import race

SADDLE_STEPS = 60


def _saddle(std: float) -> dict:
    return race(
        "saddle",
        [{"optimizer": "sgd", "lr": 0.05}],
        SADDLE_STEPS,
        [1.0, 0.0],
        {"std": std, "seed": 0},
    )


SADDLE = Lesson(
    "saddle",
    "Escaping a saddle",
    (
        Beat(
            "Started exactly on the ridge line with a little gradient noise (σ = 0.1), SGD "
            "is tipped off the ridge and escapes downhill, ever faster, towards the edge "
            "of the map.",
            race=_saddle(0.1),
            claims=(
                Swing(0, (0, SADDLE_STEPS), axis=1, at_least=1.5),
                Below(0, SADDLE_STEPS, -1.0),
            ),
        ),
        Beat(
            "The same start with σ = 0: exact gradients never point off the ridge, so SGD "
            "slides into the saddle point and stays there.",
            race=_saddle(0.0),
            claims=(
                Swing(0, (0, SADDLE_STEPS), axis=1, at_most=0.0),
                Near(0, SADDLE_STEPS, (0.0, 0.0), 0.01),
            ),
        ),
    ),
)

LESSONS = (SADDLE,)
