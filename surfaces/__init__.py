"""Loss surfaces: pure NumPy math, one module each, listed in ``SURFACES``."""

from __future__ import annotations

from typing import Any

from surfaces import (
    ackley,
    beale,
    goldstein_price,
    himmelblau,
    monkey_saddle,
    quadratic,
    rastrigin,
    rosenbrock,
    saddle,
    six_hump_camel,
    styblinski_tang,
    two_wells,
)
from surfaces.base import Surface, SurfaceSpec

SURFACES: dict[str, SurfaceSpec] = {
    spec.name: spec
    for spec in (
        quadratic.SPEC,
        rosenbrock.SPEC,
        saddle.SPEC,
        monkey_saddle.SPEC,
        beale.SPEC,
        himmelblau.SPEC,
        rastrigin.SPEC,
        ackley.SPEC,
        goldstein_price.SPEC,
        styblinski_tang.SPEC,
        six_hump_camel.SPEC,
        two_wells.SPEC,
    )
}


def get_surface(name: str, **params: Any) -> Surface:
    """The named surface with ``params`` bound (unvalidated: use the validator for input)."""
    spec = SURFACES[name]
    values = {p.name: p.default for p in spec.params}
    values.update(params)
    return spec.build(**values)


__all__ = ["SURFACES", "Surface", "SurfaceSpec", "get_surface"]
