"""The modern toolkit (issue 18): Shampoo's full-matrix preconditioner against diagonal methods,
Prodigy finding its own rate, LAMB's trust ratio on one 2-D layer, Schedule-Free against a
cosine schedule and its horizon, and Sophia's clip.

Every number a caption quotes was read from the engine at the beat's own settings first
(tests/test_lessons.py keeps it so); where a method's promise does not hold at honest settings
the caption says what happens instead (Sophia near a minimum, LAMB at a minimum away from the
origin).
"""

from __future__ import annotations

import math
from typing import Any

from lessons.adaptive import PAGE_PRECISION
from lessons.beats import Beat, Lesson
from lessons.claims import (
    Above,
    Below,
    BestRate,
    Memory,
    Moves,
    Near,
    NeverReaches,
    Order,
    Rate,
    ReachesFirst,
    ReachesWithin,
    Steps,
    Survives,
)
from lessons.races import SEED_QUADRATIC, race

ORIGIN = (0.0, 0.0)

# --- Shampoo against Adam and AdaGrad on the bowl turned 45° ---------------------------------

SHAMPOO, ADAM, ADAGRAD = 0, 1, 2
START_0 = (-1.2, 1.2)
# Shampoo's point after two steps on the unturned bowl (read from the engine).
SHAMPOO_STEP2 = (-0.0896256655, 0.1563122051)


