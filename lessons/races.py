"""Building a lesson's race in the JSON form of race-config.md, and the surfaces lessons share."""

from __future__ import annotations

from typing import Any

# A ravine 50 times steeper across than along, and the bowl of seed-examples.md §1.
RAVINE = {"a": 50, "b": 1, "angle": 0}
SEED_QUADRATIC = {"a": 20, "b": 1, "angle": 0}


def race(
    surface: str,
    racers: list[dict[str, Any]],
    steps: int,
    start: list[float] | None = None,
    noise: dict[str, Any] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """A race dict with only the keys a lesson sets: the rest keep the contract's defaults."""
    out: dict[str, Any] = {
        "surface": {"name": surface, "params": params},
        "steps": steps,
        "racers": racers,
    }
    if start is not None:
        out["start"] = start
    if noise is not None:
        out["noise"] = noise
    return out
