"""Lessons on the surface's shape: escaping a saddle, surviving a steep wall."""

from __future__ import annotations

from lessons.beats import Beat, Lesson
from lessons.claims import Below, Diverges, Moves, Near, Survives, Swing
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
            chart="step_length",
            claims=(
                Swing(0, (0, SADDLE_STEPS), axis=1, at_least=1.5),
                Below(0, SADDLE_STEPS, -1.0),
                Moves(0, (39, 40), at_most=0.05),
                Moves(0, (59, 60), at_least=0.15),
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

UNCLIPPED, CLIPPED = 0, 1

CLIPPING = Lesson(
    "clipping",
    "Gradient clipping: insurance against a spike",
    (
        Beat(
            "Two momentum racers start on the banana's steep outer wall, where the gradient "
            "is over a thousand long. Unclipped, the first step alone is more than 1.5 "
            "long: the racer is thrown across the map and diverges by step 8. Clipped to "
            "norm 1, the same first step is only 0.001 long.",
            race=race(
                "rosenbrock",
                [
                    {"optimizer": "momentum", "lr": 0.001},
                    {
                        "optimizer": "momentum",
                        "lr": 0.001,
                        "clip_norm": 1.0,
                        "label": "Momentum, clipped to 1",
                    },
                ],
                1000,
                [1.8, 1.0],
            ),
            step=8,
            speed=0.25,
            chart="step_length",
            claims=(
                Moves(UNCLIPPED, (0, 1), at_least=1.5),
                Moves(CLIPPED, (0, 1), at_most=0.0011),
                Diverges(UNCLIPPED, 8),
            ),
        ),
        Beat(
            "The clipped racer edges off the wall and walks on down the valley to the "
            "minimum, ending below 1e-4. Clipping only shortens steps whose gradient is "
            "longer than the limit: cheap insurance against a spike.",
            play_from=8,
            speed=4,
            claims=(Survives(CLIPPED), Below(CLIPPED, 1000, 1e-4)),
        ),
    ),
)

LESSONS = (SADDLE, CLIPPING)
