"""Lessons on velocity: momentum in a ravine, how much of it, Nesterov's look-ahead."""

from __future__ import annotations

from lessons.beats import Beat, Lesson, Question
from lessons.claims import (
    Above,
    Ahead,
    At,
    Below,
    Near,
    NeverReaches,
    Order,
    ReachesFirst,
    ReachesWithin,
    Swing,
)
from lessons.races import RAVINE, race

SGD, MOMENTUM = 0, 1

RAVINE_RACE = race(
    "quadratic",
    [{"optimizer": "sgd", "lr": 0.035}, {"optimizer": "momentum", "lr": 0.01}],
    300,
    [-1.0, 1.0],
    **RAVINE,
)

RAVINE_LESSON = Lesson(
    "ravine",
    "Momentum in a ravine",
    (
        Beat(
            "The valley is fifty times steeper across than along, so SGD's rate (0.035) is "
            "nearly the most its walls allow. Its sideways bounce dies out fast: by step 20 it "
            "sits on the floor (|x| < 0.004), well ahead in the ranking, but it creeps down "
            "it (y = 0.41 at step 25). Momentum is still swinging from wall to wall.",
            race=RAVINE_RACE,
            step=25,
            speed=0.25,
            claims=(
                Swing(SGD, (20, 25), axis=0, at_most=0.004),
                Swing(MOMENTUM, (20, 25), axis=0, at_least=0.25),
                At(SGD, 25, axis=1, quoted="0.41"),
                Ahead(25, SGD, MOMENTUM),
            ),
        ),
        Beat(
            "Momentum's small pushes along the floor add up to speed: at step 25 it is "
            "already level with the bottom (y = −0.04) while still swinging across. The "
            "swings die down and it reaches the tolerance at step 95; SGD needs 185.",
            step=None,
            play_from=25,
            claims=(
                At(MOMENTUM, 25, axis=1, quoted="−0.04"),
                ReachesWithin(MOMENTUM, 95),
                ReachesFirst(MOMENTUM, SGD),
                ReachesWithin(SGD, 185),
                Ahead(300, MOMENTUM, SGD),
            ),
        ),
    ),
    question=Question(
        "SGD leads at step 25. Which racer reaches the tolerance first?",
        answer=MOMENTUM,
        claim=ReachesFirst(MOMENTUM, SGD),
        beat=1,
    ),
)

NONE, USUAL, HEAVY = 0, 1, 2

HOW_MUCH = Lesson(
    "how_much_momentum",
    "How much momentum: β = 0, 0.9, 0.99",
    (
        Beat(
            "Same rate, three memories. At step 60, β = 0 (plain SGD at this small rate) is "
            "still crawling down the valley; β = 0.9, which remembers about the last ten "
            "gradients, is nearly at the bottom; β = 0.99 carries so much speed that it "
            "overshoots the minimum along the valley (y ≈ −0.53 at step 40), comes back up "
            "(y ≈ 0.71 at step 60) and ranks last.",
            race=race(
                "quadratic",
                [
                    {"optimizer": "sgd", "lr": 0.01, "params": {"momentum": m}, "label": f"β {m}"}
                    for m in (0.0, 0.9, 0.99)
                ],
                300,
                [-1.0, 1.0],
                **RAVINE,
            ),
            step=60,
            speed=0.5,
            claims=(
                Order(60, (USUAL, NONE, HEAVY)),
                Above(NONE, 60, 0.1),
                Below(USUAL, 60, 0.05),
                Near(HEAVY, 40, (0.42, -0.53), 0.03),
                Near(HEAVY, 60, (-0.78, 0.71), 0.03),
            ),
        ),
        Beat(
            "By step 300 β = 0.9 has long arrived (tolerance at step 95). β = 0 never gets "
            "there in this race, and β = 0.99 is still swinging around the minimum, with "
            "f − f* above 0.1.",
            play_from=60,
            claims=(
                ReachesWithin(USUAL, 95),
                NeverReaches(NONE),
                NeverReaches(HEAVY),
                Above(HEAVY, 300, 0.1),
                Swing(HEAVY, (250, 300), axis=0, at_least=0.1),
            ),
        ),
    ),
)

HEAVY_BALL, LOOK_AHEAD = 0, 1

NESTEROV = Lesson(
    "nesterov",
    "Nesterov vs heavy ball",
    (
        Beat(
            "Both keep a velocity, but Nesterov measures the slope where the velocity is "
            "about to take it. It notices the far wall sooner: in the first twenty steps it "
            "swings out to x ≈ 0.4, the heavy ball to x ≈ 0.84, and by step 20 Nesterov leads.",
            race=race(
                "quadratic",
                [{"optimizer": "momentum", "lr": 0.01}, {"optimizer": "nesterov", "lr": 0.01}],
                300,
                [-1.0, 1.0],
                **RAVINE,
            ),
            step=20,
            speed=0.25,
            claims=(
                Swing(LOOK_AHEAD, (1, 20), axis=0, at_least=0.35, at_most=0.45),
                Swing(HEAVY_BALL, (1, 20), axis=0, at_least=0.835, at_most=0.845),
                Ahead(20, LOOK_AHEAD, HEAVY_BALL),
            ),
        ),
        Beat(
            "Swinging less, Nesterov settles first: it reaches the tolerance at step 61, the "
            "heavy ball at step 95, and it ends lower.",
            play_from=20,
            claims=(
                ReachesWithin(LOOK_AHEAD, 61),
                ReachesFirst(LOOK_AHEAD, HEAVY_BALL),
                ReachesWithin(HEAVY_BALL, 95),
                Ahead(300, LOOK_AHEAD, HEAVY_BALL),
            ),
        ),
    ),
    question=Question(
        "Same rate, same momentum: which racer reaches the tolerance first?",
        answer=LOOK_AHEAD,
        claim=ReachesFirst(LOOK_AHEAD, HEAVY_BALL),
    ),
)

LESSONS = (RAVINE_LESSON, HOW_MUCH, NESTEROV)
