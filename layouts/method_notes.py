"""One line on a racer's card where its result is a property of its method (issue 25, item
14), keyed by registry name: a result that looks broken (LARS at rest at the origin, Shampoo
hardly moving) says why. Kept here, outside optimizers/ (whose hash keys numba's compile
cache); the lead may fold these into the optimizers' specs. Each number was measured on the
page's surfaces from their default starts (tests/test_browser_laptop.py checks the claims)."""

from __future__ import annotations

from optimizers.registry import OPTIMIZERS

METHOD_NOTES: dict[str, str] = {
    "lars": (
        "LARS scales every step by ‖θ‖ (its trust ratio φ = tc·‖θ‖/(‖g‖ + λ‖θ‖)): its steps "
        "shrink as it nears the origin, and it comes to rest there (φ = 0 at θ = 0) wherever "
        "the minimum is. It is made for a network's weights, which are never all near 0."
    ),
    "shampoo": (
        "Shampoo's step is lr·L⁻½g with L = εI + Σggᵀ: as with AdaGrad its steps shrink as "
        "gradients add up. Its default rate, 0.001, is a network's: here it moves about a tenth "
        "of a unit in 1,000 steps; try 0.1."
    ),
    "schedule_free_adamw": (
        "Schedule-Free AdamW draws x, a running average of its base sequence z, which trails z: "
        "it moves less than Adam at the same rate. Its default rate, 0.0025, is a network's: "
        "on Rosenbrock it covers about a quarter of a unit in 1,000 steps; try 0.05."
    ),
}


def method_note(optimizer: str) -> str | None:
    """The note for ``optimizer`` (a registry name), if its method has one."""
    return METHOD_NOTES.get(optimizer) if optimizer in OPTIMIZERS else None
