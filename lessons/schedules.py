"""Lessons on changing the rate during the race: warmup, and decay under noise."""

from __future__ import annotations

from lessons.beats import Beat, Lesson
from lessons.claims import (
    Above,
    Diverges,
    Moves,
    NeverReaches,
    Order,
    ReachesWithin,
    Survives,
    Swing,
)
from lessons.races import SEED_QUADRATIC, race

CONSTANT, WARMED = 0, 1

WARMUP = Lesson(
    "warmup",
    "Warmup saves a large rate",
    (
        Beat(
            "Started at full speed on the banana's steep side, momentum SGD is flung off "
            "the map within five steps and diverges.",
            race=race(
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
            step=10,
            speed=0.25,
            claims=(Diverges(CONSTANT, 5),),
        ),
        Beat(
            "Ramped up over the first fifty steps, the same peak rate takes it all the way "
            "to the minimum: it reaches the tolerance at step 371.",
            play_from=10,
            speed=4,
            claims=(Survives(WARMED), ReachesWithin(WARMED, 371)),
        ),
    ),
)

STEP, ONE_CYCLE, COSINE = 1, 2, 3

SCHEDULES = Lesson(
    "schedules",
    "Decaying the rate under noise",
    (
        Beat(
            "With noisy gradients a constant rate keeps the racer jittering around the "
            "minimum, here above 0.001 halfway. One-cycle spends the first part of the race "
            "raising its rate, so halfway it jitters most of all.",
            race=race(
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
            step=250,
            speed=2,
            claims=(
                Above(CONSTANT, 250, 1e-3),
                Above(ONE_CYCLE, 250, 0.02),
                Order(250, (CONSTANT, ONE_CYCLE)),
                Order(250, (COSINE, ONE_CYCLE)),
                Order(250, (STEP, ONE_CYCLE)),
            ),
        ),
        Beat(
            "By the end step decay, one-cycle and cosine have all calmed down below the "
            "constant rate; cosine, which slows smoothly to zero, finishes lowest.",
            play_from=250,
            speed=2,
            claims=(Order(500, (COSINE, STEP, ONE_CYCLE, CONSTANT)),),
        ),
    ),
)

KEPT, FAST_DECAY, SLOW_DECAY = 0, 1, 2

DECAY_TOO_SOON = Lesson(
    "decay_too_soon",
    "Exponential decay that stops too soon",
    (
        Beat(
            "Three racers start at the same rate, 0.05. One keeps it; one multiplies it by "
            "0.95 every step, one by 0.99. By "
            "step 60 the fast-decaying racer has all but stopped, still high up the gentle "
            "side of the bowl (y above 0.3).",
            race=race(
                "quadratic",
                [
                    {"optimizer": "sgd", "lr": 0.05},
                    *(
                        {
                            "optimizer": "sgd",
                            "lr": 0.05,
                            "schedule": {"name": "exponential", "params": {"gamma": gamma}},
                            "label": f"SGD, rate × {gamma} a step",
                        }
                        for gamma in (0.95, 0.99)
                    ),
                ],
                300,
                [1.0, 1.0],
                **SEED_QUADRATIC,
            ),
            step=60,
            speed=0.5,
            claims=(
                Moves(FAST_DECAY, (50, 60), at_most=0.02),
                Swing(FAST_DECAY, (60, 60), axis=1, at_least=0.3),
                Order(60, (KEPT, SLOW_DECAY, FAST_DECAY)),
            ),
        ),
        Beat(
            "It never gets going again: what is left of its rate cannot carry it the rest "
            "of the way. The constant rate reaches the tolerance at step 128; the slower "
            "decay ends in between; the fast one stays above 0.05. Without noise to calm, "
            "decaying the rate only costs progress.",
            play_from=60,
            speed=2,
            claims=(
                ReachesWithin(KEPT, 128),
                NeverReaches(FAST_DECAY),
                NeverReaches(SLOW_DECAY),
                Above(FAST_DECAY, 300, 0.05),
                Order(300, (KEPT, SLOW_DECAY, FAST_DECAY)),
            ),
        ),
    ),
)

LESSONS = (WARMUP, SCHEDULES, DECAY_TOO_SOON)
