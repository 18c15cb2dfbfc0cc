"""What a loss surface is, independent of which one.

Every function takes points of shape (..., 2) and is vectorized over the leading axes, so the
engine evaluates a whole batch of runs (or a whole contour grid) in one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from common.params import Param

Array = np.ndarray
Field = Callable[[Array], Array]

# A run is stopped once it leaves the view box scaled by this factor around its centre.
DIVERGENCE_SCALE = 1e6

# The names a surface's ``expression`` may use besides x and y. math, NumPy and torch all
# have functions by these names, so the one text evaluates under any of them.
EXPRESSION_NAMES = ("cos", "sin", "exp", "sqrt", "pi", "e")


def pack(first: Array, second: Array) -> Array:
    """Stack two (...) arrays into (..., 2) without np.stack's per-call cost."""
    out = np.empty((*np.shape(first), 2))
    out[..., 0] = first
    out[..., 1] = second
    return out


def pack_matrix(xx: Array, xy: Array, yy: Array) -> Array:
    """A symmetric (..., 2, 2) Hessian from its three distinct entries."""
    shape = np.broadcast_shapes(np.shape(xx), np.shape(xy), np.shape(yy))
    out = np.empty((*shape, 2, 2))
    out[..., 0, 0] = xx
    out[..., 0, 1] = xy
    out[..., 1, 0] = xy
    out[..., 1, 1] = yy
    return out


def refine_point(
    gradient: Field, hessian: Field, start: tuple[float, float]
) -> tuple[float, float]:
    """Newton's method on the gradient, so that tabulated 6-digit points become exact.

    Published critical points carry six decimals; the engine's steps-to-tolerance and the
    tests need them to machine precision.
    """
    p = np.array(start, dtype=float)
    for _ in range(50):
        step = np.linalg.solve(hessian(p), gradient(p))
        p = p - step
        if np.max(np.abs(step)) < 1e-15:
            break
    return float(p[0]), float(p[1])


# A sum of squares has at most this many residuals (Beale's three); fewer are padded with 0.
RESIDUALS = 3


@dataclass(frozen=True)
class Compiled:
    """A surface's math for one point at a time, compiled (``common.jit``): what the engine's
    oracle calls inside its loops. Each takes (x, y, constants) — ``constants`` is the bound
    surface's ``constants`` as a tuple of four floats — and returns f, (∂f/∂x, ∂f/∂y) and the
    Hessian's (xx, xy, yy). They follow the array functions operation by operation.

    A sum of squares also gives its residuals and their Jacobian (Gauss–Newton needs them;
    other surfaces leave them None). The convention is f = ½‖r‖², so each surface scales its
    terms to make the app's f and ½‖r‖² agree (Rosenbrock's r is √2·(1 − x, 10(y − x²))):
    ``residuals`` returns ``RESIDUALS`` values (unused ones 0) and ``jacobian`` their rows
    (∂r_i/∂x, ∂r_i/∂y), row after row, 2·``RESIDUALS`` values (unused rows 0)."""

    value: Any
    gradient: Any
    hessian: Any
    residuals: Any = None
    jacobian: Any = None


@dataclass(frozen=True)
class Surface:
    """A surface with its parameters bound: the math plus what a map needs to draw it."""

    name: str
    title: str
    latex: str
    params: Mapping[str, Any]
    value: Field
    gradient: Field
    hessian: Field
    # f as Python source in x and y: numbers, + - * / ** and EXPRESSION_NAMES only, with the
    # surface's parameters written in as repr'd floats. "Copy as PyTorch" hands it to
    # autograd, so the exported code needs no hand-written gradient.
    expression: str
    view: tuple[tuple[float, float], tuple[float, float]]
    default_start: tuple[float, float]
    minima: tuple[tuple[float, float], ...] = ()
    saddles: tuple[tuple[float, float], ...] = ()
    maxima: tuple[tuple[float, float], ...] = ()
    log_color: bool = False
    f_star: float | None = field(default=None)
    # The parameters the compiled functions read, in the order they read them (at most 4).
    constants: tuple[float, ...] = ()
    # A sum of squares' residuals as ``expression`` writes f (f = ½‖r‖², ``Compiled``), for
    # "Copy as PyTorch"; empty for every other surface.
    residuals: tuple[str, ...] = ()

    def divergence_box(self) -> tuple[Array, Array]:
        """(low, high) corners of the box a run must stay inside (race-config.md)."""
        (x0, x1), (y0, y1) = self.view
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        half = np.array([(x1 - x0) / 2, (y1 - y0) / 2]) * DIVERGENCE_SCALE
        return centre - half, centre + half

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "latex": self.latex,
            "params": dict(self.params),
            "view": [list(self.view[0]), list(self.view[1])],
            "default_start": list(self.default_start),
            "minima": [list(p) for p in self.minima],
            "saddles": [list(p) for p in self.saddles],
            "maxima": [list(p) for p in self.maxima],
            "f_star": self.f_star,
            "log_color": self.log_color,
        }


@dataclass(frozen=True)
class SurfaceSpec:
    """A registry entry: the surface's knobs and how to build it from their values."""

    name: str
    title: str
    build: Callable[..., Surface]
    compiled: Compiled
    params: tuple[Param, ...] = ()
    help: str = ""
    check: Callable[[Mapping[str, Any], str], None] | None = None

    def to_json(self) -> dict[str, Any]:
        surface = self.build(**{p.name: p.default for p in self.params})
        out = surface.to_json()
        out["params"] = [p.to_json() for p in self.params]
        out["help"] = self.help
        return out
