"""Lessons on per-coordinate steps: AdaGrad and RMSProp, Adam's bias correction, AdamW's
decoupled decay, Lion's sign steps."""

from __future__ import annotations

from lessons.beats import Beat, Lesson
from lessons.claims import Above, Ahead, Below, Closer, Moves, Near, ReachesFirst, Steps
from lessons.races import SEED_QUADRATIC, race

# The page sends positions as float32 (about 7 digits): "exactly the rate" is read to that.
PAGE_PRECISION = 1e-4

ADAGRAD, RMSPROP = 0, 1

ADAGRAD_RMSPROP = Lesson(
    "adagrad_rmsprop",
    "AdaGrad runs out of steam; RMSProp does not",
    (
        Beat(
            "AdaGrad divides each step by the root of every squared gradient it has ever "
            "seen, so its steps only shrink: at step 300 it moves less than half as far in "
            "a step as RMSProp, which divides by a running average of recent gradients "
            "only, and RMSProp is ahead.",
            race=race(
                "rosenbrock",
                [{"optimizer": "adagrad", "lr": 0.1}, {"optimizer": "rmsprop", "lr": 0.01}],
                1000,
            ),
            step=300,
            speed=2,
            chart="step_length",
            claims=(
                Moves(ADAGRAD, (299, 300), at_most=0.0025),
                Moves(RMSPROP, (299, 300), at_least=0.005),
                Ahead(300, RMSPROP, ADAGRAD),
            ),
        ),
        Beat(
            "After 1,000 steps AdaGrad is still high on the banana's slope (f − f* above 1), "
            "while RMSProp has walked the valley to near the minimum (below 0.1).",
            play_from=300,
            speed=4,
            claims=(
                Above(ADAGRAD, 1000, 1.0),
                Below(RMSPROP, 1000, 0.1),
                Ahead(1000, RMSPROP, ADAGRAD),
            ),
        ),
    ),
)

CORRECTED, RAW = 0, 1

BIAS_CORRECTION = Lesson(
    "bias_correction",
    "Adam's bias correction",
    (
        Beat(
            "Adam's running averages start at zero. Corrected, its first step moves each "
            "coordinate by exactly the learning rate, 0.1. Uncorrected, the same first step "
            "is 0.316 long: the two averages start out of proportion.",
            race=race(
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
            step=1,
            zoom=((0.6, 1.05), (0.6, 1.05)),
            marks=((1.0, 1.0, "start"),),
            claims=(
                Steps(CORRECTED, (1, 1), size=0.1, rtol=PAGE_PRECISION),
                Steps(RAW, (1, 1), size=0.1 * 10**0.5, rtol=PAGE_PRECISION),
            ),
        ),
        Beat(
            "The oversized steps carry the uncorrected racer far past the minimum, to about "
            "(−0.68, −0.68) at step 5, while the corrected one walks in steadily, is at "
            "(0.51, 0.51) and ranks ahead.",
            step=5,
            play_from=0,
            speed=0.25,
            zoom=((-0.9, 1.1), (-0.9, 1.1)),
            # The points the caption quotes, on the map: where each racer is at step 5.
            marks=((-0.68, -0.68, "(−0.68, −0.68)"), (0.51, 0.51, "(0.51, 0.51)")),
            claims=(
                Near(RAW, 5, (-0.68, -0.68), 0.02),
                Near(CORRECTED, 5, (0.51, 0.51), 0.02),
                Ahead(5, CORRECTED, RAW),
            ),
        ),
        Beat(
            "Here the early overshoot happens to pay: the uncorrected racer reaches the "
            "tolerance first (step 56 against 82). Bias correction makes the first steps the "
            "size you asked for; it does not promise a faster race.",
            play_from=5,
            speed=0.5,
            claims=(ReachesFirst(RAW, CORRECTED),),
        ),
    ),
)

L2, DECOUPLED = 0, 1
ORIGIN = (0.0, 0.0)

ADAMW = Lesson(
    "adamw",
    "AdamW vs Adam with L2 decay",
    (
        Beat(
            "Same decay strength, two places to apply it. Weight decay pulls towards the "
            "origin, away from the minimum at (1, 1), so both end short of it and the "
            "ranking by loss puts Adam first: decay costs loss, and AdamW pays more of it.",
            race=race(
                "rosenbrock",
                [
                    {"optimizer": "adam", "lr": 0.05, "params": {"weight_decay": 0.5}},
                    {"optimizer": "adamw", "lr": 0.05, "params": {"weight_decay": 0.5}},
                ],
                1000,
            ),
            speed=4,
            marks=((0.0, 0.0, "origin: where decay pulls"), (1.0, 1.0, "minimum")),
            claims=(Ahead(1000, L2, DECOUPLED), Above(L2, 1000, 0.05)),
        ),
        Beat(
            "Measured by distance from the origin, decay's own goal, AdamW wins: Adam adds "
            "the decay to the gradient, where its per-coordinate scaling waters it down, "
            "while AdamW shrinks the weights directly and ends much nearer the origin.",
            measure="distance",
            marks=((0.0, 0.0, "origin: where decay pulls"), (1.0, 1.0, "minimum")),
            claims=(
                Closer(1000, DECOUPLED, L2, ORIGIN),
                Near(DECOUPLED, 1000, ORIGIN, 0.4),
            ),
        ),
    ),
)

LION = Lesson(
    "lion",
    "Lion's sign steps",
    (
        Beat(
            "Lion keeps only the sign of its momentum blend, so every coordinate moves by "
            "exactly the learning rate at every step, on the steep slope and in the flat "
            "valley alike.",
            race=race("rosenbrock", [{"optimizer": "lion", "lr": 0.01}], 300),
            speed=2,
            claims=(Steps(0, (1, 300), size=0.01, rtol=PAGE_PRECISION),),
        ),
        Beat(
            "Zoomed in to a window ten learning rates wide: a staircase. Each step is "
            "exactly 0.01 across and 0.01 up or down, whatever the slope.",
            step=157,
            play_from=148,
            speed=0.25,
            zoom=((-0.87, -0.77), (0.64, 0.74)),
            claims=(Steps(0, (149, 157), size=0.01, rtol=PAGE_PRECISION),),
        ),
    ),
)

LESSONS = (ADAGRAD_RMSPROP, BIAS_CORRECTION, ADAMW, LION)
