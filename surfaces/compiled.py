"""Every surface's compiled math behind one compiled function each: ``value``, ``gradient`` and
``hessian`` of (surface id, x, y, constants).

The engine's loops are compiled once per optimizer, not once per optimizer and surface, so
they pick the surface by its id (its place in ``SURFACES``). The dispatch is a balanced tree
of comparisons built from the registry (``sid < k``: the lower half, else the upper), so
adding a surface needs no line here and any surface is a few scalar calls away. Arguments are
scalars and a tuple of constants, so a call copies no array and counts no reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.jit import jit, specialize
from surfaces import SURFACES
from surfaces.base import Surface

IDS = {name: index for index, name in enumerate(SURFACES)}
# Every surface's compiled functions read at most this many constants (surfaces/base.py).
CONSTANTS = 4

MIDDLE = 0  # rebound in each link (specialize)


def this(x, y, c):  # rebound in each leaf
    raise NotImplementedError


def low(sid, x, y, c):  # rebound in each split
    raise NotImplementedError


def high(sid, x, y, c):  # rebound in each split
    raise NotImplementedError


def _split(sid, x, y, c):
    if sid < MIDDLE:
        return low(sid, x, y, c)
    return high(sid, x, y, c)


def _leaf(sid, x, y, c):
    return this(x, y, c)


def _tree(kind: str, first: int, stop: int) -> Any:
    """The dispatch over surfaces ``first`` … ``stop − 1``'s compiled ``kind``."""
    specs = list(SURFACES.values())
    if stop - first == 1:
        spec = specs[first]
        return specialize(_leaf, f"{kind}_{spec.name}", this=getattr(spec.compiled, kind))
    middle = (first + stop) // 2
    return specialize(
        _split,
        f"{kind}_{first}_{stop}",
        low=_tree(kind, first, middle),
        high=_tree(kind, middle, stop),
        MIDDLE=middle,
    )


value = _tree("value", 0, len(SURFACES))
gradient = _tree("gradient", 0, len(SURFACES))
hessian = _tree("hessian", 0, len(SURFACES))


def surface_id(surface: Surface) -> int:
    return IDS[surface.name]


def constants(surface: Surface) -> tuple[float, ...]:
    """The bound surface's constants as the compiled functions read them (padded with 0)."""
    values = tuple(float(v) for v in surface.constants)
    if len(values) > CONSTANTS:
        raise ValueError(f"{surface.name}: more than {CONSTANTS} constants")
    return values + (0.0,) * (CONSTANTS - len(values))


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
