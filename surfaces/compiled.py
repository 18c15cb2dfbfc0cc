"""Every surface's compiled math behind one compiled function each: ``value``, ``gradient``,
``hessian``, ``residuals`` and ``jacobian`` of (surface id, x, y, constants) (the last two NaN
for a surface that is not a sum of squares: ``sum_of_squares`` says which are).

The engine's loops are compiled once per optimizer, not once per optimizer and surface, so
they pick the surface by its id (its place in ``SURFACES``). The dispatch is a balanced tree
of comparisons built from the registry (``sid < k``: the lower half, else the upper), so
adding a surface needs no line here and any surface is a few scalar calls away. Arguments are
scalars and a tuple of constants, so a call copies no array and counts no reference.

Each tree is compiled once (and cached once) as one function and called, not copied into
its callers: the engine's loops reach it as a linked call. Copying the trees into every loop
(numba's ``inline="always"``) bought about a tenth of a sweep's time per step and doubled
the compile time of every loop, growing with every surface (bench/results.md, compile
section).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from common.jit import jit, specialize
from surfaces import SURFACES
from surfaces.base import RESIDUALS, Surface

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


@jit
def _no_residuals(x, y, c):
    return math.nan, math.nan, math.nan


@jit
def _no_jacobian(x, y, c):
    return math.nan, math.nan, math.nan, math.nan, math.nan, math.nan


MISSING = {"residuals": _no_residuals, "jacobian": _no_jacobian}


def _tree(kind: str, first: int, stop: int, root: bool = True) -> Any:
    """The dispatch over surfaces ``first`` … ``stop − 1``'s compiled ``kind``: one compiled
    function, the root, into which every split, leaf and surface function is copied
    (numba's ``inline="always"``), so a caller makes one call and the tree is compiled as
    one function instead of twenty-five (numba's fixed cost per function was most of the
    tree's compile time: 1.5 s a tree instead of 6)."""
    specs = list(SURFACES.values())
    copied = {"inline": "always"}
    if stop - first == 1:
        spec = specs[first]
        this = getattr(spec.compiled, kind) or MISSING[kind]
        this = specialize(this.py_func, f"{kind}_{spec.name}_body", copied)
        return specialize(_leaf, f"{kind}_{spec.name}", None if root else copied, this=this)
    middle = (first + stop) // 2
    return specialize(
        _split,
        f"{kind}_{first}_{stop}",
        None if root else copied,
        low=_tree(kind, first, middle, root=False),
        high=_tree(kind, middle, stop, root=False),
        MIDDLE=middle,
    )


value = _tree("value", 0, len(SURFACES))
gradient = _tree("gradient", 0, len(SURFACES))
hessian = _tree("hessian", 0, len(SURFACES))
residuals = _tree("residuals", 0, len(SURFACES))
jacobian = _tree("jacobian", 0, len(SURFACES))


def sum_of_squares(name: str) -> bool:
    """Whether the named surface gives residuals r with f = ½‖r‖² (Gauss–Newton needs them)."""
    return SURFACES[name].compiled.residuals is not None


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


@jit
def _residual_rows(sid, c, points, r, j):
    for i in range(points.shape[0]):
        x, y = points[i, 0], points[i, 1]
        r[i, 0], r[i, 1], r[i, 2] = residuals(sid, x, y, c)
        j[i, 0, 0], j[i, 0, 1], j[i, 1, 0], j[i, 1, 1], j[i, 2, 0], j[i, 2, 1] = jacobian(
            sid, x, y, c
        )


def evaluate_residuals(surface: Surface, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """r (n, RESIDUALS) and J (n, RESIDUALS, 2) of the compiled functions at (n, 2) points."""
    points = np.ascontiguousarray(points, dtype=float).reshape(-1, 2)
    r, j = np.empty((len(points), RESIDUALS)), np.empty((len(points), RESIDUALS, 2))
    _residual_rows(surface_id(surface), constants(surface), points, r, j)
    return r, j
