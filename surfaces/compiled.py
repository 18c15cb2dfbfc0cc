"""Every surface's compiled math behind one compiled function each: ``value``, ``gradient`` and
``hessian`` of (surface id, x, y, constants).

The engine's loops are compiled once per optimizer, not once per optimizer and surface, so
they pick the surface by its id (its place in ``SURFACES``). The dispatch is a chain built
from the registry, one link per surface (``if sid == k: this surface, else the next link``),
so adding a surface needs no line here; numba inlines the links into the loops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.jit import jit, specialize
from surfaces import SURFACES
from surfaces.base import Surface

IDS = {name: index for index, name in enumerate(SURFACES)}

HERE = 0  # rebound in each link (specialize)


def this(x, y, c):  # rebound in each link
    raise NotImplementedError


def rest(sid, x, y, c):  # rebound in each link
    raise NotImplementedError


def _link(sid, x, y, c):
    if sid == HERE:
        return this(x, y, c)
    return rest(sid, x, y, c)


def _last(sid, x, y, c):
    return this(x, y, c)


def _chain(kind: str) -> Any:
    """The dispatch over every registered surface's compiled ``kind`` (value, gradient or
    hessian); an id out of range falls through to the first surface (ids come from IDS)."""
    specs = list(SURFACES.values())
    link = specialize(_last, f"{kind}_{specs[0].name}", this=getattr(specs[0].compiled, kind))
    for index, spec in enumerate(specs[1:], start=1):
        link = specialize(
            _link,
            f"{kind}_{spec.name}",
            this=getattr(spec.compiled, kind),
            rest=link,
            HERE=index,
        )
    return link


value = _chain("value")
gradient = _chain("gradient")
hessian = _chain("hessian")


def surface_id(surface: Surface) -> int:
    return IDS[surface.name]


def constants(surface: Surface) -> np.ndarray:
    """The bound surface's constants as the float64 array the compiled functions read."""
    return np.array(surface.constants or (0.0,), dtype=float)


@jit
def _values(sid, c, points, out):
    for i in range(points.shape[0]):
        out[i] = value(sid, points[i, 0], points[i, 1], c)


@jit
def _gradients(sid, c, points, out):
    for i in range(points.shape[0]):
        out[i, 0], out[i, 1] = gradient(sid, points[i, 0], points[i, 1], c)


def evaluate(surface: Surface, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f and ∇f of the compiled functions at (n, 2) points (tests compare them with the arrays)."""
    points = np.ascontiguousarray(points, dtype=float).reshape(-1, 2)
    f, g = np.empty(len(points)), np.empty((len(points), 2))
    _values(surface_id(surface), constants(surface), points, f)
    _gradients(surface_id(surface), constants(surface), points, g)
    return f, g
