"""Curvature (issue 17): Newton's method, its trouble with saddles and maxima, L-BFGS on the
step and work clocks, and what a line search does.

The inspector's curvature view (service/curvature.py) is part of what the beats point at: its
model's level set (LevelSet) and its line search's trials (Trials) are read from the page in
the browser tests and from the same module on the engine.
"""

from __future__ import annotations

from typing import Any

from lessons.beats import Beat, Lesson
from lessons.claims import (
    Above,
    Below,
    LevelSet,
    Near,
    NeverReaches,
    ReachesFirst,
    ReachesWithin,
    Trials,
    WorkWithin,
)
from lessons.races import SEED_QUADRATIC, race

ORIGIN = (0.0, 0.0)


def tilted(angle: float) -> dict[str, Any]:
    """Newton and SGD on the bowl 20 times steeper one way, turned by ``angle`` degrees."""
    return race(
        "quadratic",
        [{"optimizer": "newton", "lr": 1}, {"optimizer": "sgd", "lr": 0.09}],
        100,
        [2.0, 1.5],
        a=20,
        b=1,
        angle=angle,
    )


NEWTON_QUADRATIC = Lesson(
    "newton_quadratic",
    "Newton solves a quadratic in one step",
    (
        Beat(
            "A tilted bowl, twenty times steeper one way. SGD zig-zags across it and "
            "needs 79 steps to the tolerance; Newton, which divides the gradient by the "
            "curvature, is at the minimum after one step.",
            race=tilted(30),
            step=100,
            speed=4,
            claims=(
                ReachesWithin(0, 1),
                Near(0, 1, ORIGIN, 1e-9),
                ReachesFirst(0, 1),
                ReachesWithin(1, 79),
            ),
        ),
        Beat(
            "Why: the inspector's model at the start is the bowl itself, an ellipse along "
            "the Hessian's eigenvectors. Newton's step goes to its centre; the gradient step, "
            "square to the contour, points across the ravine.",
            step=0,
            speed=1,
            inspect=0,
            highlight=(0,),
            claims=(LevelSet(0, 0, "ellipse"),),
        ),
        Beat(
            "At any angle: tilted further, Newton again lands on the minimum in one step.",
            race=tilted(71),
            step=1,
            speed=1,
            inspect=0,
            claims=(Near(0, 1, ORIGIN, 1e-9), ReachesWithin(0, 1), LevelSet(0, 0, "ellipse")),
        ),
    ),
)

NEWTON_SADDLE = Lesson(
    "newton_saddle",
    "Newton jumps onto a saddle",
    (
        Beat(
            "On x² − y² the inspector's model at the start is the surface itself, a "
            "hyperbola (the Hessian has one negative eigenvalue). Newton's step, drawn from "
            "the start, points at the model's centre: the saddle.",
            race=race(
                "saddle",
                [{"optimizer": "newton", "lr": 1}, {"optimizer": "sgd", "lr": 0.1}],
                50,
                [0.7, 0.4],
            ),
            step=0,
            speed=1,
            inspect=0,
            highlight=(0,),
            claims=(LevelSet(0, 0, "hyperbola"),),
        ),
        Beat(
            "One step later Newton is on the saddle at (0, 0).",
            step=1,
            speed=1,
            highlight=(0,),
            marks=((0.0, 0.0, "saddle (0, 0)"),),
            claims=(Near(0, 1, ORIGIN, 1e-12),),
        ),
        Beat(
            "And stays: the gradient there is zero, so every later Newton step is zero. SGD "
            "slides off the saddle downhill, f below −1 by step 10.",
            step=50,
            speed=4,
            claims=(Near(0, 50, ORIGIN, 1e-12), Below(1, 10, -1.0), Above(0, 50, -1e-12)),
        ),
    ),
)

HIMMELBLAU_MAXIMUM = (-0.270845, -0.923039)
HIMMELBLAU_MINIMA = ((-2.805118, 3.131312), (-3.779310, -3.283186))

