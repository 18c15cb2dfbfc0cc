"""Compile (or load from the cache) every kernel's loop before anyone waits for it.

``python -m optimizers.warm`` runs at install (``make run``, ``make test``) and gunicorn's
``on_starting`` hook calls ``warm()`` in the master before it forks: the workers inherit the
compiled code, and no request ever compiles. One short race per registered optimizer, with
noise, clipping and the inspector's recording, reaches every compiled function the engine
uses (their types do not depend on the surface, the sizes or the settings).
"""

from __future__ import annotations

import time

import numpy as np

from common.jit import prune
from optimizers.engine import Noise, Record, driver, simulate
from optimizers.registry import OPTIMIZERS
from optimizers.validate import validate_racer
from surfaces import get_surface


def warm() -> float:
    """Compile or load every optimizer's loop; returns the seconds it took. Caches of earlier
    sources in the same place are removed first."""
    start = time.perf_counter()
    prune()
    surface = get_surface("quadratic")
    racers = [
        validate_racer({"optimizer": name, "lr": 1e-3, "clip_norm": 1.0}, "warm")
        for name in OPTIMIZERS
    ]
    starts = np.tile(surface.default_start, (len(racers), 1))
    noise = Noise(0.1, [0] * len(racers))
    simulate(surface, racers, starts, 2, noise, record=Record.STATE)
    assert all(driver(spec.kernel).signatures for spec in OPTIMIZERS.values())
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"compiled kernels ready in {warm():.1f} s")
