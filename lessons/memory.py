"""What an optimizer remembers between steps: SGD nothing, momentum one buffer, Adam two.

Each beat opens the step inspector on one racer; the Memory claim is checked against the
buffers the inspector lists (optimizers.trace), so the caption cannot drift from the code.
"""

from __future__ import annotations

from lessons.beats import Beat, Lesson
from lessons.claims import Memory
from lessons.races import SEED_QUADRATIC, race

SGD, MOMENTUM, ADAM = 0, 1, 2
STOP = 10

MEMORY = Lesson(
    "memory",
    "What an optimizer remembers",
    (
        Beat(
            "SGD keeps nothing between steps: each step is the rate times the gradient "
            "just measured. The inspector lists no state for it.",
            race=race(
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
            step=STOP,
            speed=0.25,
            inspect=SGD,
            highlight=(SGD,),
            claims=(Memory(SGD, ()),),
        ),
        Beat(
            "Momentum keeps one buffer per weight: its velocity, a decaying sum of past "
            "gradients. That memory is what carries it on where the gradient alone would not.",
            step=STOP,
            inspect=MOMENTUM,
            highlight=(MOMENTUM,),
            claims=(Memory(MOMENTUM, ("buf",)),),
        ),
        Beat(
            "Adam keeps two per weight: m, the average gradient, and v, the average squared "
            "gradient. With the weights and their gradients, that is twice the memory plain "
            "SGD needs.",
            step=STOP,
            inspect=ADAM,
            highlight=(ADAM,),
            claims=(Memory(ADAM, ("m", "v")),),
        ),
    ),
)

LESSONS = (MEMORY,)
