"""Sharpness-aware minimisation (issue 18) on ``two_wells``: two equally deep wells, one
narrow, one wide, where SAM is said to prefer the wide one.

What the engine shows at these settings (SGD at rate 0.1, SAM around it): at ρ 0.05 a few
runs that SGD leaves in the narrow well end in the wide one instead, and the rest do not settle
at the narrow well's bottom; at ρ 0.5, wider than the narrow well, SAM cannot stay in it, but
the runs it pushes out stop at the pass between the wells rather than reach the wide one. The
captions say so, and the work clock shows SAM's second gradient per step.
"""

from __future__ import annotations

from typing import Any

from lessons.beats import Beat, Lesson, Question
from lessons.claims import (
    Above,
    Basins,
    Below,
    Closer,
    Jitters,
    MovingNear,
    Near,
    NeverReaches,
    ReachesFirst,
    ReachesWithin,
    WorkWithin,
)
from lessons.races import race
from surfaces.two_wells import NARROW, SADDLE, WIDE

SGD, SMALL, LARGE = 0, 1, 2
RATE = 0.1
SAM_SMALL, SAM_LARGE = 0.05, 0.5
# Above the narrow well: SGD settles in it, and each SAM racer ends elsewhere.
ABOVE_NARROW = [-2.5, 1.5]


def sgd(rho: float | None = None) -> dict[str, Any]:
    """SGD at ``RATE``, with SAM at radius ``rho`` (None: without)."""
    if rho is None:
        return {"optimizer": "sgd", "lr": RATE, "label": "SGD"}
    return {"optimizer": "sgd", "lr": RATE, "sam_rho": rho, "label": f"SAM ρ {rho:g}"}


def wells(racers: list[dict[str, Any]], start: list[float] | None = None) -> dict[str, Any]:
    return race("two_wells", racers, 300, start)


THREE = [sgd(), sgd(SAM_SMALL), sgd(SAM_LARGE)]

SAM_WELLS = Lesson(
    "sam_two_wells",
    "SAM on two wells, narrow and wide",
    (
        Beat(
            "Two wells, equally deep: a narrow one on the left, a wide one on the right. "
            "SAM takes each step with the gradient from a point ρ further uphill. From "
            "above the narrow well, SGD settles at its bottom. SAM with ρ 0.05 crosses the "
            "pass and, slowly, reaches the wide well. SAM with ρ 0.5 climbs out of the narrow "
            "well but stops at the pass between the two, f 0.844, and hovers there.",
            race=wells(THREE, ABOVE_NARROW),
            step=300,
            speed=4,
            claims=(
                ReachesWithin(SGD, 85),
                Near(SGD, 300, NARROW, 1e-3),
                Near(SMALL, 300, WIDE, 0.01),
                Above(SMALL, 200, 0.5),
                Below(SMALL, 300, 1e-5),
                Near(LARGE, 300, SADDLE, 0.05),
                Above(LARGE, 300, 0.84),
                Below(LARGE, 300, 0.85),
                NeverReaches(LARGE),
            ),
        ),
        Beat(
            "One start proves little. Many starts (the view): SGD from a grid of starts, "
            "each coloured by the well it ends in. 10 runs settle in the narrow well, 54 in "
            "the wide one.",
            view="starts",
            step=300,
            speed=4,
            claims=(
                Basins(SGD, NARROW, 10, 10),
                Basins(SGD, WIDE, 54, 54),
                Basins(SGD, None, at_most=0),
            ),
        ),
        Beat(
            "The same starts with SAM, ρ 0.05: 8 end in the narrow well, 56 in the wide "
            "one. Two of SGD's ten have moved to the wide well, the start above among them. "
            "The other eight stay.",
            race=wells([sgd(SAM_SMALL)], ABOVE_NARROW),
            view="starts",
            step=300,
            speed=4,
            claims=(
                Basins(0, NARROW, 8, 8),
                Basins(0, WIDE, 56, 56),
                Basins(0, None, at_most=0),
            ),
        ),
        Beat(
            "With ρ 0.5, wider than the narrow well itself: only 4 runs stay in the narrow "
            "well. The wide well gets no more than SGD's 54. The other 6 never come to rest: "
            "pushed out of the narrow well, they hover at the pass, within 0.1 of it (the "
            "dotted paths' ends).",
            race=wells([sgd(SAM_LARGE)], ABOVE_NARROW),
            view="starts",
            step=300,
            speed=4,
            claims=(
                Basins(0, NARROW, 4, 4),
                Basins(0, WIDE, 54, 54),
                Basins(0, None, 6, 6),
                MovingNear(0, SADDLE, 0.1),
                Near(0, 300, SADDLE, 0.05),
            ),
        ),
        Beat(
            "The cost. From the default start SAM ρ 0.05 reaches the tolerance first, step "
            "78 against SGD's 109, then jitters just above it: see the loss chart.",
            race=wells(THREE),
            step=300,
            speed=4,
            claims=(
                ReachesWithin(SMALL, 78),
                ReachesWithin(SGD, 109),
                ReachesFirst(SMALL, SGD),
                Above(SMALL, 300, 1e-6),
                Jitters(SMALL, (90, 300), rises=20, above=1e-6),
            ),
        ),
        Beat(
            "But each SAM step takes two gradients. On the work clock SAM ρ 0.05 needs 156 "
            "to reach the tolerance, SGD 109. SAM ρ 0.5 never gets there; all three end in "
            "the wide well.",
            step=300,
            speed=4,
            loss_axis="work",
            claims=(
                WorkWithin(SMALL, 156, at_least=156),
                WorkWithin(SGD, 109, at_least=109),
                NeverReaches(LARGE),
                Near(SGD, 300, WIDE, 1e-3),
                Near(SMALL, 300, WIDE, 0.01),
                Near(LARGE, 300, WIDE, 0.05),
            ),
        ),
    ),
    question=Question(
        "SAM is said to prefer wide wells. From above the narrow well, which racer ends in "
        "the wide one?",
        answer=SMALL,
        claim=Closer(300, SMALL, LARGE, WIDE),
    ),
)

LESSONS = (SAM_WELLS,)
