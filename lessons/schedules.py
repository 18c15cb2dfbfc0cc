"""Lessons on changing the rate during the race: warmup, and decay under noise."""

from __future__ import annotations

from lessons.beats import Beat, Lesson
from lessons.claims import Above, Ahead, Diverges, Order, ReachesWithin, Survives
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
            "minimum. Halfway, one-cycle is near its peak rate and jitters most.",
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
            claims=(Above(ONE_CYCLE, 250, 0.02), Ahead(250, CONSTANT, ONE_CYCLE)),
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

LESSONS = (WARMUP, SCHEDULES)