NEWTON_HIMMELBLAU = Lesson(
    "newton_himmelblau",
    "Plain Newton climbs to a maximum",
    (
        Beat(
            "Himmelblau from (−0.6, −0.6), near its peak. The inspector's model there is a "
            "cap (both eigenvalues negative), and plain Newton's step goes to the cap's top, "
            "uphill.",
            race=race(
                "himmelblau",
                [
                    {"optimizer": "newton", "lr": 1, "label": "Newton"},
                    {
                        "optimizer": "newton",
                        "lr": 1,
                        "params": {"mode": "saddle_free"},
                        "label": "saddle-free Newton",
                    },
                    {"optimizer": "gauss_newton", "lr": 1, "label": "Gauss–Newton"},
                ],
                60,
                [-0.6, -0.6],
            ),
            step=0,
            speed=1,
            inspect=0,
            highlight=(0,),
            marks=((-0.6, -0.6, "start (−0.6, −0.6)"),),
            claims=(LevelSet(0, 0, "ellipse"),),
        ),
        Beat(
            "It climbs: in one step f rises from 179 to 182, and by step 10 plain Newton sits "
            "on the local maximum at (−0.27, −0.92), and stays.",
            step=10,
            speed=1,
            highlight=(0,),
            marks=((*HIMMELBLAU_MAXIMUM, "maximum (−0.27, −0.92)"),),
            claims=(
                Below(0, 0, 179.5),
                Above(0, 1, 181.5),
                Near(0, 10, HIMMELBLAU_MAXIMUM, 1e-4),
                Above(0, 10, 181.5),
            ),
        ),
        Beat(
            "Saddle-free Newton divides by |H|, the curvature made positive, so it always "
            "goes downhill: it reaches the minimum at (−2.81, 3.13). Gauss–Newton uses JᵀJ, "
            "which is never negative, and lands on the minimum at (−3.78, −3.28).",
            step=20,
            speed=1,
            highlight=(1, 2),
            marks=(
                (*HIMMELBLAU_MINIMA[0], "minimum (−2.81, 3.13)"),
                (*HIMMELBLAU_MINIMA[1], "minimum (−3.78, −3.28)"),
            ),
            claims=(
                Near(1, 20, HIMMELBLAU_MINIMA[0], 1e-4),
                Below(1, 20, 1e-8),
                Near(2, 20, HIMMELBLAU_MINIMA[1], 1e-4),
                Below(2, 20, 1e-8),
                Above(0, 20, 100),
            ),
        ),
    ),
)

LBFGS_ROSENBROCK = Lesson(
    "lbfgs_rosenbrock",
    "L-BFGS on the step clock and on the work clock",
    (
        Beat(
            "Rosenbrock's curved valley from (−1.2, 1). L-BFGS, which builds a curvature "
            "estimate from its last steps and searches along its direction, reaches the "
            "tolerance in 33 steps; after 40, SGD and Adam are still above 1.",
            race=race(
                "rosenbrock",
                [
                    {
                        "optimizer": "lbfgs",
                        "lr": 1,
                        "params": {"line_search_fn": "strong_wolfe"},
                    },
                    {"optimizer": "sgd", "lr": 0.001},
                    {"optimizer": "adam", "lr": 0.1},
                ],
                300,
                [-1.2, 1.0],
            ),
            step=40,
            speed=1,
            marks=((-1.2, 1.0, "start (−1.2, 1)"),),
            claims=(ReachesWithin(0, 33), Above(1, 40, 1), Above(2, 40, 1)),
        ),
        Beat(
            "But a step is not a fair unit: each L-BFGS step evaluates the gradient at every "
            "line-search trial. On the work clock it needs 74 gradient evaluations; Adam, one "
            "a step, is still above 1 after those 74, and neither reaches the tolerance in "
            "300.",
            step=300,
            speed=8,
            loss_axis="work",
            claims=(WorkWithin(0, 74), Above(2, 74, 1), NeverReaches(1), NeverReaches(2)),
        ),
    ),
)

LINE_SEARCH = Lesson(
    "line_search",
    "What a line search does",
    (
        Beat(
            "Gradient descent with a backtracking (Armijo) line search tries t = 1 along −g, "
            "then halves it until f falls below the Armijo line. Its first step tries five "
            "lengths; the inspector draws them on the slice φ(t) and on the map.",
            race=race(
                "quadratic",
                [
                    {"optimizer": "gd_line_search", "lr": 1},
                    {"optimizer": "sgd", "lr": 0.11},
                ],
                60,
                [1.0, 1.0],
                **SEED_QUADRATIC,
            ),
            step=0,
            speed=1,
            inspect=0,
            highlight=(0,),
            claims=(Trials(0, 0, 5, 5),),
        ),
        Beat(
            "No rate to tune: SGD at 0.11, just past the largest stable rate (two over the "
            "steepest curvature), swings wider every step, while the "
            "line search reaches the tolerance in 52 steps. Its trials cost work: 163 "
            "gradient evaluations to the tolerance (a trial's function value counts half).",
            step=60,
            speed=4,
            claims=(ReachesWithin(0, 52), Above(1, 60, 1000), WorkWithin(0, 163)),
        ),
    ),
)

LESSONS = (NEWTON_QUADRATIC, NEWTON_SADDLE, NEWTON_HIMMELBLAU, LBFGS_ROSENBROCK, LINE_SEARCH)