def turned(point: tuple[float, float], angle: float) -> list[float]:
    """``point`` turned with the quadratic surface's own rotation by ``angle`` degrees, so the
    turned race starts at the same place on the same bowl (f equal at every step for a method
    that does not care about the axes)."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    x, y = point
    return [c * x + s * y, -s * x + c * y]


def bowl(angle: float) -> dict[str, Any]:
    """Shampoo, Adam and AdaGrad, all at rate 1, on the bowl 20 times steeper one way."""
    return race(
        "quadratic",
        [
            {"optimizer": "shampoo", "lr": 1},
            {"optimizer": "adam", "lr": 1},
            {"optimizer": "adagrad", "lr": 1},
        ],
        150,
        turned(START_0, angle),
        a=20,
        b=1,
        angle=angle,
    )


SHAMPOO_ROTATION = Lesson(
    "shampoo_rotation",
    "Shampoo sees a turned bowl; diagonal methods do not",
    (
        Beat(
            "A bowl twenty times steeper along x than along y, its axes on the map's axes. "
            "AdaGrad and Adam scale each coordinate by its own gradient history: here that "
            "is exactly the bowl's shape, and AdaGrad reaches the tolerance in 5 steps. "
            "Shampoo, which keeps the full 2×2 matrix Σggᵀ, needs 7. All three at rate 1.",
            race=bowl(0),
            step=150,
            speed=4,
            claims=(
                ReachesWithin(ADAGRAD, 5),
                ReachesWithin(SHAMPOO, 7),
                ReachesFirst(ADAGRAD, SHAMPOO),
                ReachesFirst(SHAMPOO, ADAM),
                Near(SHAMPOO, 2, SHAMPOO_STEP2, 1e-4),
            ),
        ),
        Beat(
            "The same bowl and the same start, turned. A per-coordinate scale cannot "
            "follow axes that are no longer x and y: AdaGrad now needs 115 steps, Adam 135. "
            "Shampoo's matrix turns with the bowl, so its race is the same race turned: "
            "after two steps it is where it was, turned with the bowl; again 7 steps to the "
            "tolerance.",
            race=bowl(45),
            step=150,
            speed=4,
            claims=(
                ReachesWithin(SHAMPOO, 7),
                ReachesFirst(SHAMPOO, ADAGRAD),
                ReachesFirst(SHAMPOO, ADAM),
                Above(ADAGRAD, 30, 0.02),
                Above(ADAM, 30, 0.2),
                Below(SHAMPOO, 30, 1e-19),
                Near(SHAMPOO, 2, tuple(turned(SHAMPOO_STEP2, 45)), 1e-4),
            ),
        ),
    ),
)

# --- Prodigy finding a rate on its own -------------------------------------------------------

PRODIGY, ADAM_BAD, ADAM_BEST = 0, 1, 2
# The page's sweep's best rate for Adam on this race, to 3 significant digits as Auto-tune
# writes it (a BestRate claim keeps it so).
ADAM_BEST_RATE = 0.294

PRODIGY_RATE = Lesson(
    "prodigy_rate",
    "Prodigy finds a rate on its own",
    (
        Beat(
            "Prodigy is Adam that estimates its own rate d from how far it has come against "
            "the gradients it has seen. It starts with a tiny d, so its first step is "
            "tiny; within twenty steps the estimate has grown a hundred-thousandfold and "
            "its steps are about one unit long (the step-length chart).",
            race=race(
                "quadratic",
                [
                    {"optimizer": "prodigy", "lr": 1},
                    {"optimizer": "adam", "lr": 0.001, "label": "Adam, lr 0.001"},
                    {"optimizer": "adam", "lr": ADAM_BEST_RATE, "label": "Adam, best lr 0.294"},
                ],
                200,
                [2.0, 1.5],
                a=20,
                b=1,
                angle=30,
            ),
            step=25,
            speed=0.5,
            chart="step_length",
            highlight=(PRODIGY,),
            claims=(
                Moves(PRODIGY, (0, 1), at_most=1e-5),
                Moves(PRODIGY, (20, 21), at_least=0.5),
            ),
        ),
        Beat(
            "With no rate to tune it reaches the tolerance in 144 steps. Adam at a bad "
            "rate, 0.001, is still above 8 after 200. Adam at its best rate (the page's "
            "sweep finds 0.294) does better, 124 steps: Prodigy spares you the sweep, not "
            "every step.",
            play_from=25,
            step=200,
            speed=4,
            claims=(
                ReachesWithin(PRODIGY, 144),
                NeverReaches(ADAM_BAD),
                Above(ADAM_BAD, 200, 8),
                ReachesWithin(ADAM_BEST, 124),
                ReachesFirst(ADAM_BEST, PRODIGY),
                ReachesFirst(PRODIGY, ADAM_BAD),
                BestRate(ADAM_BEST),
                Rate(ADAM_BAD, "0.001"),
                Rate(ADAM_BEST, "0.294"),
            ),
        ),
    ),
)

# --- LAMB and LARS: the step follows the distance from the origin ----------------------------

LAMB, LARS, ADAM_H = 0, 1, 2
HIMMELBLAU_MIN = (3.0, 2.0)  # 3.61 from the origin

TRUST_RATIO = Lesson(
    "trust_ratio",
    "LAMB and LARS on one layer: steps as long as the distance from the origin",
    (
        Beat(
            "LAMB and LARS scale each layer's step by a trust ratio, ‖θ‖ over the update's "
            "norm; here the point is the one layer, so every step is about rate × ‖θ‖ long. "
            "From (0, 0.5), near the origin, LARS (rate 1, trust coefficient 0.001) first "
            "moves 0.0005.",
            race=race(
                "himmelblau",
                [
                    {"optimizer": "lamb", "lr": 0.03},
                    {"optimizer": "lars", "lr": 1},
                    {"optimizer": "adam", "lr": 0.05},
                ],
                300,
                [0.0, 0.5],
            ),
            step=1,
            speed=0.25,
            chart="step_length",
            marks=((0.0, 0.5, "start (0, 0.5)"),),
            claims=(Moves(LARS, (0, 1), at_least=0.00049, at_most=0.00051),),
        ),
        Beat(
            "Himmelblau's minimum at (3, 2) is far from the origin, so near it LAMB's steps "
            "stay about 0.03 × ‖θ‖ ≈ 0.11 long: it cannot settle and circles the minimum, "
            "0.13 above it after 300 steps. Adam at 0.05 reaches the tolerance at step 175.",
            play_from=1,
            step=300,
            speed=4,
            chart="step_length",
            marks=((*HIMMELBLAU_MIN, "minimum (3, 2)"),),
            claims=(
                Moves(LAMB, (199, 200), at_least=0.1, at_most=0.115),
                Moves(LAMB, (299, 300), at_least=0.1, at_most=0.115),
                Near(LAMB, 300, HIMMELBLAU_MIN, 0.25),
                NeverReaches(LAMB),
                Above(LAMB, 300, 0.1),
                ReachesWithin(ADAM_H, 175),
            ),
        ),
    ),
)

# --- Sophia's clip against Newton on the saddle ----------------------------------------------

NEWTON, SOPHIA = 0, 1
SOPHIA_RACER = {"optimizer": "sophia", "lr": 0.05, "params": {"p": 1, "estimator": "exact"}}

SOPHIA_CLIP = Lesson(
    "sophia_clip",
    "Sophia's clip: sign steps where the curvature does not help",
    (
        Beat(
            "On the saddle x² − y² Newton jumps onto the saddle at (0, 0). Sophia also "
            "divides by a curvature estimate h (in the inspector), but clips each "
            "coordinate's step to ±rate: h is negative along y and starts at zero along x, "
            "so for 20 steps both coordinates are clipped, each moving exactly 0.05, a sign "
            "step, and it slides off downhill.",
            race=race("saddle", [{"optimizer": "newton", "lr": 1}, SOPHIA_RACER], 60, [0.7, 0.4]),
            step=20,
            speed=1,
            inspect=SOPHIA,
            marks=((0.0, 0.0, "saddle (0, 0)"),),
            claims=(
                Memory(SOPHIA, ("m", "hessian_moment", "hessian", "clipped")),
                Near(NEWTON, 1, ORIGIN, 1e-12),
                Steps(SOPHIA, (0, 20), 0.05, rtol=PAGE_PRECISION),
                Below(SOPHIA, 20, -1.5),
            ),
        ),
        Beat(
            "Newton stays on the saddle (f = 0); Sophia keeps going down, f below −11 by step 60.",
            play_from=20,
            step=60,
            speed=2,
            claims=(Near(NEWTON, 60, ORIGIN, 1e-12), Below(SOPHIA, 60, -11), Survives(SOPHIA)),
        ),
        Beat(
            "Near a minimum Sophia's step should become Newton's, but its curvature "
            "estimate grows slowly (a running average from zero, renewed every 10 steps): "
            "on the bowl it "
            "makes sign steps while far away, then overshoots once the clip lets go, and "
            "after 200 steps it has not reached the tolerance. Newton is there in one step; "
            "SGD at 0.09 in 74.",
            race=race(
                "quadratic",
                [{"optimizer": "newton", "lr": 1}, SOPHIA_RACER, {"optimizer": "sgd", "lr": 0.09}],
                200,
                [2.0, 1.5],
                **SEED_QUADRATIC,
            ),
            step=200,
            speed=4,
            claims=(
                Steps(SOPHIA, (0, 20), 0.05, rtol=PAGE_PRECISION),
                ReachesWithin(NEWTON, 1),
                NeverReaches(SOPHIA),
                ReachesWithin(2, 74),
                Order(200, (NEWTON, 2, SOPHIA)),
            ),
        ),
    ),
)

# --- Schedule-Free at a constant rate against a cosine schedule that knows the horizon --------

FREE, COSINE, CONSTANT = 0, 1, 2
NOISE = {"std": 1.0, "seed": 1}


def noisy(steps: int, t_max: int | None) -> dict[str, Any]:
    """Schedule-Free SGD, SGD with a cosine to ``t_max`` (empty: the race's end) and SGD at a
    constant rate, all at 0.05, on the seed bowl with noisy gradients."""
    planned = "the end" if t_max is None else f"step {t_max}"
    return race(
        "quadratic",
        [
            {"optimizer": "schedule_free_sgd", "lr": 0.05, "label": "Schedule-Free SGD"},
            {
                "optimizer": "sgd",
                "lr": 0.05,
                "schedule": {"name": "cosine", "params": {"t_max": t_max}},
                "label": f"SGD, cosine to {planned}",
            },
            {"optimizer": "sgd", "lr": 0.05, "label": "SGD, constant"},
        ],
        steps,
        [1.0, 1.0],
        NOISE,
        **SEED_QUADRATIC,
    )


SCHEDULE_FREE = Lesson(
    "schedule_free",
    "Schedule-Free: no schedule, no horizon to know",
    (
        Beat(
            "Noisy gradients; the ranking shows each racer's median over 32 noise seeds. "
            "All start at one rate (the rate chart). At a constant rate SGD ends 0.025 above "
            "the minimum. A cosine "
            "that knows the race ends at step 200 brings its rate to zero there: 0.0025. "
            "Schedule-Free SGD keeps its rate and averages its points instead: 0.0035, "
            "close behind, without knowing when the race ends.",
            race=noisy(200, None),
            step=200,
            speed=4,
            chart="lr",
            claims=(
                Above(CONSTANT, 200, 0.02),
                Below(COSINE, 200, 0.003),
                Below(FREE, 200, 0.004),
                Above(FREE, 200, 0.003),
                Order(200, (COSINE, FREE, CONSTANT)),
            ),
        ),
        Beat(
            "How: the inspector on Schedule-Free shows its two sequences. z takes plain SGD "
            "steps at the constant rate; the gradient is taken at y, between z and x; and "
            "the racer drawn on the map is x, the running average of the z's (its row x).",
            step=199,  # the inspector shows the step that leaves the playhead: 199 → 200
            speed=4,
            inspect=FREE,
            highlight=(FREE,),
            # What the caption states is in the inspector (which in Present takes the side
            # column's place, the ranking's too): its sequences, no number of the ranking.
            claims=(Memory(FREE, ("y", "z")),),
        ),
        Beat(
            "Now plan the cosine for 400 steps and stop at 200: its rate is only halfway "
            "down, and it is at 0.0064. Schedule-Free's first 200 steps do not depend on "
            "the horizon: 0.0035 again, now ahead.",
            race=noisy(400, None),
            step=200,
            speed=4,
            chart="lr",
            claims=(
                Above(COSINE, 200, 0.006),
                Below(FREE, 200, 0.004),
                Order(200, (FREE, COSINE, CONSTANT)),
            ),
        ),
        Beat(
            "Or plan it for 200 and keep training to 400: past its horizon the cosine's "
            "rate climbs back (as torch's CosineAnnealingLR does), by step 400 it is back at "
            "its start and the racer jitters like the constant one, 0.033 above the minimum. "
            "Schedule-Free: 0.0041.",
            race=noisy(400, 200),
            step=400,
            speed=8,
            chart="lr",
            claims=(
                Above(COSINE, 400, 0.03),
                Above(CONSTANT, 400, 0.03),
                Below(FREE, 400, 0.005),
                Order(400, (FREE, COSINE)),
            ),
        ),
    ),
)

LESSONS = (SHAMPOO_ROTATION, PRODIGY_RATE, TRUST_RATIO, SCHEDULE_FREE, SOPHIA_CLIP)
